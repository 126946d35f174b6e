import Foundation
import SpoolBroker
import SpoolClient
import SpoolServer

/// A broker and its Kafka-protocol server in this process, on a free loopback port.
final class ClientTestServer: Sendable {
    let data: String
    let broker: Broker
    let server: Server

    init(_ name: String = #function) throws {
        data = NSTemporaryDirectory() + "spool-client-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
        var config = BrokerConfig(dataDirectory: data)
        config.groupLimits.initialRebalanceDelayMs = 200
        broker = try Broker.open(config)
        var serverConfig = ServerConfig()
        serverConfig.port = 0
        server = try Server(config: serverConfig, broker: broker)
    }

    var bootstrap: String { "127.0.0.1:\(server.port)" }

    func client(metadataMaxAgeMs: Int = 300_000) throws -> SpoolClient {
        try SpoolClient(bootstrap: bootstrap, clientId: "test", metadataMaxAgeMs: metadataMaxAgeMs)
    }

    func stop() {
        server.stop()
        try? broker.close()
        try? FileManager.default.removeItem(atPath: data)
    }
}
