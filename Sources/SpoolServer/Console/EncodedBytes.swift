import SpoolFormat

/// Bytes from a record (key, value, header value) for JSON: always as base64, and as text too
/// when they are valid UTF-8. Record contents are the producer's, so whoever shows `text` must
/// treat it as text (the console sets it with `textContent`, never as HTML).
public struct EncodedBytes: Sendable, Encodable, Equatable {
    /// The bytes as text; nil when they are not valid UTF-8.
    public var text: String?
    /// The bytes in standard base64.
    public var base64: String
    /// How many bytes.
    public var size: Int

    public init(_ bytes: [UInt8]) {
        text = String(validating: bytes, as: UTF8.self)
        base64 = Base64.encode(bytes)
        size = bytes.count
    }
}

/// A record header for JSON.
public struct EncodedHeader: Sendable, Encodable, Equatable {
    public var key: String
    /// nil for a null header value.
    public var value: EncodedBytes?

    public init(_ header: RecordHeader) {
        key = header.key
        value = header.value.map(EncodedBytes.init)
    }
}
