import SpoolBroker
import SpoolEmbedded
import SpoolJobs
import SpoolServer

/// A fresh broker in `directory` and a job queue on it: in-process ("embedded"), or over the Kafka
/// protocol through a server on a loopback port ("wire"). `close()` stops both.
final class BenchQueue {
    let broker: Broker
    let spool: EmbeddedBroker
    let queue: JobQueue
    private let server: Server?

    init(transport: String, directory: String, partitions: Int, initialRebalanceDelayMs: Int) throws {
        var config = BrokerConfig(dataDirectory: directory)
        config.groupLimits.initialRebalanceDelayMs = initialRebalanceDelayMs
        broker = try Broker.open(config)
        spool = EmbeddedBroker(broker: broker)
        if transport == "wire" {
            var serverConfig = ServerConfig()
            serverConfig.port = 0
            let server = try Server(config: serverConfig, broker: broker)
            self.server = server
            queue = try JobQueue.connect(to: "127.0.0.1:\(server.port)", partitions: partitions)
        } else {
            server = nil
            queue = .embedded(spool, partitions: partitions)
        }
    }

    func close() async {
        await queue.transport.close()
        server?.stop()
        try? broker.close()
    }
}
