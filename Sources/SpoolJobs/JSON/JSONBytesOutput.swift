/// The text of JSON's primitive values, as Foundation's `JSONEncoder` writes them.
extension JSONBytesEncoder {
    func writeNull() { out.append(contentsOf: "null".utf8) }

    func writeBool(_ value: Bool) { out.append(contentsOf: value ? "true".utf8 : "false".utf8) }

    /// Decimal digits, a minus sign before a negative number.
    func writeInteger<T: FixedWidthInteger>(_ value: T) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = UInt64(value.magnitude)
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var at = out.count + digits
        out.append(contentsOf: repeatElement(0, count: digits))
        repeat {
            at -= 1
            out[at] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    /// Swift's shortest text that reads back as the same number, without a ".0" ending (Foundation
    /// writes 1.0 as 1, 1e+16 as is). Not a finite number: Foundation throws.
    func writeFloat<T: BinaryFloatingPoint & CustomStringConvertible>(_ value: T) throws {
        guard value.isFinite else { throw notHandled() }
        let text = value.description.utf8
        if text.count > 2, text.last == UInt8(ascii: "0"), text[text.index(text.endIndex, offsetBy: -2)] == UInt8(ascii: ".") {
            out.append(contentsOf: text.dropLast(2))
        } else {
            out.append(contentsOf: text)
        }
    }

    /// A string in quotes: `"`, `\` and `/` escaped with a backslash, control characters as the
    /// short escapes or `\u00xx` (lower-case hex), everything else (non-ASCII too) as its UTF-8.
    func writeString(_ value: String) {
        var value = value
        value.withUTF8 { bytes in
            out.append(UInt8(ascii: "\""))
            var run = 0
            for at in bytes.indices {
                let byte = bytes[at]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<at]))
                run = at + 1
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case ..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    out.append(contentsOf: "u00".utf8)
                    out.append(hex.utf8Start[Int(byte >> 4)])
                    out.append(hex.utf8Start[Int(byte & 0xF)])
                default: out.append(byte)
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
            out.append(UInt8(ascii: "\""))
        }
    }
}
