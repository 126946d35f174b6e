import CSpool
import Foundation
import Glibc
import SpoolBroker
import SpoolLog
import Synchronization

/// `/metrics` (Prometheus text format) and `/healthz` over plain HTTP/1.1, on a thread of its own:
/// scrapes are rare and small, so one blocking connection at a time is enough, and a slow scraper
/// never touches the Kafka event loops.
public final class MetricsEndpoint: Sendable {
    public let port: UInt16
    private let listenFD: Int32
    private let broker: Broker
    private let server: Server
    private let stopped = Atomic(false)

    /// Request bytes read at most; a longer request head gets 431.
    static let requestBytesMax = 8192

    public init(host: String, port: UInt16, broker: Broker, server: Server) throws {
        let fd = spool_listen_tcp(host, port, 64)
        guard fd >= 0 else { throw ServerError.system("listen on \(host):\(port) (metrics)", errno) }
        // Blocking accept: this thread does nothing else.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        listenFD = fd
        self.port = UInt16(spool_local_port(fd))
        self.broker = broker
        self.server = server
        let thread = Thread { [self] in serve() }
        thread.name = "spool-metrics"
        thread.start()
    }

    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    private func serve() {
        while !stopped.load(ordering: .acquiring) {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            respond(client)
            close(client)
        }
    }

    private func respond(_ client: Int32) {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while request.count < Self.requestBytesMax, !request.containsHeadEnd {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            request += chunk[0..<count]
        }
        guard request.containsHeadEnd else { return send(client, status: "431 Request Header Fields Too Large", body: "request head too large\n") }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        guard line.count >= 2, line[0] == "GET" || line[0] == "HEAD" else {
            return send(client, status: "405 Method Not Allowed", body: "only GET\n")
        }
        switch line[1].split(separator: "?").first.map(String.init) ?? "" {
        case "/metrics": send(client, status: "200 OK", body: metricsText(), type: "text/plain; version=0.0.4; charset=utf-8")
        case "/healthz": send(client, status: "200 OK", body: "ok\n")
        default: send(client, status: "404 Not Found", body: "try /metrics or /healthz\n")
        }
    }

    private func send(_ client: Int32, status: String, body: String, type: String = "text/plain; charset=utf-8") {
        let bytes = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
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
