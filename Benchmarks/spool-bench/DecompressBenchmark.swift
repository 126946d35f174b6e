import Foundation
import SpoolFormat
import SpoolSystem

/// `spool-bench decompress`: how fast Spool decompresses a compressed batch's records (what a
/// consumer does for every such batch it reads, and the broker for every one it is sent), codec
/// by codec, beside the codec's reference tool (`gzip -d`, `zstd -d`, `lz4 -d`, each C) on the
/// same bytes in the same run, its start as a process taken off.
struct DecompressBenchmark {
    static let help = """
        usage: spool-bench decompress [--mb N] [--codecs LIST] [--json]

        Makes N MiB (default 16) of records as a job topic holds them (keys, JSON payloads, a job
        id header), compresses them with each codec's reference tool at its default level, and
        decompresses them with Spool's decoder (in batches of 1 MiB of records, as a consumer
        reads them) and with the tool (the same streams repeated to 256 MiB, from a file to
        /dev/null, less the time the tool takes on a one-byte stream: its start), best of 3. Figures are MiB of records per
        second. Snappy has no such tool in Debian, so it is not measured.

        options:
          --mb N             MiB of records (default 16)
          --codecs LIST      comma-separated, of gzip, zstd, lz4 (default all three; a codec
                             whose tool is not installed is skipped, and says so)
          --json             print one JSON object with the figures as the last line
        """

    struct Options {
        var megabytes = 16
        var codecs: [Compression] = [.gzip, .zstd, .lz4]
        var json = false
        var help = false

        init(_ words: ArraySlice<String>) throws {
            var words = BenchWords(words)
            while let flag = try words.next() {
                switch flag {
                case "--mb": megabytes = try words.number(flag, 1...1_024)
                case "--codecs":
                    codecs = try words.value(flag).split(separator: ",").map { name in
                        guard let codec = Tool.codecs.first(where: { $0.description == name }) else {
                            throw UsageError("--codecs takes gzip, zstd and lz4, not '\(name)'")
                        }
                        return codec
                    }
                default: throw UsageError("unknown option \(flag)")
                }
            }
            (json, help) = (words.json, words.help)
        }
    }

    /// A codec's reference tool: how to run it to compress standard input, and to decompress.
    enum Tool {
        static let codecs: [Compression] = [.gzip, .zstd, .lz4]

        static func name(_ codec: Compression) -> String {
            switch codec {
            case .zstd: "zstd"
            case .lz4: "lz4"
            default: "gzip"
            }
        }

        static func compress(_ codec: Compression) -> [String] { codec == .zstd ? ["-q", "-c"] : ["-c"] }
        static func decompress(_ codec: Compression) -> [String] { codec == .zstd ? ["-q", "-d", "-c"] : ["-d", "-c"] }
    }

    let options: Options

