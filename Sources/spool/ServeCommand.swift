import Dispatch
import Foundation
import Glibc
import SpoolBroker
import SpoolEmbedded
import SpoolLog
import SpoolServer
import SpoolSystem

/// `spool serve`: the Kafka-protocol broker.
enum ServeCommand {
    static let help = """
        usage: spool serve [--data DIR] [--listen HOST:PORT] [--fsync POLICY] [--partitions N]
                           [--auto-create-topics true|false] [--advertise HOST:PORT]
                           [--max-partitions N] [--max-connections N] [--max-frame-bytes N] [--max-inflight-bytes N]
                           [--max-buffered-bytes N] [--idle-timeout-ms N] [--http HOST:PORT|off]
                           [--http-token TOKEN] [--http-insecure]

        Serves the data directory to Kafka clients (kcat, librdkafka, kafka-python, aiokafka, Java)
        until SIGINT or SIGTERM, then flushes and closes every partition. A directory another Spool
        process has open is refused (exit 1) without being touched. The open-file limit is raised to
        its hard limit at start; partitions, connections and the console share it.

        options:
          --data DIR                 data directory (default: ./spool-data)
          --listen HOST:PORT         IPv4 address to listen on (default: 127.0.0.1:9092; port 0 picks one)
          --fsync POLICY             always | interval=<ms> | never (default: always)
          --partitions N             partitions of auto-created topics (default: 1)
          --auto-create-topics BOOL  create topics on first produce or metadata request (default: true)
          --advertise HOST:PORT      where clients are told to connect (default: the listen address)
          --max-partitions N         partitions of all topics together; creating more is refused with
                                     INVALID_PARTITIONS (default: a sixth of the open-file limit, since each
                                     partition keeps 3 files open)
          --max-connections N        open connections allowed; more are closed at once (default: 10000, or a
                                     quarter of the open-file limit when that is less)
          --max-frame-bytes N        largest request; a larger one closes its connection (default: 104857600)
          --max-inflight-bytes N     bytes one connection may hold (requests not yet answered, responses not
                                     yet sent) before Spool stops reading from it (default: 104857600)
          --max-buffered-bytes N     request bytes all connections together may hold before Spool stops
                                     reading from them (default: 1073741824)
          --idle-timeout-ms N        close connections silent this long (default: 600000)
          --http HOST:PORT|off       serve the web console (/), its JSON API (/api/v1/), /metrics (Prometheus)
                                     and /healthz here (default: 127.0.0.1:9644)
          --http-token TOKEN         require this token on every HTTP request but /healthz, as
                                     "Authorization: Bearer TOKEN" or as the basic-auth password
                                     (default: $SPOOL_HTTP_TOKEN; none on loopback)
          --http-insecure            serve HTTP on a non-loopback address without a token (refused otherwise)
        """

