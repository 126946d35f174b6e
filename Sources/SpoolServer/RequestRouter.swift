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

    /// `turn` orders the request after those read before it on the same connection (see
    /// `RequestTurns`); the caller releases it once the outcome is sent on.
    func respond(to frame: [UInt8], client: String, turn: RequestTurn? = nil) async -> Outcome {
        let header: RequestHeader
        let request: DecodedRequest
        switch DecodedRequest.decode(frame) {
        case let .success(decoded): (header, request) = decoded
        case let .failure(failure): return .close(failure.description)
        }
        // A produce takes its turn itself, around its appends; the rest wait for earlier produces
        // to be answered too, and hold the turn until the connection releases it.
        if case .produce = request {} else { await turn?.begin(afterPendingProduces: true) }
        guard let body = await handle(request, header: header, client: client, turn: turn) else { return .silent }
        return frameResponse(header.correlationId, body)
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

    private func handle(_ request: DecodedRequest, header: RequestHeader, client: String, turn: RequestTurn?) async -> [UInt8]? {
        let version = header.apiVersion
        var writer = WireWriter()
        switch request {
        case .apiVersions: return apiVersions(version: version)
        case let .legacyProduce(request): return produceUnsupported(request, version: version)
        case let .produce(request):
            guard let response = await produce(request, turn: turn) else { return nil }
            response.write(to: &writer, version: version)
        case let .fetch(request): await fetch(request, version: version, into: &writer)
        case let .listOffsets(request): listOffsets(request).write(to: &writer, version: version)
        case let .metadata(request): metadata(request).write(to: &writer, version: version)
        case .findCoordinator: FindCoordinatorResponse(errorCode: 0, nodeId: nodeId, host: host, port: port).write(to: &writer, version: version)
        case let .joinGroup(request):
            await join(request, version: version, client: header.clientId ?? "", host: client).write(to: &writer, version: version)
        case let .syncGroup(request): await sync(request).write(to: &writer, version: version)
        case let .heartbeat(request):
            let error = broker.groups.heartbeat(groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
                                                groupInstanceId: request.groupInstanceId)
            ErrorOnlyResponse(errorCode: error.rawValue).write(to: &writer, version: version)
        case let .leaveGroup(request): leave(request).write(to: &writer, version: version)
        case let .offsetCommit(request): await commit(request).write(to: &writer, version: version, throttleFrom: 3)
        case let .offsetFetch(request): offsetFetch(request).write(to: &writer, version: version)
        case let .initProducerId(request): initProducerId(request).write(to: &writer, version: version)
        case let .createTopics(request): createTopics(request).write(to: &writer, withMessage: true)
        case let .deleteTopics(request): await deleteTopics(request).write(to: &writer, withMessage: false)
        case .listGroups: ListGroupsResponseMessage(groups: broker.listGroups().map { ($0.groupId, $0.protocolType) }).write(to: &writer, version: version)
        case let .describeGroups(request): describeGroups(request).write(to: &writer, version: version)
        }
        return writer.bytes
    }

    /// Produce v0-2 (old message formats) is advertised only so librdkafka keeps compression on;
    /// it is answered, per partition, with UNSUPPORTED_VERSION.
    private func produceUnsupported(_ request: LegacyProduceRequest?, version: Int16) -> [UInt8]? {
        guard let request, request.acks != 0 else { return nil }
        var writer = WireWriter()
        writer.writeArray(request.topics) { writer, topic in
            writer.writeString(topic.name)
            writer.writeArray(topic.partitions) { writer, index in
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
