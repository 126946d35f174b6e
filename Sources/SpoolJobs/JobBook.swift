import SpoolFormat

/// How a worker orders the jobs of a partition.
public enum JobOrdering: Sendable, Equatable {
    /// Jobs with the same key run one at a time, in log order; other keys run in parallel.
    case key
    /// One job at a time per partition, in log order.
    case partition
    /// Every job as soon as a slot is free.
    case none
}

/// A job handed out to run.
struct JobTicket: @unchecked Sendable {
    var partition: TopicPartition { state.partition }
    var offset: Int64 { entry.offset }
    var attempt: Int
    var record: BatchRecord { entry.record }
    /// The partition's assignment this ticket belongs to: a ticket from before a rebalance is stale.
    var generation: Int { state.generation }
    /// The book's own records of the job and its partition's assignment, so that finishing it
    /// hashes nothing. They are read and changed only under the book's lock (hence
    /// `@unchecked Sendable`); `record`, `offset`, `partition` and `generation` never change.
    let state: JobBook.PartitionState
    let entry: JobBook.Entry
    /// An earlier owner dead-lettered the job and committed its mark: it is done, not to be run.
    var deadLettered = false
    /// When the job became due, for its first run from this record (the record's timestamp, or
    /// its `spool-deliver-at` when later); nil for an attempt the record does not carry (a retry
    /// in place), whose wait is the retry's backoff, not a queue's.
    var dueMs: Int64? = nil
    /// The key whose per-key limits count this run; nil when not limited.
    var limitKey: String? = nil
}

/// A job waiting for a time (a retry's backoff, or a `spool-deliver-at` the broker did not hold).
/// Its references are read and changed only under the book's lock.
struct JobWake: @unchecked Sendable {
    let state: JobBook.PartitionState
    let entry: JobBook.Entry
    var atMs: Int64
    var partition: TopicPartition { state.partition }
    var offset: Int64 { entry.offset }
    var generation: Int { state.generation }
}

/// A worker's bookkeeping from fetch to commit: which jobs may run (ordering and the concurrency
/// limit), which are running, sleeping before a retry, or done, and the offset each partition can
/// commit — the first job not yet done, so every job below a committed offset has finished.
///
/// Under `.key` and `.partition` a partition has at most `carriedMax` jobs started and not
/// finished: each may fail and wait to run again, and its attempt count must then fit in the
/// commit's metadata beside the others (`AttemptMetadata`). Jobs past the bound wait, ready, until
/// a started one finishes. A job dead-lettered above the commit point stays carried, as a mark
/// (`DeadLetterMarks`), until the commit point passes it: the next owner of the partition then
/// knows it was dead-lettered and does not run its attempts again. Because such marks free their
/// place only when the point moves, the job at the commit point may always start, one past the
/// bound (which leaves room for it), so a partition full of marks never stalls.
///
/// Jobs that finished above the commit point go in the commit as offset ranges (`FinishedMarks`),
/// in the room the counts leave: the next owner takes them in as done instead of running them
/// again. They never hold a job back; the ones that do not fit run again (at least once).
///
/// Pure state: the worker holds it under a lock and does the I/O.
struct JobBook {
    enum State { case blocked, ready, sleeping, running, done }

    /// A class, so the book changes a job in place: copying a struct holding the record in and
    /// out of the dictionary retained and released each of its buffers every time. Its `var`s
    /// are not checked for exclusive access at run time (see `PartitionState`).
    final class Entry {
        /// The record, read in place: most jobs need little of it (`consumedRecord` makes the
        /// whole record for those that do).
        let record: BatchRecord
        /// The Spool headers of the record, read once.
        let fields: JobHeaderFields
        /// The record's key as text, made once when the record is taken in.
        let key: String?
        @exclusivity(unchecked) var attempt: Int
        /// The attempt the record itself carries (`spool-attempt`).
        let recordAttempt: Int
        @exclusivity(unchecked) var notBefore: Int64
        let orderKey: String?
        @exclusivity(unchecked) var state: State
        /// Dead-lettered: here, or by an earlier owner whose commit marked it (then it is done
        /// without running). Marked in the commit while carried.
        @exclusivity(unchecked) var deadLettered: Bool
        /// Counted in its partition's `carriedCount` (see there).
        @exclusivity(unchecked) var carried = false
        /// In the ready queue: a job goes in once at most, however often it is made ready there.
        @exclusivity(unchecked) var queued = false
        /// The jobs of its order key waiting in the book, this one among them.
        @exclusivity(unchecked) var keyLine: KeyLine?
        /// The next job of its order key in the book (see `KeyLine`).
        @exclusivity(unchecked) var nextOfKey: Entry?
        var offset: Int64 { record.offset }