    static func run(_ words: ArraySlice<String>) -> Int32 {
        var config = BrokerConfig(dataDirectory: "spool-data")
        var server = ServerConfig()
        var http: (String, UInt16)? = ("127.0.0.1", 9644)
        var httpConfig = HTTPConfig()
        do {
            let arguments = try Arguments(words, valued: ["data", "listen", "fsync", "partitions", "auto-create-topics", "advertise",
                                                      "max-partitions", "max-connections", "max-frame-bytes", "max-inflight-bytes", "max-buffered-bytes",
                                                      "idle-timeout-ms", "http", "http-token"],
                                          flags: ["http-insecure"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            let openFiles = OpenFileLimit.raiseToHard()
            config.partitionsMax = try arguments.integer("max-partitions", default: BrokerConfig.defaultPartitionsMax(openFileLimit: openFiles),
                                                         range: 1...10_000_000)
            // Defaults that fit any limit: half for partitions, a quarter for connections, a
            // sixteenth for the console, an eighth (at most 256) for the rest.
            server.connectionsMax = min(server.connectionsMax, max(1, openFiles / 4))
            httpConfig.connectionsMax = min(httpConfig.connectionsMax, max(1, openFiles / 16))
            guard arguments.positional.isEmpty else { throw Arguments.UsageError(description: "unexpected argument '\(arguments.positional[0])'") }
            config.dataDirectory = arguments.options["data"] ?? config.dataDirectory
            config.log.fsync = try FsyncPolicy(parsing: arguments.options["fsync"] ?? "always")
            config.defaultPartitions = try arguments.integer("partitions", default: 1, range: 1...10_000)
            server.connectionsMax = try arguments.integer("max-connections", default: server.connectionsMax, range: 1...1_000_000)
            try checkOpenFiles(partitions: config.partitionsMax, connections: server.connectionsMax,
                               httpConnections: httpConfig.connectionsMax, limit: openFiles)
            server.frameBytesMax = try arguments.integer("max-frame-bytes", default: server.frameBytesMax, range: 1024...(1 << 30))
            server.inFlightBytesMax = try arguments.integer("max-inflight-bytes", default: server.inFlightBytesMax, range: 1024...(1 << 40))
            server.bufferedBytesMax = try arguments.integer("max-buffered-bytes", default: server.bufferedBytesMax, range: 1024...(1 << 40))
            guard server.bufferedBytesMax >= server.inFlightBytesMax else {
                throw Arguments.UsageError(description: "--max-buffered-bytes (\(server.bufferedBytesMax)) must be at least --max-inflight-bytes (\(server.inFlightBytesMax))")
            }
            server.idleTimeoutMs = try arguments.integer("idle-timeout-ms", default: server.idleTimeoutMs, range: 100...86_400_000)
            switch arguments.options["auto-create-topics"] ?? "true" {
            case "true": config.autoCreateTopics = true
            case "false": config.autoCreateTopics = false
            case let other: throw Arguments.UsageError(description: "--auto-create-topics must be true or false, not '\(other)'")
            }
            (server.host, server.port) = try address(arguments.options["listen"] ?? "127.0.0.1:9092", flag: "--listen")
            if let address = arguments.options["http"] {
                http = address == "off" ? nil : try ServeCommand.address(address, flag: "--http")
            }
            let token = arguments.options["http-token"] ?? ProcessInfo.processInfo.environment["SPOOL_HTTP_TOKEN"]
            if let token, token.isEmpty { throw Arguments.UsageError(description: "--http-token must not be empty") }
            httpConfig.access = HTTPAccess(token: token)
            httpConfig.allowInsecure = arguments.switches.contains("http-insecure")
            if let (host, _) = http, !HTTPAccess.isLoopback(host), token == nil, !httpConfig.allowInsecure {
                throw Arguments.UsageError(description: HTTPServerError.insecure(host: host).description)
            }
            if let advertise = arguments.options["advertise"] {
                let (host, port) = try address(advertise, flag: "--advertise")
                server.advertisedHost = host
                server.advertisedPort = port
            }
        } catch {
            printError("spool serve: \(error)\n\n" + help)
            return ExitCode.usage
        }
        do {
            let broker = try Broker.open(config)
            let running: Server
            do { running = try Server(config: server, broker: broker) } catch {
                try? broker.close()
                throw error
            }
            ServerLog.listening(host: server.host, port: running.port, data: config.dataDirectory, fsync: config.log.fsync,
                                topics: broker.listTopics().count)
            var console: (server: HTTPServer, handler: ConsoleHandler)?
            if let (host, port) = http {
                httpConfig.host = host
                httpConfig.port = port
                let handler = ConsoleHandler(broker: broker, server: running, jobs: ServeConsoleJobs(EmbeddedBroker(broker: broker)))
                do { console = (try HTTPServer(config: httpConfig, handler: handler), handler) } catch {
                    handler.stop()
                    running.stop()
                    try? broker.close()
                    throw error
                }
                ServerLog.info("console on http://\(host):\(console?.server.port ?? port)/ (JSON API /api/v1/, metrics /metrics, health /healthz)")
            }
            waitForSignal()
            ServerLog.stopping()
            console?.server.stop()
            console?.handler.stop()
            running.stop()
            try broker.close()
            ServerLog.stopped()
            return ExitCode.success
        } catch {
            printError("spool serve: \(error)")
            return ExitCode.failure
        }
    }

    /// Descriptors kept for the broker's own files (offsets log, job stores, checkpoints being
    /// written), the listeners, epoll and the standard streams: 256, or an eighth of a small limit.
    static func reservedDescriptors(limit: Int) -> Int { min(256, limit / 8) }

    /// Refuses limits that together need more descriptors than the process may open: running out
    /// fails requests at best, and the runtime's own file opens at worst.
    static func checkOpenFiles(partitions: Int, connections: Int, httpConnections: Int, limit: Int) throws {
        let reserved = reservedDescriptors(limit: limit)
        let needed = partitions * BrokerConfig.descriptorsPerPartition + connections + httpConnections + reserved
        guard needed > limit else { return }
        throw Arguments.UsageError(description: """
            --max-partitions \(partitions) (\(BrokerConfig.descriptorsPerPartition) files each) and --max-connections \(connections), \
            with \(httpConnections) console connections and \(reserved) for the broker, need \(needed) open files; \
            the open-file limit is \(limit) (ulimit -n): lower them, or raise the limit
            """)
    }

    static func address(_ text: String, flag: String) throws -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw Arguments.UsageError(description: "\(flag) must be HOST:PORT, not '\(text)'")
        }
        let host = String(text[..<colon])
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else {
            throw Arguments.UsageError(description: "\(flag) needs an IPv4 address such as 127.0.0.1, not '\(host)'")
        }
        return (host, port)
    }

    /// Blocks until SIGINT or SIGTERM.
    private static func waitForSignal() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let done = DispatchSemaphore(value: 0)
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            return source
        }
        done.wait()
        for source in sources { source.cancel() }
    }
}
