import Foundation
@testable import SpoolBroker

/// A broker's data directory and the image a power cut would leave of it: `cutPower()`, called
/// while the broker runs (typically from one of its test hooks), copies the files as they are
/// then, and the next start opens the copy.
struct PowerCutImage {
    let directory: TestDataDirectory
    let image: TestDataDirectory

    init(_ name: String = #function) {
        directory = TestDataDirectory(name)
        image = TestDataDirectory("\(name)-image")
    }

    func cutPower() { try? FileManager.default.copyItem(atPath: directory.path, toPath: image.path) }

    /// Whether `cutPower()` ran.
    var wasCut: Bool { FileManager.default.fileExists(atPath: image.path) }

    func remove() {
        directory.remove()
        image.remove()
    }
}

extension Broker {
    /// Runs a delivery round from the calling thread (a test hook's), then waits (bounded) until
    /// nothing is held: the delivery loop may have taken the round first.
    func deliverAllDue() {
        do throws(BrokerError) { try deliverDue() } catch {}
        let deadline = Date().addingTimeInterval(10)
        while heldRecordCount > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }
}
