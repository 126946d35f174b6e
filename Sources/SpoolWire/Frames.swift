/// Whole frames: the int32 size, the header, the body.
public enum Frames {
    /// A request frame (size prefix included) for `request` at `version`.
    public static func request<Request: KafkaRequest>(_ request: Request, version: Int16, correlationId: Int32, clientId: String?) -> [UInt8] {
        var writer = WireWriter(capacity: 128)
        writer.writeInt32(0)
        RequestHeader(requestApiKey: Request.apiKey.rawValue, requestApiVersion: version, correlationId: correlationId, clientId: clientId)
            .encode(to: &writer, version: Request.headerVersion(version))
        request.encode(to: &writer, version: version)
        writer.setInt32(Int32(writer.count - 4), at: 0)
        return writer.bytes
    }

    /// A response frame (size prefix included): header v0 or v1 (see
    /// `KafkaRequest.responseHeaderVersion`), then `body` at `version`.
    public static func response(_ body: some KafkaMessage, version: Int16, correlationId: Int32, headerVersion: Int16) -> [UInt8] {
        var writer = WireWriter(capacity: 256)
        encodeResponse(body, version: version, correlationId: correlationId, headerVersion: headerVersion, into: &writer)
        return writer.bytes
    }

    /// A response frame as `response` makes it, but with each `records` field of at least
    /// `spliceRecordsMin` bytes kept by reference (see `ResponseFrame`).
    public static func responseFrame(_ body: some KafkaMessage, version: Int16, correlationId: Int32, headerVersion: Int16,
                                     spliceRecordsMin: Int = ResponseFrame.spliceRecordsMin) -> ResponseFrame {
        var writer = WireWriter(capacity: 256, spliceRecordsMin: spliceRecordsMin)
        encodeResponse(body, version: version, correlationId: correlationId, headerVersion: headerVersion, into: &writer)
        return ResponseFrame(writer)
    }

    private static func encodeResponse(_ body: some KafkaMessage, version: Int16, correlationId: Int32, headerVersion: Int16,
                                       into writer: inout WireWriter) {
        writer.writeInt32(0)
        ResponseHeader(correlationId: correlationId).encode(to: &writer, version: headerVersion)
        body.encode(to: &writer, version: version)
        writer.setInt32(Int32(writer.count - 4), at: 0)
    }

    /// Reads a response frame's body (without its size prefix): skips the header and decodes the
    /// response of `Request` at `version`.
    public static func decodeResponse<Request: KafkaRequest>(_ frame: [UInt8], to request: Request.Type, version: Int16) throws(WireError) -> Request.Response {
        var reader = WireReader(frame)
        _ = try ResponseHeader(from: &reader, version: Request.responseHeaderVersion(version))
        let response = try Request.Response(from: &reader, version: version)
        guard reader.remaining == 0 else { throw .invalid("\(reader.remaining) bytes after the response") }
        return response
    }
}