    func run() throws {
        let batches = Self.recordSections(megabytes: options.megabytes)
        let total = batches.reduce(0) { $0 + $1.count }
        var rows: [(codec: Compression, ratio: Double, spool: Double, tool: Double)] = []
        for codec in options.codecs {
            guard let path = Self.which(Tool.name(codec)) else {
                print("\(codec): \(Tool.name(codec)) is not installed, skipped")
                continue
            }
            var compressed: [[UInt8]] = []
            for records in batches { compressed.append(try Self.batch(codec, records: try Self.pipe(path, Tool.compress(codec), records))) }
            // Spool's decoder, batch by batch, checked against what went in.
            for (batch, records) in zip(compressed, batches) {
                guard try Self.inflate(batch) == records else { throw UsageError("\(codec): Spool's decoder gave back other bytes") }
            }
            let spool = try best { for batch in compressed { _ = try Self.inflate(batch) } }
            // The tool, on the same streams concatenated in a file (each codec reads its streams one
            // after another), repeated to 256 MiB of output so that its start as a process, taken
            // off too (the tool on a one-byte stream), is small beside its work; to /dev/null.
            let stream = compressed.flatMap { $0[RecordBatchLayout.headerSize...] }
            guard try Self.pipe(path, Tool.decompress(codec), stream).count == total else { throw UsageError("\(codec): the tool gave back another length") }
            let repeats = max(1, (256 << 20) / total)
            let file = NSTemporaryDirectory() + "spool-bench-decompress-\(ProcessInfo.processInfo.processIdentifier).\(codec)"
            _ = FileManager.default.createFile(atPath: file, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            for _ in 0..<repeats { try handle.write(contentsOf: Data(stream)) }
            try handle.close()
            defer { try? FileManager.default.removeItem(atPath: file) }
            let tiny = file + ".tiny"
            try Data(try Self.pipe(path, Tool.compress(codec), [0])).write(to: URL(fileURLWithPath: tiny))
            defer { try? FileManager.default.removeItem(atPath: tiny) }
            let start = try best { try Self.run(path, Tool.decompress(codec) + [tiny]) }
            let tool = max(try best { try Self.run(path, Tool.decompress(codec) + [file]) } - start, 1e-6) / Double(repeats)
            let mib = Double(total) / Double(1 << 20)
            rows.append((codec, Double(total) / Double(stream.count), mib / spool, mib / tool))
        }
        print("spool-bench decompress: \(options.megabytes) MiB of job records in 1 MiB batches, best of 3, MiB/s of records")
        print("")
        print("codec   ratio   Spool's decoder   reference tool   Spool / tool")
        for row in rows {
            print(String(describing: row.codec).padding(toLength: 8, withPad: " ", startingAt: 0)
                  + String(format: "%5.1f×", row.ratio).padding(toLength: 8, withPad: " ", startingAt: 0)
                  + String(format: "%15.0f", row.spool) + String(format: "%17.0f", row.tool) + String(format: "%14.0f %%", 100 * row.spool / row.tool))
        }
        if options.json {
            let objects = rows.map { "{\"codec\":\"\($0.codec)\",\"ratio\":\($0.ratio),\"spoolMiBps\":\($0.spool),\"toolMiBps\":\($0.tool)}" }
            print("{\"benchmark\":\"decompress\",\"runs\":[\(objects.joined(separator: ","))]}")
        }
    }

    /// The records sections of uncompressed batches of about 1 MiB each, `megabytes` in all.
    private static func recordSections(megabytes: Int) -> [[UInt8]] {
        var sections: [[UInt8]] = []
        var index = 0
        for _ in 0..<megabytes {
            var records: [ProducerRecord] = []
            var size = 0
            while size < 1 << 20 {
                let value = #"{"user":"user-\#(index % 997)","to":"user\#(index)@example.com","template":"welcome","attempt":\#(index % 3)}"#
                let record = ProducerRecord(key: Array("user-\(index % 997)".utf8), value: Array(value.utf8),
                                            headers: [RecordHeader("spool-job-id", "job-\(index)")], timestamp: 1_764_370_000_000 + Int64(index))
                size += value.utf8.count + 40
                records.append(record)
                index += 1
            }
            sections.append(Array(RecordBatch(producing: records).encoded()[RecordBatchLayout.headerSize...]))
        }
        return sections
    }

    /// A batch of `codec` whose records section is `compressed`: the header of an uncompressed
    /// batch of the same records, with the codec set and the length and CRC made right.
    private static func batch(_ codec: Compression, records compressed: [UInt8]) throws -> [UInt8] {
        var batch = Array(RecordBatch(producing: [ProducerRecord(value: [0], timestamp: 0)], attributes: BatchAttributes(compression: codec)).encoded()
            .prefix(RecordBatchLayout.headerSize)) + compressed
        RecordBatchLayout.seal(&batch)
        return batch
    }

    private static func inflate(_ batch: [UInt8]) throws -> [UInt8] {
        try batch.withUnsafeBytes { raw in try InflatedBatch.records(of: raw, header: try RecordBatchHeader(parsing: raw)) }
    }

    /// Seconds of the fastest of 3 runs of `body`.
    private func best(_ body: () throws -> Void) throws -> Double {
        var fastest = Double.infinity
        for _ in 0..<3 {
            let start = monotonicNanoseconds()
            try body()
            fastest = min(fastest, Double(monotonicNanoseconds() - start) / 1e9)
        }
        return fastest
    }

    private static func which(_ tool: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs `tool arguments` with its output to /dev/null.
    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw UsageError("\(tool) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)") }
    }

    /// What `tool arguments` writes for `input` on its standard input.
    private static func pipe(_ tool: String, _ arguments: [String], _ input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let (stdin, stdout) = (Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw UsageError("\(tool) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)") }
        return Array(output)
    }
}
