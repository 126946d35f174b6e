import SpoolBroker

/// The job series of `/metrics` (docs/http-api.md, "Job metrics"): counts the broker keeps (jobs
/// stored in a job topic, jobs it holds for later) and what each live worker reported last.
extension PrometheusText {
    /// The job topics: topics a worker has run, known by their running-reports topic (`TOPIC.running`).
    static func jobTopics(_ broker: Broker) -> [String] {
        let names = Set(broker.listTopics().map(\.name))
        return names.filter { names.contains($0 + ".running") }.sorted()
    }

    /// Every live worker of every job topic, read from the reports (a topic whose reports cannot be
    /// read now is left out of this scrape).
    static func workers(of topics: [String], jobs: any ConsoleJobs) async -> [ConsoleWorker] {
        await withTaskGroup(of: [ConsoleWorker].self) { group in
            for topic in topics { group.addTask { (try? await jobs.workers(of: topic)) ?? [] } }
            var all: [ConsoleWorker] = []
            for await workers in group { all += workers }
            return all.sorted { ($0.topic, $0.group, $0.worker) < ($1.topic, $1.group, $1.worker) }
        }
    }

    /// The job series for `topics`, from the broker and the workers' reports.
    static func renderJobs(broker: Broker, topics: [String], workers: [ConsoleWorker]) -> String {
        var exposition = Exposition()
        let wanted = Set(topics)
        var stored: [String: Int64] = [:]
        for partition in broker.partitionMetrics() where wanted.contains(partition.topic) { stored[partition.topic, default: 0] += partition.highWatermark }
        func topicLabel(_ topic: String) -> String { "topic=\"\(escaped(topic))\"" }
        func workerLabels(_ worker: ConsoleWorker) -> String {
            "topic=\"\(escaped(worker.topic))\",group=\"\(escaped(worker.group))\",worker=\"\(escaped(worker.worker))\""
        }
        func perWorker(_ name: String, _ type: String, _ help: String, _ value: (ConsoleWorker) -> Int) {
            exposition.metric(name, type, help, workers.map { (workerLabels($0), "\(value($0))") })
        }

        exposition.metric("spool_job_enqueued_total", "counter",
                          "Job records stored in the job topic: jobs enqueued, scheduled jobs when due, retries enqueued again (.none ordering), redriven dead letters.",
                          topics.map { (topicLabel($0), "\(stored[$0] ?? 0)") })
        perWorker("spool_job_started_total", "counter", "Handler runs begun (every attempt), per worker.") { $0.started }
        perWorker("spool_job_succeeded_total", "counter", "Handler runs that returned normally, per worker.") { $0.succeeded }
        perWorker("spool_job_failed_total", "counter", "Handler runs that threw (failed attempts; timed out included), per worker.") { $0.failed }
        perWorker("spool_job_retried_total", "counter", "Failed runs given another attempt, per worker.") { $0.retried }
        perWorker("spool_job_dead_lettered_total", "counter", "Jobs sent to the dead-letter topic, per worker.") { $0.deadLettered }
        perWorker("spool_job_cancelled_total", "counter", "Jobs ended by a cancellation (skipped, or their run cancelled), per worker.") { $0.cancelled }
        exposition.histogram("spool_job_handler_duration_seconds", "How long handler runs took, whatever their outcome, per worker.", workers.map {
            Exposition.Histogram(labels: workerLabels($0), bounds: $0.handlerSeconds.bounds, counts: $0.handlerSeconds.counts, sum: $0.handlerSeconds.sum)
        })
        exposition.histogram("spool_job_enqueue_to_start_seconds",
                             "From when a job was due (enqueued, or its spool-deliver-at) to its first run's start, per worker.", workers.map {
            Exposition.Histogram(labels: workerLabels($0), bounds: $0.enqueueToStartSeconds.bounds, counts: $0.enqueueToStartSeconds.counts,
                                 sum: $0.enqueueToStartSeconds.sum)
        })
        perWorker("spool_job_running", "gauge", "Jobs running, per worker.") { $0.running }

        let held = broker.heldRecordsByTopic
        exposition.metric("spool_job_scheduled", "gauge",
                          "Jobs waiting for their time: held by the broker (topic only), or by a worker when the broker does not hold them.",
                          topics.map { (topicLabel($0), "\(held[$0]?.scheduled ?? 0)") } + workers.map { (workerLabels($0), "\($0.scheduled)") })
        exposition.metric("spool_job_retrying", "gauge",
                          "Jobs waiting for another attempt: held by the broker (topic only, .none ordering), or by a worker retrying in place.",
                          topics.map { (topicLabel($0), "\(held[$0]?.retrying ?? 0)") } + workers.map { (workerLabels($0), "\($0.retrying)") })
        var live: [String: (topic: String, group: String, count: Int)] = [:]
        for worker in workers { live[worker.topic + "\u{0}" + worker.group, default: (worker.topic, worker.group, 0)].count += 1 }
        exposition.metric("spool_job_workers", "gauge", "Workers that reported in the last 3 seconds, per topic and group.",
                          live.values.sorted { ($0.topic, $0.group) < ($1.topic, $1.group) }.map {
                              ("topic=\"\(escaped($0.topic))\",group=\"\(escaped($0.group))\"", "\($0.count)")
                          })
        return exposition.text
    }
}
