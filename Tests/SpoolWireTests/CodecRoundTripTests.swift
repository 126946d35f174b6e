import SpoolFuzzSupport
import SpoolWire
import Testing

/// The generated codec against itself, at every version of every message: what is encoded decodes
/// to the same value and encodes to the same bytes again, and every byte counts.
@Suite struct CodecRoundTripTests {
    static let requests: [(ApiKey, Int16)] = ApiKey.allCases.flatMap { api in api.kafkaVersions.map { (api, $0) } }

    @Test(arguments: requests)
    func everyVersionOfEveryRequestRoundTrips(_ api: ApiKey, _ version: Int16) throws {
        let sample = RequestSamples.request(api)
        let frame = RequestSamples.frame(sample, version: version, correlation: 42)
        guard case let .success(decoded) = DecodedRequest.decode(frame) else {
            Issue.record("\(api.name) v\(version) does not decode")
            return
        }
        #expect(decoded.apiKey == api && decoded.version == version && decoded.header.correlationId == 42)
        #expect(decoded.header.clientId == "spool-fuzz")
        let body = try #require(decoded.body)
        #expect(RequestSamples.frame(body.message, version: version, correlation: 42) == frame, "re-encoded to the same bytes")
        // Every prefix of the frame is refused, none traps.
        for cut in stride(from: 0, to: frame.count, by: max(1, frame.count / 64)) {
            if case .success = DecodedRequest.decode(Array(frame[..<cut])) { Issue.record("\(api.name) v\(version) cut at \(cut) decoded") }
        }
    }

