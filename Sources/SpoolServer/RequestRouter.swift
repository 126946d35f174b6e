import SpoolBroker
import SpoolSystem
import SpoolWire

/// Decodes a request frame, runs it against the broker and encodes the response frame. Anything
/// malformed, of an unknown API or a version not served ends in `.close` with a reason (as Kafka
/// closes such connections); nothing a client sends can crash the broker.
final class RequestRouter: Sendable {
    let broker: Broker
    let nodeId: Int32
    let host: String
    let port: Int32
    /// Produce requests' time from arrival to acknowledgement (the console's enqueue-to-ack chart).
    let produceLatency = LatencyHistogram()
    /// Where requests' time goes (`/metrics`: spool_request_phase_seconds).
    let phases = RequestPhases()

    /// What a handler knows of the request besides its body.
    struct Context: Sendable {
        var version: Int16
        var correlationId: Int32
        var clientId: String
        /// The client's address.
        var clientHost: String
    }

    init(broker: Broker, nodeId: Int32, host: String, port: Int32) {
        self.broker = broker
        self.nodeId = nodeId
        self.host = host
        self.port = port
    }

    /// `turn` orders the request after those read before it on the same connection (see
    /// `RequestTurns`); the caller releases it once the outcome is sent on.
    /// `timing`, when given, gets the clock readings `RequestPhases` splits into phases.
    func respond(to frame: [UInt8], client: String, turn: RequestTurn? = nil, timing: RequestTiming? = nil) async -> Outcome {
        timing?.startedNs.store(monotonicNanoseconds(), ordering: .relaxed)
        defer { timing?.answeredNs.store(monotonicNanoseconds(), ordering: .relaxed) }
        let request: DecodedRequest
        switch DecodedRequest.decode(frame) {
        case let .success(decoded): request = decoded
        case let .failure(failure): return .close(failure.description)
        }
        let context = Context(version: request.version, correlationId: request.header.correlationId, clientId: request.header.clientId ?? "",
                              clientHost: client)
        if let timing {
            let api: RequestPhases.Api = request.apiKey == .produce ? .produce : request.apiKey == .fetch ? .fetch : .other
            timing.api.store(api.rawValue, ordering: .relaxed)
        }
        if request.apiKey == .apiVersions { return .response(apiVersions(request.body, context)) }
        guard let body = request.body, ServedApis.served(request.apiKey)?.contains(context.version) == true else {
            if case let .produce(produce)? = request.body, ServedApis.advertised(.produce)?.contains(context.version) == true {
                return legacyProduce(produce, context)
            }
            let served = ServedApis.served(request.apiKey).map { "\($0)" } ?? "none"
            return .close("unsupported version \(context.version) of \(request.apiKey.name) (served: \(served))")
        }
        // A produce takes its turn itself, around its appends; the rest wait for earlier produces
        // to be answered too, and hold the turn until the connection releases it.
        if case .produce = body {} else {
            // A request before it closes the connection: it takes no effect, and is not answered.
            guard await turn?.begin(afterPendingProduces: true) ?? true else { return .silent }
        }
        if case let .produce(request) = body, request.acks == 0 {
            let started = ContinuousClock.now
            let answer = await produce(request, version: context.version, turn: turn, timing: timing)
            produceLatency.record(ContinuousClock.now - started)
            return answer.map(Self.unacknowledged) ?? .silent
        }
        guard let response = await handle(body, context, turn: turn, timing: timing) else { return .silent }
        return .response(response)
    }

    /// The response frame of `Request` at the context's version, with the header that version uses;
    /// large `records` fields (a fetch's) are kept by reference, not copied into it.
    func frame<Request: KafkaRequest>(_ response: Request.Response, to request: Request.Type, _ context: Context) -> ResponseFrame {
        Frames.responseFrame(response, version: context.version, correlationId: context.correlationId,
                             headerVersion: Request.responseHeaderVersion(context.version))
    }

    private func handle(_ body: AnyRequest, _ context: Context, turn: RequestTurn?, timing: RequestTiming?) async -> ResponseFrame? {
        switch body {
        case let .produce(request):
            let started = ContinuousClock.now
            let answer = await produce(request, version: context.version, turn: turn, timing: timing)
            produceLatency.record(ContinuousClock.now - started)
            guard let response = answer else { return nil }
            return frame(response, to: ProduceRequest.self, context)
        case let .fetch(request): return frame(await fetch(request, context, timing: timing), to: FetchRequest.self, context)
        case let .listOffsets(request): return frame(listOffsets(request, context), to: ListOffsetsRequest.self, context)
        case let .metadata(request): return frame(await metadata(request, context), to: MetadataRequest.self, context)
        case let .offsetCommit(request): return frame(await offsetCommit(request, context), to: OffsetCommitRequest.self, context)
        case let .offsetFetch(request): return frame(offsetFetch(request, context), to: OffsetFetchRequest.self, context)
        case let .findCoordinator(request): return frame(findCoordinator(request, context), to: FindCoordinatorRequest.self, context)
        case let .joinGroup(request): return frame(await joinGroup(request, context), to: SpoolWire.JoinGroupRequest.self, context)
        case let .heartbeat(request): return frame(heartbeat(request), to: HeartbeatRequest.self, context)
        case let .leaveGroup(request): return frame(leaveGroup(request, context), to: LeaveGroupRequest.self, context)
        case let .syncGroup(request): return frame(await syncGroup(request), to: SyncGroupRequest.self, context)
        case let .describeGroups(request): return frame(describeGroups(request, context), to: DescribeGroupsRequest.self, context)
        case let .listGroups(request): return frame(listGroups(request), to: ListGroupsRequest.self, context)
        case let .createTopics(request): return frame(await broker.changingTopics { [self] in createTopics(request, context) }, to: CreateTopicsRequest.self, context)
        case let .deleteTopics(request): return frame(await deleteTopics(request), to: DeleteTopicsRequest.self, context)
        case let .initProducerId(request): return frame(initProducerId(request), to: InitProducerIdRequest.self, context)
        case let .deleteRecords(request): return frame(await deleteRecords(request), to: DeleteRecordsRequest.self, context)
        case let .offsetForLeaderEpoch(request): return frame(offsetForLeaderEpoch(request), to: OffsetForLeaderEpochRequest.self, context)
        case let .describeConfigs(request): return frame(describeConfigs(request, context), to: DescribeConfigsRequest.self, context)
        case let .alterConfigs(request): return frame(await broker.changingTopics { [self] in alterConfigs(request) }, to: AlterConfigsRequest.self, context)
        case let .describeLogDirs(request): return frame(describeLogDirs(request), to: DescribeLogDirsRequest.self, context)
        case let .createPartitions(request): return frame(await broker.changingTopics { [self] in createPartitions(request) }, to: CreatePartitionsRequest.self, context)
        case let .deleteGroups(request): return frame(await deleteGroups(request), to: DeleteGroupsRequest.self, context)
        case let .incrementalAlterConfigs(request):
            return frame(await broker.changingTopics { [self] in incrementalAlterConfigs(request) }, to: IncrementalAlterConfigsRequest.self, context)
        case let .offsetDelete(request): return frame(await offsetDelete(request), to: OffsetDeleteRequest.self, context)
        case let .describeCluster(request): return frame(describeCluster(request, context), to: DescribeClusterRequest.self, context)
        case let .describeProducers(request): return frame(describeProducers(request), to: DescribeProducersRequest.self, context)
        case .apiVersions: preconditionFailure("ApiVersions is answered before dispatch")
        }
    }
}
