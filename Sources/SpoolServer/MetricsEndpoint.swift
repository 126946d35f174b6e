import Foundation
import SpoolBroker
import SpoolLog
import SpoolSystem
import Synchronization

/// `/metrics` (Prometheus text format) and `/healthz` over plain HTTP/1.1, on a thread of its own:
/// scrapes are rare and small, so one connection at a time is enough, and a slow scraper never
/// touches the Kafka event loops.
///
/// The thread owns every descriptor here (the listener, its two epoll instances, each client
/// socket) and closes them itself as it ends; `stop` only signals it, through an eventfd kept
/// behind a Mutex with the same rule as an event loop's.
public final class MetricsEndpoint: @unchecked Sendable {
    // Safe to share: `port`, `broker`, `server` and `network` never change; `wake` is a Mutex and
    // `stopped` an Atomic; `listener`, `poller` and `clientPoller` are touched by the serving
    // thread alone once `init` has handed them over (the thread starts at the end of `init`).
    public let port: UInt16
    private let broker: Broker
    private let server: Server
    private let network: any NetworkSystem
    private var listener: FileDescriptor?
    private var poller: Poller?
    /// Waits on one client at a time, for its request and for room to answer it.
    private var clientPoller: Poller?
    private let wake: Mutex<WakeSignal?>
    private let stopped = Atomic(false)
    private let ended = DispatchSemaphore(value: 0)

    /// Request bytes read at most; a longer request head gets 431.
    static let requestBytesMax = 8192
    /// How long one client may take to send its request and to take the answer.
    static let clientTimeoutMs = 5_000

    public init(host: String, port: UInt16, broker: Broker, server: Server, network: any NetworkSystem = LiveNetworkSystem()) throws {
        let listener: FileDescriptor
        do { listener = try network.listenSocket(host: host, port: port, backlog: 64) } catch let error as SystemError {
            throw ServerError.system("listen on \(host):\(port) (metrics)", error.errno)
        }
        self.port = try network.localPort(listener.rawValue)
        let poller = try Poller(system: network)
        let wake = try WakeSignal(system: network)
        try poller.watch(listener.rawValue, for: .readable)
        try poller.watch(wake.rawValue, for: .readable)
        self.listener = consume listener
        self.poller = consume poller
        // The client poller watches the wake-up too, so `stop` ends a wait on a silent client.
        let clientPoller = try Poller(system: network)
        try clientPoller.watch(wake.rawValue, for: .readable)
        self.clientPoller = consume clientPoller
        self.wake = Mutex(consume wake)
        self.broker = broker
        self.server = server
        self.network = network
        let thread = Thread { [self] in serve() }
        thread.name = "spool-metrics"
        thread.start()
    }

