import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolJobs
import Synchronization

/// `spool demo`: a web app's signup flow, end to end. Each new user gets a welcome email, two
/// photo resizes and three analytics pings, handed to workers that run them in order per user.
/// The email provider fails now and then (retries with backoff), one photo is corrupt (dead
/// letter), one signup is submitted twice (skipped by its job id), one user closes the account
/// before the email goes out (cancelled), the analytics partner takes two pings a second per user
/// (a per-key rate limit), and a digest of new signups is scheduled every minute (cron).
enum SignupDemo {
    static let help = """
        usage: spool demo [--users N] [--data DIR | --broker HOST:PORT]
               spool demo storage [options]   (the storage engine alone; see spool demo storage --help)

        Runs the signup story: enqueues a welcome email, two photo resizes and three analytics pings
        for each of N users, runs workers for them (emails and photos in order per user, analytics in
        parallel under a per-user rate limit), shows retries of a flaky email provider, a corrupt
        photo ending in the dead-letter topic, a duplicate signup skipped, a welcome email cancelled
        and a cron schedule for a signup digest, then prints a summary and the dead letters.

        options:
          --users N              users signing up (default: 200)
          --data DIR             run on an embedded broker in DIR/signup-demo, emptied first (default: ./spool-data)
          --broker HOST:PORT     run against spool serve (or Kafka) instead: the same code over the network
        """

    struct WelcomeEmail: Job {
        static let topic = "demo-emails"
        var user: String
        var address: String
    }

    struct ResizePhoto: Job {
        static let topic = "demo-photos"
        var user: String
        var photo: String
        var sequence: Int
    }

    struct AnalyticsPing: Job {
        static let topic = "demo-analytics"
        var user: String
        var event: String
    }

    struct SignupDigest: Job {
        static let topic = "demo-digests"
        var recipients: String
    }

    /// The analytics partner's quota: two pings at once per user, then two a second.
    static let pingLimits = JobLimits.perKey(ratePerSecond: 2, burst: 2)

    /// What the workers saw, for the summary.
    final class Observed: Sendable {
        struct State {
            var photoOrder: [String: [Int]] = [:]
            var outOfOrder = 0
            var emailsSent = 0
            var emailRetries = 0
            var events: [String: Int] = [:]
            var pingStarts: [String: [Date]] = [:]
            var digests = 0
        }
        let state = Mutex(State())
        /// Prints the first `limit` events of a kind; counts the rest.
        func note(_ kind: String, limit: Int, _ line: String) {
            let shown = state.withLock { state -> Bool in
                state.events[kind, default: 0] += 1
                return state.events[kind]! <= limit
            }
            if shown { print("  " + line) }
        }
    }

