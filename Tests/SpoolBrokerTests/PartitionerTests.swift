import SpoolFormat
import SpoolBroker
import Testing

@Suite struct PartitionerTests {
    @Test func murmur2MatchesKafkaVectors() {
        #expect(Partitioner.murmur2(Array("21".utf8)) == -973_932_308)
        #expect(Partitioner.murmur2(Array("foobar".utf8)) == -790_332_482)
        #expect(Partitioner.murmur2(Array("abc".utf8)) == 479_470_107)
    }

    @Test func keysLandWhereKafkaPutsThem() {
        #expect(Partitioner.partition(forKey: [], partitions: 1000) == 681)
        #expect(Partitioner.partition(forKey: Array("a".utf8), partitions: 1000) == 524)
        #expect(Partitioner.partition(forKey: Array("abc".utf8), partitions: 1000) == 107)
        #expect(Partitioner.partition(forKey: Array("123456789".utf8), partitions: 1000) == 566)
    }

    @Test func nullKeysSpreadEvenly() {
        var spreader = RoundRobinPartitioner()
        var counts = [Int](repeating: 0, count: 8)
        for _ in 0..<8000 { counts[Int(spreader.partition(partitions: 8))] += 1 }
        #expect(counts.allSatisfy { $0 == 1000 })
    }
}
