extension Broker {
    /// CreatePartitions for one topic: grows it to `count` partitions. The new partitions' logs
    /// are created first, then the new count is written to the topic's metadata file
    /// (atomically); only then are they visible, and usable at once. A crash in between leaves the
    /// old count and, at worst, empty partition directories that the next growth reuses.
    ///
    /// Growing a keyed topic moves keys: Spool's partitioner (and Kafka's) sends a key to
    /// `murmur2(key) % count`, so most keys land on another partition afterwards and their order
    /// across the change is not kept (docs/broker.md, "Creating topics and partitions").
    ///
    /// - Parameters:
    ///   - assignments: optional manual assignment of the new partitions, one replica list per new
    ///     partition, each exactly `[nodeId]`.
    ///   - nodeId: this broker's node id.
    ///   - validateOnly: check everything, change nothing.
    /// - Throws: `.unknownTopicOrPartition`; `.invalidPartitions` when `count` is not above the
    ///   current count or above `TopicConfig.partitionsMax`, or when the broker would hold more than
    ///   `BrokerConfig.partitionsMax` partitions; `.invalidReplicaAssignment` for an
    ///   assignment of the wrong length or naming another node; `.storage` when a log or the
    ///   metadata cannot be written (nothing changed then).
    public func createPartitions(topic name: String, count: Int, assignments: [[Int32]]? = nil, nodeId: Int32 = 0,
                                 validateOnly: Bool = false) throws(BrokerError) {
        try ensureOpen()
        try topicChanges.withLock { _ throws(BrokerError) in
            guard let topic = topics.withLock({ $0[name] }) else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
            let current = topic.metadata.config.partitions
            if count < current {
                throw .invalidPartitions("Topic currently has \(current) partitions, which is higher than the requested \(count).")
            }
            if count == current { throw .invalidPartitions("Topic already has \(current) partitions.") }
            guard count <= TopicConfig.partitionsMax else {
                throw .invalidPartitions("The topic would have \(count) partitions; Spool allows at most \(TopicConfig.partitionsMax).")
            }
            try checkPartitionBudget(holding: topics.withLock { Self.partitionCount(of: $0) }, adding: count - current)
            if let assignments {
                guard assignments.count == count - current else {
                    throw .invalidReplicaAssignment("Attempted to add \(count - current) additional partition(s), but only \(assignments.count) assignment(s) were specified.")
                }
                for replicas in assignments { try Self.checkReplicas(replicas, nodeId: nodeId) }
            }
            var metadata = topic.metadata
            metadata.config.partitions = count
            let logConfig = try metadata.config.logConfig(defaults: config.log)
            if validateOnly { return }
            var opened: [Partition] = []
            do {
                for index in current..<count { opened.append(try openPartition(topic: name, topicId: metadata.id, index: index, config: logConfig)) }
                try topicStore.save(metadata)
            } catch {
                for partition in opened { try? partition.log.close() }
                for index in current..<(current + opened.count) { topicStore.removePartition(topic: name, index: index) }
                throw .storageFailure(error, path: topicStore.path(name))
            }
            topics.withLock { topics in
                topics[name]?.metadata = metadata
                topics[name]?.partitions.append(contentsOf: opened)
            }
        }
    }

    /// CreatePartitions as a response carries it: `AdminOutcome` instead of a thrown error.
    public func createPartitionsOutcome(topic name: String, count: Int, assignments: [[Int32]]? = nil, nodeId: Int32 = 0,
                                        validateOnly: Bool = false) -> AdminOutcome {
        outcome { () throws(BrokerError) in
            try createPartitions(topic: name, count: count, assignments: assignments, nodeId: nodeId, validateOnly: validateOnly)
        }
    }
}
