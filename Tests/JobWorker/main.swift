// spool-job-worker: a worker process for the consumer-crash harness (Benchmarks/consumer-crash.py)
// and the cluster run (Tests/Cluster).
//
//   spool-job-worker enqueue --broker HOST:PORT --count N --keys K
//   spool-job-worker work --broker HOST:PORT --group G --store PATH --runs PATH [--fail-percent P] [--poison ID]
//   spool-job-worker dead-letters --broker HOST:PORT
//
// `work` runs `Step` jobs in .key order. Each run sleeps 1-15 ms (so a SIGKILL lands mid-job),
// appends "id key sequence" to the runs file, then records the job in the shared ProcessedJobs
// store unless it is there already: the side effect and its marker are one write. With
// --fail-percent, that share of the jobs (chosen by id, the same in every process) fails its first
// attempt and succeeds on the retry; the job --poison names fails every attempt and is
// dead-lettered. `dead-letters` prints the ids in the dead-letter topic, one per line.
import Foundation
import Glibc
import SpoolJobs

struct Step: Job {
    static let topic = "crash-steps"
    var key: String
    var sequence: Int
}

func option(_ name: String) -> String? {
    let words = CommandLine.arguments
    guard let index = words.firstIndex(of: "--" + name), index + 1 < words.count else { return nil }
    return words[index + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("spool-job-worker: \(message)\n".utf8))
    exit(1)
}

guard let broker = option("broker") else { fail("--broker HOST:PORT is required") }
let queue = try JobQueue.connect(to: broker, partitions: 8)

switch CommandLine.arguments.dropFirst().first {
case "enqueue":
    guard let count = option("count").flatMap(Int.init), let keys = option("keys").flatMap(Int.init), count > 0, keys > 0 else {
        fail("enqueue needs --count N --keys K")
    }
    var sequences: [Int: Int] = [:]
    let jobs = (0..<count).map { index -> JobQueue.Enqueue<Step> in
        let key = index % keys
        let sequence = sequences[key, default: 0]
        sequences[key] = sequence + 1
        return JobQueue.Enqueue(Step(key: "key-\(key)", sequence: sequence), key: "key-\(key)", id: "job-\(index)")
    }
    for chunk in stride(from: 0, to: jobs.count, by: 1_000) { try await queue.enqueue(Array(jobs[chunk..<min(chunk + 1_000, jobs.count)])) }
    print("enqueued \(count)")
case "work":
    guard let group = option("group"), let storePath = option("store"), let runsPath = option("runs") else {
        fail("work needs --group G --store PATH --runs PATH")
    }
    let store = try ProcessedJobs(path: storePath)
    let failPercent = option("fail-percent").flatMap(Int.init) ?? 0
    let poison = option("poison")
    let runs = open(runsPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard runs >= 0 else { fail("cannot open \(runsPath)") }
    let worker = Worker<Step>(queue: queue, group: group, ordering: .key, concurrency: 16,
                              retry: .exponential(maxAttempts: 10, base: .milliseconds(10), max: .milliseconds(200))) { job in
        try await Task.sleep(for: .milliseconds(Int.random(in: 1...15)))
        if job.id == poison { throw StepFailure.poison }
        if job.attempt == 1 && stableHash(job.id) % 100 < failPercent { throw StepFailure.firstAttempt }
        let line = Array("\(job.id) \(job.payload.key) \(job.payload.sequence)\n".utf8)
        guard line.withUnsafeBytes({ write(runs, $0.baseAddress, $0.count) }) == line.count else { throw POSIXError(.EIO) }
        if !store.contains(job.id) { try store.markDone(job.id) }
    }
    signal(SIGTERM, SIG_IGN)
    let stop = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
    stop.setEventHandler { worker.stop() }
    stop.resume()
    try await worker.run()
    await queue.transport.close()
case "dead-letters":
    for letter in try await queue.deadLetters(of: Step.topic) { print(letter.id) }
    await queue.transport.close()
default:
    fail("expected enqueue, work or dead-letters")
}

enum StepFailure: Error { case firstAttempt, poison }

/// FNV-1a of the id: the same in every process (Swift's `hashValue` is seeded per process).
@Sendable func stableHash(_ text: String) -> UInt64 {
    text.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}
