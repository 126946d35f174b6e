import SpoolFormat
import SpoolWire

/// The ApiVersions exchange that opens each connection. The client asks at its highest version
/// (`ClientVersions.apiVersions`); a broker that does not serve it (Kafka 0.11-1.1 serve v0-1,
/// 0.10 only v0) answers as Kafka does (`RequestContext.apiVersion`): a v0 body with
/// UNSUPPORTED_VERSION, listing its own ApiVersions range from Kafka 2.4 on (KIP-511) and nothing
/// before. The client then asks once more, at the highest version that range allows (v0 when it
/// lists none), as Kafka's `NetworkClient.handleApiVersionsResponse` and librdkafka do.
enum ApiVersionsHandshake {
    /// The versions the broker on `connection` serves, by API key.
    static func served(on connection: BrokerConnection, timeoutMs: Int) async throws(ClientError) -> [Int16: ClosedRange<Int16>] {
        let first = ClientVersions.apiVersions
        var response = try await ask(connection, version: first, timeoutMs: timeoutMs)
        if response.errorCode == KafkaErrorCode.unsupportedVersion.rawValue, first > 0 {
            let listed = apiVersionsRange(in: response)
            let retry = retryVersion(refused: first, listed: listed)
            response = try await ask(connection, version: retry, timeoutMs: timeoutMs)
            guard response.errorCode == 0 else {
                let range = listed.map { "its refusal listed ApiVersions v\($0.lowerBound)-\($0.upperBound)" } ?? "its refusal listed no ApiVersions versions"
                throw .kafka(code: response.errorCode, context: "the broker at \(connection.address) refused ApiVersions v\(first), then v\(retry) (\(range))")
            }
        }
        guard response.errorCode == 0 else { throw .kafka(code: response.errorCode, context: "ApiVersions from \(connection.address)") }
        var served: [Int16: ClosedRange<Int16>] = [:]
        for entry in response.apiKeys where entry.minVersion <= entry.maxVersion { served[entry.apiKey] = entry.minVersion...entry.maxVersion }
        return served
    }

    /// The version to ask at after `refused` was answered UNSUPPORTED_VERSION: the highest
    /// ApiVersions version the broker listed, v0 if it listed none, and below the refused one
    /// whatever it listed (as librdkafka and kafka-python take it), so that a broker whose list
    /// and refusal disagree is not asked the same again.
    static func retryVersion(refused: Int16, listed: ClosedRange<Int16>?) -> Int16 {
        max(0, min(listed?.upperBound ?? 0, refused - 1))
    }

    /// The ApiVersions range an answer lists, if it lists one.
    static func apiVersionsRange(in response: ApiVersionsResponse) -> ClosedRange<Int16>? {
        guard let entry = response.apiKeys.first(where: { $0.apiKey == ApiKey.apiVersions.rawValue }),
              entry.minVersion <= entry.maxVersion else { return nil }
        return entry.minVersion...entry.maxVersion
    }

    private static func ask(_ connection: BrokerConnection, version: Int16, timeoutMs: Int) async throws(ClientError) -> ApiVersionsResponse {
        let frame = try await connection.request(ApiVersionsRequest(), version: version, timeoutMs: timeoutMs)
        do { return try decode(frame, version: version) } catch {
            throw .protocolError("ApiVersions v\(version) response from \(connection.address): \(error)")
        }
    }

    /// Decodes the answer (header and body) to an ApiVersions request at `version`. An
    /// UNSUPPORTED_VERSION answer comes in the v0 layout, whatever version was asked; one in the
    /// asked version's layout is read too. The error code leads the body in every version.
    static func decode(_ frame: [UInt8], version: Int16) throws(WireError) -> ApiVersionsResponse {
        var reader = WireReader(frame)
        _ = try ResponseHeader(from: &reader, version: ApiVersionsRequest.responseHeaderVersion(version))
        if version > 0, try reader.readInt16() == KafkaErrorCode.unsupportedVersion.rawValue,
           let refusal = try? Frames.decodeResponse(frame, to: ApiVersionsRequest.self, version: 0) {
            return refusal
        }
        return try Frames.decodeResponse(frame, to: ApiVersionsRequest.self, version: version)
    }
}
