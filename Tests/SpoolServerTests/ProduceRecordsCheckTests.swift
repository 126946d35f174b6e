import Foundation
import SpoolBroker
import SpoolFormat
import SpoolFuzzSupport
@testable import SpoolServer
import SpoolWire
import Testing

/// Kafka checks each partition's records of a Produce v3+ before it appends anything
/// (`ProduceRequest.validateRecords`, from `KafkaApis.handleProduceRequest`): exactly one record
/// batch, of magic 2, and no zstd before v7. A partition that fails gets the error alone, with no
/// offsets and no message; the request's other partitions are stored.
@Suite struct ProduceRecordsCheckTests {
    private func one(_ tag: String, count: Int = 1, producerId: Int64 = -1, epoch: Int16 = -1, sequence: Int32 = -1,
                     attributes: BatchAttributes = .init()) -> [UInt8] {
        RecordBatch(producing: (0..<count).map { ProducerRecord(value: Array("\(tag)-\($0)".utf8), timestamp: 1) },
                    producerId: producerId, producerEpoch: epoch, baseSequence: sequence, attributes: attributes).encoded()
    }

    private func request(acks: Int16 = -1, _ partitions: [(Int32, [UInt8])]) -> ProduceRequest {
        ProduceRequest(acks: acks, timeoutMs: 1000, topicData: [
            .init(name: "jobs", partitionData: partitions.map { .init(index: $0.0, records: RecordBytes($0.1)) }),
        ])
    }

    private func produce(_ setup: Served, version: Int16, _ partitions: [(Int32, [UInt8])]) async throws -> [ProduceResponse.PartitionProduceResponse] {
        try await setup.call(request(partitions), version: version).responses.first?.partitionResponses ?? []
    }

    private func logEnds(_ setup: Served) throws -> [Int64] {
        try setup.broker.describeTopic("jobs").partitions.map(\.logEndOffset)
    }

    @Test(arguments: [3, 7, 8, 9, 11] as [Int16])
    func twoBatchesForOnePartitionAreRefusedWhileTheOtherPartitionIsStored(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        let answers = try await produce(setup, version: version, [(0, one("a") + one("b")), (1, one("c"))])
        #expect(answers.map(\.index) == [0, 1])
        #expect(answers.map(\.errorCode) == [KafkaErrorCode.invalidRecord.rawValue, 0])
        #expect(answers.first?.baseOffset == -1 && answers.first?.logStartOffset == -1)
        #expect(answers.first?.errorMessage == nil, "Kafka's PartitionResponse(error) carries no message")
        #expect(try logEnds(setup) == [0, 1], "the refused partition stored a batch")
    }

