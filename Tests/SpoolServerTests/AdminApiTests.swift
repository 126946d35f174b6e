import SpoolBroker
import SpoolFormat
import SpoolFuzzSupport
import SpoolWire
import Testing

/// The admin APIs over the protocol, as Kafka's admin clients use them.
@Suite struct AdminApiTests {
    @Test func aGroupKnownOnlyByItsOffsetsIsDescribedEmptyNotDead() async throws {
        // After a restart the broker knows a group by its committed offsets alone: Empty, as
        // ListGroups and Kafka have it (kafka-consumer-groups --describe would say it does not exist).
        let setup = try Served()
        defer { setup.remove() }
        let committed = try await setup.call(OffsetCommitRequest(groupId: "resumed", generationIdOrMemberEpoch: -1, memberId: "", topics: [
            .init(name: "jobs", partitions: [.init(partitionIndex: 0, committedOffset: 0)]),
        ]), version: 8)
        #expect(committed.topics.first?.partitions.first?.errorCode == 0)
        try setup.broker.close()
        let restarted = try Served(reopening: setup.directory)
        defer { try? restarted.broker.close() }
        let described = try await restarted.call(DescribeGroupsRequest(groups: ["resumed", "never-seen"]), version: 5)
        #expect(described.groups.map(\.groupState) == ["Empty", "Dead"])
    }

