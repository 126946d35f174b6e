import SpoolFormat
import Testing

/// `BatchRecord`, the record read in place: what it gives against what the records were made
/// from, and against `ConsumedRecord`s read from the same bytes.
@Suite struct BatchRecordTests {
    private func batch(base: Int64, _ records: [ProducerRecord], attributes: BatchAttributes = .init()) -> [UInt8] {
        var batch = RecordBatch(producing: records, attributes: attributes)
        batch.baseOffset = base
        return batch.encoded()
    }

    /// Every record of `bytes` from `from` on, read in place.
    private func views(_ bytes: [UInt8], topic: String = "t", partition: Int32 = 0, from: Int64 = 0) -> (records: [BatchRecord], cursor: RecordCursor) {
        var cursor = RecordCursor(bytes, topic: topic, partition: partition, from: from)
        var records: [BatchRecord] = []
        cursor.take(upTo: .max, into: &records)
        return (records, cursor)
    }

    /// The records `records` become at `base` on, as a consumer should see them.
    private func expected(_ records: [ProducerRecord], base: Int64, topic: String = "t", partition: Int32 = 0) -> [ConsumedRecord] {
        records.enumerated().map { index, record in
            ConsumedRecord(topic: topic, partition: partition, offset: base + Int64(index), timestamp: record.timestamp, key: record.key,
                           value: record.value, headers: record.headers)
        }
    }

    private static let mixed: [ProducerRecord] = [
        ProducerRecord(key: Array("user-1".utf8), value: Array("{\"a\":1}".utf8), headers: [RecordHeader("spool-job-id", "j1")], timestamp: 1_000),
        ProducerRecord(key: nil, value: Array("no key".utf8), timestamp: 1_001),
        ProducerRecord(key: [], value: nil, headers: [RecordHeader(key: "empty", value: nil), RecordHeader(key: "blank", value: [])], timestamp: 999),
        ProducerRecord(key: Array("k".utf8), value: [0, 255, 1],
                       headers: [RecordHeader("spool-attempt", "2"), RecordHeader("x", "1"), RecordHeader("spool-attempt", "7"), RecordHeader("x", "2")],
                       timestamp: 1_005),
    ]

    @Test func readsKeysValuesAndHeadersInPlace() {
        let (records, cursor) = views(batch(base: 40, Self.mixed), topic: "jobs", partition: 3)
        #expect(records.map(\.offset) == [40, 41, 42, 43])
        #expect(records.map(\.timestamp) == [1_000, 1_001, 999, 1_005])
        #expect(records.allSatisfy { $0.topicPartition == TopicPartition("jobs", 3) })
        #expect(cursor.next == 44 && cursor.unreadable == nil && cursor.isExhausted)

        #expect(records.map(\.hasKey) == [true, false, true, true])
        #expect(records.map(\.keyString) == ["user-1", nil, "", "k"])
        #expect(records[2].key == [] && records[1].key == nil)
        #expect(records.map(\.hasValue) == [true, true, false, true])
        #expect(records[3].withValue { $0.map { Array($0) } } == [0, 255, 1])
        #expect(records[2].withValue { $0 == nil })
        #expect(records[0].value == Array("{\"a\":1}".utf8))
        #expect(records.map(\.headerCount) == [1, 0, 2, 4])

        // The first header of a name counts; a null value is nil, an empty one is "".
        #expect(records[3].header("spool-attempt") == "2")
        #expect(records[3].header("x") == "1")
        #expect(records[3].header("spool-job-id") == nil)
        #expect(records[2].header("empty") == nil && records[2].header("blank") == "")
        #expect(records[0].header("spool-job-id") == "j1")

        let raw = records[3].withHeaders { headers in
            var all: [(String, String?)] = []
            while let (name, value) = headers.next() { all.append((String(decoding: name, as: UTF8.self), value.map { String(decoding: $0, as: UTF8.self) })) }
            return all
        }
        #expect(raw.map(\.0) == ["spool-attempt", "x", "spool-attempt", "x"])
        #expect(raw.map(\.1) == ["2", "1", "7", "2"])
        let nullAndEmpty = records[2].withHeaders { headers in
            var values: [[UInt8]?] = []
            while let (_, value) = headers.next() { values.append(value.map { Array($0) }) }
            return values
        }
        #expect(nullAndEmpty == [nil, []])

        #expect(records.map(\.consumedRecord) == expected(Self.mixed, base: 40, topic: "jobs", partition: 3))
        #expect(records.map(\.headers) == Self.mixed.map(\.headers))
    }

