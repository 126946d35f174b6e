/// The UTF-8 text of `bytes`, nil when it is not UTF-8. ASCII (header keys, topic names, most
/// JSON strings) takes the direct path: `String(validating:as:)` instantiates generic metadata at
/// run time on every call, most of the cost of a short string.
public func validUTF8String(_ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBufferPointer { validUTF8String($0) }
}

/// The UTF-8 text of `bytes`, nil when it is not UTF-8 (see the array form).
public func validUTF8String(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
}

/// Whether `bytes` are UTF-8, as `validUTF8String` finds them, without making a string.
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    if bytes.allSatisfy({ $0 < 0x80 }) { return true }
    return String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil
}
