import SpoolFormat
import SpoolWire

/// Seed frames for the request and router fuzzers: one request of every API Spool serves, with the bodies
/// Spool's own client writes (`ClientRequest`) under the version it sends, plus the oldest
/// advertised version of each and the legacy Produce, so the fuzzer starts from every branch.
public enum RequestSeeds {
    /// A request frame: header v1 (correlation id 7, client id "spool-fuzz") and `body`.
    public static func frame(_ api: ApiKey, _ version: Int16, _ body: [UInt8]) -> [UInt8] {
        var writer = WireWriter()
        writer.writeInt16(api.rawValue)
        writer.writeInt16(version)
        writer.writeInt32(7)
        writer.writeNullableString("spool-fuzz")
        var bytes = writer.bytes
        bytes.append(contentsOf: body)
        return bytes
    }

    /// One seed frame per API (and the oldest versions), named for the corpus directory.
    public static var all: [(name: String, frame: [UInt8])] {
        let batch = RecordBatch(producing: [ProducerRecord(key: Array("user-1".utf8), value: Array("welcome".utf8),
                                                           headers: [RecordHeader("spool-job-id", "1")], timestamp: 1_700_000_000_000)],
                                producerId: 1, producerEpoch: 0, baseSequence: 0).encoded()
        let subscription = ConsumerProtocol.encode(ConsumerProtocol.Subscription(topics: ["jobs"], ownedPartitions: ["jobs": [0]]))
        let assignment = ConsumerProtocol.encode(ConsumerProtocol.Assignment(partitions: [(topic: "jobs", partitions: [0, 1])]))
        let bodies: [(ApiKey, Int16, [UInt8])] = [
            (.apiVersions, ClientVersions.apiVersions, []),
            (.metadata, ClientVersions.metadata, ClientRequest.metadata(topics: ["jobs"], allowAutoCreation: true)),
            (.metadata, 0, ClientRequest.metadata(topics: nil, allowAutoCreation: false)),
            (.produce, ClientVersions.produce, ClientRequest.produce(acks: -1, timeoutMs: 5000, topic: "jobs",
                                                                   batches: [(partition: 0, records: batch), (partition: 1, records: batch + batch)])),
            (.produce, 2, ClientRequest.produce(acks: 1, timeoutMs: 5000, topic: "jobs", batches: [(partition: 0, records: batch)]).dropFirst(2).map { $0 }),
            (.fetch, ClientVersions.fetch, ClientRequest.fetch(maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20,
                                                               partitions: [(topic: "jobs", partition: 0, offset: 0, maxBytes: 1 << 20)])),
            (.listOffsets, ClientVersions.listOffsets, ClientRequest.listOffsets([(topic: "jobs", partition: 0, timestamp: -2)])),
            (.findCoordinator, ClientVersions.findCoordinator, ClientRequest.findCoordinator(group: "workers")),
            (.joinGroup, ClientVersions.joinGroup, ClientRequest.joinGroup(group: "workers", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000,
                                                                           memberId: "", protocolType: "consumer",
                                                                           protocols: [(name: "range", metadata: subscription)])),
            (.syncGroup, ClientVersions.syncGroup, ClientRequest.syncGroup(group: "workers", generationId: 1, memberId: "m-1",
                                                                           assignments: [(memberId: "m-1", assignment: assignment)])),
            (.heartbeat, ClientVersions.heartbeat, ClientRequest.heartbeat(group: "workers", generationId: 1, memberId: "m-1")),
            (.leaveGroup, ClientVersions.leaveGroup, ClientRequest.leaveGroup(group: "workers", memberId: "m-1")),
            (.offsetCommit, ClientVersions.offsetCommit, ClientRequest.offsetCommit(group: "workers", generationId: 1, memberId: "m-1",
                                                                                    offsets: [(topic: "jobs", partition: 0, offset: 42, metadata: nil)])),
            (.offsetFetch, ClientVersions.offsetFetch, ClientRequest.offsetFetch(group: "workers", partitions: [(topic: "jobs", partition: 0)])),
            (.offsetFetch, ClientVersions.offsetFetch, ClientRequest.offsetFetch(group: "workers", partitions: nil)),
            (.initProducerId, ClientVersions.initProducerId, ClientRequest.initProducerId()),
            (.createTopics, ClientVersions.createTopics, ClientRequest.createTopics([(name: "jobs", partitions: 4, configs: ["retention.ms": "60000"])],
                                                                                    timeoutMs: 5000)),
            (.deleteTopics, ClientVersions.deleteTopics, ClientRequest.deleteTopics(["jobs"], timeoutMs: 5000)),
            (.listGroups, ClientVersions.listGroups, []),
            (.describeGroups, ClientVersions.describeGroups, ClientRequest.describeGroups(["workers"])),
        ]
        return bodies.enumerated().map { index, entry in
            (name: "\(index)-\(entry.0)-v\(entry.1)", frame: frame(entry.0, entry.1, entry.2))
        }
    }
}