        init(record: BatchRecord, fields: JobHeaderFields, key: String?, attempt: Int, recordAttempt: Int, notBefore: Int64, orderKey: String?,
             state: State, deadLettered: Bool) {
            self.record = record
            self.fields = fields
            self.key = key
            self.attempt = attempt
            self.recordAttempt = recordAttempt
            self.notBefore = notBefore
            self.orderKey = orderKey
            self.state = state
            self.deadLettered = deadLettered
        }
    }

    /// The jobs of one order key in the book, oldest first, linked through their entries
    /// (`Entry.nextOfKey`): a class, so a job reaches its key's line without hashing the key
    /// again, and a list through entries the book touches anyway, so a key costs one small object
    /// and no buffer of its own (with ten thousand keys, those buffers were cache misses on every
    /// job's start and end). Only the first job of a line runs; it leaves the line when it finishes.
    /// Not checked for exclusive access at run time (see `PartitionState`).
    final class KeyLine {
        @exclusivity(unchecked) private(set) var first: Entry?
        @exclusivity(unchecked) private var last: Entry?
        var isEmpty: Bool { first == nil }

        func append(_ entry: Entry) {
            if let last { last.nextOfKey = entry } else { first = entry }
            last = entry
        }

        /// Takes the first job out; returns the one after it, now first.
        func removeFirst() -> Entry? {
            let removed = first
            first = removed?.nextOfKey
            removed?.nextOfKey = nil
            if first == nil { last = nil }
            return first
        }
    }

    /// The entries of jobs finished and dropped from their partitions, which the poll loop frees
    /// (`takeLetGo`): an entry is allocated there, as its record is taken in, and freed on the
    /// thread that allocated it, glibc's allocator takes it back into that thread's cache or
    /// arena. Freed by the runner that finished it, on another core, each went into the poll
    /// loop's arena under that arena's lock, 2.5 % of a worker's CPU.
    private(set) var letGo = LetGoEntries()

    /// Entries on their way out of the book, to the poll loop that frees them: no other code
    /// reaches them any more (hence `@unchecked Sendable`).
    struct LetGoEntries: @unchecked Sendable {
        var entries: [Entry] = []

        /// Frees them, keeping the buffer.
        mutating func free() { entries.removeAll(keepingCapacity: true) }
    }

    /// Hands over the entries to free, leaving `spare`'s empty buffer in their place, for the
    /// caller to free out of the book's lock.
    mutating func takeLetGo(_ spare: inout LetGoEntries) {
        guard !letGo.entries.isEmpty else { return }
        swap(&letGo, &spare)
    }

    /// Empty key lines kept for their keys' next jobs, at most: past it they are swept out.
    static let emptyKeyLinesMax = 4_096

    let ordering: JobOrdering
    let concurrency: Int
    /// The retry policy's attempts.
    let attemptsMax: Int
    /// Jobs of one partition started and not finished, at most (see the type's comment).
    let carriedMax: Int
    private(set) var partitions: [TopicPartition: PartitionState] = [:] {
        didSet { lastAdded = nil }
    }
    /// The partition the last record taken in went to: a fetch's records come a partition at a
    /// time, so most records find theirs without hashing the topic.
    private var lastAdded: PartitionState?
    /// Jobs ready to run, by priority level.
    private var ready: ReadyQueues<(state: PartitionState, entry: Entry)>
    private(set) var running = 0
    /// How many runners take jobs from the book (`RunnerPace`).
    var pace = RunnerPace()
    private var generations = 0
    /// Per-key limits (jobs running, rate, jobs waiting on them); nil without any.
    private(set) var limiter: KeyLimiter?
    /// Jobs a partition may have taken in and not finished before it is paused; it is resumed once
    /// it is down to `resumeAt`.
    let bufferMax: Int
    var resumeAt: Int { bufferMax / 2 }
    /// Entries a partition may hold, finished ones included: finished jobs stay in `order` until
    /// every job below them has finished, so one job failing and waiting to run again keeps the
    /// ones of other keys behind it. The pause counts unfinished jobs (a slow job must not stall
    /// the other keys); at this many entries the finished ones are let go and kept as offset
    /// ranges (`PartitionState.compactFinished`), so memory stays bounded. Only a partition still
    /// this full after that (marks and unfinished jobs) is paused, until down to half.
    let entriesMax: Int
    /// The partitions paused at the consumer, owned or not: the consumer keeps a pause across
    /// rebalances, so a partition owned again starts paused and is resumed by `adjustPauses`.
    private(set) var pausedPartitions: Set<TopicPartition> = []
    /// The UTF-8 of the type name the worker runs, which each job's `spool-job-type` is compared
    /// with as it is taken in (`JobHeaderFields.wrongType`); nil: not compared.
    let jobType: [UInt8]?
    /// The UTF-8 of the worker's group, which a `.none` retry's `spool-group` is compared with
    /// (`JobHeaderFields.otherGroup`); nil: not compared.
    let group: [UInt8]?

