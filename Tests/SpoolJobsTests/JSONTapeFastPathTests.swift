import Foundation
import Testing
@testable import SpoolJobs

/// The tape decoder's shortcuts, asked directly (not through `JSONJobCoding`, whose fallback to
/// Foundation would hide a shortcut that refused what it should take): integers read from their
/// bytes, ISO 8601 dates computed by hand, members looked up by their bytes, and the tape a
/// thread keeps for its next document. Where the tape decoder takes a document, Foundation must
/// take it and give the same value; where a shortcut applies, the tape decoder must take it.
@Suite("JSON payload decoding: the tape decoder's shortcuts answer as Foundation does")
struct JSONTapeFastPathTests {
    typealias Number = JSONTapeDecoderTests.Number

    /// The tape decoder's value for `text` equals Foundation's, when it takes the document; with
    /// `taken`, whether it does is checked too.
    static func expectAgrees<T: Decodable & Equatable>(_ type: T.Type, _ text: String, taken: Bool? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(text.utf8)
        let ours = try? JSONTapeDecoding.decode(type, from: bytes)
        let theirs = try? JSONTapeDecoderTests.foundation.decode(type, from: Data(bytes))
        if let ours { #expect(ours == theirs, "\(text)", sourceLocation: sourceLocation) }
        if let taken { #expect((ours != nil) == taken, "\(text)", sourceLocation: sourceLocation) }
    }

    /// The text of the error the tape decoder throws for `text`.
    static func error<T: Decodable>(_ type: T.Type, _ text: String) -> String? {
        do {
            _ = try JSONTapeDecoding.decode(type, from: Array(text.utf8))
            return nil
        } catch let DecodingError.dataCorrupted(context) {
            return "dataCorrupted \(context.codingPath.map(\.stringValue)) \(context.debugDescription)"
        } catch let DecodingError.typeMismatch(_, context) {
            return "typeMismatch \(context.codingPath.map(\.stringValue)) \(context.debugDescription)"
        } catch let DecodingError.keyNotFound(key, context) {
            return "keyNotFound \(key.stringValue) \(context.codingPath.map(\.stringValue)) \(context.debugDescription)"
        } catch let DecodingError.valueNotFound(_, context) {
            return "valueNotFound \(context.codingPath.map(\.stringValue)) \(context.debugDescription)"
        } catch {
            return "\(error)"
        }
    }

    static func integerTexts<T: FixedWidthInteger>(_ type: T.Type) -> [String] {
        let edges = ["0", "-0", "1", "-1", "7", "-7", "10", "99", "100", "999999999999999999", "-999999999999999999", "1000000000000000000",
                     "-1000000000000000000", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615",
                     "18446744073709551616", "123456789012345678901234567890", "1.0", "-1.0", "1e2", "1E2", "1.5", "-0.0", "0e0"]
        let limits = [String(T.min), String(T.max), "\(Int128(T.min) - 1)", "\(Int128(T.max) + 1)", String(T.max / 10), String(T.min / 10)]
        return edges + limits
    }

    static func expectIntegers<T: FixedWidthInteger & Codable>(_ type: T.Type, sourceLocation: SourceLocation = #_sourceLocation) {
        for text in integerTexts(T.self) {
            let plain = !text.contains { $0 == "." || $0 == "e" || $0 == "E" }
            let value = Int128(text)
            let fits = value.map { $0 >= Int128(T.min) && $0 <= Int128(T.max) } ?? false
            // Written as a whole number in range: taken (from the bytes, or from the text past 18 digits).
            expectAgrees(Number<T>.self, "{\"n\":\(text)}", taken: plain ? fits : nil, sourceLocation: sourceLocation)
            expectAgrees([T].self, "[\(text),\(text)]", taken: plain ? fits : nil, sourceLocation: sourceLocation)
            if plain && !fits {
                #expect(error(Number<T>.self, "{\"n\":\(text)}") == "dataCorrupted [\"n\"] Parsed JSON number <\(text)> does not fit in \(T.self).",
                        sourceLocation: sourceLocation)
            }
        }
    }

    @Test("integers of every width: whole numbers read from their bytes, the edges of each range, fractions and exponents, and their errors")
    func integers() throws {
        Self.expectIntegers(Int.self)
        Self.expectIntegers(Int8.self)
        Self.expectIntegers(Int16.self)
        Self.expectIntegers(Int32.self)
        Self.expectIntegers(Int64.self)
        Self.expectIntegers(UInt.self)
        Self.expectIntegers(UInt8.self)
        Self.expectIntegers(UInt16.self)
        Self.expectIntegers(UInt32.self)
        Self.expectIntegers(UInt64.self)
        #expect(try JSONTapeDecoding.decode(Number<Int64>.self, from: Array(#"{"n":-999999999999999999}"#.utf8)).n == -999_999_999_999_999_999)
        #expect(try JSONTapeDecoding.decode(Number<UInt8>.self, from: Array(#"{"n":255}"#.utf8)).n == 255)
        #expect(Self.error(Number<Int>.self, #"{"n":"1"}"#) == "typeMismatch [\"n\"] Expected to decode Int but found a string instead.")
        #expect(Self.error(Number<Int>.self, #"{"n":null}"#) == "valueNotFound [\"n\"] Cannot get value of type Int -- found null value instead")
        #expect(Self.error(Number<UInt>.self, #"{"n":-1}"#) == "dataCorrupted [\"n\"] Parsed JSON number <-1> does not fit in UInt.")
        #expect(Self.error([Int8].self, "[1,128]") == "dataCorrupted [\"Index 1\"] Parsed JSON number <128> does not fit in Int8.")
    }

    @Test("doubles and floats read with their type known: the same numbers and refusals as before")
    func floats() {
        for text in ["0", "-0", "1", "-1.5", "0.1", "3.141592653589793", "1e308", "2e308", "1e-400", "0.000", "0e5", "16777217", "3.4028235e38",
                     "3.5e38", "1e-40", "1e-50", "123456789012345678901234567890", "\"1\"", "true", "null"] {
            Self.expectAgrees(Number<Double>.self, "{\"n\":\(text)}")
            Self.expectAgrees(Number<Float>.self, "{\"n\":\(text)}")
            Self.expectAgrees([Double].self, "[\(text)]")
        }
        Self.expectAgrees(Number<Double>.self, #"{"n":0.1}"#, taken: true)
        #expect(Self.error(Number<Double>.self, #"{"n":1e400}"#) == "dataCorrupted [\"n\"] Number 1e400 is not representable in Swift.")
        #expect(Self.error(Number<Float>.self, #"{"n":"x"}"#) == "typeMismatch [\"n\"] Expected to decode Float but found a string instead.")
    }

    @Test("dates written as Foundation writes them are computed, on every day of years from 1970 to 9999, at times all through the day")
    func dates() {
        let format = Date.ISO8601FormatStyle()
        for year in [1970, 1971, 1999, 2000, 2023, 2024, 2026, 2038, 2100, 2400, 9999] {
            let start = Date(timeIntervalSince1970: Double(CivilDate.daysSince1970(year: year, month: 1, day: 1)) * 86_400)
            #expect(format.format(start) == String(format: "%04d-01-01T00:00:00Z", year))
            let days = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 366 : 365
            for day in 0..<days {
                let date = start.addingTimeInterval(Double(day * 86_400 + (day * 3797 + year) % 86_400))
                let text = format.format(date)
                Self.expectAgrees(Number<Date>.self, "{\"n\":\"\(text)\"}", taken: true)
                #expect((try? JSONTapeDecoding.decode(Number<Date>.self, from: Array("{\"n\":\"\(text)\"}".utf8)))?.n == date, "\(text)")
            }
            for time in ["00:00:00", "23:59:59", "12:00:00"] {
                Self.expectAgrees(Number<Date>.self, "{\"n\":\"\(year)-12-31T\(time)Z\"}", taken: true)
            }
        }
        // Not the plain form, or not a real day or time: read by Foundation's parsing, as before.
        for text in ["2023-02-29T00:00:00Z", "2024-02-29T23:59:59Z", "2024-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
                     "2026-12-00T00:00:00Z", "2026-04-31T00:00:00Z", "2026-12-02T24:00:00Z", "2026-12-02T23:60:00Z", "2026-12-02T23:59:60Z",
                     "1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-12-02t04:12:00Z", "2026-12-02T04:12:00z", "2026-12-02 04:12:00Z",
                     #"2026-12-02T04:12:00\u005A"#, "2026-12-02T04:12:00.5Z", "2026-12-02T04:12:00+00:00", "+2026-12-02T04:12:00Z",
                     "2026-1a-02T04:12:00Z", "２026-12-02T04:12:00Z"] {
            Self.expectAgrees(Number<Date>.self, "{\"n\":\"\(text)\"}")
            JSONTapeDecoderTests.expectSame(Number<Date>.self, "{\"n\":\"\(text)\"}")
        }
        #expect(Self.error(Number<Date>.self, #"{"n":"2026-13-01T00:00:00Z"}"#) == "dataCorrupted [\"n\"] Expected date string to be ISO8601-formatted.")
    }

    struct Keys: Codable, Equatable {
        var alpha: Int
        var beta: String
        var gamma: Int?
    }

    struct Kelvin: Codable, Equatable {
        var kelvin: Int?
        var other: Int?
        enum CodingKeys: String, CodingKey {
            case kelvin = "\u{212A}"
            case other = "caf\u{E9}"
        }
    }

    @Test("members found in any order, repeated (the first), missing, escaped, and a name that is not ASCII against keys that are")
    func members() throws {
        let taken = [#"{"alpha":1,"beta":"b","gamma":3}"#, #"{"gamma":3,"beta":"b","alpha":1}"#, #"{"beta":"b","alpha":1}"#,
                     #"{"alpha":1,"beta":"b","alpha":2,"beta":"c"}"#, #"{"alphA":9,"alpha":1,"betaa":"x","beta":"b"}"#,
                     #"{"al\u0070ha":1,"beta":"b"}"#, #"{"x":{"alpha":2},"alpha":1,"beta":"b","gamma":null}"#, #"{"":0,"alpha":1,"beta":"b"}"#]
        for text in taken { Self.expectAgrees(Keys.self, text, taken: true) }
        #expect(try JSONTapeDecoding.decode(Keys.self, from: Array(#"{"alpha":1,"beta":"b","alpha":2,"beta":"c","gamma":5,"gamma":6}"#.utf8))
                == Keys(alpha: 1, beta: "b", gamma: 5))
        for text in [#"{"beta":"b"}"#, #"{"alpha":"1","beta":"b"}"#, #"{"alpha":1,"beta":2}"#, #"{"Alpha":1,"beta":"b"}"#] {
            Self.expectAgrees(Keys.self, text, taken: false)
        }
        #expect(Self.error(Keys.self, #"{"beta":"b"}"#) == #"keyNotFound alpha [] No value associated with key CodingKeys(stringValue: "alpha", intValue: nil) ("alpha")."#)
        // A name that is not ASCII is the same String as an ASCII key ("K" and the Kelvin sign), or
        // as a key written otherwise ("e" and a combining accent).
        for text in [#"{"K":1}"#, #"{"a":0,"K":1}"#, "{\"\u{212A}\":1}", #"{"k":1,"K":2}"#, "{\"cafe\u{301}\":2}", #"{"cafe\u0301":2,"K":1}"#, #"{"x":1}"#] {
            Self.expectAgrees(Kelvin.self, text, taken: true)
        }
        #expect(try JSONTapeDecoding.decode(Kelvin.self, from: Array(#"{"a":0,"K":1,"cafe\u0301":2}"#.utf8)) == Kelvin(kelvin: 1, other: 2))
    }

    struct Labels: Codable, Equatable {
        var labels: [String: String]
        var more: [String: String]?
    }

    @Test("string dictionaries built directly: repeated and equivalent keys (the first), escapes, members that are not strings, errors")
    func stringDictionaries() throws {
        let taken = ["{}", #"{"a":"1","b":"2"}"#, #"{"a":"1","a":"2"}"#, #"{"b\u0061":"\u00e9","ba":"x"}"#, "{\"caf\u{E9}\":\"1\",\"cafe\u{301}\":\"2\"}",
                     "{\"\u{212A}\":\"kelvin\",\"K\":\"k\"}", #"{"":"","k":"a\"b\\c\/d\n"}"#, #"{"😀":"\ud83d\ude00"}"#]
        for text in taken {
            Self.expectAgrees([String: String].self, text, taken: true)
            Self.expectAgrees(Labels.self, "{\"labels\":\(text),\"more\":\(text)}", taken: true)
            Self.expectAgrees([[String: String]].self, "[\(text),\(text)]", taken: true)
        }
        // The first of equal keys is kept, with the first's value: the key's own bytes too.
        let equivalent = try JSONTapeDecoding.decode([String: String].self, from: Array("{\"cafe\u{301}\":\"1\",\"caf\u{E9}\":\"2\"}".utf8))
        #expect(equivalent.count == 1 && equivalent.keys.first.map { Array($0.utf8) } == Array("cafe\u{301}".utf8) && equivalent.values.first == "1")
        // A later repeat that is not a string is never read, as through a keyed container.
        #expect(try JSONTapeDecoding.decode([String: String].self, from: Array(#"{"a":"1","a":2}"#.utf8)) == ["a": "1"])
        for text in [#"{"a":1}"#, #"{"a":"1","b":null}"#, #"{"a":"1","b":{}}"#, #"{"a":"\ud800"}"#, "[]", "\"x\"", "null"] {
            Self.expectAgrees([String: String].self, text, taken: false)
            Self.expectAgrees(Labels.self, "{\"labels\":\(text)}", taken: false)
        }
        #expect(Self.error(Labels.self, #"{"labels":{"a":"1","b":2}}"#) == "typeMismatch [\"labels\", \"b\"] Expected to decode String but found number instead.")
        #expect(Self.error(Labels.self, #"{"labels":[]}"#) == "typeMismatch [\"labels\"] Expected to decode a dictionary but found an array instead.")
        #expect(Self.error([String: String].self, #"{"a":null}"#) == "valueNotFound [\"a\"] Cannot get value of type String -- found null value instead")
        #expect(try JSONTapeDecoding.decode(Labels.self, from: Array(#"{"labels":{"x":"y"},"more":null}"#.utf8)) == Labels(labels: ["x": "y"], more: nil))
    }

    struct Outer: Decodable, Equatable {
        var name: String
        var inner: Keys
        var after: [Int]

        enum CodingKeys: String, CodingKey { case name, payload, after }

        init(name: String, inner: Keys, after: [Int]) { (self.name, self.inner, self.after) = (name, inner, after) }

        /// Decodes a payload of its own in the middle of reading its members.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let payload = try container.decode(String.self, forKey: .payload)
            inner = try JSONTapeDecoding.decode(Keys.self, from: Array(payload.utf8))
            name = try container.decode(String.self, forKey: .name)
            after = try container.decode([Int].self, forKey: .after)
        }
    }

    @Test("a thread's kept tape: documents of every size in turn, refused ones, one decoded inside another, and many threads at once")
    func keptTapes() async throws {
        let large = "[" + (0..<5000).map(String.init).joined(separator: ",") + "]"
        for round in 0..<3 {
            #expect(try JSONTapeDecoding.decode(Keys.self, from: Array(#"{"alpha":\#(round),"beta":"b"}"#.utf8)) == Keys(alpha: round, beta: "b"))
            #expect(try JSONTapeDecoding.decode([Int].self, from: Array(large.utf8)) == Array(0..<5000))
            #expect(throws: (any Error).self) { try JSONTapeDecoding.decode(Keys.self, from: Array(#"{"alpha":1,"#.utf8)) }
            #expect(throws: (any Error).self) { try JSONTapeDecoding.decode(Keys.self, from: Array(#"{"alpha":"x","beta":"b"}"#.utf8)) }
            #expect(try JSONTapeDecoding.decode([String].self, from: Array(#"["x","yz"]"#.utf8)) == ["x", "yz"])
        }
        let outer = #"{"name":"outer","payload":"{\"gamma\":7,\"beta\":\"inner\",\"alpha\":3}","after":[1,2,3]}"#
        for _ in 0..<3 {
            #expect(try JSONTapeDecoding.decode(Outer.self, from: Array(outer.utf8)) == Outer(name: "outer", inner: Keys(alpha: 3, beta: "inner", gamma: 7), after: [1, 2, 3]))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<400 {
                        let value = task * 1000 + index
                        let text = index % 50 == 0 ? "[" + (0..<(600 + index)).map { _ in String(value) }.joined(separator: ",") + "]" : "[\(value)]"
                        let decoded = try JSONTapeDecoding.decode([Int].self, from: Array(text.utf8))
                        #expect(decoded.allSatisfy { $0 == value } && !decoded.isEmpty)
                        let keys = try JSONTapeDecoding.decode(Keys.self, from: Array(#"{"beta":"\#(value)","alpha":\#(value)}"#.utf8))
                        #expect(keys == Keys(alpha: value, beta: String(value)))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
