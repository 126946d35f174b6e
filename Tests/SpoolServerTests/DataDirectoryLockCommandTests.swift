import Foundation
import Testing

/// `spool serve` refuses a data directory another `spool serve` is serving.
@Suite("spool serve and the data directory lock", .serialized)
struct DataDirectoryLockCommandTests {
    @Test("a second spool serve on the same --data exits non-zero with the holder's pid, and the first serves on")
    func secondServeRefused() async throws {
        let data = NSTemporaryDirectory() + "spool-serve-lock-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try await ServerProcess.start(data: data)
        defer { first.kill() }
        let topics = try await run(ServerProcess.spoolPath, ["topic", "create", "jobs", "--broker", first.bootstrap])
        #expect(topics.status == 0, "\(topics.errors)")

        let second = try await run(ServerProcess.spoolPath, ["serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "off"], timeout: 20)
        #expect(second.status != 0)
        #expect(second.errors.contains("in use by another Spool process"), "\(second.errors)")
        // The pid it names is the first server's: a spool serve of this directory.
        let pid = try #require(second.errors.range(of: "pid ").map { Int(second.errors[$0.upperBound...].prefix { $0.isNumber }) } ?? nil)
        let command = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8).replacingOccurrences(of: "\0", with: " ")
        #expect(command.contains("serve --data \(data)"), "\(command)")

        #expect(first.isRunning)
        let listed = try await run(ServerProcess.spoolPath, ["topic", "list", "--broker", first.bootstrap])
        #expect(listed.status == 0 && listed.output.contains("jobs"), "\(listed.output) \(listed.errors)")
        #expect(await first.stop() == 0)
    }
}
