import Foundation
import SpoolFormat
import SpoolWire
import Synchronization

/// A connection to a Kafka-protocol cluster (Spool or Kafka): bootstrap, metadata, and one
/// connection per broker, made on demand and remade when it breaks. Requests go where the cluster
/// says they belong: partition requests to the partition's leader, group requests to the group's
/// coordinator, topic creation to the controller. Each connection asks the broker once which API
/// versions it serves (again at a lower ApiVersions version if the broker is older than the
/// client), and requests use the highest version both sides support. Every request has
/// a timeout; leader and coordinator moves, brokers still loading and broken connections are
/// retried with backoff (50 ms doubling to 1 s, within the request timeout).
///
/// Thread-safe.
public final class SpoolClient: Sendable {
    public let bootstrap: String
    public let clientId: String
    /// How long a request waits for its answer (long-poll fetches and joins wait this much longer
    /// than their own wait), and how long a call keeps retrying.
    public let requestTimeoutMs: Int
    /// How long a topic's partitions are taken from the cache before the cluster is asked again
    /// (Kafka's metadata.max.age.ms): partitions added to a topic are seen within it.
    public let metadataMaxAgeMs: Int
    /// The bootstrap brokers, HOST:PORT each.
    let bootstrapAddresses: [String]
    private let connections = Mutex<[String: BrokerConnection]>([:])
    private let brokers = Mutex<[Int32: String]>([:])
    private let controller = Mutex<Int32>(-1)
    /// Coordinator addresses by group, until an error says they moved.
    private let coordinators = Mutex<[String: String]>([:])
    /// Partition metadata by topic, and when it was asked: until an error says it is stale, or it
    /// is `metadataMaxAgeMs` old.
    private let topicCache = Mutex<[String: (partitions: [ClientResponse.PartitionMetadata], asked: ContinuousClock.Instant)]>([:])
    /// Turns the choice of a broker for requests any broker can answer.
    private let rotation = Atomic(0)
    private let isClosed = Atomic(false)
    /// Whether a broker ever answered: until then a broker that cannot be reached is a wrong
    /// address, not a broker that is away for a while, and calls fail at once.
    private let reachedCluster = Atomic(false)

    /// `bootstrap` is HOST:PORT of one or more brokers, separated by commas.
    public init(bootstrap: String = "127.0.0.1:9092", clientId: String = "spool", requestTimeoutMs: Int = 30_000,
                metadataMaxAgeMs: Int = 300_000) throws(ClientError) {
        let addresses = bootstrap.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !addresses.isEmpty, addresses.allSatisfy({ Self.split($0) != nil }) else {
            throw .invalidArgument("--broker must be HOST:PORT (or a comma-separated list of them), not '\(bootstrap)'")
        }
        guard requestTimeoutMs > 0 else { throw .invalidArgument("the request timeout must be positive") }
        guard metadataMaxAgeMs >= 0 else { throw .invalidArgument("the metadata max age must not be negative") }
        self.metadataMaxAgeMs = metadataMaxAgeMs
        self.bootstrap = bootstrap
        self.bootstrapAddresses = addresses
        self.clientId = clientId
        self.requestTimeoutMs = requestTimeoutMs
    }

