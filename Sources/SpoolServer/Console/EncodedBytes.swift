import SpoolFormat

/// Bytes from a record (key, value, header value) for JSON: always as base64, and as text too
/// when they are valid UTF-8. Record contents are the producer's, so whoever shows `text` must
/// treat it as text (the console sets it with `textContent`, never as HTML).
public struct EncodedBytes: Sendable, Encodable, Equatable {
    public var text: String?
    public var base64: String
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
    public var value: EncodedBytes?

    public init(_ header: RecordHeader) {
        key = header.key
        value = header.value.map(EncodedBytes.init)
    }
}