    @Test func anUnacknowledgedProduceOfTwoBatchesClosesTheConnection() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let answer = await setup.requests.respond(to: RequestSamples.frame(request(acks: 0, [(0, one("a") + one("b"))]), version: 9))
        #expect(answer == .close("produce with acks=0 failed for jobs[0]: INVALID_RECORD"), "\(answer)")
        #expect(try logEnds(setup) == [0, 0])
    }

    /// A retry of a stored batch beside a new one: the partition is refused before either is looked
    /// at, so neither is stored and the producer's sequence stays where the stored batch left it.
    @Test func aRetriedBatchBesideANewOneStoresNeither() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let (id, epoch) = try setup.broker.initProducerId()
        let stored = one("a", count: 3, producerId: id, epoch: epoch, sequence: 0)
        let next = one("b", count: 2, producerId: id, epoch: epoch, sequence: 3)
        #expect(try await produce(setup, version: 7, [(0, stored)]).map(\.errorCode) == [0])
        let both = try await produce(setup, version: 7, [(0, stored + next)])
        #expect(both.map(\.errorCode) == [KafkaErrorCode.invalidRecord.rawValue])
        #expect(try logEnds(setup) == [3, 0], "the new batch beside the retry was stored")
        let alone = try await produce(setup, version: 7, [(0, next)])
        #expect(alone.map(\.errorCode) == [0])
        #expect(alone.first?.baseOffset == 3)
    }

    @Test func recordsThatAreNotOneWholeBatchOfMagic2GetKafkasError() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let whole = one("a")
        func with(_ position: Int, _ bytes: [UInt8]) -> [UInt8] {
            var changed = whole
            changed.replaceSubrange(position..<(position + bytes.count), with: bytes)
            return changed
        }
        let invalid = KafkaErrorCode.invalidRecord.rawValue
        let corrupt = KafkaErrorCode.corruptMessage.rawValue
        let cases: [(String, [UInt8], Int16)] = [
            ("no bytes", [], invalid),
            ("fewer bytes than a batch's length needs", Array(whole.prefix(11)), invalid),
            ("one batch cut short", Array(whole.dropLast()), invalid),
            ("magic 1", with(16, [1]), invalid),
            ("magic 0", with(16, [0]), invalid),
            ("magic 3", with(16, [3]), corrupt),
            ("a length no batch has", with(8, [0, 0, 0, 13]), corrupt),
            ("a batch, then a length no batch has", whole + Array(with(8, [0, 0, 0, 13]).prefix(12)), corrupt),
            ("a batch, then one of magic 1", whole + with(16, [1]), invalid),
        ]
        for (name, records, code) in cases {
            let answers = try await produce(setup, version: 9, [(0, records), (1, whole)])
            #expect(answers.map(\.errorCode) == [code, 0], "\(name)")
        }
        #expect(try logEnds(setup) == [0, Int64(cases.count)])
    }

    /// Kafka's log input stream (`ByteBufferLogInputStream.nextBatch`) stops at a batch cut short by
    /// the end of the records, and the log keeps only the whole batches before it
    /// (`UnifiedLog.trimInvalidBytes`): a batch followed by the start of another is stored alone.
    @Test func aBatchFollowedByPartOfAnotherIsStoredWithoutThePart() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let whole = one("a")
        let next = one("b")
        // Too short for a length, a length without a magic, and a header cut before its end.
        let cuts = [1, 11, 12, 16, 17, 40, next.count - 1]
        for cut in cuts {
            let answers = try await produce(setup, version: 9, [(0, whole + next.prefix(cut))])
            #expect(answers.map(\.errorCode) == [0], "cut at \(cut)")
        }
        #expect(try logEnds(setup) == [Int64(cuts.count), 0])
        // Only the whole batches are in the log: each is `whole`, with its offset written in.
        let stored = try #require(await setup.broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)],
                                                           maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20).first?.records)
        #expect(stored.count == whole.count * cuts.count, "bytes of the cut batches were stored")
        var batches: [[UInt8]] = []
        stored.forEachBatch { batches.append(Array($0)) }
        #expect(batches.map { Array($0.dropFirst(8)) } == Array(repeating: Array(whole.dropFirst(8)), count: cuts.count))
    }

    @Test func zstdIsRefusedBeforeProduceV7() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let zstd = Self.zstdBatch(one("z"))
        let v6 = try await produce(setup, version: 6, [(0, zstd)])
        #expect(v6.map(\.errorCode) == [KafkaErrorCode.unsupportedCompressionType.rawValue])
        #expect(try logEnds(setup) == [0, 0])
        // Spool stores a batch as the producer sent it, compressed or not.
        #expect(try await produce(setup, version: 7, [(0, zstd)]).map(\.errorCode) == [0])
    }

    /// The uncompressed batch `plain` as a zstd batch of the same records: one zstd frame holding
    /// them in a single raw block (its content size in one byte, so at most 255 bytes of records).
    static func zstdBatch(_ plain: [UInt8]) -> [UInt8] {
        let records = Array(plain[RecordBatchLayout.headerSize...])
        precondition(records.count <= 255, "a one-byte content size")
        let blockHeader = records.count << 3 | 1  // the last block, raw
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x20, UInt8(records.count),
                              UInt8(blockHeader & 0xFF), UInt8(blockHeader >> 8 & 0xFF), UInt8(blockHeader >> 16)] + records
        var batch = Array(plain[..<RecordBatchLayout.headerSize]) + frame
        batch.storeBigEndian(Int16(Compression.zstd.rawValue), at: RecordBatchLayout.attributes)
        RecordBatchLayout.seal(&batch)
        return batch
    }

    /// Before v7 Kafka reads the first batch's compression in `ProduceRequest.validateRecords`, and
    /// `CompressionType.forId` throws IllegalArgumentException for codes 5-7. That is no ApiException,
    /// so `KafkaApis.handleProduceRequest` does not answer it per partition: `KafkaApis.handle` answers
    /// the whole request with `ProduceRequest.getErrorResponse`, every partition UNKNOWN_SERVER_ERROR
    /// with no message, and nothing of the request is stored.
    @Test(arguments: [3, 5, 6] as [Int16])
    func anInvalidCompressionCodeBeforeV7FailsTheWholeRequest(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        for code: Int16 in [5, 6, 7] {
            let invalid = one("x", attributes: BatchAttributes(rawValue: code))
            let answers = try await produce(setup, version: version, [(0, one("a")), (1, invalid)])
            #expect(answers.map(\.index) == [0, 1], "code \(code)")
            #expect(answers.map(\.errorCode) == [KafkaErrorCode.unknownServerError.rawValue, KafkaErrorCode.unknownServerError.rawValue], "code \(code)")
            #expect(answers.allSatisfy { $0.baseOffset == -1 && $0.logStartOffset == -1 && $0.errorMessage == nil }, "code \(code)")
            #expect(try logEnds(setup) == [0, 0], "code \(code): a partition of the failed request stored its batch")
        }
        // With acks=0 there is no answer to carry the error: the connection is closed.
        let unacknowledged = request(acks: 0, [(0, one("a")), (1, one("x", attributes: BatchAttributes(rawValue: 5)))])
        let answer = await setup.requests.respond(to: RequestSamples.frame(unacknowledged, version: version))
        guard case .close = answer else {
            Issue.record("acks=0: \(answer)")
            return
        }
        #expect(try logEnds(setup) == [0, 0])
    }

    /// From v7 the check does not read the compression: the log does, once the batch's CRC
    /// passes (`UnifiedLog.analyzeAndValidateRecords`), and `CompressionType.forId` throws
    /// IllegalArgumentException there, which `ReplicaManager.appendToLocalLog` answers for the
    /// partition alone: UNKNOWN_SERVER_ERROR (the request's other partitions are stored).
    @Test(arguments: [7, 9, 11] as [Int16])
    func anInvalidCompressionCodeFromV7FailsItsPartitionOnly(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        for code: Int16 in [5, 6, 7] {
            let answers = try await produce(setup, version: version, [(0, one("a")), (1, one("x", attributes: BatchAttributes(rawValue: code)))])
            #expect(answers.map(\.errorCode) == [0, KafkaErrorCode.unknownServerError.rawValue], "code \(code)")
            #expect(answers.last?.baseOffset == -1, "code \(code)")
        }
        #expect(try logEnds(setup) == [3, 0])
    }

    /// The Produce requests recorded from kcat, confluent-kafka, kafka-python and aiokafka
    /// (`Tests/SpoolWireTests/Fixtures`) pass the check: none sends two batches for a partition.
    @Test func theRecordedClientsProducesPassTheCheck() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SpoolWireTests/Fixtures")
        var checked = 0
        for client in try FileManager.default.contentsOfDirectory(atPath: fixtures.path).sorted() {
            let folder = fixtures.appendingPathComponent(client)
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.contains("-Produce-v") && file.hasSuffix("-request.hex") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).filter(\.isHexDigit)
                let frame = stride(from: 0, to: text.count - 1, by: 2).compactMap { offset -> UInt8? in
                    let start = text.index(text.startIndex, offsetBy: offset)
                    return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)
                }
                guard case let .success(decoded) = DecodedRequest.decode(frame), case let .produce(produce)? = decoded.body else {
                    Issue.record("\(client)/\(file) does not decode as a Produce request")
                    continue
                }
                for partition in produce.topicData.flatMap(\.partitionData) {
                    let refusal = try #require(partition.records).withUnsafeBytes { ProduceRecordsCheck.refusal(of: $0, version: decoded.version) }
                    #expect(refusal == nil, "\(client)/\(file)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 4, "the recorded Produce requests were found")
    }
}
