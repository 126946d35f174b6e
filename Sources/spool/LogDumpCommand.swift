import Foundation
import SpoolBroker
import SpoolFormat
import SpoolLog

/// `spool log dump`: what is in a partition directory, batch by batch (like Kafka's
/// kafka-dump-log). Opening the log recovers it first, so what is printed is what a broker serves.
enum LogDumpCommand {
    static let help = """
        usage: spool log dump DIR [--from OFFSET] [--count N] [--records]

        Opens the partition log in DIR (recovering it if it was not closed cleanly) and prints its
        segments, then one line per batch from OFFSET (default: the log start). DIR must hold
        segment files; while a broker has DIR's data directory open it is refused (recovery
        writes to the log): stop the broker first, or dump a copy.

        options:
          --from OFFSET   first offset to print
          --count N       batches to print at most (default: 100)
          --records       also print each record's offset, timestamp, key, value and headers
        """

    static func run(_ words: ArraySlice<String>) -> Int32 {
        let arguments: Arguments
        let count: Int
        do {
            arguments = try Arguments(words, valued: ["from", "count"], flags: ["records"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            guard arguments.positional.count == 1 else {
                throw Arguments.UsageError(description: "expected one partition directory")
            }
            count = try arguments.integer("count", default: 100, range: 1...10_000_000)
            _ = try arguments.integer("from", default: 0, range: 0...Int.max)
        } catch {
            printError("spool log dump: \(error)\n\n" + help)
            return ExitCode.usage
        }
        do {
            try dump(arguments.positional[0], from: arguments.options["from"].flatMap { Int64($0) }, count: count,
                     records: arguments.switches.contains("records"))
            return ExitCode.success
        } catch {
            printError("spool log dump: \(error)")
            return ExitCode.failure
        }
    }

    struct DumpError: Error, CustomStringConvertible {
        var description: String
    }

    /// Refuses what is not a partition directory (opening one would create an empty log there)
    /// and one whose data directory a broker has open (recovery and close write to the log: they
    /// would cut the broker's active segment under it). Returns the data directory's lock, held
    /// until the dump ends, when the data directory has one.
    static func guardDirectory(_ directory: String) throws -> DataDirectoryLock? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DumpError(description: "\(directory): no such directory")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard names.contains(where: { $0.hasSuffix(".log") }) else {
            throw DumpError(description: "\(directory) holds no segment files (such as 00000000000000000000.log): not a partition directory")
        }
        let data = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: data + "/.lock") else { return nil }
        do { return try DataDirectoryLock.acquire(data) } catch let error as BrokerError {
            throw DumpError(description: "\(error); or dump a copy of \(directory)")
        }
    }

    private static func dump(_ directory: String, from: Int64?, count: Int, records: Bool) throws {
        let lock = try guardDirectory(directory)
        defer { lock?.release() }
        var config = LogConfig()
        config.segmentMs = nil
        config.retentionMs = nil
        let log = try PartitionLog.open(directory: directory, config: config)
        defer { try? log.close() }
        print("\(directory): \(log.recoveryReport)")
        print("segments: \(log.segmentBaseOffsets.map(String.init).joined(separator: ", ")); \(log.sizeInBytes) bytes")
        var next = from ?? log.logStartOffset
        var printed = 0
        while printed < count, next < log.highWatermark {
            let slice = try log.read(from: next, maxBytes: 1 << 20).slice
            guard !slice.isEmpty else { break }
            try slice.forEachBatch { bytes in
                guard printed < count else { return }
                let header = try RecordBatchHeader(parsing: bytes)
                print("offset \(header.baseOffset)...\(header.lastOffset) size \(header.totalSize) records \(header.recordsCount) "
                      + "maxTimestamp \(header.maxTimestamp) compression \(header.attributes.compression.map(String.init(describing:)) ?? "?") "
                      + "producer \(header.producerId)/\(header.producerEpoch) sequence \(header.baseSequence) crc \(header.crc)")
                if records {
                    let batch: RecordBatch
                    do { batch = try RecordBatch(inflating: bytes) } catch {
                        print("  | records not read: \(error)")
                        printed += 1
                        next = header.nextOffset
                        return
                    }
                    for record in batch.records {
                        let headers = record.headers.map { "\($0.key)=\(text($0.value))" }.joined(separator: ",")
                        print("  | offset \(batch.offset(of: record)) timestamp \(batch.timestamp(of: record)) "
                              + "key \(text(record.key)) value \(text(record.value))" + (headers.isEmpty ? "" : " headers \(headers)"))
                    }
                }
                printed += 1
                next = header.nextOffset
            }
        }
    }

    private static func text(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "null" }
        return String(decoding: bytes.prefix(200), as: UTF8.self) + (bytes.count > 200 ? "…" : "")
    }
}
