import Foundation
import SpoolJobs
import SpoolSystem

/// `spool-bench codec`: how long a worker takes to read a job's payload, through
/// `JSONJobCoding` beside Foundation's `JSONDecoder` set up the same way, in the same run.
struct CodecBenchmark {
    static let help = """
        usage: spool-bench codec [--payloads N] [--json]

        Decodes N payloads (default 200000) of two shapes, the 100-byte one `spool-bench jobs`
        enqueues and a nested one of about 400 bytes (a date, an optional, an array, an object),
        with JSONJobCoding (what workers use) and with Foundation's JSONDecoder (ISO 8601 dates),
        one thread, best of 3. Encoding, which both share, is shown for scale.

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
        let foundation = JSONDecoder()
        foundation.dateDecodingStrategy = .iso8601
        var rows: [(String, Int, Double, Double, Double)] = []
        func measure<T: Codable>(_ name: String, _ value: T) throws {
            let bytes = try coding.encode(value)
            let ours = try best { _ = try coding.decode(T.self, from: bytes) }
            let theirs = try best { _ = try foundation.decode(T.self, from: Data(bytes)) }
            let encode = try best { _ = try coding.encode(value) }
            rows.append((name, bytes.count, ours, theirs, encode))
        }
        try measure("job payload", small)
        try measure("nested order", order)
        print("spool-bench codec: \(options.payloads) payloads per run, one thread, best of 3")
        print("")
        print("payload        bytes   JSONJobCoding µs   JSONDecoder µs   speed-up   encode µs")
        for (name, bytes, ours, theirs, encode) in rows {
            print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + " "
                  + String(bytes).padding(toLength: 7, withPad: " ", startingAt: 0) + " "
                  + format(ours, 3).padding(toLength: 18, withPad: " ", startingAt: 0) + " "
                  + format(theirs, 3).padding(toLength: 16, withPad: " ", startingAt: 0) + " "
                  + (format(theirs / ours, 1) + "×").padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                  + format(encode, 3))
        }
        if options.json {
            let objects = rows.map { "{\"payload\":\"\($0.0)\",\"bytes\":\($0.1),\"jobCodingMicros\":\($0.2),\"jsonDecoderMicros\":\($0.3),\"encodeMicros\":\($0.4)}" }
            print("{\"benchmark\":\"codec\",\"runs\":[\(objects.joined(separator: ","))]}")
        }
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
