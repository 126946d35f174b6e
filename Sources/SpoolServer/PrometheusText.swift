import SpoolBroker
import SpoolLog

/// The Prometheus text exposition (format 0.0.4) of a broker and its server, served at `/metrics`.
enum PrometheusText {
    /// What the Kafka listener holds, read once per scrape.
    struct ServerFigures: Sendable {
        var connections = 0
        var bufferedRequestBytes = 0
        var bufferedResponseBytes = 0
        var pausedConnections = 0
        var connectionBufferedBytesPeak = 0
        var requestPhases: [(api: RequestPhases.Api, phase: RequestPhases.Phase, series: RequestPhases.Series)] = []

        init() {}

        init(_ server: Server) {
            connections = server.connections
            bufferedRequestBytes = server.bufferedRequestBytes
            bufferedResponseBytes = server.bufferedResponseBytes
            pausedConnections = server.pausedConnections
            connectionBufferedBytesPeak = server.connectionBufferedBytesPeak
            requestPhases = server.router.phases.snapshot()
        }
    }

    /// The Prometheus exposition of the broker's state and its listener's.
    static func render(broker: Broker, server: ServerFigures) -> String {
        var exposition = Exposition()
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            exposition.metric(name, type, help, samples)
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
        func label(_ partition: PartitionMetrics) -> String { "topic=\"\(escaped(partition.topic))\",partition=\"\(partition.partition)\"" }
        metric("spool_partition_log_end_offset", "gauge", "Offset the next record appended to the partition gets.",
               partitions.map { (label($0), "\($0.logEndOffset)") })
        metric("spool_partition_high_watermark", "gauge", "Offset up to which consumers may read.", partitions.map { (label($0), "\($0.highWatermark)") })
        metric("spool_partition_log_start_offset", "gauge", "First offset still in the partition.", partitions.map { (label($0), "\($0.logStartOffset)") })
        metric("spool_partition_size_bytes", "gauge", "Bytes of the partition's segments.", partitions.map { (label($0), "\($0.sizeBytes)") })

        let flushes = broker.flushStatistics
        exposition.histogram("spool_fsync_seconds", "fdatasync latency of partition logs (group commits).", [
            Exposition.Histogram(labels: "", bounds: FlushStatistics.bucketBounds, cumulativeCounts: flushes.buckets,
                                 count: flushes.count, sum: flushes.totalSeconds),
        ])

        if !server.requestPhases.isEmpty {
            exposition.histogram("spool_request_phase_seconds",
                                 "Where requests' time goes in the broker, by API (Produce, Fetch, other) and phase: queue (read to its task starting), local (the task's own work), wait (a produce's flush, a fetch in the broker), response_queue (answered to its loop taking it up), send (to its last byte written).",
                                 server.requestPhases.map { entry in
                                     Exposition.Histogram(labels: "api=\"\(entry.api.label)\",phase=\"\(entry.phase.label)\"", bounds: RequestPhases.bounds,
                                                          cumulativeCounts: entry.series.cumulative, count: entry.series.count,
                                                          sum: Double(entry.series.sumNanoseconds) / 1e9)
                                 })
        }

        var lags: [(String, String)] = []
        for group in broker.listGroups() {
            for lag in broker.lag(group: group.groupId) {
                guard let value = lag.lag else { continue }
                lags.append(("group=\"\(escaped(group.groupId))\",topic=\"\(escaped(lag.topicPartition.topic))\",partition=\"\(lag.topicPartition.partition)\"", "\(value)"))
            }
        }
        metric("spool_group_lag", "gauge", "High watermark minus the group's committed offset.", lags)
        return exposition.text
    }

    /// The broker's series, then the job series (`jobs` nil: the broker's job counts alone).
    static func render(broker: Broker, server: ServerFigures, jobs: (any ConsoleJobs)?) async -> String {
        let topics = jobTopics(broker)
        let workers = if let jobs { await workers(of: topics, jobs: jobs) } else { [ConsoleWorker]() }
        return render(broker: broker, server: server) + renderJobs(broker: broker, topics: topics, workers: workers)
    }

    /// A label value as the text format wants it: backslash, double quote and line feed escaped.
    /// Group ids are any string a client sends, so one holding `"` or a newline would otherwise
    /// break the exposition (or forge samples of its own).
    static func escaped(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
