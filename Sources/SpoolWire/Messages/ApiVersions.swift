/// ApiVersions (18), versions 0-2. A request of a higher version is answered in v0 layout with
/// UNSUPPORTED_VERSION and the ApiVersions entry, so clients retry with a version Spool has.
public struct ApiVersionsResponse: Sendable {
    public var errorCode: Int16
    public var apiKeys: [(key: Int16, min: Int16, max: Int16)]

    public init(errorCode: Int16, apiKeys: [(key: Int16, min: Int16, max: Int16)]) {
        self.errorCode = errorCode
        self.apiKeys = apiKeys
    }

    public func write(to writer: inout WireWriter, version: Int16) {
        writer.writeInt16(errorCode)
        writer.writeArray(apiKeys) { writer, entry in
            writer.writeInt16(entry.key)
            writer.writeInt16(entry.min)
            writer.writeInt16(entry.max)
        }
        if version >= 1 { writer.writeInt32(0) }  // throttle time
    }
}
