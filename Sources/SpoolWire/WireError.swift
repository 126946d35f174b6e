/// Why a request could not be decoded. The server answers a frame it cannot decode by closing the
/// connection (as Kafka does), and never crashes on one.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(needed: Int, available: Int)
    case invalid(String)
    case unsupportedVersion(apiKey: Int16, version: Int16)
    case unknownApi(Int16)

    public var description: String {
        switch self {
        case let .truncated(needed, available): "request truncated: needs \(needed) bytes, \(available) available"
        case let .invalid(reason): "invalid request: \(reason)"
        case let .unsupportedVersion(key, version): "unsupported version \(version) of API \(key)"
        case let .unknownApi(key): "unknown API key \(key)"
        }
    }
}
