import SpoolFormat
import SpoolWire

/// Valid request frames (without the size prefix) for every API Spool serves: the seeds the fuzz
/// test mutates, and what the socket tests send.
enum RequestFrames {
    static func header(_ key: Int16, _ version: Int16, correlation: Int32 = 7, client: String? = "fuzz") -> WireWriter {
        var writer = WireWriter()
        writer.writeInt16(key)
        writer.writeInt16(version)
        writer.writeInt32(correlation)
        writer.writeNullableString(client)
        return writer
    }

    static func apiVersions(version: Int16 = 2, correlation: Int32 = 7) -> [UInt8] {
        var writer = header(18, version, correlation: correlation)
        if version >= 3 {
            writer.writeNoTaggedFields()  // header
            writer.writeString("spool", compact: true)
            writer.writeString("1.0", compact: true)
            writer.writeNoTaggedFields()  // body
        }
        return writer.bytes
    }

    static func metadata(_ topics: [String]?, version: Int16 = 5, correlation: Int32 = 7) -> [UInt8] {
        var writer = header(3, version, correlation: correlation)
        writer.writeNullableArray(topics) { $0.writeString($1) }
        if version >= 4 { writer.writeBool(false) }
        return writer.bytes
    }

    static func produce(topic: String, partition: Int32, batch: [UInt8], acks: Int16 = -1, version: Int16 = 7,
                        correlation: Int32 = 7) -> [UInt8] {
        var writer = header(0, version, correlation: correlation)
        writer.writeNullableString(nil)
        writer.writeInt16(acks)
        writer.writeInt32(5000)
        writer.writeArray([topic]) { writer, name in
            writer.writeString(name)
            writer.writeArray([partition]) { writer, index in
                writer.writeInt32(index)
                writer.writeBytes(batch)
            }
        }
        return writer.bytes
    }

    static func fetch(topic: String, partition: Int32, offset: Int64, maxWaitMs: Int32 = 0, version: Int16 = 11,
                      correlation: Int32 = 7) -> [UInt8] {
        var writer = header(1, version, correlation: correlation)
        writer.writeInt32(-1)
        writer.writeInt32(maxWaitMs)
        writer.writeInt32(1)
        writer.writeInt32(1 << 20)
        writer.writeInt8(0)
        writer.writeInt32(0)
        writer.writeInt32(-1)
        writer.writeArray([topic]) { writer, name in
            writer.writeString(name)
            writer.writeArray([partition]) { writer, index in
                writer.writeInt32(index)
                writer.writeInt32(-1)
                writer.writeInt64(offset)
                writer.writeInt64(-1)
                writer.writeInt32(1 << 20)
            }
        }
        writer.writeArray([String]()) { $0.writeString($1) }
        writer.writeString("")
        return writer.bytes
    }

    static func joinGroup(group: String, version: Int16 = 5) -> [UInt8] {
        var writer = header(11, version)
        writer.writeString(group)
        writer.writeInt32(10_000)
        if version >= 1 { writer.writeInt32(10_000) }
        writer.writeString("")
        if version >= 5 { writer.writeNullableString(nil) }
        writer.writeString("consumer")
        writer.writeArray(["range"]) { writer, name in
            writer.writeString(name)
            writer.writeBytes(ConsumerProtocol.encode(.init(topics: ["fuzz"])))
        }
        return writer.bytes
    }

    static func simpleGroupRequest(_ key: Int16, group: String, version: Int16) -> [UInt8] {
        var writer = header(key, version)
        writer.writeString(group)
        writer.writeInt32(1)
        writer.writeString("member")
        if key == 14 { writer.writeArray([String]()) { $0.writeString($1) } }
        return writer.bytes
    }

    static func offsetCommit(group: String, topic: String, offset: Int64 = 1, correlation: Int32 = 7) -> [UInt8] {
        var writer = header(8, 7, correlation: correlation)
        writer.writeString(group)
        writer.writeInt32(-1)
        writer.writeString("")
        writer.writeNullableString(nil)
        writer.writeArray([topic]) { writer, name in
            writer.writeString(name)
            writer.writeArray([Int32(0)]) { writer, index in
                writer.writeInt32(index)
                writer.writeInt64(offset)
                writer.writeInt32(-1)
                writer.writeNullableString("meta")
            }
        }
        return writer.bytes
    }

    static func offsetFetch(group: String, correlation: Int32 = 7) -> [UInt8] {
        var writer = header(9, 5, correlation: correlation)
        writer.writeString(group)
        writer.writeNullableArray(nil as [String]?) { $0.writeString($1) }
        return writer.bytes
    }

    static func listOffsets(topic: String) -> [UInt8] {
        var writer = header(2, 5)
        writer.writeInt32(-1)
        writer.writeInt8(0)
        writer.writeArray([topic]) { writer, name in
            writer.writeString(name)
            writer.writeArray([Int32(0)]) { writer, index in
                writer.writeInt32(index)
                writer.writeInt32(-1)
                writer.writeInt64(-2)
            }
        }
        return writer.bytes
    }

    static func createTopics(_ name: String) -> [UInt8] {
        var writer = header(19, 4)
        writer.writeArray([name]) { writer, name in
            writer.writeString(name)
            writer.writeInt32(1)
            writer.writeInt16(1)
            writer.writeArray([Int32]()) { $0.writeInt32($1) }
            writer.writeArray([String]()) { $0.writeString($1) }
        }
        writer.writeInt32(1000)
        writer.writeBool(false)
        return writer.bytes
    }

    static func initProducerId() -> [UInt8] {
        var writer = header(22, 1)
        writer.writeNullableString(nil)
        writer.writeInt32(60_000)
        return writer.bytes
    }

    static func describeGroups(_ group: String) -> [UInt8] {
        var writer = header(15, 4)
        writer.writeArray([group]) { $0.writeString($1) }
        writer.writeBool(false)
        return writer.bytes
    }

    static func listGroups() -> [UInt8] { header(16, 2).bytes }

    /// One of each, for the fuzz corpus.
    static func seeds(batch: [UInt8]) -> [[UInt8]] {
        [apiVersions(), apiVersions(version: 0), metadata(nil), metadata(["fuzz"]), metadata([], version: 0),
         produce(topic: "fuzz", partition: 0, batch: batch), produce(topic: "fuzz", partition: 0, batch: batch, version: 3),
         fetch(topic: "fuzz", partition: 0, offset: 0), fetch(topic: "fuzz", partition: 0, offset: 0, version: 4),
         listOffsets(topic: "fuzz"), joinGroup(group: "fuzz-group"), joinGroup(group: "fuzz-group", version: 0),
         simpleGroupRequest(12, group: "fuzz-group", version: 3), simpleGroupRequest(14, group: "fuzz-group", version: 3),
         simpleGroupRequest(13, group: "fuzz-group", version: 0), offsetCommit(group: "fuzz-group", topic: "fuzz"),
         offsetFetch(group: "fuzz-group"), createTopics("fuzz-created"), initProducerId(), describeGroups("fuzz-group"), listGroups()]
    }
}
