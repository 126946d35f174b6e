import Foundation
import Glibc
import SpoolBroker
import SpoolServer
import SpoolSystem
import SpoolTestSupport

/// A broker and its server in this process on a free loopback port, its network calls recorded.
final class InProcessServer: Sendable {
    let data: String
    let broker: Broker
    let server: Server
    let network = RecordingNetworkSystem()

    init(_ name: String = #function, configure: (inout ServerConfig) -> Void = { _ in }) throws {
        data = NSTemporaryDirectory() + "spool-server-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
        var config = BrokerConfig(dataDirectory: data)
        config.groupLimits.initialRebalanceDelayMs = 300
        broker = try Broker.open(config)
        var serverConfig = ServerConfig()
        serverConfig.port = 0
        configure(&serverConfig)
        server = try Server(config: serverConfig, broker: broker, network: network)
    }

    var port: Int { Int(server.port) }

    /// A client connected to the server, after it created `topic` through it (its answer read).
    func client(creating topic: String) async throws -> RawClient {
        let client = try RawClient(port: port)
        client.send(frame: RequestFrames.createTopics(topic))
        guard await blocking({ client.receive() }) != nil else { throw ProcessFailure("creating topic \(topic): no answer") }
        return client
    }

    /// True when a new connection's Metadata request is answered.
    func answersANewClient() async throws -> Bool {
        let client = try RawClient(port: port)
        client.send(frame: RequestFrames.metadata(nil, correlation: 99))
        return await blocking { client.receive() }?.correlationId == 99
    }

    /// Stops the server, closes the broker and removes the data.
    func stop() {
        server.stop()
        try? broker.close()
        try? FileManager.default.removeItem(atPath: data)
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; true as soon as it holds.
func eventually(within seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// The bytes of `frames`, each with its size prefix, as one pipelined write.
func pipelined(_ frames: [[UInt8]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for frame in frames { bytes += withUnsafeBytes(of: UInt32(frame.count).bigEndian) { Array($0) } + frame }
    return bytes
}

/// Files opened in `directory` as a broker opens checkpoints: each takes the lowest free
/// descriptor number, so they take the numbers a stopped server freed. Stops early after the one
/// that got `until`. The caller closes them.
func openFiles(in directory: String, count: Int, until: Int32? = nil) throws -> [Int32] {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var files: [Int32] = []
    for index in 0..<count {
        let fd = open(directory + "/file-\(index)", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ProcessFailure("open \(directory)/file-\(index): errno \(errno)") }
        files.append(fd)
        if fd == until { break }
    }
    return files
}

/// The descriptors among `files` that something wrote into.
func writtenFiles(_ files: [Int32]) -> [Int32] {
    files.filter { fd in
        var info = stat()
        return fstat(fd, &info) != 0 || info.st_size != 0
    }
}