    @Test func skipsRecordsBelowFromAndStepsOverControlBatches() {
        let values = (0..<5).map { ProducerRecord(key: nil, value: Array("v\($0)".utf8), timestamp: 7) }
        let control = batch(base: 15, [ProducerRecord(value: [], timestamp: 7)], attributes: BatchAttributes(rawValue: 1 << 5 | 1 << 4))
        let bytes = batch(base: 10, values) + control + batch(base: 16, [values[0]])
        let (records, cursor) = views(bytes, from: 12)
        #expect(records.map(\.offset) == [12, 13, 14, 16])
        #expect(records.map { $0.withValue { String(decoding: $0!, as: UTF8.self) } } == ["v2", "v3", "v4", "v0"])
        #expect(cursor.next == 17)
        // A batch wholly below `from` gives nothing, and the position stays.
        let (none, past) = views(batch(base: 0, values), from: 5)
        #expect(none.isEmpty && past.next == 5)
    }

    @Test func headerNamesCompareAsConsumedRecordComparesThem() {
        // U+212A KELVIN SIGN is canonically equivalent to "K"; "é" precomposed and decomposed.
        let headers = [RecordHeader("\u{212A}ey", "kelvin"), RecordHeader("Key", "ascii"), RecordHeader("cafe\u{301}", "decomposed")]
        let record = ConsumedRecord(topic: "t", partition: 0, offset: 0, timestamp: 0, key: nil, value: nil, headers: headers)
        let (views, _) = views(batch(base: 0, [ProducerRecord(value: nil, headers: headers, timestamp: 0)]))
        for view in [BatchRecord(record), views[0]] {
            for name in ["Key", "\u{212A}ey", "caf\u{E9}", "cafe\u{301}", "key", "cafe"] {
                #expect(view.header(name) == record.header(name), "\(name)")
            }
        }
        #expect(record.header("Key") == "kelvin" && record.header("caf\u{E9}") == "decomposed")
    }

    @Test func aBatchRecordMadeFromARecordGivesItBack() {
        for record in expected(Self.mixed, base: 7, topic: "other", partition: 9) {
            let view = BatchRecord(record)
            #expect(view.consumedRecord == record)
            #expect(view.keyString == record.keyString && view.hasValue == (record.value != nil) && view.headers == record.headers)
            #expect(view.header("spool-attempt") == record.header("spool-attempt") && view.header("x") == record.header("x"))
        }
    }

    /// The fixtures: hand-made ones and random ones (keys and values null, empty or not, headers
    /// with repeated and non-ASCII names, null values, several batches, a start inside a batch).
    private func fixtures() -> [(bytes: [UInt8], from: Int64, records: [ConsumedRecord])] {
        var fixtures: [(bytes: [UInt8], from: Int64, records: [ConsumedRecord])] = [
            (batch(base: 0, Self.mixed), 0, expected(Self.mixed, base: 0)),
            (batch(base: 100, Self.mixed), 102, Array(expected(Self.mixed, base: 100).dropFirst(2))),
            (batch(base: 5, Self.mixed) + batch(base: 9, Self.mixed), 6, Array((expected(Self.mixed, base: 5) + expected(Self.mixed, base: 9)).dropFirst())),
        ]
        var random = SeededRandom(seed: 0x5eed)
        func bytes(_ maxCount: Int) -> [UInt8]? {
            switch random.next(4) {
            case 0: return nil
            case 1: return []
            default: return (0..<random.next(maxCount + 1)).map { _ in UInt8(random.next(256)) }
            }
        }
        let names = ["spool-job-id", "spool-attempt", "a", "", "ключ", "spool-job-type", "x-\u{1F600}"]
        for _ in 0..<40 {
            var all: [ConsumedRecord] = []
            var encoded: [UInt8] = []
            var base = Int64(random.next(1_000))
            for _ in 0..<(1 + random.next(3)) {
                let records = (0..<(1 + random.next(6))).map { _ in
                    ProducerRecord(key: bytes(12), value: bytes(300),
                                   headers: (0..<random.next(5)).map { _ in RecordHeader(key: names[random.next(names.count)], value: bytes(20)) },
                                   timestamp: Int64(random.next(1 << 40)))
                }
                encoded += batch(base: base, records)
                all += expected(records, base: base)
                base += Int64(records.count) + Int64(random.next(3))
            }
            let skip = random.next(3)
            fixtures.append((encoded, all[min(skip, all.count - 1)].offset, Array(all.dropFirst(min(skip, all.count - 1)))))
        }
        return fixtures
    }