    static func split(_ address: String) -> (String, Int32)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int32(address[address.index(after: colon)...]), port > 0, port < 65536 else { return nil }
        let host = String(address[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    /// Closes every connection; pending requests fail. A connection being made meanwhile is
    /// closed as soon as it is, and its call fails with `.closed`.
    public func close() {
        isClosed.store(true, ordering: .releasing)
        let all = connections.withLock { connections in defer { connections = [:] }; return Array(connections.values) }
        for connection in all { connection.fail(.closed) }
    }

    // MARK: - Connections and versions

    func connection(to address: String) async throws(ClientError) -> BrokerConnection {
        if isClosed.load(ordering: .acquiring) { throw .closed }
        if let existing = connections.withLock({ $0[address] }), !existing.isBroken { return existing }
        guard let (host, port) = Self.split(address) else { throw .invalidArgument("bad broker address \(address)") }
        // connect() blocks (up to the timeout), so it runs on a thread of its own (as each
        // connection's reader does): neither a cooperative thread nor Dispatch's pool waits for it.
        let (clientId, timeoutMs) = (clientId, min(requestTimeoutMs, 10_000))
        let connected: Result<BrokerConnection, ClientError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(ClientError) {
                    continuation.resume(returning: .success(try BrokerConnection(host: host, port: port, clientId: clientId, timeoutMs: timeoutMs)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = "spool-connect-\(address)"
            thread.start()
        }
        let fresh = try connected.get()
        // `close()` sets `isClosed` before it empties `connections` under the same lock, so a
        // connection made while it ran is either found and closed there or refused here: kept
        // after it, it stayed open for good.
        let kept = connections.withLock { connections -> BrokerConnection? in
            if isClosed.load(ordering: .acquiring) { return nil }
            if let raced = connections[address], !raced.isBroken { return raced }
            connections[address] = fresh
            return fresh
        }
        if kept !== fresh { fresh.fail(.closed) }
        guard let kept else { throw .closed }
        return kept
    }

    func connection(toNode node: Int32) async throws(ClientError) -> BrokerConnection {
        if let address = brokers.withLock({ $0[node] }) { return try await connection(to: address) }
        _ = try await metadata(topics: [])
        guard let address = brokers.withLock({ $0[node] }) else { throw .connection("broker \(node) is not in the cluster metadata") }
        return try await connection(to: address)
    }

    /// A connection to some broker: an open one if there is one, else the bootstrap and known
    /// brokers in turn.
    func anyConnection() async throws(ClientError) -> BrokerConnection {
        if let open = connections.withLock({ $0.values.filter { !$0.isBroken }.min { $0.address < $1.address } }) { return open }
        let known = brokers.withLock { Array($0.values) }.sorted()
        var candidates = bootstrapAddresses
        for address in known where !candidates.contains(address) { candidates.append(address) }
        let first = rotation.add(1, ordering: .relaxed).oldValue
        var failure = ClientError.connection("no broker to connect to")
        for index in 0..<candidates.count {
            do { return try await connection(to: candidates[(first + index) % candidates.count]) } catch { failure = error }
        }
        throw failure
    }

    /// The versions a broker serves, by API key (asked once per connection; see
    /// `ApiVersionsHandshake` for a broker older than the client's ApiVersions). A failed
    /// exchange closes the connection, as Kafka's `NetworkClient` closes one whose ApiVersions
    /// fails: the next call connects again rather than send on a connection nothing was agreed on.
    func servedVersions(_ connection: BrokerConnection) async throws(ClientError) -> [Int16: ClosedRange<Int16>] {
        if let known = connection.served.withLock({ $0 }) { return known }
        let served: [Int16: ClosedRange<Int16>]
        do { served = try await ApiVersionsHandshake.served(on: connection, timeoutMs: requestTimeoutMs) } catch {
            connection.fail(error)
            throw error
        }
        connection.served.withLock { $0 = served }
        reachedCluster.store(true, ordering: .releasing)
        return served
    }

    /// Whether the broker on `connection` serves `api` in a version the client can send.
    func serves(_ api: ApiKey, on connection: BrokerConnection) async throws(ClientError) -> Bool {
        ClientVersions.choose(api, served: try await servedVersions(connection)[api.rawValue]) != nil
    }

    /// The version of `Request` to send on `connection`: the highest both sides support.
    func version<Request: KafkaRequest>(of _: Request.Type, on connection: BrokerConnection) async throws(ClientError) -> Int16 {
        guard let version = ClientVersions.choose(Request.apiKey, served: try await servedVersions(connection)[Request.apiKey.rawValue]) else {
            throw .unsupported(api: "\(Request.apiKey.name) (API key \(Request.apiKey.rawValue))", broker: connection.address)
        }
        return version
    }

    /// One request on a connection, and its decoded response; `timeoutMs` defaults to the
    /// client's request timeout.
    func call<Request: KafkaRequest>(_ connection: BrokerConnection, _ request: Request, timeoutMs: Int? = nil) async throws(ClientError) -> Request.Response {
        let version = try await version(of: Request.self, on: connection)
        let frame = try await connection.request(request, version: version, timeoutMs: timeoutMs ?? requestTimeoutMs)
        do { return try Frames.decodeResponse(frame, to: Request.self, version: version) } catch {
            throw .protocolError("\(Request.apiKey.name) v\(version) response from \(connection.address): \(error)")
        }
    }

    /// A request to any broker, retried on another after a broken connection or a timeout.
    func callAny<Request: KafkaRequest>(_ request: Request) async throws(ClientError) -> Request.Response {
        try await retrying { () async throws(ClientError) -> Request.Response in try await call(try await anyConnection(), request) }
    }

    // MARK: - Retries

    /// Runs `body` until it succeeds, fails with an error that is not retriable, or `timeoutMs`
    /// (default: the request timeout) has passed, backing off 50 ms doubling to 1 s between
    /// tries (`retriable` says which errors are worth another try: by default Kafka's retriable
    /// errors, broken connections and timeouts). `onError` sees every failure first (to forget stale metadata). Errors in `briefly`
    /// are retried too, five times at most (UNKNOWN_TOPIC_OR_PARTITION while a new topic's
    /// metadata reaches every broker). Before any broker has answered, a broker that cannot be
    /// reached fails the call at once.
    func retrying<T>(timeoutMs: Int? = nil, briefly: Set<KafkaErrorCode> = [], retriable isRetriable: (ClientError) -> Bool = { $0.isRetriable },
                     onError: (ClientError) -> Void = { _ in }, _ body: () async throws(ClientError) -> T) async throws(ClientError) -> T {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs ?? requestTimeoutMs)
        var backoffMs = 50
        var brief = 0
        while true {
            do { return try await body() } catch {
                if isClosed.load(ordering: .acquiring) { throw .closed }
                onError(error)
                // Until a broker has answered, one that cannot be reached is a wrong address.
                if case .connection = error, !reachedCluster.load(ordering: .acquiring) { throw error }
                var retriable = isRetriable(error)
                if !retriable, let code = error.kafkaCode, briefly.contains(code), brief < 5 {
                    brief += 1
                    retriable = true
                }
                guard retriable, ContinuousClock.now + .milliseconds(backoffMs) < deadline else { throw error }
                try? await Task.sleep(for: .milliseconds(backoffMs))
                backoffMs = min(backoffMs * 2, 1_000)
            }
        }
    }

    // MARK: - Metadata

    /// Cluster metadata for `topics` (nil: every topic); remembers the brokers and the controller.
    public func metadata(topics: [String]?, allowAutoCreation: Bool = false) async throws(ClientError) -> ClientResponse.Metadata {
        let response = try await callAny(MetadataRequest(topics: topics?.map { MetadataRequest.Topic(name: $0) }, allowAutoTopicCreation: allowAutoCreation))
        let metadata = ClientResponse.Metadata(
            brokers: response.brokers.map { ClientResponse.Broker(nodeId: $0.nodeId, host: $0.host, port: $0.port) },
            controllerId: response.controllerId,
            topics: response.topics.map { topic in
                ClientResponse.TopicMetadata(name: topic.name ?? "", errorCode: topic.errorCode, partitions: topic.partitions.map {
                    ClientResponse.PartitionMetadata(partition: $0.partitionIndex, leader: $0.leaderId, errorCode: $0.errorCode)
                })
            })
        brokers.withLock { brokers in
            for broker in metadata.brokers { brokers[broker.nodeId] = "\(broker.host):\(broker.port)" }
        }
        controller.withLock { $0 = metadata.controllerId }
        return metadata
    }

    /// The partitions of `topic` (from the cache when it has them), creating the topic (if the
    /// cluster allows) when `create` is set. Waits (within the request timeout) while the
    /// cluster reports no partitions. A partition without a leader (its brokers are down, or the
    /// topic is still being created) is kept, with leader -1: the count never depends on leaders,
    /// and calls for the other partitions go on while `leaderNode` fails that one's, retriably —
    /// as Kafka's clients do. Failing the whole topic instead stopped every produce, fetch and
    /// assignment of it while one broker was down.
    public func partitions(of topic: String, create: Bool = false) async throws(ClientError) -> [ClientResponse.PartitionMetadata] {
        if let cached = topicCache.withLock({ $0[topic] }), isFresh(cached.asked) { return cached.partitions }
        let asked = ContinuousClock.now
        return try await retrying(briefly: create ? [.unknownTopicOrPartition] : []) { () async throws(ClientError) -> [ClientResponse.PartitionMetadata] in
            let metadata = try await metadata(topics: [topic], allowAutoCreation: create)
            guard let entry = metadata.topics.first(where: { $0.name == topic }) else { throw .protocolError("Metadata left out \(topic)") }
            guard entry.errorCode == 0 else { throw .kafka(code: entry.errorCode, context: "topic \(topic)") }
            guard !entry.partitions.isEmpty else { throw .kafka(.leaderNotAvailable, "topic \(topic)") }
            topicCache.withLock { $0[topic] = (entry.partitions, asked) }
            return entry.partitions
        }
    }

    /// Whether the cache holds `topic`'s partitions and they are not yet `metadataMaxAgeMs` old
    /// (else the next `partitions(of:)` asks the cluster).
    public func hasFreshPartitions(of topic: String) -> Bool {
        topicCache.withLock { $0[topic] }.map { isFresh($0.asked) } ?? false
    }

    private func isFresh(_ asked: ContinuousClock.Instant) -> Bool { asked.duration(to: .now) < .milliseconds(metadataMaxAgeMs) }

    /// Forgets what the client knows of `topic` (after NOT_LEADER, UNKNOWN_TOPIC_OR_PARTITION, a
    /// broken connection), so the next call asks the cluster again.
    public func invalidate(_ topic: String) { _ = topicCache.withLock { $0.removeValue(forKey: topic) } }

    /// The leader's node id of a partition. A partition without a leader fails with
    /// LEADER_NOT_AVAILABLE (retriable), and its topic is asked again on the next call.
    func leaderNode(_ topic: String, _ partition: Int32, create: Bool = false) async throws(ClientError) -> Int32 {
        guard let entry = try await partitions(of: topic, create: create).first(where: { $0.partition == partition }) else {
            throw .kafka(.unknownTopicOrPartition, "\(topic)[\(partition)]")
        }
        guard entry.leader >= 0 else {
            invalidate(topic)
            throw .kafka(.leaderNotAvailable, "\(topic)[\(partition)]")
        }
        return entry.leader
    }

    /// `entries` by their partition's leader, those whose partition has no leader now (they wait
    /// for a later try while the others go ahead) and those whose partition the cluster does not
    /// know (its topic deleted, or not created yet).
    func byLeader<Entry>(_ entries: [Entry], _ partition: (Entry) -> TopicPartition) async throws(ClientError)
        -> (led: [Int32: [Entry]], leaderless: [Entry], unknown: [Entry]) {
        var led: [Int32: [Entry]] = [:]
        var leaderless: [Entry] = []
        var unknown: [Entry] = []
        for entry in entries {
            let place = partition(entry)
            do { led[try await leaderNode(place.topic, place.partition), default: []].append(entry) } catch {
                switch error.kafkaCode {
                case .leaderNotAvailable?: leaderless.append(entry)
                case .unknownTopicOrPartition?: unknown.append(entry)
                default: throw error
                }
            }
        }
        return (led, leaderless, unknown)
    }

    /// The connection to the leader of a partition.
    func leader(_ topic: String, _ partition: Int32, create: Bool = false) async throws(ClientError) -> BrokerConnection {
        try await connection(toNode: try await leaderNode(topic, partition, create: create))
    }

    /// The connection to the cluster's controller (where topics are created and deleted).
    func controllerConnection() async throws(ClientError) -> BrokerConnection {
        let metadata = try await metadata(topics: [])
        // Some clusters name no controller, or one that is not among the brokers (librdkafka's
        // mock cluster): then any broker.
        guard metadata.brokers.contains(where: { $0.nodeId == metadata.controllerId }) else { return try await anyConnection() }
        return try await connection(toNode: metadata.controllerId)
    }

    // MARK: - Group coordinators

    /// The connection to a group's coordinator (found once, then remembered until it moves).
    func coordinator(_ group: String) async throws(ClientError) -> BrokerConnection {
        if let address = coordinators.withLock({ $0[group] }) { return try await connection(to: address) }
        let found = try await callAny(FindCoordinatorRequest(key: group, keyType: 0))
        guard found.errorCode == 0 else { throw .kafka(code: found.errorCode, context: "coordinator of group \(group)") }
        let address = "\(found.host):\(found.port)"
        brokers.withLock { $0[found.nodeId] = address }
        coordinators.withLock { $0[group] = address }
        return try await connection(to: address)
    }

    /// Runs `body` with the group's coordinator, finding it again and retrying (with backoff,
    /// within `timeoutMs`) when the coordinator moved, is loading, or its connection broke. The
    /// body throws `.kafka` with the code of the answer's error for those to be retried.
    func withCoordinator<T>(_ group: String, timeoutMs: Int? = nil, _ body: (BrokerConnection) async throws(ClientError) -> T) async throws(ClientError) -> T {
        try await retrying(timeoutMs: timeoutMs, retriable: { $0.staleCoordinator || $0.kafkaCode == .coordinatorLoadInProgress }, onError: { error in
            if error.staleCoordinator { _ = coordinators.withLock { $0.removeValue(forKey: group) } }
        }) { () async throws(ClientError) -> T in
            try await body(try await coordinator(group))
        }
    }

    /// Throws for a coordinator's error code that calls for finding the coordinator again or
    /// waiting for it (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS).
    static func checkCoordinator(_ code: Int16, _ context: @autoclosure () -> String) throws(ClientError) {
        switch KafkaErrorCode(rawValue: code) {
        case .notCoordinator?, .coordinatorNotAvailable?, .coordinatorLoadInProgress?: throw .kafka(code: code, context: context())
        default: return
        }
    }
}
