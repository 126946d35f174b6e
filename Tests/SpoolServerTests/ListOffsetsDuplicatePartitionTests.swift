import SpoolBroker
import SpoolFormat
import SpoolWire
import Testing

/// A partition named more than once in one ListOffsets request (v1+) is answered INVALID_REQUEST,
/// timestamp and offset -1, at every place it is named, before anything else is checked; the
/// other partitions are answered as usual. Kafka 3.9's `ListOffsetsRequest` collects the
/// `duplicatePartitions` as it is parsed, and `KafkaApis.handleListOffsetRequestV1AndAbove`
/// answers `buildErrorResponse(Errors.INVALID_REQUEST, partition)` for each of them first; its
/// v0 handler does not look at them.
@Suite struct ListOffsetsDuplicatePartitionTests {
    private typealias Answer = ListOffsetsResponse.ListOffsetsPartitionResponse

    private static func answers(_ setup: Served, _ topics: [ListOffsetsRequest.ListOffsetsTopic], version: Int16) async throws -> [[Answer]] {
        try await setup.call(ListOffsetsRequest(replicaId: -1, topics: topics), version: version).topics.map(\.partitions)
    }

    private static func partition(_ index: Int32, at timestamp: Int64 = -1) -> ListOffsetsRequest.ListOffsetsPartition {
        .init(partitionIndex: index, timestamp: timestamp, maxNumOffsets: 5)
    }

    private static func isRefused(_ answer: Answer) -> Bool {
        answer.errorCode == KafkaErrorCode.invalidRequest.rawValue && (answer.timestamp, answer.offset, answer.leaderEpoch) == (-1, -1, -1)
    }

    @Test(arguments: Array(1...ListOffsetsRequest.versions.upperBound))
    func aPartitionNamedTwiceIsAnInvalidRequestAndTheOthersAreAnswered(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        _ = try await setup.broker.produce(topic: "jobs", partition: 1, records: RecordBatch(producing: [ProducerRecord(value: [1], timestamp: 1_000)]).encoded(), acks: .all)
        let answers = try await Self.answers(setup, [.init(name: "jobs", partitions: [Self.partition(0), Self.partition(1), Self.partition(0, at: -2)])], version: version)
        let jobs = try #require(answers.first)
        #expect(jobs.map(\.partitionIndex) == [0, 1, 0])
        #expect(Self.isRefused(jobs[0]) && Self.isRefused(jobs[2]), "both places partition 0 is named")
        #expect(jobs[1].errorCode == 0 && jobs[1].offset == 1, "partition 1 is named once")
    }

    @Test func aTopicNamedTwiceWithTheSamePartitionIsRefusedInBoth() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let answers = try await Self.answers(setup, [.init(name: "jobs", partitions: [Self.partition(0)]), .init(name: "jobs", partitions: [Self.partition(0), Self.partition(1)])], version: 7)
        #expect(answers.map { $0.map(Self.isRefused) } == [[true], [true, false]])
    }

    /// The duplicate is found before the timestamp's version or the partition is checked.
    @Test func theDuplicateIsCheckedFirst() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let unknown = try await Self.answers(setup, [.init(name: "nowhere", partitions: [Self.partition(3), Self.partition(3)])], version: 5)
        #expect(unknown.first?.allSatisfy(Self.isRefused) == true)
        let tooNew = try await Self.answers(setup, [.init(name: "jobs", partitions: [Self.partition(0, at: -5), Self.partition(0, at: -5)])], version: 5)
        #expect(tooNew.first?.allSatisfy(Self.isRefused) == true)
    }

    @Test func v0AnswersEveryPlace() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let answers = try await Self.answers(setup, [.init(name: "jobs", partitions: [Self.partition(0, at: -2), Self.partition(0, at: -2)])], version: 0)
        #expect(answers.first?.map(\.errorCode) == [0, 0])
        #expect(answers.first?.map(\.oldStyleOffsets) == [[0], [0]])
    }
}
