// A child process for the crash tests: appends to a log with fsync=always from several concurrent
// producers and prints one line per batch once it is durable, until it is killed.
//
//   spool-crash-writer DIR TAG
//
// Output (stdout, one write(2) per line so a kill never leaves half a line):
//   READY <log end offset> <recovery report>
//   ACK <tag> <producer> <sequence> <base offset> <last offset>
// Record j of batch (producer p, sequence i) has value "<tag>/<p>/<i>/<j>" and key "<p>".
import Glibc
import SpoolFormat
import SpoolLog

func emit(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    _ = "usage: spool-crash-writer DIR TAG\n".withCString { write(2, $0, strlen($0)) }
    exit(64)
}
let directory = arguments[1]
let tag = arguments[2]

var config = LogConfig()
config.segmentBytes = 256 << 10
config.preallocateBytes = 64 << 10
config.indexIntervalBytes = 512
config.fsync = .always
config.recoveryCheckpointIntervalMs = 50

let log: PartitionLog
do {
    log = try PartitionLog.open(directory: directory, config: config)
} catch {
    _ = "open failed: \(error)\n".withCString { write(2, $0, strlen($0)) }
    exit(1)
}
emit("READY \(log.logEndOffset) \(log.recoveryReport)")

func batch(producer: Int, sequence: Int) -> [UInt8] {
    let count = 1 + (producer + sequence) % 5
    return RecordBatch(producing: (0..<count).map { index in
        ProducerRecord(key: Array("\(producer)".utf8), value: Array("\(tag)/\(producer)/\(sequence)/\(index)".utf8),
                       timestamp: 1_700_000_000_000 + Int64(sequence))
    }).encoded()
}

await withTaskGroup(of: Void.self) { group in
    for producer in 0..<4 {
        group.addTask {
            var sequence = 0
            while true {
                do {
                    let result = try log.append(batch(producer: producer, sequence: sequence))
                    try await log.waitUntilDurable(result.lastOffset)
                    emit("ACK \(tag) \(producer) \(sequence) \(result.baseOffset) \(result.lastOffset)")
                } catch {
                    emit("ERROR \(error)")
                    exit(1)
                }
                sequence += 1
            }
        }
    }
}
