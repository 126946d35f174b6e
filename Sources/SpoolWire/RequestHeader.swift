/// The header of every request (v1: api key, version, correlation id, client id; v2, used by
/// flexible versions, adds tagged fields).
public struct RequestHeader: Equatable, Sendable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?

    /// Reads the header at the start of a frame. Only ApiVersions v3+ is flexible among the
    /// requests clients send Spool; its header then carries tagged fields, which are skipped.
    public static func read(_ reader: inout WireReader) throws(WireError) -> RequestHeader {
        let apiKey = try reader.readInt16()
        let apiVersion = try reader.readInt16()
        let correlationId = try reader.readInt32()
        let clientId = try reader.readNullableString()
        if isFlexible(apiKey: apiKey, version: apiVersion) { try reader.skipTaggedFields() }
        return RequestHeader(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId, clientId: clientId)
    }

    /// Versions from which Kafka's schemas use the flexible encoding.
    static func isFlexible(apiKey: Int16, version: Int16) -> Bool {
        let flexibleFrom: [Int16: Int16] = [0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3,
                                            18: 3, 19: 5, 20: 4, 22: 2]
        guard let from = flexibleFrom[apiKey] else { return false }
        return version >= from
    }
}