    static func run(_ words: ArraySlice<String>) async -> Int32 {
        if words.first == "storage" { return await DemoCommand.run(words.dropFirst()) }
        let arguments: Arguments
        let users: Int
        do {
            arguments = try Arguments(words, valued: ["users", "data", "broker"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            guard arguments.positional.isEmpty else { throw Arguments.UsageError(description: "unexpected argument '\(arguments.positional[0])'") }
            users = try arguments.integer("users", default: 200, range: 20...100_000)
            if arguments.options["data"] != nil && arguments.options["broker"] != nil {
                throw Arguments.UsageError(description: "--data and --broker cannot be used together")
            }
        } catch {
            printError("spool demo: \(error)\n\n" + help)
            return ExitCode.usage
        }
        do {
            let queue: JobQueue
            var embedded: EmbeddedBroker?
            if let broker = arguments.options["broker"] {
                queue = try JobQueue.connect(to: broker, partitions: 8)
                print("signup demo against \(broker): \(users) users")
            } else {
                let directory = (arguments.options["data"] ?? "spool-data") + "/signup-demo"
                var config = BrokerConfig(dataDirectory: directory)
                config.groupLimits.initialRebalanceDelayMs = 0
                // Opened first, which takes the directory's lock, then emptied through the broker:
                // a demo still running there keeps its directory and this one stops.
                let broker = try Broker.open(config)
                for topic in broker.listTopics() { try await broker.deleteTopic(topic.name) }
                for group in broker.listGroups() { _ = await broker.deleteGroup(group.groupId) }
                let spool = EmbeddedBroker(broker: broker)
                embedded = spool
                queue = .embedded(spool, partitions: 8)
                print("signup demo on an embedded broker in \(directory): \(users) users")
            }
            try await story(queue: queue, users: users)
            await queue.transport.close()
            try embedded?.close()
            return ExitCode.success
        } catch {
            printError("spool demo: \(error)")
            return ExitCode.failure
        }
    }

    enum ProviderError: Error, CustomStringConvertible {
        case unavailable
        case corruptImage(String)
        var description: String {
            switch self {
            case .unavailable: "email provider answered 503 Service Unavailable"
            case let .corruptImage(name): "cannot decode \(name): corrupt HEIC header"
            }
        }
    }

    private static func story(queue: JobQueue, users: Int) async throws {
        let run = UUID().uuidString.prefix(8)
        let observed = Observed()
        let started = Date()

        // 1. The web app answers each signup at once and leaves the slow work to the queue.
        var emails: [JobQueue.Enqueue<WelcomeEmail>] = []
        var photos: [JobQueue.Enqueue<ResizePhoto>] = []
        var pings: [JobQueue.Enqueue<AnalyticsPing>] = []
        for index in 0..<users {
            let user = "user-\(index)"
            emails.append(.init(WelcomeEmail(user: user, address: "\(user)@example.com"), key: user, id: "welcome-\(run)-\(user)"))
            for sequence in 0..<2 {
                let name = index == 13 && sequence == 0 ? "corrupt.heic" : "photo-\(sequence).jpg"
                photos.append(.init(ResizePhoto(user: user, photo: name, sequence: sequence), key: user))
            }
            for event in ["signed_up", "profile_completed", "first_login"] { pings.append(.init(AnalyticsPing(user: user, event: event), key: user)) }
        }
        let enqueueStarted = Date()
        let stored = try await queue.enqueue(emails)
        try await queue.enqueue(photos)
        try await queue.enqueue(pings)
        // A double-clicked signup button: the same welcome email again, same job id.
        let duplicate = try await queue.enqueue(emails[1].job, key: emails[1].key, id: emails[1].id)
        let enqueueMs = Int(Date().timeIntervalSince(enqueueStarted) * 1000)
        print("enqueued \(emails.count + photos.count + pings.count) jobs (durable) in \(enqueueMs) ms")
        // Spool drops the duplicate by its spool-idempotency-key; Kafka stores it again, and the
        // email worker's ProcessedJobs marker keeps the email from going out twice.
        print("user-1 signed up twice: the second welcome email (same job id) was acknowledged at offset "
              + "\(duplicate.offset.map(String.init) ?? "-"), where the first is (\(stored[1].offset.map(String.init) ?? "-"))")
        // user-7 closes the account before the welcome email goes out.
        let closed = emails[7].id ?? ""
        try await queue.cancel(id: closed, topic: WelcomeEmail.topic)
        print("user-7 closed the account at once: its welcome email is cancelled (spool jobs cancel \(WelcomeEmail.topic) \(closed))")
        // Every minute, a digest of the new signups goes to the team (registered by its worker).
        let digest = try Schedule(name: "signup-digest", cron: "* * * * *", missed: .skip, job: SignupDigest(recipients: "growth-team"))
        let nextDigest = digest.cron.next(after: Date(), in: digest.timeZone).map { ISO8601DateFormatter().string(from: $0) } ?? "never"
        print("schedule signup-digest (* * * * *): a digest of new signups every minute, next at \(nextDigest) (spool schedule list)")

        // 2. Workers. Emails and photos in order per user; analytics fully parallel.
        let processed = try ProcessedJobs(path: NSTemporaryDirectory() + "spool-demo-sent-\(run)")
        defer { try? FileManager.default.removeItem(atPath: processed.path) }
        let emailWorker = Worker<WelcomeEmail>(queue: queue, group: "mailers-\(run)", ordering: .key, concurrency: 16,
                                               retry: .exponential(maxAttempts: 5, base: .milliseconds(100), max: .seconds(2))) { job in
            // Every 10th user's first two attempts hit an outage at the provider.
            let index = Int(job.payload.user.dropFirst(5)) ?? 0
            if index % 10 == 3 && job.attempt <= 2 {
                observed.state.withLock { $0.emailRetries += 1 }
                observed.note("email", limit: 4, "email to \(job.payload.user): provider unavailable on attempt \(job.attempt) of \(job.maxAttempts), retrying with backoff")
                throw ProviderError.unavailable
            }
            try await processed.once(job.id) {
                try await Task.sleep(for: .milliseconds(2))
                observed.state.withLock { $0.emailsSent += 1 }
            }
        }
        let photoWorker = Worker<ResizePhoto>(queue: queue, group: "resizers-\(run)", ordering: .key, concurrency: 16,
                                              retry: .exponential(maxAttempts: 3, base: .milliseconds(100), max: .seconds(1))) { job in
            if job.payload.photo == "corrupt.heic" {
                observed.note("photo", limit: 10, "photo \(job.payload.photo) of \(job.payload.user): attempt \(job.attempt) of \(job.maxAttempts) failed")
                throw ProviderError.corruptImage(job.payload.photo)
            }
            try await Task.sleep(for: .milliseconds(1))
            observed.state.withLock { state in
                if let last = state.photoOrder[job.payload.user]?.last, last >= job.payload.sequence { state.outOfOrder += 1 }
                state.photoOrder[job.payload.user, default: []].append(job.payload.sequence)
            }
        }
        let analyticsWorker = Worker<AnalyticsPing>(queue: queue, group: "analytics-\(run)", ordering: .none, concurrency: 64,
                                                    limits: pingLimits) { job in
            observed.state.withLock { $0.pingStarts[job.payload.user, default: []].append(Date()) }
        }
        let digestWorker = Worker<SignupDigest>(queue: queue, group: "digests", schedules: [digest]) { _ in
            observed.state.withLock { $0.digests += 1 }
        }
        let tasks = [Task { try await emailWorker.run() }, Task { try await photoWorker.run() }, Task { try await analyticsWorker.run() },
                     Task { try await digestWorker.run() }]

        // 3. Wait for every job to finish one way or the other.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let emailsDone = emailWorker.stats.succeeded + emailWorker.stats.cancelled >= users && observed.state.withLock { $0.emailsSent } >= users - 1
            let photosDone = photoWorker.stats.succeeded + photoWorker.stats.deadLettered >= 2 * users
            let pingsDone = analyticsWorker.stats.succeeded >= 3 * users
            if emailsDone && photosDone && pingsDone { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = Date().timeIntervalSince(started)
        emailWorker.stop()
        photoWorker.stop()
        analyticsWorker.stop()
        digestWorker.stop()
        for task in tasks { try await task.value }

        // 4. What happened.
        let state = observed.state.withLock { $0 }
        let hidden = (state.events["email"] ?? 0) - min(state.events["email"] ?? 0, 4)
        if hidden > 0 { print("  … and \(hidden) more email attempts that hit the outage") }
        print("")
        let inOrder = state.outOfOrder == 0 && state.photoOrder.values.allSatisfy { $0 == $0.sorted() }
        print(columns([
            ["JOB", "ENQUEUED", "SUCCEEDED", "FAILED RUNS", "DEAD-LETTERED", "CANCELLED", "ORDER"],
            ["welcome email", "\(users + 1)", "\(emailWorker.stats.succeeded)", "\(emailWorker.stats.failedAttempts)", "\(emailWorker.stats.deadLettered)",
             "\(emailWorker.stats.cancelled)", "per user"],
            ["photo resize", "\(2 * users)", "\(photoWorker.stats.succeeded)", "\(photoWorker.stats.failedAttempts)", "\(photoWorker.stats.deadLettered)",
             "\(photoWorker.stats.cancelled)", inOrder ? "per user, kept" : "per user, BROKEN (\(state.outOfOrder))"],
            ["analytics ping", "\(3 * users)", "\(analyticsWorker.stats.succeeded)", "\(analyticsWorker.stats.failedAttempts)", "\(analyticsWorker.stats.deadLettered)",
             "\(analyticsWorker.stats.cancelled)", "none"],
        ]))
        // The third ping of each user waited for the rate: the shortest such wait across users.
        let thirdPingWaits = state.pingStarts.values.compactMap { starts -> Double? in
            let sorted = starts.sorted()
            return sorted.count >= 3 ? sorted[2].timeIntervalSince(sorted[0]) : nil
        }
        let shortestWait = thirdPingWaits.min() ?? 0
        print("")
        print("analytics: at most 2 pings at once per user, then 2 a second (limits: .perKey(ratePerSecond: 2, burst: 2)): "
              + "each user's third ping waited at least \(Int(shortestWait * 1000)) ms, while other users' pings ran")
        if state.digests > 0 {
            print("signup digests sent by the schedule: \(state.digests) (one per minute boundary the demo lasted)")
        } else {
            print("signup digest: its worker fires the schedule at the top of each minute while it runs; the demo ended before \(nextDigest)")
        }
        print("")
        print("emails sent: \(state.emailsSent) for \(users) users (user-7's was cancelled; the duplicate signup sent no second "
              + "email: on Spool it is stored once, by its job id; a Kafka broker stores it again and the worker's processed-jobs marker skips it)")
        print("all \(6 * users + 1) jobs settled in \(String(format: "%.2f", seconds)) s")
        print("")
        let letters = try await queue.deadLetters(of: ResizePhoto.topic)
        print("dead letters in \(ResizePhoto.topic).dlq (spool dlq list \(ResizePhoto.topic)):")
        print(DeadLetterCommand.table(letters, showRedriven: false))
        guard (users - 1...users).contains(emailWorker.stats.succeeded), emailWorker.stats.cancelled == 1, state.emailsSent == users - 1,
              photoWorker.stats.deadLettered == 1, photoWorker.stats.succeeded == 2 * users - 1, analyticsWorker.stats.succeeded == 3 * users,
              thirdPingWaits.count == users, shortestWait >= 0.4, inOrder else {
            throw DemoFailure(description: "the run did not settle as expected (see the table above)")
        }
    }

    struct DemoFailure: Error, CustomStringConvertible { var description: String }
}
