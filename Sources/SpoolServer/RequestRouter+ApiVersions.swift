import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// ApiVersions: every served API with its advertised range. A version this codec does not know
    /// is answered as Kafka does (KIP-511): in v0 layout with header v0, UNSUPPORTED_VERSION and the
    /// ApiVersions entry, so the client retries with a version Spool has. From v3 the client's
    /// software name and version must look like Kafka's rule allows, else INVALID_REQUEST.
    func apiVersions(_ body: AnyRequest?, _ context: Context) -> ResponseFrame {
        let own = ApiKey.apiVersions.kafkaVersions
        guard own.contains(context.version), case let .apiVersions(request)? = body else {
            let response = ApiVersionsResponse(errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
                                               apiKeys: [.init(apiKey: ApiKey.apiVersions.rawValue, minVersion: own.lowerBound, maxVersion: own.upperBound)])
            return ResponseFrame(Frames.response(response, version: 0, correlationId: context.correlationId, headerVersion: 0))
        }
        if context.version >= 3 && !(Self.isValidSoftwareText(request.clientSoftwareName) && Self.isValidSoftwareText(request.clientSoftwareVersion)) {
            return frame(ApiVersionsResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue), to: ApiVersionsRequest.self, context)
        }
        let keys = ApiKey.allCases.compactMap { api in
            ServedApis.advertised(api).map { ApiVersionsResponse.ApiVersion(apiKey: api.rawValue, minVersion: $0.lowerBound, maxVersion: $0.upperBound) }
        }
        return frame(ApiVersionsResponse(errorCode: 0, apiKeys: keys), to: ApiVersionsRequest.self, context)
    }

    /// Kafka's rule for ClientSoftwareName and ClientSoftwareVersion:
    /// `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
    static func isValidSoftwareText(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2D || $0 == 0x2E }
    }
}
