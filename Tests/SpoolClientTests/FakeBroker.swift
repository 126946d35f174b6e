import Foundation
import Glibc
import SpoolFormat
import SpoolWire
import Synchronization

/// A scripted Kafka-protocol broker on a free loopback port, for the client's failure paths: each
/// request goes to `handler`, whose answer is sent back (nil: the request is never answered).
/// With `apiVersionsMax`, it answers an ApiVersions request above that version itself, as an older
/// Kafka broker does.
final class FakeBroker: Sendable {
    typealias Handler = @Sendable (FakeBroker, DecodedRequest) -> (any KafkaMessage)?

    /// The highest ApiVersions version an old broker serves, and how it refuses a higher one: as
    /// Kafka does (`RequestContext.apiVersion`), in the v0 layout with header v0 and
    /// UNSUPPORTED_VERSION, listing its own ApiVersions range from Kafka 2.4 on (KIP-511) and
    /// nothing before (`listsRange` false).
    struct OldApiVersions: Sendable {
        var max: Int16
        var listsRange: Bool

        var refusal: ApiVersionsResponse {
            ApiVersionsResponse(errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
                                apiKeys: listsRange ? [.init(apiKey: ApiKey.apiVersions.rawValue, minVersion: 0, maxVersion: max)] : [])
        }
    }

    let port: Int32
    private let listener: Int32
    private let handler: Handler
    private let oldApiVersions: OldApiVersions?
    /// Connections accepted so far.
    let accepted = Atomic(0)
    /// Every request received, in order.
    let received = Mutex<[DecodedRequest]>([])
    private let sockets = Mutex<[Int32]>([])

    init(oldApiVersions: OldApiVersions? = nil, _ handler: @escaping Handler) throws {
        self.handler = handler
        self.oldApiVersions = oldApiVersions
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        guard bound, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        self.listener = listener
        port = Int32(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    var address: String { "127.0.0.1:\(port)" }

    func requests(_ api: ApiKey) -> [DecodedRequest] { received.withLock { $0.filter { $0.apiKey == api } } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in sockets.withLock({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Breaks every connection open now (the client sees them drop); new ones are still accepted.
    func dropConnections() {
        for fd in sockets.withLock({ sockets in defer { sockets = [] }; return sockets }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    deinit { close(listener) }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            accepted.add(1, ordering: .relaxed)
            sockets.withLock { $0.append(fd) }
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        while let sizeBytes = read(fd, 4) {
            let size = Int(sizeBytes.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) })
            guard let frame = read(fd, size), case let .success(request) = DecodedRequest.decode(frame) else { return }
            received.withLock { $0.append(request) }
            guard let (answer, version) = answer(request) else { continue }
            // The client sends non-flexible versions (and ApiVersions answers with header v0).
            let bytes = Frames.response(answer, version: version, correlationId: request.header.correlationId, headerVersion: 0)
            guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return }
        }
    }

    /// The answer to `request` and the version its body is encoded at.
    private func answer(_ request: DecodedRequest) -> (any KafkaMessage, Int16)? {
        if request.apiKey == .apiVersions, let old = oldApiVersions, request.version > old.max { return (old.refusal, 0) }
        return handler(self, request).map { ($0, request.version) }
    }

    private func read(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + done, count - done, 0) }
            guard got > 0 else { return nil }
            done += got
        }
        return bytes
    }

    // MARK: - Answers

    /// ApiVersions listing every API Kafka 3.9 defines, all its versions, but those in `missing`.
    static func apiVersions(missing: Set<ApiKey> = []) -> ApiVersionsResponse {
        ApiVersionsResponse(errorCode: 0, apiKeys: ApiKey.allCases.filter { !missing.contains($0) }.map {
            .init(apiKey: $0.rawValue, minVersion: $0.kafkaVersions.lowerBound, maxVersion: $0.kafkaVersions.upperBound)
        })
    }

    /// ApiVersions listing `served` only.
    static func apiVersions(_ served: [ApiKey: ClosedRange<Int16>]) -> ApiVersionsResponse {
        ApiVersionsResponse(errorCode: 0, apiKeys: served.keys.sorted { $0.rawValue < $1.rawValue }.compactMap { api in
            served[api].map { .init(apiKey: api.rawValue, minVersion: $0.lowerBound, maxVersion: $0.upperBound) }
        })
    }

    /// A broker leading the one partition of topic `jobs`, for producers: ApiVersions (`apiVersions`,
    /// by default every API Kafka 3.9 defines; an old broker refuses versions above
    /// `oldApiVersions`), Metadata and InitProducerId (`initProducerId`, by default producer id 1)
    /// answered, each Produce by `produce` (nil: never answered).
    static func producing(apiVersions: ApiVersionsResponse = FakeBroker.apiVersions(), oldApiVersions: OldApiVersions? = nil,
                          initProducerId: @escaping @Sendable () -> InitProducerIdResponse = { InitProducerIdResponse(errorCode: 0, producerId: 1, producerEpoch: 0) },
                          produce: @escaping @Sendable (ProduceRequest) -> ProduceResponse?) throws -> FakeBroker {
        try FakeBroker(oldApiVersions: oldApiVersions) { broker, request in
            switch request.body {
            case .apiVersions?: return apiVersions
            case .metadata?: return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [("jobs", [1])])
            case .initProducerId?: return initProducerId()
            case let .produce(request)?: return produce(request)
            default: return nil
            }
        }
    }

    /// A Produce answer for jobs[0].
    static func produced(_ code: KafkaErrorCode = .none, baseOffset: Int64) -> ProduceResponse {
        ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [.init(index: 0, errorCode: code.rawValue, baseOffset: baseOffset)])])
    }

    /// Metadata of brokers (node id, port on 127.0.0.1) and topics (name, leader of each partition).
    static func metadata(brokers: [(Int32, Int32)], topics: [(String, [Int32])]) -> MetadataResponse {
        MetadataResponse(brokers: brokers.map { .init(nodeId: $0.0, host: "127.0.0.1", port: $0.1) }, clusterId: "fake", controllerId: brokers[0].0,
                         topics: topics.map { name, leaders in
                             .init(errorCode: 0, name: name, partitions: leaders.enumerated().map { .init(errorCode: 0, partitionIndex: Int32($0.offset), leaderId: $0.element) })
                         })
    }
}

/// Fake brokers with node ids 1, 2, … that know each other (Metadata lists them all). The handler
/// is told which node answers.
final class FakeCluster: Sendable {
    /// What a handler knows of the cluster: the answering node and every node's port.
    struct Node: Sendable {
        let id: Int32
        let ports: [Int32: Int32]

        func metadata(topics: [(String, [Int32])]) -> MetadataResponse {
            FakeBroker.metadata(brokers: ports.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, topics: topics)
        }
    }

    private final class Ports: Sendable {
        let byNode = Mutex<[Int32: Int32]>([:])
    }

    /// brokers[0] is node 1.
    let brokers: [FakeBroker]

    init(brokers count: Int, _ handler: @escaping @Sendable (Node, DecodedRequest) -> (any KafkaMessage)?) throws {
        let ports = Ports()
        var made: [FakeBroker] = []
        for index in 0..<count {
            let id = Int32(index + 1)
            made.append(try FakeBroker { _, request in handler(Node(id: id, ports: ports.byNode.withLock { $0 }), request) })
        }
        ports.byNode.withLock { byNode in
            for (index, broker) in made.enumerated() { byNode[Int32(index + 1)] = broker.port }
        }
        brokers = made
    }

    func stop() {
        for broker in brokers { broker.stop() }
    }
}
