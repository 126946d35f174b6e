import Foundation
import SpoolJobs
import SpoolSystem

/// `spool-bench codec`: how long a worker takes to read a job's payload, and a queue to write
/// one, through `JSONJobCoding` beside Foundation's `JSONDecoder` and `JSONEncoder` set up the
/// same way, in the same run.
struct CodecBenchmark {
    static let help = """
        usage: spool-bench codec [--payloads N] [--json]

        Decodes and encodes N payloads (default 200000) of two shapes, the 100-byte one
        `spool-bench jobs` enqueues and a nested one of about 350 bytes (a date, an optional, an
        array, an object), with JSONJobCoding (what workers and queues use) and with Foundation's
        JSONDecoder and JSONEncoder (ISO 8601 dates, sorted keys), one thread, best of 3.

        options:
          --payloads N       payloads per run (default 200000)
          --json             print one JSON object with the figures as the last line
        """

    struct Options {
        var payloads = 200_000
        var json = false
        var help = false

        init(_ words: ArraySlice<String>) throws {
            var words = BenchWords(words)
            while let flag = try words.next() {
                switch flag {
                case "--payloads": payloads = try words.number(flag, 1_000...100_000_000)
                default: throw UsageError("unknown option \(flag)")
                }
            }
            (json, help) = (words.json, words.help)
        }
    }

    struct Small: Codable, Sendable {
        var user: String
        var body: String
    }

    struct Order: Codable, Sendable {
        struct Line: Codable, Sendable {
            var sku: String
            var quantity: Int
            var price: Double
        }

        var id: Int64
        var customer: String
        var placedAt: Date
        var note: String?
        var lines: [Line]
        var shipping: [String: String]
        var express: Bool
    }

    let options: Options

    func run() throws {
        let small = Small(user: "user-4217", body: String(repeating: "x", count: 70))
        let order = Order(id: 918_273_645, customer: "cust-0042", placedAt: Date(timeIntervalSince1970: 1_796_184_720), note: nil,
                          lines: (0..<4).map { .init(sku: "SKU-\($0)00\($0)", quantity: $0 + 1, price: 9.99 * Double($0 + 1)) },
                          shipping: ["street": "1 Long Road", "city": "Lisbon", "postcode": "1000-001"], express: true)
        let coding = JSONJobCoding()
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        var rows: [Row] = []
        func measure<T: Codable>(_ name: String, _ value: T) throws {
            let bytes = try coding.encode(value)
            guard bytes == Array(try encoder.encode(value)) else { throw UsageError("JSONJobCoding and JSONEncoder wrote \(name) differently") }
            rows.append(Row(name: name, bytes: bytes.count,
                            decode: (try best { _ = try coding.decode(T.self, from: bytes) }, try best { _ = try decoder.decode(T.self, from: Data(bytes)) }),
                            encode: (try best { _ = try coding.encode(value) }, try best { _ = try encoder.encode(value) })))
        }
        try measure("job payload", small)
        try measure("nested order", order)
        print("spool-bench codec: \(options.payloads) payloads per run, one thread, best of 3, µs per payload")
        print("")
        print("               bytes   decode: JSONJobCoding   JSONDecoder   speed-up   encode: JSONJobCoding   JSONEncoder   speed-up")
        for row in rows {
            print(row.name.padding(toLength: 14, withPad: " ", startingAt: 0) + " " + String(row.bytes).padding(toLength: 7, withPad: " ", startingAt: 0)
                  + Self.columns(row.decode) + Self.columns(row.encode))
        }
        if options.json {
            let objects = rows.map {
                "{\"payload\":\"\($0.name)\",\"bytes\":\($0.bytes),\"jobCodingMicros\":\($0.decode.ours),\"jsonDecoderMicros\":\($0.decode.foundation),"
                    + "\"encodeMicros\":\($0.encode.ours),\"jsonEncoderMicros\":\($0.encode.foundation)}"
            }
            print("{\"benchmark\":\"codec\",\"runs\":[\(objects.joined(separator: ","))]}")
        }
    }

    struct Row {
        var name: String
        var bytes: Int
        var decode: (ours: Double, foundation: Double)
        var encode: (ours: Double, foundation: Double)
    }

    /// "ours, Foundation's, speed-up", under the headings above.
    private static func columns(_ times: (ours: Double, foundation: Double)) -> String {
        " " + format(times.ours, 3).leftPadded(23) + " " + format(times.foundation, 3).leftPadded(13) + " " + (format(times.foundation / times.ours, 1) + "×").leftPadded(10)
    }

    /// Microseconds per call of `body`, the best of 3 runs of `options.payloads` calls.
    private func best(_ body: () throws -> Void) throws -> Double {
        var fastest = Double.infinity
        for _ in 0..<3 {
            let start = monotonicNanoseconds()
            for _ in 0..<options.payloads { try body() }
            fastest = min(fastest, Double(monotonicNanoseconds() - start) / 1_000 / Double(options.payloads))
        }
        return fastest
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
