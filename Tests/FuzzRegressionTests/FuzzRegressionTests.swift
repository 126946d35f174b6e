import Foundation
import Testing

/// Every input a fuzz run found a failure with, kept in `Inputs/<target>/` and replayed through the
/// fuzz target's own code (its plain build, which runs the files it is given): the fix stays fixed.
/// The seeds are replayed too, so the replay path itself is known to work.
@Suite struct FuzzRegressionTests {
    static let inputs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Inputs").path

    static func executable(_ name: String) -> String {
        let test = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: test).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs a fuzz target's replay build on `arguments`; returns its exit status and output.
    static func replay(_ target: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "spool.test.fuzz").async {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable("spool-fuzz-\(target)"))
                    process.arguments = arguments
                    let pipe = Pipe()
                    process.standardOutput = pipe
                    process.standardError = pipe
                    try process.run()
                    let output = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
                })
            }
        }
    }

    @Test(arguments: ["batch", "request", "router"])
    func foundInputsNoLongerFail(target: String) async throws {
        let directory = "\(Self.inputs)/\(target)"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".bin") }
        let result = try await Self.replay(target, [directory])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("replayed \(files.count) "), "\(result.output)")
    }

    @Test(arguments: ["batch", "request", "router"])
    func seedsReplay(target: String) async throws {
        let seeds = NSTemporaryDirectory() + "spool-fuzz-seeds-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: seeds) }
        let written = try await Self.replay(target, ["--write-seeds", seeds])
        #expect(written.status == 0, "\(written.output)")
        let count = try FileManager.default.contentsOfDirectory(atPath: seeds).count
        #expect(count >= 8)
        let replayed = try await Self.replay(target, [seeds])
        #expect(replayed.status == 0, "\(replayed.output)")
        #expect(replayed.output.contains("replayed \(count) "), "\(replayed.output)")
    }
}
