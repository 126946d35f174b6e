import Foundation
import SpoolWire
import Synchronization

/// A connection to a Kafka-protocol cluster (Spool or Kafka): bootstrap, metadata, and a
/// connection per broker, made on demand and remade when it breaks. The producer, consumer and
/// admin calls are built on it.
///
/// Thread-safe.
public final class SpoolClient: Sendable {
    public let bootstrap: String
    public let clientId: String
    public let requestTimeoutMs: Int
    private let connections = Mutex<[String: BrokerConnection]>([:])
    private let brokers = Mutex<[Int32: String]>([:])
    /// Partition metadata by topic, until an error says it is stale.
    private let topicCache = Mutex<[String: [ClientResponse.PartitionMetadata]]>([:])
    private let isClosed = Atomic(false)

    /// `bootstrap` is HOST:PORT of any broker (Spool is a single one).
    public init(bootstrap: String = "127.0.0.1:9092", clientId: String = "spool", requestTimeoutMs: Int = 30_000) throws(ClientError) {
        guard Self.split(bootstrap) != nil else { throw .invalidArgument("--broker must be HOST:PORT, not '\(bootstrap)'") }
        self.bootstrap = bootstrap
        self.clientId = clientId
        self.requestTimeoutMs = requestTimeoutMs
    }

    static func split(_ address: String) -> (String, Int32)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int32(address[address.index(after: colon)...]), port > 0, port < 65536 else { return nil }
        let host = String(address[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    /// Closes every connection; pending requests fail.
    public func close() {
        isClosed.store(true, ordering: .releasing)
        let all = connections.withLock { connections in defer { connections = [:] }; return Array(connections.values) }
        for connection in all { connection.fail(.closed) }
    }

    func connection(to address: String) throws(ClientError) -> BrokerConnection {
        if isClosed.load(ordering: .acquiring) { throw .closed }
        if let existing = connections.withLock({ $0[address] }), !existing.isBroken { return existing }
        guard let (host, port) = Self.split(address) else { throw .invalidArgument("bad broker address \(address)") }
        let fresh = try BrokerConnection(host: host, port: port, clientId: clientId)
        connections.withLock { $0[address] = fresh }
        return fresh
    }

    func connection(toNode node: Int32) async throws(ClientError) -> BrokerConnection {
        if let address = brokers.withLock({ $0[node] }) { return try connection(to: address) }
        _ = try await metadata(topics: [])
        guard let address = brokers.withLock({ $0[node] }) else { throw .connection("broker \(node) is not in the cluster metadata") }
        return try connection(to: address)
    }

    /// One request on a connection, and its decoded response.
    func call<Request: KafkaRequest>(_ connection: BrokerConnection, _ request: Request, version: Int16) async throws(ClientError) -> Request.Response {
        let frame = try await connection.request(request, version: version)
        do { return try Frames.decodeResponse(frame, to: Request.self, version: version) } catch {
            throw .protocolError("\(Request.apiKey.name) v\(version) response: \(error)")
        }
    }

    /// A request to any broker (the bootstrap one first).
    func callAny<Request: KafkaRequest>(_ request: Request, version: Int16) async throws(ClientError) -> Request.Response {
        try await call(try connection(to: bootstrap), request, version: version)
    }

    /// Cluster metadata for `topics` (nil: every topic); remembers the brokers.
    public func metadata(topics: [String]?, allowAutoCreation: Bool = false) async throws(ClientError) -> ClientResponse.Metadata {
        let response = try await callAny(MetadataRequest(topics: topics?.map { MetadataRequest.Topic(name: $0) }, allowAutoTopicCreation: allowAutoCreation),
                                         version: ClientVersions.metadata)
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
        return metadata
    }

    /// The partitions of `topic` (from the cache when it has them), creating the topic (if the
    /// cluster allows) when `create` is set.
    public func partitions(of topic: String, create: Bool = false) async throws(ClientError) -> [ClientResponse.PartitionMetadata] {
        if let cached = topicCache.withLock({ $0[topic] }) { return cached }
        for attempt in 0..<10 {
            let metadata = try await metadata(topics: [topic], allowAutoCreation: create)
            guard let entry = metadata.topics.first(where: { $0.name == topic }) else { throw .protocolError("Metadata left out \(topic)") }
            if entry.errorCode == 0 && !entry.partitions.isEmpty {
                topicCache.withLock { $0[topic] = entry.partitions }
                return entry.partitions
            }
            // LEADER_NOT_AVAILABLE while a topic is being created: ask again.
            if entry.errorCode == 5 && attempt < 9 {
                try? await Task.sleep(for: .milliseconds(100 * (attempt + 1)))
                continue
            }
            throw .kafka(code: entry.errorCode, context: "topic \(topic)")
        }
        throw .timeout("metadata for \(topic)")
    }

    /// Forgets what the client knows of `topic` (after NOT_LEADER, UNKNOWN_TOPIC_OR_PARTITION, a
    /// broken connection), so the next call asks the cluster again.
    public func invalidate(_ topic: String) { _ = topicCache.withLock { $0.removeValue(forKey: topic) } }

    /// The leader's node id of a partition.
    func leaderNode(_ topic: String, _ partition: Int32) async throws(ClientError) -> Int32 {
        guard let entry = try await partitions(of: topic).first(where: { $0.partition == partition }) else {
            throw .kafka(code: 3, context: "\(topic)[\(partition)]")
        }
        return entry.leader
    }

    /// The connection to the leader of a partition.
    func leader(_ topic: String, _ partition: Int32, create: Bool = false) async throws(ClientError) -> BrokerConnection {
        let partitions = try await partitions(of: topic, create: create)
        guard let entry = partitions.first(where: { $0.partition == partition }) else {
            throw .kafka(code: 3, context: "\(topic)[\(partition)]")
        }
        return try await connection(toNode: entry.leader)
    }

    /// The connection to a group's coordinator.
    func coordinator(_ group: String) async throws(ClientError) -> BrokerConnection {
        let found = try await callAny(FindCoordinatorRequest(key: group, keyType: 0), version: ClientVersions.findCoordinator)
        guard found.errorCode == 0 else { throw .kafka(code: found.errorCode, context: "coordinator of group \(group)") }
        brokers.withLock { $0[found.nodeId] = "\(found.host):\(found.port)" }
        return try connection(to: "\(found.host):\(found.port)")
    }
}
