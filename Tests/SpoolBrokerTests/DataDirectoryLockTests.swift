import Foundation
import Glibc
import SpoolBroker
import Testing

/// One broker per data directory: a second opener is refused until the first closes.
@Suite("The data directory lock")
struct DataDirectoryLockTests {
    @Test("a second open of the same directory fails naming the holder, and leaves the first broker's data intact")
    func secondOpenRefused() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let first = try Broker.open(data.config())
        try first.createTopic("jobs", partitions: 1)
        _ = try await first.produce(topic: "jobs", partition: 0, records: batch("before"), acks: .all)

        #expect {
            _ = try Broker.open(data.config())
        } throws: { error in
            let text = String(describing: error)
            return text.contains("in use by another Spool process") && text.contains("pid \(getpid())")
        }
        // The refused opener touched nothing: the first broker goes on as before.
        _ = try await first.produce(topic: "jobs", partition: 0, records: batch("after"), acks: .all)
        #expect(try await values(first, "jobs") == ["before-0", "before-1", "after-0", "after-1"])
        try first.close()

        let reopened = try Broker.open(data.config())
        #expect(try await values(reopened, "jobs") == ["before-0", "before-1", "after-0", "after-1"])
        #expect {
            _ = try Broker.open(data.config())
        } throws: { error in String(describing: error).contains("in use by another Spool process") }
        try reopened.close()
        try Broker.open(data.config()).close()
    }
}
