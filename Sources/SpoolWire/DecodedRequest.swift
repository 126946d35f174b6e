/// A request frame (without its size prefix) decoded into its header and the body of its API, the
/// single entry point from received bytes to typed requests: the server's router dispatches on its
/// result and the request fuzz target drives it. Decoding touches no broker state, so whatever it is
/// given it either returns a request or says why not; it never traps.
public enum DecodedRequest: Sendable {
    /// ApiVersions at any version (the body is ignored: a client sending a version Spool does not
    /// know must still be told which ones it does).
    case apiVersions
    /// Produce v0-2 (old message formats), answered per partition with UNSUPPORTED_VERSION; nil when
    /// its body does not parse, which the server drops without an answer.
    case legacyProduce(LegacyProduceRequest?)
    case produce(ProduceRequest)
    case fetch(FetchRequest)
    case listOffsets(ListOffsetsRequest)
    case metadata(MetadataRequest)
    case findCoordinator(FindCoordinatorRequest)
    case joinGroup(JoinGroupRequestMessage)
    case syncGroup(SyncGroupRequestMessage)
    case heartbeat(HeartbeatRequestMessage)
    case leaveGroup(LeaveGroupRequestMessage)
    case offsetCommit(OffsetCommitRequestMessage)
    case offsetFetch(OffsetFetchRequestMessage)
    case initProducerId(InitProducerIdRequestMessage)
    case createTopics(CreateTopicsRequestMessage)
    case deleteTopics(DeleteTopicsRequestMessage)
    case listGroups
    case describeGroups(DescribeGroupsRequestMessage)

    /// Why a frame was not decoded, worded for the server log line of the connection it closes.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Decodes `frame`: the request header, then the body for the header's API and version.
    /// Unknown APIs, versions outside the advertised range and bodies that do not decode fail.
    public static func decode(_ frame: [UInt8]) -> Result<(RequestHeader, DecodedRequest), Failure> {
        var reader = WireReader(frame)
        let header: RequestHeader
        do { header = try RequestHeader.read(&reader) } catch {
            return .failure(Failure(description: "bad request header: \(error)"))
        }
        guard let api = ApiKey(rawValue: header.apiKey) else {
            return .failure(Failure(description: "unknown API key \(header.apiKey)"))
        }
        if api == .apiVersions { return .success((header, .apiVersions)) }
        guard api.advertised.contains(header.apiVersion) else {
            return .failure(Failure(description: "unsupported version \(header.apiVersion) of \(api) (supported \(api.advertised))"))
        }
        do {
            return .success((header, try body(api, version: header.apiVersion, reader: &reader)))
        } catch {
            return .failure(Failure(description: "cannot decode \(api) v\(header.apiVersion): \(error)"))
        }
    }

    private static func body(_ api: ApiKey, version: Int16, reader: inout WireReader) throws(WireError) -> DecodedRequest {
        switch api {
        case .produce:
            guard version >= 3 else { return .legacyProduce(try? LegacyProduceRequest(reading: &reader)) }
            return .produce(try ProduceRequest(reading: &reader, version: version))
        case .fetch: return .fetch(try FetchRequest(reading: &reader, version: version))
        case .listOffsets: return .listOffsets(try ListOffsetsRequest(reading: &reader, version: version))
        case .metadata: return .metadata(try MetadataRequest(reading: &reader, version: version))
        case .findCoordinator: return .findCoordinator(try FindCoordinatorRequest(reading: &reader, version: version))
        case .joinGroup: return .joinGroup(try JoinGroupRequestMessage(reading: &reader, version: version))
        case .syncGroup: return .syncGroup(try SyncGroupRequestMessage(reading: &reader, version: version))
        case .heartbeat: return .heartbeat(try HeartbeatRequestMessage(reading: &reader, version: version))
        case .leaveGroup: return .leaveGroup(try LeaveGroupRequestMessage(reading: &reader, version: version))
        case .offsetCommit: return .offsetCommit(try OffsetCommitRequestMessage(reading: &reader, version: version))
        case .offsetFetch: return .offsetFetch(try OffsetFetchRequestMessage(reading: &reader, version: version))
        case .initProducerId: return .initProducerId(try InitProducerIdRequestMessage(reading: &reader, version: version))
        case .createTopics: return .createTopics(try CreateTopicsRequestMessage(reading: &reader, version: version))
        case .deleteTopics: return .deleteTopics(try DeleteTopicsRequestMessage(reading: &reader, version: version))
        case .listGroups: return .listGroups
        case .describeGroups: return .describeGroups(try DescribeGroupsRequestMessage(reading: &reader, version: version))
        case .apiVersions: return .apiVersions
        }
    }
}

/// Produce v0-2: only what the UNSUPPORTED_VERSION answer needs (acks, topics, partition indexes);
/// the old message sets are skipped unread.
public struct LegacyProduceRequest: Sendable {
    public var acks: Int16
    public var topics: [(name: String, partitions: [Int32])]

    public init(reading reader: inout WireReader) throws(WireError) {
        acks = try reader.readInt16()
        _ = try reader.readInt32()  // timeout
        topics = try reader.readArray { reader throws(WireError) in
            (name: try reader.readString(), partitions: try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                _ = try reader.readNullableBytes()
                return index
            })
        }
    }
}