    /// `attemptsMax` is the retry policy's: the widest attempt count the metadata must carry.
    /// With `priorities`, jobs of `priorityTopic`'s `.high` and `.low` topics are ready at their
    /// levels beside its own (normal) ones.
    init(ordering: JobOrdering, concurrency: Int, attemptsMax: Int = 99, limits: JobLimits = .none,
         priorities: JobPriorities? = nil, priorityTopic: String = "", bufferMax: Int = 1000, jobType: [UInt8]? = nil,
         group: [UInt8]? = nil) {
        precondition(limits.conflict(with: ordering) == nil, limits.conflict(with: ordering) ?? "")
        limiter = limits.limitsKeys ? KeyLimiter(limits) : nil
        ready = priorities.map { priorities in
            ReadyQueues(weights: priorities.weights,
                        levels: Dictionary(uniqueKeysWithValues: JobPriority.allCases.map { ($0.topic(of: priorityTopic), $0.level) }),
                        defaultLevel: JobPriority.normal.level)
        } ?? ReadyQueues()
        self.ordering = ordering
        self.concurrency = max(1, concurrency)
        self.attemptsMax = max(1, attemptsMax)
        self.bufferMax = max(1, bufferMax)
        self.entriesMax = self.bufferMax > Int.max / 4 ? Int.max : self.bufferMax * 4
        self.jobType = jobType
        self.group = group
        // Under `.none` a retry is enqueued again, so no count is carried. Otherwise the widest
        // count is the last attempt, and one place is kept for the job at the commit point.
        self.carriedMax = ordering == .none ? Int.max : AttemptMetadata.countsMax(attemptsMax: self.attemptsMax) - 1
    }

    // MARK: Assignment

    /// Starts tracking a partition this worker now owns; `committed` carries attempt counts of
    /// jobs that failed before (in its metadata).
    mutating func assign(_ partition: TopicPartition, committed: CommittedOffset?) {
        generations += 1
        partitions[partition]?.removed = true
        let state = PartitionState(partition: partition, generation: generations, level: ready.level(of: partition.topic),
                                   stored: CommitMetadata(decoding: committed?.metadata ?? ""), lastCommitted: committed)
        state.paused = pausedPartitions.contains(partition)
        partitions[partition] = state
    }

    /// Stops handing out the partition's jobs (running ones finish).
    mutating func revoke(_ partition: TopicPartition) { partitions[partition]?.revoking = true }

    mutating func remove(_ partition: TopicPartition) {
        partitions[partition]?.removed = true
        partitions[partition] = nil
    }

    func runningCount(_ partition: TopicPartition) -> Int { partitions[partition]?.running ?? 0 }

    /// Jobs taken in and not yet done.
    func buffered(_ partition: TopicPartition) -> Int {
        partitions[partition]?.unfinished ?? 0
    }

    var assigned: [TopicPartition] { partitions.keys.sorted() }

    // MARK: Pausing fetches

