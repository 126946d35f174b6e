/// A message of Kafka's protocol at any of its versions: generated from Kafka's JSON schemas
/// (`Sources/SpoolWire/Generated`), decoded from and encoded to a body at a given version.
/// Fields a version lacks keep their defaults when decoded and are left out when encoded.
public protocol KafkaMessage: Sendable, Equatable {
    /// The versions the schema defines.
    static var versions: ClosedRange<Int16> { get }
    /// The first version that uses the flexible encoding (compact lengths, tagged fields), if any.
    static var flexibleFrom: Int16? { get }
    init(from reader: inout WireReader, version: Int16) throws(WireError)
    func encode(to writer: inout WireWriter, version: Int16)
}

extension KafkaMessage {
    public static func isFlexible(_ version: Int16) -> Bool { flexibleFrom.map { version >= $0 } ?? false }

    /// Decodes a whole body at `version`; bytes left over are an error.
    public init(decoding body: [UInt8], version: Int16) throws(WireError) {
        var reader = WireReader(body)
        try self.init(from: &reader, version: version)
        guard reader.remaining == 0 else { throw .invalid("\(reader.remaining) bytes after the message") }
    }

    /// The body encoded at `version`.
    public func encoded(version: Int16) -> [UInt8] {
        var writer = WireWriter()
        encode(to: &writer, version: version)
        return writer.bytes
    }
}

/// A request message, with its API key and the response it expects.
public protocol KafkaRequest: KafkaMessage {
    associatedtype Response: KafkaMessage
    static var apiKey: ApiKey { get }
}

extension KafkaRequest {
    /// The request header version for `version`: 2 when flexible, else 1.
    public static func headerVersion(_ version: Int16) -> Int16 { isFlexible(version) ? 2 : 1 }

    /// The response header version for `version`: 1 when flexible, else 0; ApiVersions always
    /// answers with header 0, so that a client can read the answer to a version it guessed.
    public static func responseHeaderVersion(_ version: Int16) -> Int16 {
        apiKey == .apiVersions ? 0 : (isFlexible(version) ? 1 : 0)
    }
}
