import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolJobs
import Synchronization

/// `spool demo`: a web app's signup flow, end to end. Each new user gets a welcome email, two
/// photo resizes and three analytics pings, handed to workers that run them in order per user.
/// The email provider fails now and then (retries with backoff), one photo is corrupt (dead
/// letter), one signup is submitted twice (skipped by its job id).
enum SignupDemo {
    static let help = """
        usage: spool demo [--users N] [--data DIR | --broker HOST:PORT]
               spool demo storage [options]   (the storage engine alone; see spool demo storage --help)

        Runs the signup story: enqueues a welcome email, two photo resizes and three analytics pings
        for each of N users, runs workers for them (emails and photos in order per user, analytics in
        parallel), shows retries of a flaky email provider, a corrupt photo ending in the dead-letter
        topic and a duplicate signup skipped, then prints a summary and the dead letters.

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

    /// What the workers saw, for the summary.
    final class Observed: Sendable {
        struct State {
            var photoOrder: [String: [Int]] = [:]
            var outOfOrder = 0
            var emailsSent = 0
            var emailRetries = 0
            var events: [String: Int] = [:]
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
        let analyticsWorker = Worker<AnalyticsPing>(queue: queue, group: "analytics-\(run)", ordering: .none, concurrency: 64) { _ in }
        let tasks = [Task { try await emailWorker.run() }, Task { try await photoWorker.run() }, Task { try await analyticsWorker.run() }]

        // 3. Wait for every job to finish one way or the other.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let emailsDone = emailWorker.stats.succeeded >= users && observed.state.withLock { $0.emailsSent } >= users
            let photosDone = photoWorker.stats.succeeded + photoWorker.stats.deadLettered >= 2 * users
            let pingsDone = analyticsWorker.stats.succeeded >= 3 * users
            if emailsDone && photosDone && pingsDone { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = Date().timeIntervalSince(started)
        emailWorker.stop()
        photoWorker.stop()
        analyticsWorker.stop()
        for task in tasks { try await task.value }

        // 4. What happened.
        let state = observed.state.withLock { $0 }
        let hidden = (state.events["email"] ?? 0) - min(state.events["email"] ?? 0, 4)
        if hidden > 0 { print("  … and \(hidden) more email attempts that hit the outage") }
        print("")
        let inOrder = state.outOfOrder == 0 && state.photoOrder.values.allSatisfy { $0 == $0.sorted() }
        print(columns([
            ["JOB", "ENQUEUED", "SUCCEEDED", "FAILED RUNS", "DEAD-LETTERED", "ORDER"],
            ["welcome email", "\(users + 1)", "\(emailWorker.stats.succeeded)", "\(emailWorker.stats.failedAttempts)", "\(emailWorker.stats.deadLettered)", "per user"],
            ["photo resize", "\(2 * users)", "\(photoWorker.stats.succeeded)", "\(photoWorker.stats.failedAttempts)", "\(photoWorker.stats.deadLettered)",
             inOrder ? "per user, kept" : "per user, BROKEN (\(state.outOfOrder))"],
            ["analytics ping", "\(3 * users)", "\(analyticsWorker.stats.succeeded)", "\(analyticsWorker.stats.failedAttempts)", "\(analyticsWorker.stats.deadLettered)", "none"],
        ]))
        print("")
        print("emails sent: \(state.emailsSent) for \(users) users (the duplicate signup sent no second email: on Spool it is "
              + "stored once, by its job id; a Kafka broker stores it again and the worker's processed-jobs marker skips it)")
        print("all \(6 * users + 1) jobs settled in \(String(format: "%.2f", seconds)) s")
        print("")
        let letters = try await queue.deadLetters(of: ResizePhoto.topic)
        print("dead letters in \(ResizePhoto.topic).dlq (spool dlq list \(ResizePhoto.topic)):")
        print(DeadLetterCommand.table(letters, showRedriven: false))
        guard (users...users + 1).contains(emailWorker.stats.succeeded), state.emailsSent == users, photoWorker.stats.deadLettered == 1,
              photoWorker.stats.succeeded == 2 * users - 1, analyticsWorker.stats.succeeded == 3 * users, inOrder else {
            throw DemoFailure(description: "the run did not settle as expected (see the table above)")
        }
    }

    struct DemoFailure: Error, CustomStringConvertible { var description: String }
}
