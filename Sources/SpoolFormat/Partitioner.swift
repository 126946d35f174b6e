/// Key → partition exactly as Kafka's Java client, kafka-python and aiokafka choose it:
/// `(murmur2(key) & 0x7fffffff) % partitions`, so a key lands on the same partition whether Spool
/// or a Kafka cluster is behind the client. (librdkafka's default, `consistent_random`, hashes with
/// CRC-32 instead; set `partitioner=murmur2_random` there to agree.)
public enum Partitioner {
    /// Kafka's murmur2 (MurmurHash2, seed 0x9747b28c) of `key`, as a signed 32-bit value.
    public static func murmur2(_ key: [UInt8]) -> Int32 {
        let seed: UInt32 = 0x9747_B28C
        let m: UInt32 = 0x5BD1_E995
        let r: UInt32 = 24
        let length = key.count
        var h = seed ^ UInt32(truncatingIfNeeded: length)
        var index = 0
        while index + 4 <= length {
            var k = UInt32(key[index]) | UInt32(key[index + 1]) << 8 | UInt32(key[index + 2]) << 16 | UInt32(key[index + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
            index += 4
        }
        let rest = length & 3
        if rest == 3 { h ^= UInt32(key[index + 2]) << 16 }
        if rest >= 2 { h ^= UInt32(key[index + 1]) << 8 }
        if rest >= 1 {
            h ^= UInt32(key[index])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition for `key` among `partitions`.
    public static func partition(forKey key: [UInt8], partitions: Int) -> Int32 {
        precondition(partitions > 0, "a topic has at least one partition")
        return Int32((murmur2(key) & 0x7FFF_FFFF) % Int32(partitions))
    }
}

/// Spreads records without keys evenly: round robin over the partitions, one counter per topic
/// user (Kafka's sticky partitioner fills a batch per partition instead; either spreads evenly).
public struct RoundRobinPartitioner: Sendable {
    private var next: Int

    public init(start: Int = 0) { next = start }

    public mutating func partition(partitions: Int) -> Int32 {
        precondition(partitions > 0, "a topic has at least one partition")
        defer { next = next &+ 1 }
        return Int32(next % partitions)
    }
}
