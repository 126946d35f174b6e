import Foundation
import Testing
@testable import SpoolJobs

/// The tape's own paths: the room it makes for values before parsing (half the bytes of a small
/// document, its brackets and separators for a larger one), strings read without a second check
/// when the parser found them ASCII, keys compared in place, the document's bytes kept in the
/// tape, and decoders that outlive the call that made them.
@Suite("JSON tape: room for values, keys and strings read in place")
struct JSONTapeTests {
    struct Pair: Codable, Equatable {
        var user: String
        var body: String
    }

    struct Tree: Codable, Equatable {
        var name: String
        var children: [Tree]
        var meta: [String: String]?
    }

    static func expectSame<T: Codable & Equatable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        JSONTapeDecoderTests.expectSame(type, text, sourceLocation: sourceLocation)
    }

    @Test("the densest valid documents of every length up to 600 bytes fit the room made for them, on both sides of the 128-byte line")
    func denseDocuments() throws {
        for count in 0...300 {
            let numbers = "[" + Array(repeating: "1", count: count).joined(separator: ",") + "]"
            let arrays = "[" + Array(repeating: "[]", count: count).joined(separator: ",") + "]"
            let members = "{" + (0..<count).map { "\"\($0 % 10)\":0" }.joined(separator: ",") + "}"
            let emptyKeys = "{" + Array(repeating: "\"\":[]", count: count).joined(separator: ",") + "}"
            for text in [numbers, arrays, members, emptyKeys] {
                let bytes = Array(text.utf8)
                let tape = try JSONTape.parse(bytes)
                #expect(tape.count <= bytes.withUnsafeBufferPointer { JSONTape.capacity(for: $0) }, "\(bytes.count) bytes")
            }
            #expect(try JSONTapeDecoding.decode([Int].self, from: Array(numbers.utf8)) == Array(repeating: 1, count: count))
            #expect(try JSONTapeDecoding.decode([[Int]].self, from: Array(arrays.utf8)) == Array(repeating: [], count: count))
            Self.expectSame([String: Int].self, members)
            Self.expectSame([String: [Int]].self, emptyKeys)
        }
    }

    @Test("documents that are not JSON, some of them needing more room than a valid document of their length can, are refused")
    func overfullDocuments() {
        for depth in 1...400 {
            for text in [String(repeating: "[", count: depth), String(repeating: "[1,", count: depth), String(repeating: "{\"\":", count: depth),
                         String(repeating: "[", count: depth) + String(repeating: "]", count: depth - 1)] {
                #expect(throws: JSONTapeError.self) { try JSONTape.parse(Array(text.utf8)) }
                Self.expectSame([[Int]].self, text)
            }
        }
    }

    @Test("members are found by their keys: escaped keys, non-ASCII keys, keys that share a prefix or a length, repeated keys (the first)")
    func keys() {
        let texts = [#"{"user":"a","body":"b"}"#, #"{"body":"b","user":"a"}"#, #"{"us\u0065r":"a","b\/ody":"b"}"#, #"{"user":"a","body":"b","user":"c"}"#,
                     #"{"use":"x","users":"y","user":"a","bodY":"z","body":"b"}"#, #"{"úser":"x","user":"a","body":"b"}"#, #"{"user":"a"}"#,
                     #"{"user\u0000":"x","user":"a","body":"b"}"#, #"{"":"x","user":"a","body":"b"}"#, #"{"user":"a","body":"b","body":"c"}"#,
                     #"{"\u0075ser":"a","user":"z","body":"b"}"#, #"{"user":1,"body":"b"}"#, #"{"user":null,"body":"b"}"#]
        for text in texts { Self.expectSame(Pair.self, text) }
        Self.expectSame([String: String].self, #"{"ключ":"значение","😀":"\ud83d\ude00","a\"b":"c\\d"}"#)
    }

    @Test("strings: ASCII read as it stands, and beside it non-ASCII, escaped and invalid strings, short and long, in nested objects")
    func strings() throws {
        let long = String(repeating: "x", count: 70)
        let texts = ["{\"user\":\"user-123\",\"body\":\"\(long)\"}", "{\"user\":\"\",\"body\":\"\"}", "{\"user\":\"é\",\"body\":\"\(long)é\"}",
                     "{\"user\":\"a\\nb\",\"body\":\"\(long)\\u00e9\"}", "{\"user\":\"\\ud83d\\ude00\",\"body\":\"\(long)\\\"\"}",
                     "{\"user\":\"\u{7F}\",\"body\":\"\(long)\u{1F600}\"}"]
        for text in texts {
            Self.expectSame(Pair.self, text)
            Self.expectSame(Tree.self, "{\"name\":\"n\",\"children\":[{\"name\":\"c\",\"children\":[],\"meta\":\(text)}]}")
        }
        let decoded = try JSONTapeDecoding.decode(Pair.self, from: Array("{\"user\":\"user-123\",\"body\":\"\(long)\"}".utf8))
        #expect(decoded == Pair(user: "user-123", body: long))
        #expect(decoded.body.utf8.count == 70 && decoded.body.unicodeScalars.allSatisfy(\.isASCII))
    }

    @Test("documents on both sides of 128 bytes, with nesting, decode as Foundation's, and their errors carry the coding path")
    func nestedAndErrors() throws {
        for width in [0, 1, 5, 20, 60] {
            let children = (0..<width).map { "{\"name\":\"child-\($0)\",\"children\":[],\"meta\":{\"k\":\"v\($0)\"}}" }.joined(separator: ",")
            Self.expectSame(Tree.self, "{\"name\":\"root\",\"children\":[\(children)]}")
            Self.expectSame(Tree.self, "{\"name\":\"root\",\"children\":[\(children)],}")
            Self.expectSame(Tree.self, "{\"name\":\"root\",\"children\":[\(children)\(width > 0 ? "," : ""){\"name\":5,\"children\":[]}]}")
        }
        let bytes = Array(#"{"name":"r","children":[{"name":"a","children":[]},{"name":"b","children":[{"name":7,"children":[]}]}]}"#.utf8)
        do {
            _ = try JSONTapeDecoding.decode(Tree.self, from: bytes)
            Issue.record("decoded a number as a String")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["children", "Index 1", "children", "Index 0", "name"])
        }
        do {
            _ = try JSONTapeDecoding.decode(Tree.self, from: Array(#"{"name":"r","children":[{"children":[]}]}"#.utf8))
            Issue.record("decoded a missing key")
        } catch DecodingError.keyNotFound(let key, let context) {
            #expect(key.stringValue == "name")
            #expect(context.codingPath.map(\.stringValue) == ["children", "Index 0"])
        }
    }

    /// Keeps the decoder it was given, to read from after decoding returned.
    struct Kept: Decodable {
        let decoder: any Decoder
        init(from decoder: any Decoder) { self.decoder = decoder }
    }

    struct Outer: Decodable {
        let inner: Kept
    }

    @Test("a decoder kept past the decode still reads its document, which it keeps alive")
    func keptDecoders() throws {
        let kept = try JSONTapeDecoding.decode(Kept.self, from: Array(#"{"user":"u","body":"b"}"#.utf8))
        let outer = try JSONTapeDecoding.decode(Outer.self, from: Array(#"{"inner":{"user":"v","body":"\u00e9"}}"#.utf8))
        // Other documents in between, which must not reuse the kept ones' memory.
        for _ in 0..<100 { _ = try JSONTapeDecoding.decode(Pair.self, from: Array(#"{"user":"x","body":"y"}"#.utf8)) }
        #expect(try Pair(from: kept.decoder) == Pair(user: "u", body: "b"))
        #expect(try Pair(from: outer.inner.decoder) == Pair(user: "v", body: "é"))
        #expect(outer.inner.decoder.codingPath.map(\.stringValue) == ["inner"])
    }
}
