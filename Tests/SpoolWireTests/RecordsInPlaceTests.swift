import SpoolFuzzSupport
import SpoolWire
import Testing

/// A `records` field is decoded in place: the bytes stay in the frame's storage, so a produce
/// appends its batches from the request and a consumer reads a fetch response without a copy.
@Suite struct RecordsInPlaceTests {
    static let batch: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test func aProduceRequestsRecordsPointIntoItsFrame() throws {
        let request = ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [
            .init(name: "t", partitionData: [.init(index: 0, records: RecordBytes(Self.batch))]),
        ])
        let frame = RequestSamples.frame(request, version: 9, correlation: 1)
        guard case let .success(decoded) = DecodedRequest.decode(frame), case let .produce(produce)? = decoded.body else {
            Issue.record("the produce request does not decode")
            return
        }
        let records = try #require(produce.topicData.first?.partitionData.first?.records)
        #expect(records.count == Self.batch.count)
        #expect(records.bytes == Self.batch)
        #expect(records == RecordBytes(Self.batch), "equal by their bytes, whatever holds them")
        // The slice's bytes are the frame's bytes: same storage, at the records' place in it.
        let slice = records.slice
        #expect(Array(slice) == Self.batch)
        let frameStart = frame.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let recordsStart = records.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(recordsStart >= frameStart && recordsStart + UInt(Self.batch.count) <= frameStart + UInt(frame.count))
    }

    @Test func aFetchResponsesRecordsDecodeInPlaceAndNullStaysNull() throws {
        let response = FetchResponse(responses: [.init(topic: "t", partitions: [
            .init(partitionIndex: 0, records: RecordBytes(Self.batch)),
            .init(partitionIndex: 1, records: nil),
        ])])
        for version in [Int16(4), 12] {
            let frame = Frames.response(response, version: version, correlationId: 3, headerVersion: version >= 12 ? 1 : 0)
            let decoded = try Frames.decodeResponse(Array(frame.dropFirst(4)), to: FetchRequest.self, version: version)
            let partitions = try #require(decoded.responses.first?.partitions)
            #expect(partitions[0].records?.bytes == Self.batch, "v\(version)")
            #expect(partitions[1].records == nil, "v\(version)")
        }
    }
}
