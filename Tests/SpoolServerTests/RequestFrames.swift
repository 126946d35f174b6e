import SpoolFormat
import SpoolFuzzSupport
import SpoolWire

/// Request frames (without the size prefix) that the socket tests send, written with the
/// generated codec; `header` alone is for frames no real client would send.
enum RequestFrames {
    /// A request header v1 and nothing else, to build malformed frames on.
    static func header(_ key: Int16, _ version: Int16, correlation: Int32 = 7, client: String? = "fuzz") -> WireWriter {
        var writer = WireWriter()
        RequestHeader(requestApiKey: key, requestApiVersion: version, correlationId: correlation, clientId: client).encode(to: &writer, version: 1)
        return writer
    }

    static func apiVersions(version: Int16 = 2, correlation: Int32 = 7) -> [UInt8] {
        RequestSamples.frame(ApiVersionsRequest(clientSoftwareName: "spool", clientSoftwareVersion: "1.0"), version: version, correlation: correlation)
    }

    static func metadata(_ topics: [String]?, version: Int16 = 5, correlation: Int32 = 7, autoCreate: Bool = false) -> [UInt8] {
        RequestSamples.frame(MetadataRequest(topics: topics?.map { .init(name: $0) }, allowAutoTopicCreation: autoCreate), version: version,
                             correlation: correlation)
    }

    static func produce(topic: String, partition: Int32, batch: [UInt8], acks: Int16 = -1, version: Int16 = 7,
                        correlation: Int32 = 7) -> [UInt8] {
        RequestSamples.frame(ProduceRequest(acks: acks, timeoutMs: 5000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: RecordBytes(batch))]),
        ]), version: version, correlation: correlation)
    }

    static func fetch(topic: String, partition: Int32, offset: Int64, maxWaitMs: Int32 = 0, maxBytes: Int32 = 1 << 20, version: Int16 = 11,
                      correlation: Int32 = 7) -> [UInt8] {
        RequestSamples.frame(FetchRequest(replicaId: -1, maxWaitMs: maxWaitMs, minBytes: 1, maxBytes: maxBytes, sessionEpoch: -1, topics: [
            .init(topic: topic, partitions: [.init(partition: partition, fetchOffset: offset, partitionMaxBytes: maxBytes)]),
        ]), version: version, correlation: correlation)
    }

    static func offsetCommit(group: String, topic: String, offset: Int64 = 1, correlation: Int32 = 7) -> [UInt8] {
        RequestSamples.frame(OffsetCommitRequest(groupId: group, topics: [
            .init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: offset, committedMetadata: "meta")]),
        ]), version: 7, correlation: correlation)
    }

    static func offsetFetch(group: String, correlation: Int32 = 7) -> [UInt8] {
        RequestSamples.frame(OffsetFetchRequest(groupId: group, topics: nil), version: 5, correlation: correlation)
    }

    static func createTopics(_ name: String) -> [UInt8] {
        RequestSamples.frame(CreateTopicsRequest(topics: [.init(name: name, numPartitions: 1, replicationFactor: 1)], timeoutMs: 1000), version: 4)
    }

    /// JoinGroup v3: a new member without an id, parked until the group's initial rebalance delay.
    static func joinGroup(group: String, correlation: Int32 = 7) -> [UInt8] {
        RequestSamples.frame(JoinGroupRequest(groupId: group, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, memberId: "",
                                              protocolType: "spool-test", protocols: [.init(name: "only", metadata: [1, 2, 3])]),
                             version: 3, correlation: correlation)
    }

    static func listGroups() -> [UInt8] { RequestSamples.frame(ListGroupsRequest(), version: 2) }
}
