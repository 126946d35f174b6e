import Foundation
import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// CreatePartitions: grows each topic to its new count (assignments, if given, must name only
    /// this node).
    func createPartitions(_ request: CreatePartitionsRequest) -> CreatePartitionsResponse {
        CreatePartitionsResponse(results: request.topics.map { topic in
            let outcome = broker.createPartitionsOutcome(topic: topic.name, count: Int(topic.count), assignments: topic.assignments?.map(\.brokerIds),
                                                         nodeId: nodeId, validateOnly: request.validateOnly)
            return .init(name: topic.name, errorCode: outcome.error.rawValue, errorMessage: outcome.message)
        })
    }

    /// DeleteRecords: moves each partition's log start to the offset given (-1: the high
    /// watermark) and answers with the new low watermark.
    func deleteRecords(_ request: DeleteRecordsRequest) async -> DeleteRecordsResponse {
        let wanted = request.topics.flatMap { topic in topic.partitions.map { (TopicPartition(topic.name, $0.partitionIndex), $0.offset) } }
        let results = await broker.deleteRecords(wanted)
        var next = results.makeIterator()
        return DeleteRecordsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                guard let result = next.next() else { return .init(partitionIndex: partition.partitionIndex, lowWatermark: -1, errorCode: -1) }
                return .init(partitionIndex: partition.partitionIndex, lowWatermark: result.lowWatermark, errorCode: result.outcome.error.rawValue)
            })
        })
    }

    /// DescribeCluster: this node is the cluster, its only broker and its controller.
    func describeCluster(_ request: DescribeClusterRequest, _ context: Context) -> DescribeClusterResponse {
        guard context.version < 1 || request.endpointType == 1 else {
            return DescribeClusterResponse(errorCode: KafkaErrorCode.unsupportedEndpointType.rawValue,
                                           errorMessage: "Spool serves broker endpoints (type 1) only", endpointType: request.endpointType,
                                           clusterId: clusterId, controllerId: -1)
        }
        return DescribeClusterResponse(
            errorCode: 0, endpointType: 1, clusterId: clusterId, controllerId: nodeId,
            brokers: [.init(brokerId: nodeId, host: host, port: port, rack: nil)],
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? Self.clusterOperations : Self.operationsNotRequested)
    }

    /// OffsetForLeaderEpoch: Spool's partitions have one leader epoch, 0, which ends at the log
    /// end; a later epoch is unknown (-1, -1), as Kafka answers an epoch it has not seen. A current
    /// leader epoch above 0 is UNKNOWN_LEADER_EPOCH.
    func offsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(topics: request.topics.map { topic in
            .init(topic: topic.topic, partitions: topic.partitions.map { partition in
                guard let end = broker.logEndOffset(topic: topic.topic, partition: partition.partition) else {
                    return .init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, partition: partition.partition, leaderEpoch: -1, endOffset: -1)
                }
                if partition.currentLeaderEpoch > 0 {
                    return .init(errorCode: KafkaErrorCode.unknownLeaderEpoch.rawValue, partition: partition.partition, leaderEpoch: -1, endOffset: -1)
                }
                guard partition.leaderEpoch == 0 else {
                    return .init(errorCode: 0, partition: partition.partition, leaderEpoch: -1, endOffset: -1)
                }
                return .init(errorCode: 0, partition: partition.partition, leaderEpoch: 0, endOffset: end)
            })
        })
    }

    /// DescribeProducers: the idempotent producers each partition remembers.
    func describeProducers(_ request: DescribeProducersRequest) -> DescribeProducersResponse {
        DescribeProducersResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitionIndexes.map { index in
                do throws(BrokerError) {
                    let producers = try broker.activeProducers(topic: topic.name, partition: index)
                    return .init(partitionIndex: index, errorCode: 0, activeProducers: producers.map {
                        .init(producerId: $0.producerId, producerEpoch: Int32($0.epoch), lastSequence: $0.lastSequence, lastTimestamp: $0.lastAppendMs,
                              coordinatorEpoch: -1, currentTxnStartOffset: -1)
                    })
                } catch {
                    return .init(partitionIndex: index, errorCode: error.code.rawValue, errorMessage: error.description)
                }
            })
        })
    }

    /// DescribeLogDirs: the data directory is Spool's one log directory; the size of each
    /// partition asked for (null: all), and from v4 the disk's total and usable bytes.
    func describeLogDirs(_ request: DescribeLogDirsRequest) -> DescribeLogDirsResponse {
        let wanted = request.topics.map { topics in Dictionary(topics.map { ($0.topic, Set($0.partitions)) }, uniquingKeysWith: { $0.union($1) }) }
        let topics = broker.listTopics().compactMap { topic -> DescribeLogDirsResponse.DescribeLogDirsTopic? in
            if let wanted, wanted[topic.name] == nil { return nil }
            let partitions = topic.partitions.filter { wanted?[topic.name]?.contains($0.partition) ?? true }
            return .init(name: topic.name, partitions: partitions.map {
                .init(partitionIndex: $0.partition, partitionSize: Int64($0.sizeInBytes), offsetLag: 0, isFutureKey: false)
            })
        }
        let directory = broker.config.dataDirectory
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory)
        let total = (attributes?[.systemSize] as? NSNumber)?.int64Value ?? -1
        let usable = (attributes?[.systemFreeSize] as? NSNumber)?.int64Value ?? -1
        return DescribeLogDirsResponse(errorCode: 0, results: [
            .init(errorCode: 0, logDir: directory, topics: topics, totalBytes: total, usableBytes: usable),
        ])
    }
}