    /// The owned partitions to pause at the consumer (their buffers are full: `bufferMax` jobs
    /// taken in and not finished, `entriesMax` entries once the finished ones are let go, or
    /// `entriesMax` finished jobs the commit has no room to mark) and the paused ones to resume
    /// (down to half of each), marked so.
    mutating func adjustPauses() -> (pause: [TopicPartition], resume: [TopicPartition]) {
        var (pause, resume): ([TopicPartition], [TopicPartition]) = ([], [])
        for (partition, state) in partitions {
            if state.order.count >= entriesMax { state.compactFinished() }
            if !state.paused && (state.unfinished >= bufferMax || state.order.count >= entriesMax || finishedLeftOut(state) >= entriesMax) {
                state.paused = true
                pausedPartitions.insert(partition)
                pause.append(partition)
            } else if state.paused && downToResume(state) {
                state.paused = false
                pausedPartitions.remove(partition)
                resume.append(partition)
            }
        }
        return (pause.sorted(), resume.sorted())
    }

    /// Every owned partition is paused and none is down to resume yet: a poll could only wait.
    var fetchesHeld: Bool {
        !partitions.isEmpty && partitions.values.allSatisfy { $0.paused && !downToResume($0) }
    }

    /// Whether the partition is paused and down to resume: its fetches may go on.
    func drained(_ state: PartitionState) -> Bool { state.paused && downToResume(state) }

    /// Down to `resumeAt` unfinished jobs and half of `entriesMax` held, once the finished ones
    /// are let go (they were held behind a job that has not finished: see `entriesMax`), and to
    /// half of `entriesMax` finished jobs the commit cannot mark.
    private func downToResume(_ state: PartitionState) -> Bool {
        guard state.unfinished <= resumeAt else { return false }
        if state.order.count > entriesMax / 2 { state.compactFinished() }
        return state.order.count <= entriesMax / 2 && finishedLeftOut(state) <= entriesMax / 2
    }

    /// Finished jobs above the commit point whose marks the commit's metadata has no room for
    /// (counted as the offsets their ranges span): a next owner of the partition would run them
    /// again. Room runs out when many unfinished jobs split the finished ones into many ranges;
    /// the highest range is the one left out, and it grows with every job that finishes. So a
    /// partition is paused at `entriesMax` of them, which bounds the jobs a rebalance or a crash
    /// runs twice as the pause at `entriesMax` entries did before the finished ones were let go.
    /// Only a partition that let go of finished jobs can have that many, so only its commit is
    /// worked out here.
    private func finishedLeftOut(_ state: PartitionState) -> Int {
        guard !state.finishedLetGo.isEmpty, let point = commitPoint(state) else { return 0 }
        return point.metadata.finishedLeftOut
    }

    // MARK: Taking jobs in and handing them out

    private mutating func partitionState(_ topic: String, _ partition: Int32) -> PartitionState? {
        if let last = lastAdded, last.partition.partition == partition, last.partition.topic == topic { return last }
        let state = partitions[TopicPartition(topic, partition)]
        lastAdded = state
        return state
    }

    /// Takes a fetched record in. Returns false for a partition not owned or an offset already
    /// taken; a wake when the job must wait for its time.
    mutating func add(_ record: consuming BatchRecord, now: Int64) -> (accepted: Bool, wake: JobWake?) {
        let offset = record.offset
        guard let state = partitionState(record.topic, record.partition), !state.revoking, offset >= state.next ?? Int64.min else { return (false, nil) }
        if state.takeStoredFinished(offset) {
            // Finished under the last owner, above its commit point: done, its key not held.
            state.order.append(Entry(record: record, fields: JobHeaderFields(), key: nil, attempt: 1, recordAttempt: 1, notBefore: 0,
                                     orderKey: nil, state: .done, deadLettered: false))
            if !state.storedAhead.isEmpty { takeStoredAhead(state, offset) }
            state.next = offset + 1
            state.dropFinishedFront(into: &letGo.entries)
            return (true, nil)
        }
        let fields = JobHeaderFields(record, expectedType: jobType, group: group)
        let recordAttempt = max(1, fields.attempt ?? 1)
        let key = record.keyString
        let orderKey: String? = switch ordering {
        case .key: key
        case .partition: ""
        case .none: nil
        }
        let stored = state.storedAttempts.isEmpty ? 0 : state.storedAttempts[offset] ?? 0
        // Moved into the entry: the poll handed it over, so it is not copied (a retain of its batch).
        let entry = Entry(record: record, fields: fields, key: key, attempt: max(recordAttempt, stored), recordAttempt: recordAttempt,
                          notBefore: fields.deliverAtMs ?? 0, orderKey: orderKey, state: .blocked,
                          deadLettered: !state.storedDead.isEmpty && state.storedDead.contains(offset))
        state.order.append(entry)
        state.unfinished += 1
        if !state.storedAhead.isEmpty { takeStoredAhead(state, offset) }
        state.next = offset + 1
        var eligible = true
        if let orderKey {
            let line: KeyLine
            if let existing = state.keys[orderKey] {
                line = existing
                eligible = line.isEmpty
                if eligible { state.emptyKeyLines -= 1 }
            } else {
                line = KeyLine()
                state.keys[orderKey] = line
            }
            line.append(entry)
            entry.keyLine = line
        }
        // A resumed mark stays carried whatever attempt the record carries.
        if entry.attempt > entry.recordAttempt || entry.deadLettered { state.carry(entry) }
        guard eligible else { return (true, nil) }
        return (true, makeEligible(state, entry, now: now))
    }

