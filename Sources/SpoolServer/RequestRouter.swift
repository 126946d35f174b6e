import SpoolBroker
import SpoolWire

/// Decodes a request frame, runs it against the broker and encodes the response frame. Anything
/// malformed, of an unknown API or an unsupported version ends in `.close` with a reason (as
/// Kafka closes such connections); nothing a client sends can crash the broker.
final class RequestRouter: Sendable {
    let broker: Broker
    let nodeId: Int32
    let host: String
    let port: Int32

    init(broker: Broker, nodeId: Int32, host: String, port: Int32) {
        self.broker = broker
        self.nodeId = nodeId
        self.host = host
        self.port = port
    }

    /// `turn` orders a produce's appends after those of the produces read before it on the same
    /// connection (see `AppendTurns`).
    func respond(to frame: [UInt8], client: String, turn: AppendTurn? = nil) async -> Outcome {
        var reader = WireReader(frame)
        let header: RequestHeader
        do { header = try RequestHeader.read(&reader) } catch { return .close("bad request header: \(error)") }
        guard let api = ApiKey(rawValue: header.apiKey) else { return .close("unknown API key \(header.apiKey)") }
        if api == .apiVersions { return frameResponse(header.correlationId, apiVersions(version: header.apiVersion)) }
        guard api.advertised.contains(header.apiVersion) else {
            return .close("unsupported version \(header.apiVersion) of \(api) (supported \(api.advertised))")
        }
        do {
            guard let body = try await handle(api, header: header, reader: &reader, client: client, turn: turn) else { return .silent }
            return frameResponse(header.correlationId, body)
        } catch {
            return .close("cannot decode \(api) v\(header.apiVersion): \(error)")
        }
    }

    /// Response header v0 (correlation id) and size prefix around a body.
    private func frameResponse(_ correlationId: Int32, _ body: [UInt8]) -> Outcome {
        var frame = WireWriter(capacity: body.count + 8)
        frame.writeInt32(Int32(body.count + 4))
        frame.writeInt32(correlationId)
        var bytes = frame.bytes
        bytes.append(contentsOf: body)
        return .response(bytes)
    }

    /// ApiVersions: every API with its advertised range; a version above 2 is answered in v0 layout
    /// with UNSUPPORTED_VERSION and the ApiVersions entry, so the client retries with one Spool has.
    private func apiVersions(version: Int16) -> [UInt8] {
        var writer = WireWriter()
        if ApiKey.apiVersions.advertised.contains(version) {
            ApiVersionsResponse(errorCode: 0, apiKeys: ApiKey.allCases.map { ($0.rawValue, $0.advertised.lowerBound, $0.advertised.upperBound) })
                .write(to: &writer, version: version)
        } else {
            let entry = ApiKey.apiVersions
            ApiVersionsResponse(errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
                                apiKeys: [(entry.rawValue, entry.advertised.lowerBound, entry.advertised.upperBound)])
                .write(to: &writer, version: 0)
        }
        return writer.bytes
    }

    private func handle(_ api: ApiKey, header: RequestHeader, reader: inout WireReader, client: String,
                        turn: AppendTurn?) async throws(WireError) -> [UInt8]? {
        let version = header.apiVersion
        var writer = WireWriter()
        switch api {
        case .produce:
            guard version >= 3 else { return produceUnsupported(version: version, reader: &reader) }
            let request = try ProduceRequest(reading: &reader, version: version)
            guard let response = await produce(request, turn: turn) else { return nil }
            response.write(to: &writer, version: version)
        case .fetch: await fetch(try FetchRequest(reading: &reader, version: version), version: version, into: &writer)
        case .listOffsets: listOffsets(try ListOffsetsRequest(reading: &reader, version: version)).write(to: &writer, version: version)
        case .metadata: metadata(try MetadataRequest(reading: &reader, version: version)).write(to: &writer, version: version)
        case .findCoordinator:
            _ = try FindCoordinatorRequest(reading: &reader, version: version)
            FindCoordinatorResponse(errorCode: 0, nodeId: nodeId, host: host, port: port).write(to: &writer, version: version)
        case .joinGroup:
            await join(try JoinGroupRequestMessage(reading: &reader, version: version), version: version, client: header.clientId ?? "",
                       host: client).write(to: &writer, version: version)
        case .syncGroup: await sync(try SyncGroupRequestMessage(reading: &reader, version: version)).write(to: &writer, version: version)
        case .heartbeat:
            let request = try HeartbeatRequestMessage(reading: &reader, version: version)
            let error = broker.groups.heartbeat(groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
                                                groupInstanceId: request.groupInstanceId)
            ErrorOnlyResponse(errorCode: error.rawValue).write(to: &writer, version: version)
        case .leaveGroup: leave(try LeaveGroupRequestMessage(reading: &reader, version: version)).write(to: &writer, version: version)
        case .offsetCommit:
            await commit(try OffsetCommitRequestMessage(reading: &reader, version: version)).write(to: &writer, version: version, throttleFrom: 3)
        case .offsetFetch: offsetFetch(try OffsetFetchRequestMessage(reading: &reader, version: version)).write(to: &writer, version: version)
        case .initProducerId: initProducerId(try InitProducerIdRequestMessage(reading: &reader, version: version)).write(to: &writer, version: version)
        case .createTopics: createTopics(try CreateTopicsRequestMessage(reading: &reader, version: version)).write(to: &writer, withMessage: true)
        case .deleteTopics: await deleteTopics(try DeleteTopicsRequestMessage(reading: &reader, version: version)).write(to: &writer, withMessage: false)
        case .listGroups: ListGroupsResponseMessage(groups: broker.listGroups().map { ($0.groupId, $0.protocolType) }).write(to: &writer, version: version)
        case .describeGroups: describeGroups(try DescribeGroupsRequestMessage(reading: &reader, version: version)).write(to: &writer, version: version)
        case .apiVersions: return apiVersions(version: version)
        }
        return writer.bytes
    }

    /// Produce v0-2 (old message formats) is advertised only so librdkafka keeps compression on;
    /// it is answered, per partition, with UNSUPPORTED_VERSION.
    private func produceUnsupported(version: Int16, reader: inout WireReader) -> [UInt8]? {
        guard let acks = try? reader.readInt16(), (try? reader.readInt32()) != nil,
              let topics = try? reader.readArray({ reader throws(WireError) in
                  (try reader.readString(), try reader.readArray { reader throws(WireError) in
                      let index = try reader.readInt32()
                      _ = try reader.readNullableBytes()
                      return index
                  })
              }) else { return nil }
        if acks == 0 { return nil }
        var writer = WireWriter()
        writer.writeArray(topics) { writer, topic in
            writer.writeString(topic.0)
            writer.writeArray(topic.1) { writer, index in
                writer.writeInt32(index)
                writer.writeInt16(KafkaErrorCode.unsupportedVersion.rawValue)
                writer.writeInt64(-1)
                if version >= 2 { writer.writeInt64(-1) }
            }
        }
        if version >= 1 { writer.writeInt32(0) }
        return writer.bytes
    }
}
