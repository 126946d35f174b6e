/// A request frame (without its size prefix) decoded into its header and the body of its API: the
/// single entry point from received bytes to typed requests. The server's router dispatches on its
/// result and the request fuzz target drives it. Decoding touches no broker state, so whatever it
/// is given it either returns a request or says why not; it never traps.
public struct DecodedRequest: Sendable {
    public var header: RequestHeader
    public var apiKey: ApiKey
    /// The decoded body; nil for an ApiVersions request of a version this codec does not know,
    /// which is answered without reading its body (KIP-511).
    public var body: AnyRequest?

    public var version: Int16 { header.requestApiVersion }

    /// Why a frame was not decoded, worded for the server log line of the connection it closes.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Decodes `frame`: the request header (v2 for a flexible version, else v1), then the body for
    /// the header's API and version. Unknown APIs, versions Kafka 3.9 does not define and bodies
    /// that do not decode fail. Bytes after the body are ignored, as Kafka ignores them:
    /// librdkafka 2.16 writes a null topic array of Metadata v9+ as four bytes where one belongs
    /// (confluentinc/librdkafka#5049), and Kafka answers that request.
    public static func decode(_ frame: [UInt8]) -> Result<DecodedRequest, Failure> {
        var reader = WireReader(frame)
        let key: Int16
        let version: Int16
        do {
            key = try reader.readInt16()
            version = try reader.readInt16()
        } catch {
            return .failure(Failure(description: "bad request header: \(error)"))
        }
        guard let api = ApiKey(rawValue: key) else { return .failure(Failure(description: "unknown API key \(key)")) }
        let known = api.kafkaVersions.contains(version)
        // An ApiVersions request above the versions known here still gets an answer; its header
        // is flexible, as every ApiVersions header from v3 on is.
        guard known || (api == .apiVersions && version > api.kafkaVersions.upperBound) else {
            return .failure(Failure(description: "unsupported version \(version) of \(api.name) (Kafka 3.9 has \(api.kafkaVersions))"))
        }
        let flexible = api.flexibleFrom.map { version >= $0 } ?? false
        reader = WireReader(frame)
        let header: RequestHeader
        do { header = try RequestHeader(from: &reader, version: flexible ? 2 : 1) } catch {
            return .failure(Failure(description: "bad request header: \(error)"))
        }
        guard known else { return .success(DecodedRequest(header: header, apiKey: api, body: nil)) }
        do {
            let body = try AnyRequest.decode(api, version: version, from: &reader)
            return .success(DecodedRequest(header: header, apiKey: api, body: body))
        } catch {
            return .failure(Failure(description: "cannot decode \(api.name) v\(version): \(error)"))
        }
    }
}
