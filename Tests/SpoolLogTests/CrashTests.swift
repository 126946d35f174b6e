import Foundation
import SpoolFormat
import SpoolLog
import Testing

/// Kills a writer process with SIGKILL at random moments and checks that every batch it reported
/// durable is in the log, with the right bytes, after each restart.
@Suite struct CrashTests {
    struct Ack: Hashable {
        var tag: String
        var producer: Int
        var sequence: Int
        var base: Int64
        var last: Int64
    }

    static var writerPath: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("spool-crash-writer").path
    }

    @Test(.timeLimit(.minutes(3)))
    func acknowledgedBatchesSurviveSIGKILL() async throws {
        let writer = Self.writerPath
        try #require(FileManager.default.isExecutableFile(atPath: writer), "build the spool-crash-writer product first (\(writer))")
        let directory = TestDirectory()
        defer { directory.remove() }
        var acks: [Ack] = []
        let cycles = 22
        for cycle in 0..<cycles {
            let output = directory.path + "/out-\(cycle).txt"
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            process.arguments = [directory.partition, "c\(cycle)"]
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

            // Wait (bounded) for the writer to open the log, then let it run a random while.
            var ready = false
            // Waits sleep the task, not the thread, so other tests keep the concurrency pool.
            for _ in 0..<1000 where !ready {
                ready = (try? String(contentsOfFile: output, encoding: .utf8))?.hasPrefix("READY") ?? false
                if !ready { try await Task.sleep(for: .milliseconds(10)) }
            }
            try #require(ready, "writer did not start(cycle \(cycle))")
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...200)))
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<1000 where process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
            #expect(process.terminationReason == .uncaughtSignal, "killed, not exited")

            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            #expect(!lines.contains { $0.hasPrefix("ERROR") }, "writer reported an error: \(lines.filter { $0.hasPrefix("ERROR") })")
            acks += lines.compactMap(Self.parseAck)
        }
        #expect(acks.count > cycles, "the writer acknowledged batches")

        // Everything acknowledged is there, once, with its own bytes; nothing corrupt is served.
        let log = try PartitionLog.open(directory: directory.partition, config: LogConfig())
        defer { try? log.close() }
        var recordsByOffset: [Int64: String] = [:]
        for batch in try readAll(log) {
            for record in batch.records {
                recordsByOffset[batch.offset(of: record)] = String(decoding: record.value ?? [], as: UTF8.self)
            }
        }
        #expect(recordsByOffset.count == Int(log.logEndOffset), "offsets are contiguous from 0")
        var missing = 0
        for ack in acks {
            for (index, offset) in (ack.base...ack.last).enumerated()
            where recordsByOffset[offset] != "\(ack.tag)/\(ack.producer)/\(ack.sequence)/\(index)" {
                missing += 1
            }
        }
        #expect(missing == 0, "\(missing) acknowledged records missing or changed")
        #expect(Set(acks.map { [$0.tag, String($0.producer), String($0.sequence)] }).count == acks.count)
        print("crash test: \(cycles) SIGKILLs, \(acks.count) acknowledged batches verified, log end \(log.logEndOffset)")
    }

    static func parseAck(_ line: Substring) -> Ack? {
        let fields = line.split(separator: " ")
        guard fields.count == 6, fields[0] == "ACK", let producer = Int(fields[2]), let sequence = Int(fields[3]),
              let base = Int64(fields[4]), let last = Int64(fields[5]) else { return nil }
        return Ack(tag: String(fields[1]), producer: producer, sequence: sequence, base: base, last: last)
    }
}