    /// The next job to run, if a slot is free and one is ready. `now` (ms) is for per-key rates:
    /// a job whose key is at a limit is parked with its key (see `KeyLimiter`) and the next ready
    /// one is tried; parked keys that have room again go first.
    mutating func next(now: Int64 = 0) -> JobTicket? {
        guard running < concurrency else { return nil }
        if limiter != nil, let ticket = nextParked(now: now) { return ticket }
        while let ((state, entry), level) = ready.popFirst() {
            entry.queued = false
            guard startable(state, entry) else { continue }
            var limitKey: String?
            if limiter != nil, let key = ordering == .key ? entry.orderKey : entry.record.keyString,
               let admission = limiter?.admit(key, now: now) {
                guard admission == .start else {
                    limiter?.park(KeyLimiter.Parked(state: state, entry: entry), key: key, admission: admission)
                    continue
                }
                limitKey = key
            }
            ready.started(level)
            return start(state, entry, limitKey: limitKey)
        }
        return nil
    }

    /// Whether `next` might hand out another job now: a slot is free and a job may be ready (a
    /// ready entry may turn out stale; with per-key limits a parked key may have room again).
    var mayStartMore: Bool { running < concurrency && (limiter != nil || !ready.isEmpty) }

    /// A job of a parked key that has room again, if any.
    private mutating func nextParked(now: Int64) -> JobTicket? {
        while let (key, keyState) = limiter?.nextOpenKey() {
            while let job = keyState.firstParked {
                guard startable(job.state, job.entry) else {
                    limiter?.removeFirstParked(keyState)
                    continue
                }
                let admission = limiter?.admit(key, now: now, fromParked: true) ?? .start
                guard admission == .start else {
                    limiter?.keepWaiting(key, keyState, admission)
                    break
                }
                limiter?.removeFirstParked(keyState)
                limiter?.startedFromParked(key, keyState)
                return start(job.state, job.entry, limitKey: key)
            }
        }
        return nil
    }

    /// The job's partition and entry when it may start now: still owned in that generation, ready,
    /// and with room under the partition's bound (else held back until there is).
    private func startable(_ state: PartitionState, _ entry: Entry) -> Bool {
        guard !state.removed, !state.revoking, entry.state == .ready else { return false }
        guard entry.carried || state.carriedCount + state.storedAhead.count < carriedMax || entry === state.order.first else {
            state.held.append(entry)
            return false
        }
        return true
    }

    /// Takes `state` and `entry` over (`consuming`), and moves them into the ticket: borrowed,
    /// they were retained for the ticket here and the caller's released after the call.
    private mutating func start(_ state: consuming PartitionState, _ entry: consuming Entry, limitKey: String?) -> JobTicket {
        state.carry(entry)
        entry.state = .running
        state.running += 1
        running += 1
        let (attempt, deadLettered) = (entry.attempt, entry.deadLettered)
        let dueMs = attempt == entry.recordAttempt ? max(entry.record.timestamp, entry.notBefore) : nil
        return JobTicket(attempt: attempt, state: state, entry: entry, deadLettered: deadLettered, dueMs: dueMs, limitKey: limitKey)
    }

