/// Request bodies as a client writes them (the header is the connection's).
public enum ClientRequest {
    public static func metadata(topics: [String]?, allowAutoCreation: Bool) -> [UInt8] {
        var writer = WireWriter()
        writer.writeNullableArray(topics) { $0.writeString($1) }
        writer.writeBool(allowAutoCreation)
        writer.writeBool(false)
        writer.writeBool(false)
        return writer.bytes
    }

    /// Produce v8: one batch per partition.
    public static func produce(acks: Int16, timeoutMs: Int32, topic: String, batches: [(partition: Int32, records: [UInt8])]) -> [UInt8] {
        var writer = WireWriter(capacity: batches.reduce(64) { $0 + $1.records.count + 8 })
        writer.writeNullableString(nil)
        writer.writeInt16(acks)
        writer.writeInt32(timeoutMs)
        writer.writeInt32(1)
        writer.writeString(topic)
        writer.writeArray(batches) { writer, batch in
            writer.writeInt32(batch.partition)
            writer.writeBytes(batch.records)
        }
        return writer.bytes
    }

    /// Fetch v11.
    public static func fetch(maxWaitMs: Int32, minBytes: Int32, maxBytes: Int32,
                             partitions: [(topic: String, partition: Int32, offset: Int64, maxBytes: Int32)]) -> [UInt8] {
        var writer = WireWriter()
        writer.writeInt32(-1)
        writer.writeInt32(maxWaitMs)
        writer.writeInt32(minBytes)
        writer.writeInt32(maxBytes)
        writer.writeInt8(0)
        writer.writeInt32(0)
        writer.writeInt32(-1)
        let byTopic = groupByTopic(partitions.map { ($0.topic, $0) })
        writer.writeArray(byTopic) { writer, entry in
            writer.writeString(entry.0)
            writer.writeArray(entry.1) { writer, partition in
                writer.writeInt32(partition.partition)
                writer.writeInt32(-1)
                writer.writeInt64(partition.offset)
                writer.writeInt64(-1)
                writer.writeInt32(partition.maxBytes)
            }
        }
        writer.writeInt32(0)
        writer.writeString("")
        return writer.bytes
    }

    /// ListOffsets v5: -2 earliest, -1 latest, or a timestamp.
    public static func listOffsets(_ partitions: [(topic: String, partition: Int32, timestamp: Int64)]) -> [UInt8] {
        var writer = WireWriter()
        writer.writeInt32(-1)
        writer.writeInt8(0)
        writer.writeArray(groupByTopic(partitions.map { ($0.topic, $0) })) { writer, entry in
            writer.writeString(entry.0)
            writer.writeArray(entry.1) { writer, partition in
                writer.writeInt32(partition.partition)
                writer.writeInt32(-1)
                writer.writeInt64(partition.timestamp)
            }
        }
        return writer.bytes
    }

    public static func findCoordinator(group: String) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString(group)
        writer.writeInt8(0)
        return writer.bytes
    }

    public static func joinGroup(group: String, sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, memberId: String,
                                 protocolType: String, protocols: [(name: String, metadata: [UInt8])]) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString(group)
        writer.writeInt32(sessionTimeoutMs)
        writer.writeInt32(rebalanceTimeoutMs)
        writer.writeString(memberId)
        writer.writeNullableString(nil)
        writer.writeString(protocolType)
        writer.writeArray(protocols) { writer, entry in
            writer.writeString(entry.name)
            writer.writeBytes(entry.metadata)
        }
        return writer.bytes
    }

    public static func syncGroup(group: String, generationId: Int32, memberId: String, assignments: [(memberId: String, assignment: [UInt8])]) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString(group)
        writer.writeInt32(generationId)
        writer.writeString(memberId)
        writer.writeNullableString(nil)
        writer.writeArray(assignments) { writer, entry in
            writer.writeString(entry.memberId)
            writer.writeBytes(entry.assignment)
        }
        return writer.bytes
    }

    public static func heartbeat(group: String, generationId: Int32, memberId: String) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString(group)
        writer.writeInt32(generationId)
        writer.writeString(memberId)
        writer.writeNullableString(nil)
        return writer.bytes
    }

    public static func leaveGroup(group: String, memberId: String) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString(group)
        writer.writeArray([memberId]) { writer, id in
            writer.writeString(id)
            writer.writeNullableString(nil)
        }
        return writer.bytes
    }

    public static func offsetCommit(group: String, generationId: Int32, memberId: String,
                                    offsets: [(topic: String, partition: Int32, offset: Int64, metadata: String?)]) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString(group)
        writer.writeInt32(generationId)
        writer.writeString(memberId)
        writer.writeNullableString(nil)
        writer.writeArray(groupByTopic(offsets.map { ($0.topic, $0) })) { writer, entry in
            writer.writeString(entry.0)
            writer.writeArray(entry.1) { writer, partition in
                writer.writeInt32(partition.partition)
                writer.writeInt64(partition.offset)
                writer.writeInt32(-1)
                writer.writeNullableString(partition.metadata)
            }
        }
        return writer.bytes
    }

    /// OffsetFetch v5; nil partitions asks for everything the group committed.
    public static func offsetFetch(group: String, partitions: [(topic: String, partition: Int32)]?) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString(group)
        writer.writeNullableArray(partitions.map { groupByTopic($0.map { ($0.topic, $0.partition) }) }) { writer, entry in
            writer.writeString(entry.0)
            writer.writeArray(entry.1) { $0.writeInt32($1) }
        }
        return writer.bytes
    }

    public static func initProducerId() -> [UInt8] {
        var writer = WireWriter()
        writer.writeNullableString(nil)
        writer.writeInt32(60_000)
        return writer.bytes
    }

    public static func createTopics(_ topics: [(name: String, partitions: Int32, configs: [String: String])], timeoutMs: Int32) -> [UInt8] {
        var writer = WireWriter()
        writer.writeArray(topics) { writer, topic in
            writer.writeString(topic.name)
            writer.writeInt32(topic.partitions)
            writer.writeInt16(-1)
            writer.writeInt32(0)
            writer.writeArray(topic.configs.sorted { $0.key < $1.key }) { writer, config in
                writer.writeString(config.key)
                writer.writeNullableString(config.value)
            }
        }
        writer.writeInt32(timeoutMs)
        writer.writeBool(false)
        return writer.bytes
    }

    public static func deleteTopics(_ names: [String], timeoutMs: Int32) -> [UInt8] {
        var writer = WireWriter()
        writer.writeArray(names) { $0.writeString($1) }
        writer.writeInt32(timeoutMs)
        return writer.bytes
    }

    public static func describeGroups(_ groups: [String]) -> [UInt8] {
        var writer = WireWriter()
        writer.writeArray(groups) { $0.writeString($1) }
        writer.writeBool(false)
        return writer.bytes
    }

    /// Entries grouped by topic, topics in first-seen order.
    static func groupByTopic<T>(_ entries: [(String, T)]) -> [(String, [T])] {
        var order: [String] = []
        var grouped: [String: [T]] = [:]
        for (topic, entry) in entries {
            if grouped[topic] == nil { order.append(topic) }
            grouped[topic, default: []].append(entry)
        }
        return order.map { ($0, grouped[$0] ?? []) }
    }
}
