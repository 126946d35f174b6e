import SpoolFormat

/// A key's rate has room again at `atMs`: its waiting jobs may be tried.
struct KeyWake: Sendable, Equatable {
    var key: String
    var atMs: Int64
}

/// The per-key limits' state inside a `JobBook`: jobs running per key, each key's rate as a
/// generic cell rate (one number per key: the time its bucket would be empty), and the jobs that
/// wait because their key is at a limit, parked per key in the order they were ready.
///
/// A parked key is tried again ("opened") when one of its jobs ends (concurrency) or when its
/// wake comes (rate): no polling, and a key at a limit costs other keys nothing. Parked entries are
/// checked against the book when they come out, so a partition revoked meanwhile leaves only
/// entries that are dropped then.
///
/// Pure state, held by the book.
struct KeyLimiter {
    /// A job waiting on its key, by reference into the book (as its ready queue holds jobs): a
    /// job's entry is its identity.
    struct Parked: Hashable {
        let state: JobBook.PartitionState
        let entry: JobBook.Entry

        static func == (left: Parked, right: Parked) -> Bool { left.entry === right.entry }
        func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(entry)) }
    }

    enum Admission: Equatable {
        case start
        /// The key has `keyConcurrency` jobs running: wait for one to end.
        case full
        /// The key's rate allows the next job at this time.
        case notBefore(Int64)
    }

    /// A class, so the limiter changes a key's queue in place.
    final class KeyState {
        var running = 0
        /// The generic cell rate algorithm's "theoretical arrival time": a job may start once now
        /// is past it minus the burst's tolerance; each start moves it one interval on. At or
        /// below now, the bucket is full.
        var arrivalMs = -Double.infinity
        var parked = Fifo<Parked>()
        var wakeAtMs: Int64?
        var isOpen = false

        var firstParked: Parked? { parked.first }

        fileprivate func removeFirstParked() { parked.removeFirst() }
    }

    let concurrencyMax: Int
    /// Milliseconds between starts at the rate; nil without a rate.
    let intervalMs: Double?
    /// How far ahead of the rate a burst may run: (burst - 1) intervals.
    let toleranceMs: Double
    private(set) var keys: [String: KeyState] = [:]
    /// Keys with parked jobs that may have room now, in the order they got it.
    private var open = Fifo<String>()
    /// Every parked job once: a job handed out again while parked (the book puts the job at the
    /// commit point back in its ready queue whenever another finishes) is not parked twice.
    private(set) var parkedJobs: Set<Parked> = []
    /// Wakes for the worker to schedule (`takeWakes`).
    private var wakes: [KeyWake] = []
    /// Keys kept past which idle ones are swept out.
    private var sweepAt = 1024

    init(_ limits: JobLimits) {
        concurrencyMax = limits.keyConcurrency ?? Int.max
        intervalMs = limits.keyRatePerSecond.map { 1000 / $0 }
        toleranceMs = Double(limits.keyBurst - 1) * (intervalMs ?? 0)
    }

    /// Whether a job of `key` may start now; when it may, it counts as running and takes its place
    /// in the rate. A key with parked jobs admits none from outside them (`fromParked: false`), so
    /// a key's jobs start in the order they became ready.
    mutating func admit(_ key: String, now: Int64, fromParked: Bool = false) -> Admission {
        let state = self.state(key, now: now)
        if !fromParked && state.firstParked != nil { return .full }
        if state.running >= concurrencyMax { return .full }
        if let intervalMs {
            let allowedAt = state.arrivalMs - toleranceMs
            if Double(now) < allowedAt { return .notBefore(Int64(allowedAt.rounded(.up))) }
            state.arrivalMs = max(state.arrivalMs, Double(now)) + intervalMs
        }
        state.running += 1
        return .start
    }

    /// Puts a job that was not admitted at the back of its key's queue; `admission` says what it
    /// waits for (a rate's time gets a wake).
    mutating func park(_ job: Parked, key: String, admission: Admission) {
        guard let state = keys[key] else { preconditionFailure("parking a job of key \(key) that was never admitted") }
        if parkedJobs.insert(job).inserted { state.parked.append(job) }
        waitFor(key, state, admission)
    }

    /// A job of `key` stopped running (finished, failed, abandoned): its key may start another.
    mutating func ended(_ key: String) {
        guard let state = keys[key] else { preconditionFailure("a job of key \(key) ended that the limiter never admitted") }
        precondition(state.running > 0, "a job of key \(key) ended that the limiter did not count as running")
        state.running -= 1
        if state.firstParked != nil { openKey(key, state) }
    }

    /// The time a key's rate waited for has come.
    mutating func wake(_ key: String) {
        guard let state = keys[key] else { return }
        state.wakeAtMs = nil
        if state.firstParked != nil { openKey(key, state) }
    }

    /// The next key that may have room, with its state; nil when none.
    mutating func nextOpenKey() -> (String, KeyState)? {
        while let key = open.popFirst() {
            guard let state = keys[key] else { continue }
            state.isOpen = false
            return (key, state)
        }
        return nil
    }

    /// Takes the first parked job of the key off its queue (it starts, or is stale).
    mutating func removeFirstParked(_ state: KeyState) {
        guard let job = state.firstParked else { return }
        parkedJobs.remove(job)
        state.removeFirstParked()
    }

    /// After a parked job of an open key could not start: what it waits for.
    mutating func keepWaiting(_ key: String, _ state: KeyState, _ admission: Admission) { waitFor(key, state, admission) }

    /// A job of an open key started: the key stays open while more of its jobs may start.
    mutating func startedFromParked(_ key: String, _ state: KeyState) {
        if state.firstParked != nil && state.running < concurrencyMax { openKey(key, state) }
    }

    /// The wakes recorded since the last call, for the worker to schedule.
    mutating func takeWakes() -> [KeyWake] {
        defer { wakes.removeAll() }
        return wakes
    }

    /// Jobs parked across keys (those of a partition since revoked included, until they come out).
    var parkedCount: Int { parkedJobs.count }

    private mutating func waitFor(_ key: String, _ state: KeyState, _ admission: Admission) {
        guard case let .notBefore(atMs) = admission, state.wakeAtMs.map({ $0 > atMs }) ?? true else { return }
        state.wakeAtMs = atMs
        wakes.append(KeyWake(key: key, atMs: atMs))
    }

    private mutating func openKey(_ key: String, _ state: KeyState) {
        guard !state.isOpen else { return }
        state.isOpen = true
        open.append(key)
    }

    /// The key's state, made on first use. Past `sweepAt` keys, idle ones whose bucket is full
    /// again are dropped (they would admit the next job anyway), so the map stays as large as the
    /// keys in use, at an amortised constant cost.
    private mutating func state(_ key: String, now: Int64) -> KeyState {
        if let state = keys[key] { return state }
        if keys.count >= sweepAt {
            keys = keys.filter { _, state in
                state.running > 0 || state.firstParked != nil || state.wakeAtMs != nil || state.arrivalMs > Double(now)
            }
            sweepAt = max(1024, keys.count * 2)
        }
        let state = KeyState()
        keys[key] = state
        return state
    }
}