    /// Stops serving and waits (at most one client's timeout) for the thread to close everything.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.withLock { wake in
            switch wake {
            case let signal?: try? signal.signal()
            case nil: break
            }
        }
        ended.wait()
    }

    private func serve() {
        var ready = ReadyDescriptors(capacity: 2)
        while !stopped.load(ordering: .acquiring) {
            do { try poller?.wait(into: &ready, timeoutMs: 1000) } catch { preconditionFailure("epoll_wait: \(error)") }
            while !stopped.load(ordering: .acquiring), let client = acceptOne() {
                respond(client)
                client.close()
            }
        }
        wake.withLock { $0.take()?.close() }
        clientPoller.take()?.close()
        poller.take()?.close()
        listener.take()?.close()
        ended.signal()
    }

    private func acceptOne() -> FileDescriptor? {
        switch listener {
        case let open?:
            do { return try network.acceptConnection(on: open) } catch {
                ServerLog.info("metrics: accepting a connection: \(error)")
                return nil
            }
        case nil: return nil
        }
    }

    /// Waits until `client` is ready for `events`; false when the deadline passes or `stop` comes.
    private func wait(for client: borrowing FileDescriptor, _ events: IOEvents, deadline: Date) -> Bool {
        var ready = ReadyDescriptors(capacity: 2)
        let timeoutMs = Int32(max(0, min(Double(Self.clientTimeoutMs), deadline.timeIntervalSinceNow * 1000)))
        guard timeoutMs > 0 else { return false }
        do {
            try clientPoller?.watch(client.rawValue, for: events)
            defer { try? clientPoller?.unwatch(client.rawValue) }
            try clientPoller?.wait(into: &ready, timeoutMs: timeoutMs)
        } catch {
            return false
        }
        return !stopped.load(ordering: .acquiring) && (0..<ready.count).contains { ready[$0].fd == client.rawValue }
    }

    private func respond(_ client: borrowing FileDescriptor) {
        let deadline = Date().addingTimeInterval(Double(Self.clientTimeoutMs) / 1000)
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while request.count < Self.requestBytesMax, !request.containsHeadEnd {
            let count: Int?
            do { count = try chunk.withUnsafeMutableBytes { try client.read(into: $0) } } catch { return }
            guard let count else {
                guard wait(for: client, .readable, deadline: deadline) else { return }
                continue
            }
            guard count > 0 else { return }
            request += chunk[0..<count]
        }
        guard request.containsHeadEnd else {
            return send(client, status: "431 Request Header Fields Too Large", body: "request head too large\n", deadline: deadline)
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        guard line.count >= 2, line[0] == "GET" || line[0] == "HEAD" else {
            return send(client, status: "405 Method Not Allowed", body: "only GET\n", deadline: deadline)
        }
        switch line[1].split(separator: "?").first.map(String.init) ?? "" {
        case "/metrics": send(client, status: "200 OK", body: metricsText(), type: "text/plain; version=0.0.4; charset=utf-8", deadline: deadline)
        case "/healthz": send(client, status: "200 OK", body: "ok\n", deadline: deadline)
        default: send(client, status: "404 Not Found", body: "try /metrics or /healthz\n", deadline: deadline)
        }
    }

    private func send(_ client: borrowing FileDescriptor, status: String, body: String, type: String = "text/plain; charset=utf-8",
                      deadline: Date) {
        let bytes = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        var sent = 0
        while sent < bytes.count {
            let count: Int?
            do { count = try bytes.withUnsafeBytes { try client.write(UnsafeRawBufferPointer(rebasing: $0[sent...])) } } catch { return }
            guard let count else {
                guard wait(for: client, .writable, deadline: deadline) else { return }
                continue
            }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// The Prometheus exposition of the broker's state.
    func metricsText() -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels.isEmpty ? "" : "{\(sample.labels)}") \(sample.value)\n" }
        }
        let counters = broker.metrics
        metric("spool_records_in_total", "counter", "Records stored by produce requests.", [("", "\(counters.recordsIn.load(ordering: .relaxed))")])
        metric("spool_bytes_in_total", "counter", "Record batch bytes stored by produce requests.", [("", "\(counters.bytesIn.load(ordering: .relaxed))")])
        metric("spool_records_out_total", "counter", "Records returned by fetch requests.", [("", "\(counters.recordsOut.load(ordering: .relaxed))")])
        metric("spool_bytes_out_total", "counter", "Record batch bytes returned by fetch requests.", [("", "\(counters.bytesOut.load(ordering: .relaxed))")])
        metric("spool_produce_errors_total", "counter", "Partitions of produce requests answered with an error.",
               [("", "\(counters.produceErrors.load(ordering: .relaxed))")])
        metric("spool_connections", "gauge", "Open Kafka-protocol client connections.", [("", "\(server.connections)")])
        metric("spool_buffered_request_bytes", "gauge", "Request bytes connections have reserved and not yet answered (--max-buffered-bytes bounds them).",
               [("", "\(server.bufferedRequestBytes)")])
        metric("spool_buffered_response_bytes", "gauge", "Response bytes connections hold: answered, not yet written to their sockets.",
               [("", "\(server.bufferedResponseBytes)")])
        metric("spool_connections_paused", "gauge", "Connections not read from because they hold their limit of bytes or the broker's is used up.",
               [("", "\(server.pausedConnections)")])
        metric("spool_connection_buffered_bytes_peak", "gauge", "The most bytes one connection has held at once since the start.",
               [("", "\(server.connectionBufferedBytesPeak)")])
        metric("spool_fetches_parked", "gauge", "Fetch requests parked, waiting for data or their deadline.",
               [("", "\(counters.fetchesParked.load(ordering: .relaxed))")])

        let partitions = broker.partitionMetrics()
        func label(_ partition: PartitionMetrics) -> String { "topic=\"\(partition.topic)\",partition=\"\(partition.partition)\"" }
        metric("spool_partition_log_end_offset", "gauge", "Offset the next record appended to the partition gets.",
               partitions.map { (label($0), "\($0.logEndOffset)") })
        metric("spool_partition_high_watermark", "gauge", "Offset up to which consumers may read.", partitions.map { (label($0), "\($0.highWatermark)") })
        metric("spool_partition_log_start_offset", "gauge", "First offset still in the partition.", partitions.map { (label($0), "\($0.logStartOffset)") })
        metric("spool_partition_size_bytes", "gauge", "Bytes of the partition's segments.", partitions.map { (label($0), "\($0.sizeBytes)") })

        let flushes = partitions.reduce(broker.offsetsFlushStatistics) { $0 + $1.flushes }
        text += "# HELP spool_fsync_seconds fdatasync latency of partition logs (group commits).\n# TYPE spool_fsync_seconds histogram\n"
        for (bound, count) in zip(FlushStatistics.bucketBounds, flushes.buckets) { text += "spool_fsync_seconds_bucket{le=\"\(bound)\"} \(count)\n" }
        text += "spool_fsync_seconds_bucket{le=\"+Inf\"} \(flushes.count)\nspool_fsync_seconds_sum \(flushes.totalSeconds)\nspool_fsync_seconds_count \(flushes.count)\n"

        var lags: [(String, String)] = []
        for group in broker.listGroups() {
            for lag in broker.lag(group: group.groupId) {
                guard let value = lag.lag else { continue }
                lags.append(("group=\"\(group.groupId)\",topic=\"\(lag.topicPartition.topic)\",partition=\"\(lag.topicPartition.partition)\"", "\(value)"))
            }
        }
        metric("spool_group_lag", "gauge", "High watermark minus the group's committed offset.", lags)
        return text
    }
}

extension Array where Element == UInt8 {
    fileprivate var containsHeadEnd: Bool {
        count >= 4 && (0...(count - 4)).contains { self[$0] == 13 && self[$0 + 1] == 10 && self[$0 + 2] == 13 && self[$0 + 3] == 10 }
    }
}
