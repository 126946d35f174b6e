import Foundation
import SpoolBroker
import SpoolFuzzSupport
@testable import SpoolServer
import SpoolWire
import Testing
import SpoolFormat

/// Every version `spool serve` advertises is answered, in the layout of that version.
@Suite struct ServedVersionsTests {
    @Test func apiVersionsAdvertisesEveryVersionKafkaServesOfEachApi() async throws {
        let setup = try Served()
        defer { setup.remove() }
        for version in ApiKey.apiVersions.kafkaVersions {
            let response = try await setup.call(ApiVersionsRequest(clientSoftwareName: "spool-test", clientSoftwareVersion: "1"), version: version)
            #expect(response.errorCode == 0)
            let advertised = Dictionary(uniqueKeysWithValues: response.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
            #expect(advertised.count == ApiKey.allCases.count, "every API of the codec is served")
            for api in ApiKey.allCases {
                // The floors: message formats 0 and 1 are not stored, but Produce 0 stays advertised.
                let floor: Int16 = api == .fetch ? 4 : api.kafkaVersions.lowerBound
                #expect(advertised[api.rawValue] == floor...api.kafkaVersions.upperBound, "\(api.name)")
            }
        }
    }

    /// One broker per API, its versions one after another: 175 brokers opened at once beside the
    /// rest of the suite would only measure the machine.
    @Test(arguments: ApiKey.allCases.filter { ServedApis.advertised($0) != nil })
    func everyAdvertisedVersionIsAnswered(_ api: ApiKey) async throws {
        let setup = try Served()
        defer { setup.remove() }
        for version in ServedApis.advertised(api) ?? 1...0 {
            // A group of its own per version, so that no JoinGroup waits for another's rebalance.
            let request = RequestSamples.request(api, group: "workers-v\(version)")
            let frame = RequestSamples.frame(request, version: version, correlation: 99)
            guard case let .response(answer) = await setup.requests.respond(to: frame) else {
                Issue.record("\(api.name) v\(version) was not answered")
                continue
            }
            var reader = WireReader(Array(answer.dropFirst(4)))
            let header = try ResponseHeader(from: &reader, version: api.requestType.responseHeaderVersion(version))
            #expect(header.correlationId == 99)
            let response = try api.responseType.init(from: &reader, version: version)
            #expect(reader.remaining == 0, "\(api.name) v\(version): the whole frame is the response")
            if api == .produce {
                let produced = try #require(response as? ProduceResponse)
                let code = produced.responses.first?.partitionResponses.first?.errorCode
                #expect(code == (version < 3 ? KafkaErrorCode.unsupportedVersion.rawValue : 0), "Produce v\(version)")
            }
        }
    }

    /// Produce with acks=0 is not answered; when a partition failed, the connection is closed
    /// (as Kafka does), so the producer learns of it and refreshes its metadata.
    @Test func anUnacknowledgedProduceThatFailsClosesTheConnection() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let batch = RecordBatch(producing: [ProducerRecord(value: Array("v".utf8), timestamp: 1)]).encoded()
        func produce(_ topic: String, partition: Int32, version: Int16) async -> InProcessRequests.Answer {
            let request = ProduceRequest(acks: 0, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: partition, records: RecordBytes(batch))])])
            return await setup.requests.respond(to: RequestSamples.frame(request, version: version))
        }
        #expect(await produce("jobs", partition: 0, version: 9) == .silent, "a stored acks=0 produce is not answered")
        let failed = await produce("jobs", partition: 7, version: 9)
        #expect(failed == .close("produce with acks=0 failed for jobs[7]: UNKNOWN_TOPIC_OR_PARTITION"), "\(failed)")
        // Produce v0-2 is advertised but its message formats are not stored.
        let legacy = await produce("jobs", partition: 0, version: 2)
        #expect(legacy == .close("produce v2 with acks=0: message formats 0 and 1 are not stored"), "\(legacy)")
        #expect(setup.broker.partitionCount("jobs") == 2)
        // Stored (visible once flushed: acks=0 does not wait for it), and only that one.
        #expect(await eventually { (try? setup.broker.describeTopic("jobs").partitions.first?.highWatermark) == 1 })
    }

    /// Strings are read as Kafka reads them: bytes that are not UTF-8 become U+FFFD. A client id
    /// in Latin-1 closed the connection at the first request, so the client could never connect.
    @Test func aClientIdThatIsNotUTF8IsReadAsKafkaReadsIt() async throws {
        let setup = try Served()
        defer { setup.remove() }
        // Metadata v1 (request header v1): correlation 7, client id "caf\u{E9}" in Latin-1, all topics.
        let frame: [UInt8] = [0, 3, 0, 1, 0, 0, 0, 7, 0, 4, 0x63, 0x61, 0x66, 0xE9, 0xFF, 0xFF, 0xFF, 0xFF]
        guard case let .response(answer) = await setup.requests.respond(to: frame) else {
            Issue.record("a request whose client id is not UTF-8 was not answered")
            return
        }
        let metadata = try Frames.decodeResponse(Array(answer.dropFirst(4)), to: MetadataRequest.self, version: 1)
        #expect(metadata.topics.map(\.name) == ["jobs"])
    }

    @Test func aVersionKafkaDoesNotDefineClosesTheConnection() async throws {
        let setup = try Served()
        defer { setup.remove() }
        var frame = RequestSamples.frame(RequestSamples.request(.metadata), version: 12)
        frame[3] = 13
        guard case let .close(reason) = await setup.requests.respond(to: frame) else {
            Issue.record("Metadata v13 was answered")
            return
        }
        #expect(reason.contains("unsupported version 13 of Metadata"))
    }
}

/// A broker with topic "jobs" (2 partitions) and the requests the server would answer.
struct Served {
    let directory: String
    let broker: Broker
    let requests: InProcessRequests

    init() throws {
        try self.init(reopening: NSTemporaryDirectory() + "spool-served-\(UUID().uuidString)")
        try broker.createTopic("jobs", partitions: 2)
    }

    /// A broker on `directory` as it was left (a restart).
    init(reopening directory: String) throws {
        try self.init(directory: directory, broker: Broker.open(Self.config(directory)))
    }

    /// The requests `broker`, open on `directory`, would answer.
    init(directory: String, broker: Broker) {
        self.directory = directory
        self.broker = broker
        requests = InProcessRequests(broker: broker)
    }

    /// The broker config these use for `directory`.
    static func config(_ directory: String) -> BrokerConfig {
        var config = BrokerConfig(dataDirectory: directory)
        config.groupLimits.initialRebalanceDelayMs = 0
        config.fetchWaitMaxMs = 0
        return config
    }

    func remove() {
        try? broker.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Sends `request` at `version` and decodes the answer.
    func call<Request: KafkaRequest>(_ request: Request, version: Int16) async throws -> Request.Response {
        guard case let .response(answer) = await requests.respond(to: RequestSamples.frame(request, version: version)) else {
            throw WireError.invalid("\(Request.apiKey.name) v\(version) was not answered")
        }
        return try Frames.decodeResponse(Array(answer.dropFirst(4)), to: Request.self, version: version)
    }
}
