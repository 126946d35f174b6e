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
        self.directory = directory
        var config = BrokerConfig(dataDirectory: directory)
        config.groupLimits.initialRebalanceDelayMs = 0
        config.fetchWaitMaxMs = 0
        broker = try Broker.open(config)
        requests = InProcessRequests(broker: broker)
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
