import SpoolBroker
import SpoolEmbedded
import SpoolJobs
import SpoolServer

/// A fresh broker in `directory` and a job queue on it: in-process ("embedded"), over the Kafka
/// protocol through a server in this process on a loopback port ("wire"), or through `spool serve`
/// in a process of its own ("process"). `close()` stops both.
final class BenchQueue {
    let queue: JobQueue
    private let broker: Broker?
    private let server: Server?
    private let serveProcess: ServeProcess?

    init(transport: String, directory: String, partitions: Int, initialRebalanceDelayMs: Int) throws {
        if transport == "process" {
            // The server's own initial rebalance delay (3 s) applies; jobs/s counts from the first assignment anyway.
            let serve = try ServeProcess(directory: directory, partitions: partitions)
            (serveProcess, broker, server) = (serve, nil, nil)
            queue = try JobQueue.connect(to: serve.address, partitions: partitions)
            return
        }
        serveProcess = nil
        var config = BrokerConfig(dataDirectory: directory)
        config.groupLimits.initialRebalanceDelayMs = initialRebalanceDelayMs
        let broker = try Broker.open(config)
        self.broker = broker
        if transport == "wire" {
            var serverConfig = ServerConfig()
            serverConfig.port = 0
            let server = try Server(config: serverConfig, broker: broker)
            self.server = server
            queue = try JobQueue.connect(to: "127.0.0.1:\(server.port)", partitions: partitions)
        } else {
            server = nil
            queue = .embedded(EmbeddedBroker(broker: broker), partitions: partitions)
        }
    }

    /// CPU time spent on the broker outside this process (0 when it runs in this one).
    var serverCPUNanoseconds: UInt64 { serveProcess?.cpuNanoseconds ?? 0 }

    /// `serverCPUNanoseconds` as a function any task may call (a hook, say).
    var serverCPU: @Sendable () -> UInt64 {
        guard let pid = serveProcess?.pid else { return { 0 } }
        return { ServeProcess.cpuNanoseconds(of: pid) }
    }

    func close() async {
        await queue.transport.close()
        server?.stop()
        try? broker?.close()
        serveProcess?.stop()
    }
}