    /// A run ended one way or another: its key may start another job.
    private mutating func endLimited(_ ticket: JobTicket) {
        if let key = ticket.limitKey { limiter?.ended(key) }
    }

    /// A key's rate has room again: its parked jobs go first at the next `next(now:)`.
    mutating func wake(_ wake: KeyWake) { limiter?.wake(wake.key) }

    /// Wakes the limiter asked for since the last call, for the worker to schedule.
    mutating func takeKeyWakes() -> [KeyWake] { limiter?.takeWakes() ?? [] }

    /// A job finished (succeeded or dead-lettered): the next job of its key may run, and the
    /// partition's commit point moves past every finished job at its front. A dead-lettered job
    /// above the commit point keeps its place in `carried`, marked, until the point passes it.
    mutating func finish(_ ticket: JobTicket, now: Int64, deadLettered: Bool = false) -> JobWake? {
        running -= 1
        endLimited(ticket)
        let (state, entry) = (ticket.state, ticket.entry)
        guard !state.removed else { return nil }
        state.running -= 1
        entry.state = .done
        state.unfinished -= 1
        if !state.storedAttempts.isEmpty { state.storedAttempts[entry.offset] = nil }
        if deadLettered && ordering != .none {
            entry.deadLettered = true
        } else {
            state.uncarry(entry)
        }
        var nextOfKey: Entry?
        // Moved out of the entry, not bound from it: a binding retained the line, and clearing
        // the entry's reference after released it a second time.
        if let line = entry.keyLine.take() {
            assert(line.first === entry, "a job finished that was not the first of its key")
            nextOfKey = line.removeFirst()
            if nextOfKey == nil { state.lineEmptied() }
        }
        state.dropFinishedFront(into: &letGo.entries)
        releaseHeld(state)
        // Moved into the ready queue or the wake (`makeEligible` takes it over).
        guard let next = nextOfKey.take() else { return nil }
        return makeEligible(state, next, now: now)
    }

    /// Hands the oldest held-back jobs of the partition out again, as many as there is room for,
    /// and the job at the commit point if it is ready (it may always start; see the type).
    private mutating func releaseHeld(_ state: PartitionState) {
        // Looked at in place: passed to `makeReady` when already queued, as it mostly is, the
        // front entry and its partition were retained and released for nothing, on every finish.
        if let front = state.order.first, front.state == .ready, !front.queued { makeReady(state, front) }
        var room = carriedMax - state.carriedCount - state.storedAhead.count
        while room > 0, let entry = state.held.first {
            state.held.removeFirst()
            guard entry.state == .ready else { continue }
            makeReady(state, entry)
            room -= 1
        }
    }

    /// A job failed and runs again in place at `atMs` as `attempt`: its key stays blocked.
    mutating func retry(_ ticket: JobTicket, attempt: Int, atMs: Int64) -> JobWake? {
        running -= 1
        endLimited(ticket)
        let (state, entry) = (ticket.state, ticket.entry)
        guard !state.removed else { return nil }
        state.running -= 1
        entry.attempt = attempt
        entry.notBefore = atMs
        entry.state = .sleeping
        return JobWake(state: state, entry: entry, atMs: atMs)
    }

    /// A job whose retry or dead letter was not stored, as the worker stops or loses the
    /// partition: it stays unfinished (sleeping, never woken), so the commit point stays below it.
    mutating func abandon(_ ticket: JobTicket) {
        running -= 1
        endLimited(ticket)
        guard !ticket.state.removed else { return }
        ticket.state.running -= 1
        ticket.entry.state = .sleeping
    }

    /// A sleeping job's time has come: it is ready to run.
    mutating func wake(_ wake: JobWake) {
        guard !wake.state.removed, wake.entry.state == .sleeping else { return }
        wake.entry.state = .ready
        makeReady(wake.state, wake.entry)
    }

    /// Puts the job at the end of its topic's level in the ready queue, unless it is there already
    /// (the job at the commit point is made ready again on every finish, in case it was held back).
    private mutating func makeReady(_ state: consuming PartitionState, _ entry: consuming Entry) {
        guard !entry.queued else { return }
        entry.queued = true
        let level = state.level
        ready.append((state, entry), level: level)
    }

    /// Entries in the ready queue, stale ones included (for tests).
    var readyQueued: Int { ready.count }