    @Test func flexibleVersionsUseCompactEncodingsAndHeaderTwo() throws {
        // ApiVersions v3: header v2 (client id still an int16 string), compact strings, tagged fields.
        let frame = RequestSamples.frame(ApiVersionsRequest(clientSoftwareName: "spool", clientSoftwareVersion: "1.0"), version: 3, correlation: 1)
        let expected: [UInt8] = [0, 18, 0, 3, 0, 0, 0, 1, 0, 10] + Array("spool-fuzz".utf8) + [0]
            + [6] + Array("spool".utf8) + [4] + Array("1.0".utf8) + [0]
        #expect(frame == expected)
        // The same request at v2 has an empty body and header v1.
        #expect(RequestSamples.frame(ApiVersionsRequest(clientSoftwareName: "spool"), version: 2, correlation: 1)
            == [0, 18, 0, 2, 0, 0, 0, 1, 0, 10] + Array("spool-fuzz".utf8))
    }

    @Test func responsesUseHeaderOneWhenFlexibleExceptApiVersions() throws {
        let metadata = Frames.response(MetadataResponse(), version: 9, correlationId: 5, headerVersion: MetadataRequest.responseHeaderVersion(9))
        #expect(Array(metadata[4..<9]) == [0, 0, 0, 5, 0], "correlation id, then an empty tagged-field section")
        #expect(ApiVersionsRequest.responseHeaderVersion(3) == 0)
        #expect(MetadataRequest.responseHeaderVersion(8) == 0)
        let decoded = try Frames.decodeResponse(Array(metadata.dropFirst(4)), to: MetadataRequest.self, version: 9)
        #expect(decoded == MetadataResponse())
    }

    @Test func taggedFieldsAreWrittenWhenSetAndUnknownOnesSkipped() throws {
        // FetchResponse v12+: the partition's CurrentLeader is tagged (tag 1).
        var partition = FetchResponse.PartitionData(partitionIndex: 0, records: RecordBytes([]))
        partition.currentLeader = .init(leaderId: 3, leaderEpoch: 7)
        let response = FetchResponse(responses: [.init(topic: "t", partitions: [partition])])
        let withTag = response.encoded(version: 12)
        let without = FetchResponse(responses: [.init(topic: "t", partitions: [FetchResponse.PartitionData(partitionIndex: 0, records: RecordBytes([]))])])
            .encoded(version: 12)
        #expect(withTag.count > without.count)
        #expect(try FetchResponse(decoding: withTag, version: 12).responses[0].partitions[0].currentLeader.leaderId == 3)
        // Before v12 the field does not exist: it is left out and reads back as its default.
        #expect(try FetchResponse(decoding: response.encoded(version: 11), version: 11).responses[0].partitions[0].currentLeader.leaderId == -1)

        // An unknown tag in a request body is skipped; a known one must fill exactly its size.
        var writer = WireWriter()
        writer.writeString("spool", compact: true)
        writer.writeString("1.0", compact: true)
        writer.writeTaggedFields([(tag: 99, write: { $0.writeInt64(1) })])
        #expect(try ApiVersionsRequest(decoding: writer.bytes, version: 3).clientSoftwareName == "spool")

        var bad = WireWriter()
        bad.writeString("spool", compact: true)
        bad.writeString("1.0", compact: true)
        bad.writeUnsignedVarint(2)
        bad.writeUnsignedVarint(5)
        bad.writeUnsignedVarint(0)
        bad.writeUnsignedVarint(4)
        bad.writeUnsignedVarint(0)
        #expect(throws: WireError.self, "tags out of order") { try ApiVersionsRequest(decoding: bad.bytes, version: 3) }
    }

    @Test func lengthsAreBoundedByTheFrameBeforeAnythingIsAllocated() throws {
        // A classic array claiming 2^31-1 elements in a 4-byte body.
        var huge = WireWriter()
        huge.writeInt32(Int32.max)
        #expect(throws: WireError.self) { try DeleteGroupsRequest(decoding: huge.bytes, version: 0) }
        // A compact string claiming 2^28 bytes.
        var long = WireWriter()
        long.writeUnsignedVarint(1 << 28)
        #expect(throws: WireError.self) { try DeleteGroupsRequest(decoding: long.bytes, version: 2) }
        // A negative classic length other than -1, and null where it is not allowed.
        var negative = WireWriter()
        negative.writeInt32(1)
        negative.writeInt16(-2)
        #expect(throws: WireError.self) { try DeleteGroupsRequest(decoding: negative.bytes, version: 0) }
        var null = WireWriter()
        null.writeInt32(-1)
        #expect(throws: WireError.self) { try DeleteGroupsRequest(decoding: null.bytes, version: 0) }
        // A varint of six bytes.
        #expect(throws: WireError.self) { try DeleteGroupsRequest(decoding: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], version: 2) }
        // Bytes after the body.
        #expect(throws: WireError.self) { try DeleteGroupsRequest(decoding: DeleteGroupsRequest(groupsNames: ["g"]).encoded(version: 0) + [0], version: 0) }
    }

    @Test func versionDependentFieldsFollowTheSchema() throws {
        // OffsetCommit v1 carries a commit timestamp per partition; v2-4 a retention time; v5 neither.
        let request = OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: 3, memberId: "m", retentionTimeMs: 9,
                                          topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 5, commitTimestamp: 77)])])
        let v1 = try OffsetCommitRequest(decoding: request.encoded(version: 1), version: 1)
        #expect(v1.topics[0].partitions[0].commitTimestamp == 77 && v1.retentionTimeMs == -1)
        let v2 = try OffsetCommitRequest(decoding: request.encoded(version: 2), version: 2)
        #expect(v2.topics[0].partitions[0].commitTimestamp == -1 && v2.retentionTimeMs == 9)
        let v5 = try OffsetCommitRequest(decoding: request.encoded(version: 5), version: 5)
        #expect(v5.retentionTimeMs == -1 && v5.generationIdOrMemberEpoch == 3)
        let v0 = try OffsetCommitRequest(decoding: request.encoded(version: 0), version: 0)
        #expect(v0.memberId == "" && v0.generationIdOrMemberEpoch == -1, "v0 has no group membership")
        #expect(request.encoded(version: 8).count < request.encoded(version: 7).count + 8, "compact lengths from v8")
    }
}
