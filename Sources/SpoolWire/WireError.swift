/// Why a message (a request, or a response the client reads) could not be decoded; the context
/// (which request, which broker) is the caller's to add. The server answers a frame it cannot
/// decode by closing the connection (as Kafka does), and never crashes on one.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(needed: Int, available: Int)
    case invalid(String)
    case unsupportedVersion(apiKey: Int16, version: Int16)
    case unknownApi(Int16)

    public var description: String {
        switch self {
        case let .truncated(needed, available): "truncated: needs \(needed) bytes, \(available) available"
        case let .invalid(reason): "invalid: \(reason)"
        case let .unsupportedVersion(key, version): "unsupported version \(version) of API \(key)"
        case let .unknownApi(key): "unknown API key \(key)"
        }
    }
}