    @Test func materializedRecordsEqualThoseDecodedFromTheSameBytes() {
        for (index, fixture) in fixtures().enumerated() {
            let (records, cursor) = views(fixture.bytes, from: fixture.from)
            let decoded = FetchedRecords(decoding: fixture.bytes, topic: "t", partition: 0, from: fixture.from)
            #expect(records.map(\.consumedRecord) == fixture.records, "fixture \(index)")
            #expect(decoded.records == fixture.records, "fixture \(index)")
            #expect(cursor.next == decoded.next && cursor.unreadable == nil && decoded.unreadable == nil, "fixture \(index)")
            for (view, record) in zip(records, fixture.records) {
                #expect(view.keyString == record.keyString && view.value == record.value && view.key == record.key, "fixture \(index)")
                for name in ["spool-job-id", "spool-attempt", "a", "ключ"] { #expect(view.header(name) == record.header(name), "fixture \(index)") }
            }
        }
    }

    @Test func takingEitherKindInTurnGivesTheSameRecordsAndPositions() {
        for fixture in fixtures().prefix(12) {
            var cursor = RecordCursor(fixture.bytes, topic: "t", partition: 0, from: fixture.from)
            var taken: [ConsumedRecord] = []
            var nexts: [Int64] = []
            var asViews = false
            while !cursor.isExhausted {
                if asViews {
                    var views: [BatchRecord] = []
                    cursor.take(upTo: 2, into: &views)
                    taken += views.map(\.consumedRecord)
                } else {
                    cursor.take(upTo: 3, into: &taken)
                }
                nexts.append(cursor.next)
                asViews.toggle()
            }
            #expect(taken == fixture.records)
            #expect(nexts == nexts.sorted() && nexts.last == FetchedRecords(decoding: fixture.bytes, topic: "t", partition: 0, from: fixture.from).next)
        }
    }

    @Test func stopsWhereDecodedRecordsStopAtCompressedAndCorruptBatches() {
        let good = batch(base: 0, Self.mixed)
        let gzip = batch(base: 4, Self.mixed, attributes: BatchAttributes(compression: .zstd))
        // A header name that is not UTF-8 under a valid CRC.
        var badName = batch(base: 4, [ProducerRecord(value: [1], headers: [RecordHeader("QQ", "v")], timestamp: 1)])
        let at = badName.indices.first { badName[$0] == UInt8(ascii: "Q") && badName[$0 + 1] == UInt8(ascii: "Q") }!
        badName[at] = 0xFF
        let crc = CRC32C.checksum(badName[RecordBatchLayout.crcStart...])
        badName.storeBigEndian(crc, at: RecordBatchLayout.crc)
        // A flipped byte the CRC catches.
        var flipped = batch(base: 4, Self.mixed)
        flipped[flipped.count - 2] ^= 1
        for bad in [gzip, badName, flipped] {
            let bytes = good + bad + batch(base: 20, Self.mixed)
            let (records, cursor) = views(bytes)
            let decoded = FetchedRecords(decoding: bytes, topic: "t", partition: 0, from: 0)
            #expect(decoded.unreadable != nil)
            #expect(records.map(\.consumedRecord) == decoded.records)
            #expect(records.map(\.offset) == [0, 1, 2, 3])
            #expect(cursor.next == decoded.next && cursor.unreadable == decoded.unreadable)
        }
    }
}

/// A small deterministic generator (SplitMix64), so the random fixtures are the same every run.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
    }
}