    /// `state` and `entry` are taken over (`consuming`) and moved into the ready queue or the
    /// wake: a record taken in, or a key's next job, is passed here last, and borrowed, both
    /// were retained for the queue here and released by the caller after the call.
    private mutating func makeEligible(_ state: consuming PartitionState, _ entry: consuming Entry, now: Int64) -> JobWake? {
        let notBefore = entry.notBefore
        if notBefore > now {
            entry.state = .sleeping
            return JobWake(state: state, entry: entry, atMs: notBefore)
        }
        entry.state = .ready
        makeReady(state, entry)
        return nil
    }

    /// Moves the partition's next offset up to `position`, the consumer's, past batches that held
    /// no record, so its commit point can pass them. Only forward, and not for a partition being
    /// revoked; before any record, only past what the group committed.
    mutating func advance(_ partition: TopicPartition, to position: Int64) {
        guard let state = partitions[partition], !state.revoking,
              position > (state.next ?? state.lastCommitted?.offset ?? Int64.max) else { return }
        state.next = position
        if !state.storedAhead.isEmpty { dropStoredAhead(state, below: position) }
    }

    /// Records come in offset order: stored counts and marks below `offset` will never be taken
    /// in. Their places under the bound go to held-back jobs.
    private mutating func dropStoredAhead(_ state: PartitionState, below offset: Int64) {
        guard let first = state.storedAhead.first, first < offset else { return }
        while let first = state.storedAhead.first, first < offset { state.storedAhead.removeFirst() }
        releaseHeld(state)
    }

    /// The record at `offset` is taken in: its own stored count or mark leaves `storedAhead` (its
    /// place goes to the job itself), and the ones below it are dropped.
    private mutating func takeStoredAhead(_ state: PartitionState, _ offset: Int64) {
        dropStoredAhead(state, below: offset)
        if state.storedAhead.first == offset { state.storedAhead.removeFirst() }
    }

    // MARK: Commits

    /// What to commit for a partition: the first job not done (or the offset after the last one
    /// taken in), with the attempt counts of jobs waiting to run again, the mark of jobs
    /// dead-lettered above it, the counts resumed for jobs not taken in yet, and the jobs finished
    /// above it (taken in, or resumed finished and not taken in yet). Nil before any record.
    func commitPoint(_ partition: TopicPartition) -> CommittedOffset? {
        guard let state = partitions[partition], let (offset, metadata) = commitPoint(state) else { return nil }
        return CommittedOffset(offset: offset, metadata: metadata.encoded)
    }

    /// `commitPoint`'s offset and metadata, before the metadata is written out.
    private func commitPoint(_ state: PartitionState) -> (offset: Int64, metadata: CommitMetadata)? {
        guard let next = state.next else { return nil }
        let offset = state.order.first?.offset ?? next
        var attempts: [Int64: Int] = [:]
        var dead: Set<Int64> = []
        if state.carriedCount > 0 {
            for entry in state.order where entry.carried {
                // A dead-letter mark always (its record may carry any attempt); a count of a job
                // waiting to run again when it is past the record's own.
                if entry.deadLettered {
                    dead.insert(entry.offset)
                } else if entry.state != .done && entry.attempt > entry.recordAttempt {
                    attempts[entry.offset] = entry.attempt
                }
            }
        }
        // Counts and marks the last owner committed for jobs not fetched yet: dropping them here
        // would commit them away, and a crash would run those jobs from their first attempt again.
        for at in state.storedAhead where at >= offset {
            if let attempt = state.storedAttempts[at] { attempts[at] = attempt } else if state.storedDead.contains(at) { dead.insert(at) }
        }
        return (offset, CommitMetadata(attempts: attempts, dead: dead, finished: state.finishedAbove(next: next)))
    }

    /// The commit points that changed since they were last committed.
    func changedCommitPoints(_ only: [TopicPartition]? = nil) -> [TopicPartition: CommittedOffset] {
        var points: [TopicPartition: CommittedOffset] = [:]
        for partition in only ?? Array(partitions.keys) {
            guard let point = commitPoint(partition), point != partitions[partition]?.lastCommitted else { continue }
            points[partition] = point
        }
        return points
    }

    mutating func committed(_ points: [TopicPartition: CommittedOffset]) {
        for (partition, point) in points { partitions[partition]?.lastCommitted = point }
    }
}