    @Test func aCommitToABrokerShuttingDownIsAnsweredAsKafkasCoordinatorDoes() async throws {
        // COORDINATOR_NOT_AVAILABLE, which clients retry after finding the coordinator again;
        // NOT_LEADER_OR_FOLLOWER made Java's commitSync throw for good.
        let setup = try Served()
        defer { setup.remove() }
        try setup.broker.close()
        await #expect(throws: BrokerError.group(.coordinatorNotAvailable)) {
            try await setup.broker.commitOffsets(group: "g", generationId: -1, memberId: "", offsets: [TopicPartition("jobs", 0): CommittedOffset(offset: 1)])
        }
    }

    @Test func aFetchWithMaxBytesZeroGetsTheFirstBatchOnly() async throws {
        let setup = try Served()
        defer { setup.remove() }
        var sizes: [Int] = []
        for tag in ["a", "b", "c"] {
            let batch = RecordBatch(producing: [ProducerRecord(value: Array(tag.utf8), timestamp: 1)]).encoded()
            sizes.append(batch.count)
            _ = try await setup.broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
        }
        let fetched = try await setup.call(FetchRequest(replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 0, sessionEpoch: -1, topics: [
            .init(topic: "jobs", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)]),
        ]), version: 11)
        let partition = try #require(fetched.responses.first?.partitions.first)
        #expect(partition.errorCode == 0)
        #expect(partition.records?.bytes.count == sizes[0])
    }

    @Test func createPartitionsGrowsATopicAndRefusesToShrinkIt() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let grown = try await setup.call(CreatePartitionsRequest(topics: [.init(name: "jobs", count: 4, assignments: nil)], timeoutMs: 1000), version: 3)
        #expect(grown.results.first?.errorCode == 0)
        let metadata = try await setup.call(MetadataRequest(topics: [.init(name: "jobs")]), version: 12)
        #expect(metadata.topics.first?.partitions.count == 4)
        let shrunk = try await setup.call(CreatePartitionsRequest(topics: [.init(name: "jobs", count: 3, assignments: nil)], timeoutMs: 1000), version: 1)
        #expect(shrunk.results.first?.errorCode == KafkaErrorCode.invalidPartitions.rawValue)
        #expect(shrunk.results.first?.errorMessage?.contains("higher than the requested 3") == true)
        let elsewhere = try await setup.call(CreatePartitionsRequest(topics: [.init(name: "jobs", count: 5, assignments: [.init(brokerIds: [7])])],
                                                                     timeoutMs: 1000), version: 1)
        #expect(elsewhere.results.first?.errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
    }

    @Test func configsAreDescribedAlteredIncrementallyAndValidated() async throws {
        let setup = try Served()
        defer { setup.remove() }
        func retention(_ version: Int16) async throws -> DescribeConfigsResponse.DescribeConfigsResourceResult? {
            let described = try await setup.call(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "jobs", configurationKeys: nil)],
                                                                        includeSynonyms: true, includeDocumentation: true), version: version)
            #expect(described.results.first?.errorCode == 0)
            return described.results.first?.configs.first { $0.name == "retention.ms" }
        }
        let before = try #require(try await retention(4))
        #expect(before.configSource != 1 && !before.readOnly)
        #expect(before.documentation?.isEmpty == false)

        let set = try await setup.call(IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "jobs", configs: [
            .init(name: "retention.ms", configOperation: 0, value: "3600000"),
        ])]), version: 1)
        #expect(set.responses.first?.errorCode == 0)
        let after = try #require(try await retention(1))
        #expect(after.value == "3600000" && after.configSource == 1, "DYNAMIC_TOPIC_CONFIG")

        let bad = try await setup.call(AlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "jobs", configs: [
            .init(name: "retention.ms", value: "soon"),
        ])]), version: 2)
        #expect(bad.responses.first?.errorCode == KafkaErrorCode.invalidConfig.rawValue)
        #expect(try await retention(0)?.value == "3600000", "a refused alteration changes nothing")
        let unknown = try await setup.call(AlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "jobs", configs: [
            .init(name: "no.such.config", value: "1"),
        ])]), version: 0)
        #expect(unknown.responses.first?.errorCode == KafkaErrorCode.invalidConfig.rawValue)

        let broker = try await setup.call(DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: "0", configurationKeys: nil)]), version: 2)
        #expect(broker.results.first?.errorCode == 0)
        #expect(broker.results.first?.configs.isEmpty == false)
        #expect(broker.results.first?.configs.allSatisfy(\.readOnly) == true)
    }

    @Test func createTopicsTakesKafkaConfigsAndAnAssignmentToThisNode() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let created = try await setup.call(CreateTopicsRequest(topics: [
            .init(name: "assigned", numPartitions: -1, replicationFactor: -1, assignments: [.init(partitionIndex: 0, brokerIds: [0]),
                                                                                           .init(partitionIndex: 1, brokerIds: [0])],
                  configs: [.init(name: "compression.type", value: "zstd")]),
            .init(name: "elsewhere", numPartitions: -1, replicationFactor: -1, assignments: [.init(partitionIndex: 0, brokerIds: [3])]),
            .init(name: "replicated", numPartitions: 1, replicationFactor: 3),
        ], timeoutMs: 1000), version: 7)
        #expect(created.topics.map(\.errorCode) == [0, KafkaErrorCode.invalidReplicaAssignment.rawValue, KafkaErrorCode.invalidReplicationFactor.rawValue])
        let assigned = try #require(created.topics.first)
        #expect(assigned.numPartitions == 2 && assigned.replicationFactor == 1 && assigned.topicId != .zero)
        #expect(assigned.configs?.first { $0.name == "compression.type" }?.value == "zstd")
    }

    @Test func createTopicsNamingATopicTwiceCreatesNeitherAndAnswersOnceAsKafka() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let created = try await setup.call(CreateTopicsRequest(topics: [
            .init(name: "twice", numPartitions: 1, replicationFactor: 1),
            .init(name: "once", numPartitions: 1, replicationFactor: 1),
            .init(name: "twice", numPartitions: 2, replicationFactor: 1),
        ], timeoutMs: 1000), version: 7)
        #expect(created.topics.map(\.name) == ["once", "twice"])
        #expect(created.topics.map(\.errorCode) == [0, KafkaErrorCode.invalidRequest.rawValue])
        #expect(created.topics.last?.errorMessage == "Duplicate topic name.")
        #expect(setup.broker.partitionCount("twice") == nil && setup.broker.partitionCount("once") == 1)
    }

    @Test func deleteRecordsMovesTheLogStart() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let batch = RecordBatch(producing: (0..<3).map { ProducerRecord(value: [UInt8($0)], timestamp: 1) }).encoded()
        _ = try await setup.call(ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: "jobs", partitionData: [.init(index: 0, records: RecordBytes(batch))])]),
                                 version: 9)
        let deleted = try await setup.call(DeleteRecordsRequest(topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 0, offset: 2)])], timeoutMs: 1000),
                                           version: 2)
        #expect(deleted.topics.first?.partitions.first?.lowWatermark == 2)
        let earliest = try await setup.call(ListOffsetsRequest(replicaId: -1, topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 0, timestamp: -2)])]),
                                            version: 7)
        #expect(earliest.topics.first?.partitions.first?.offset == 2)
        let past = try await setup.call(DeleteRecordsRequest(topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 0, offset: 9)])], timeoutMs: 1000),
                                        version: 0)
        #expect(past.topics.first?.partitions.first?.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
    }

    @Test func deleteRecordsOnACompactedTopicIsAPolicyViolation() async throws {
        let setup = try Served()
        defer { setup.remove() }
        _ = try setup.broker.createTopic("users", configs: ["cleanup.policy": "compact"])
        let deleted = try await setup.call(DeleteRecordsRequest(topics: [.init(name: "users", partitions: [.init(partitionIndex: 0, offset: -1)])], timeoutMs: 1000),
                                           version: 2)
        #expect(deleted.topics.first?.partitions.first?.errorCode == KafkaErrorCode.policyViolation.rawValue)
        #expect(deleted.topics.first?.partitions.first?.lowWatermark == -1)
    }

    @Test func emptyGroupsAndTheirOffsetsAreDeleted() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let commit = OffsetCommitRequest(groupId: "old", topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 0, committedOffset: 0),
                                                                                              .init(partitionIndex: 1, committedOffset: 0)])])
        #expect(try await setup.call(commit, version: 8).topics.first?.partitions.allSatisfy { $0.errorCode == 0 } == true)
        let offsetDeleted = try await setup.call(OffsetDeleteRequest(groupId: "old", topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 1)])]),
                                                 version: 0)
        #expect(offsetDeleted.errorCode == 0 && offsetDeleted.topics.first?.partitions.first?.errorCode == 0)
        let fetched = try await setup.call(OffsetFetchRequest(groups: [.init(groupId: "old", topics: nil)]), version: 8)
        #expect(fetched.groups.first?.topics.flatMap(\.partitions).map(\.partitionIndex) == [0])

        let deleted = try await setup.call(DeleteGroupsRequest(groupsNames: ["old", "never"]), version: 2)
        #expect(deleted.results.map(\.errorCode) == [0, KafkaErrorCode.groupIdNotFound.rawValue])
        let gone = try await setup.call(OffsetFetchRequest(groupId: "old", topics: nil), version: 7)
        #expect(gone.topics.isEmpty)
    }

    @Test func fetchByTopicIdFromV13() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let batch = RecordBatch(producing: [ProducerRecord(value: Array("hello".utf8), timestamp: 1)]).encoded()
        _ = try await setup.call(ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: "jobs", partitionData: [.init(index: 1, records: RecordBytes(batch))])]),
                                 version: 11)
        let id = try #require(try await setup.call(MetadataRequest(topics: [.init(name: "jobs")]), version: 12).topics.first?.topicId)
        #expect(id != .zero)
        let fetched = try await setup.call(FetchRequest(replicaId: -1, maxBytes: 1 << 20, topics: [
            .init(topicId: id, partitions: [.init(partition: 1, fetchOffset: 0, partitionMaxBytes: 1 << 20)]),
            .init(topicId: KafkaUUID(high: 1, low: 2), partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)]),
        ]), version: 16)
        #expect(fetched.responses.map(\.topicId) == [id, KafkaUUID(high: 1, low: 2)])
        let records = try #require(fetched.responses.first?.partitions.first?.records)
        #expect(try RecordBatch(decoding: records.bytes).records.first?.value == Array("hello".utf8))
        #expect(fetched.responses.last?.partitions.first?.errorCode == KafkaErrorCode.unknownTopicId.rawValue)
        // Empty records, not null: librdkafka refuses a whole response with a null record set.
        #expect(fetched.responses.last?.partitions.first?.records?.bytes.isEmpty == true)
    }

    @Test func clusterEpochsAndProducersAreDescribed() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let cluster = try await setup.call(DescribeClusterRequest(includeClusterAuthorizedOperations: false), version: 1)
        #expect(cluster.errorCode == 0 && cluster.brokers.map(\.brokerId) == [0] && cluster.controllerId == 0 && cluster.clusterId == "spool")
        _ = try await setup.call(RequestSamples.request(.produce) as! ProduceRequest, version: 8)  // an idempotent batch: producer 1
        let producers = try await setup.call(DescribeProducersRequest(topics: [.init(name: "jobs", partitionIndexes: [0, 7])]), version: 0)
        let partitions = try #require(producers.topics.first?.partitions)
        #expect(partitions.first?.activeProducers.map(\.producerId) == [1])
        #expect(partitions.first?.activeProducers.first?.lastSequence == 0)
        #expect(partitions.last?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        let epochs = try await setup.call(OffsetForLeaderEpochRequest(replicaId: -2, topics: [.init(topic: "jobs", partitions: [
            .init(partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0), .init(partition: 0, currentLeaderEpoch: 5, leaderEpoch: 0),
        ])]), version: 4)
        #expect(epochs.topics.first?.partitions.map(\.endOffset) == [1, -1])
        #expect(epochs.topics.first?.partitions.last?.errorCode == KafkaErrorCode.unknownLeaderEpoch.rawValue)
    }
}
