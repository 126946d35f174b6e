import SpoolWire
import Testing

/// A response frame keeps large `records` fields by reference (for a gathering write) and is,
/// byte for byte, the frame `Frames.response` encodes.
@Suite struct ResponseFrameTests {
    static func records(_ count: Int, seed: Int) -> RecordBytes {
        RecordBytes((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) })
    }

    @Test("fields from the splice size on are pieces of their own, smaller ones and null ones are copied; the bytes are Frames.response's", arguments: [Int16(4), 11, 12, 16])
    func splicesLargeRecords(version: Int16) {
        let large = Self.records(ResponseFrame.spliceRecordsMin, seed: 1)
        let small = Self.records(ResponseFrame.spliceRecordsMin - 1, seed: 2)
        let larger = Self.records(70_000, seed: 3)
        let response = FetchResponse(responses: [.init(topic: "t", topicId: KafkaUUID(high: 1, low: 2), partitions: [
            .init(partitionIndex: 0, records: large),
            .init(partitionIndex: 1, records: small),
            .init(partitionIndex: 2, records: nil),
            .init(partitionIndex: 3, records: larger),
        ])])
        let headerVersion: Int16 = version >= 12 ? 1 : 0
        let whole = Frames.response(response, version: version, correlationId: 9, headerVersion: headerVersion)
        let frame = Frames.responseFrame(response, version: version, correlationId: 9, headerVersion: headerVersion)
        #expect(frame.bytes == whole)
        #expect(frame.count == whole.count)
        #expect(frame.pieces.reduce(0) { $0 + $1.count } == whole.count)
        let spliced = frame.pieces.compactMap { piece -> Int? in
            if case let .records(records) = piece { return records.count }
            return nil
        }
        #expect(spliced == [large.count, larger.count])
        // bytes, large, bytes (the small field among them), larger, then from v12 the tagged
        // fields' bytes (before v12 the larger field ends the frame)
        #expect(frame.pieces.count == (version >= 12 ? 5 : 4))
    }

    @Test("a frame with no large field is one piece; an empty one has none")
    func onePiece() {
        let frame = Frames.responseFrame(FetchResponse(responses: []), version: 11, correlationId: 1, headerVersion: 0)
        #expect(frame.pieces.count == 1)
        #expect(frame.bytes == Frames.response(FetchResponse(responses: []), version: 11, correlationId: 1, headerVersion: 0))
        #expect(ResponseFrame([]).pieces.isEmpty)
        #expect(ResponseFrame([]).count == 0)
    }
}
