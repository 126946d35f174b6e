import SpoolFormat
import Synchronization

extension JobBook {
    /// A class, so the book changes a partition's entries in place (a struct taken out of the
    /// dictionary and written back would copy them on every change).
    ///
    /// Its stored properties, an entry's and a key line's are read and changed only under the
    /// book's lock, and none is passed `inout` to code that reaches it again, so they are not
    /// checked for exclusive access at run time (`@exclusivity(unchecked)`): those checks were
    /// 2.5 % of a worker's CPU, in taking jobs in and finishing them.
    final class PartitionState {
        let partition: TopicPartition
        let generation: Int
        /// The priority level of the partition's topic (`ReadyQueues.level(of:)`).
        let level: Int
        /// No longer the book's (revoked and forgotten, or given back as a new generation):
        /// tickets and wakes that still point here are stale. Its entries are let go then
        /// (`letEntriesGo`).
        @exclusivity(unchecked) var removed = false {
            didSet {
                guard removed && !oldValue else { return }
                owned.store(false, ordering: .releasing)
                letEntriesGo()
            }
        }
        /// Neither revoking nor removed: set under the book's lock, read without it by a runner
        /// that has just opened a job's lease (`Worker.holdsLease(_:of:)`).
        let owned = Atomic(true)
        /// The jobs taken in and not dropped, in offset order: the first is the commit point.
        @exclusivity(unchecked) var order = Fifo<Entry>()
        /// Jobs finished above the commit point whose entries were let go (`compactFinished`),
        /// as ranges of the offsets taken in (offsets in between hold no job), ascending and
        /// disjoint: a job waiting at the commit point then holds ranges, not every finished
        /// job's entry and record behind it.
        @exclusivity(unchecked) var finishedLetGo: [ClosedRange<Int64>] = []
        /// Each order key's line. A line that empties stays (a key's next job usually comes soon,
        /// and dropping it cost an allocation and two hashes per job) until `emptyKeyLinesMax`
        /// empty ones are swept.
        @exclusivity(unchecked) var keys: [String: KeyLine] = [:]
        @exclusivity(unchecked) var emptyKeyLines = 0
        /// Attempts to resume at, by offset, from the last commit's metadata.
        @exclusivity(unchecked) var storedAttempts: [Int64: Int]
        /// Jobs the last commit marked dead-lettered, by offset.
        @exclusivity(unchecked) var storedDead: Set<Int64>
        /// Offsets with a stored count or mark whose records have not been taken in yet, ascending:
        /// the commit keeps carrying them, and they take places under the bound, until they
        /// arrive or the partition's records move past them (deleted by retention, or the
        /// consumer reset beyond them: they never will).
        @exclusivity(unchecked) var storedAhead: ArraySlice<Int64>
        /// Jobs the last commit marked finished above its offset, not taken in yet: skipped when
        /// they arrive, carried by the commit until then.
        @exclusivity(unchecked) var storedFinished: [ClosedRange<Int64>]
        /// Jobs started (or resumed with a stored count) and not finished, and jobs dead-lettered
        /// above the commit point: the ones whose attempt counts the commit may have to carry
        /// (each marked `Entry.carried`). At most `carriedMax`, except right after an assignment
        /// whose metadata held more (written under another bound).
        @exclusivity(unchecked) var carriedCount = 0
        /// Ready jobs held back while `carriedCount` is at the bound, in the order they became ready.
        @exclusivity(unchecked) var held = Fifo<Entry>()
        /// The offset after the last record taken in.
        @exclusivity(unchecked) var next: Int64?
        @exclusivity(unchecked) var revoking = false { didSet { if revoking { owned.store(false, ordering: .releasing) } } }
        /// Not fetched (paused at the consumer) while its buffer is full: see `JobBook.adjustPauses`.
        @exclusivity(unchecked) var paused = false
        /// Jobs taken in and not finished (in `order`, not done): what the pause counts.
        @exclusivity(unchecked) var unfinished = 0
        @exclusivity(unchecked) var running = 0
        @exclusivity(unchecked) var lastCommitted: CommittedOffset?

        init(partition: TopicPartition, generation: Int, level: Int, stored: CommitMetadata, lastCommitted: CommittedOffset?) {
            self.partition = partition
            self.generation = generation
            self.level = level
            storedAttempts = stored.attempts
            storedDead = stored.dead
            storedAhead = ArraySlice(Set(stored.attempts.keys).union(stored.dead).sorted())
            storedFinished = stored.finished
            self.lastCommitted = lastCommitted
        }

        /// A partition freed without being removed (its book dropped) lets its entries go too.
        deinit { letEntriesGo() }

        /// Lets go of every entry, unlinked from its key's line and from the next job of its key
        /// first: a waiting entry and its line hold each other, so without this they, their
        /// records and the fetched batches behind them were never freed, and no entry is freed
        /// from inside another's deinit, however long its line. Runners' tickets and timers'
        /// wakes still hold theirs, which find the partition removed.
        private func letEntriesGo() {
            for entry in order {
                entry.nextOfKey = nil
                entry.keyLine = nil
            }
            order = Fifo()
            held = Fifo()
            keys = [:]
        }
    }
}

extension JobBook.PartitionState {
    /// Forgets the finished jobs at the front: the commit point moves past them, and past the
    /// ranges let go below it. Their entries go to `letGo` (see `JobBook.letGo`).
    func dropFinishedFront(into letGo: inout [JobBook.Entry]) {
        // Looked at in place and then moved out: bound from `first`, each entry was retained for
        // the binding and released after, besides the release of the one the queue held.
        while order.first?.state == .done, let entry = order.popFirst() {
            uncarry(entry)
            letGo.append(entry)
        }
        guard !finishedLetGo.isEmpty else { return }
        let point = order.first?.offset ?? next ?? Int64.max
        let below = finishedLetGo.prefix { $0.upperBound < point }.count
        if below > 0 { finishedLetGo.removeFirst(below) }
    }

    /// Lets go of the entries of jobs finished above the commit point (not carried: a
    /// dead-letter mark stays an entry), keeping them as offset ranges in `finishedLetGo`. The
    /// entries left are the unfinished jobs and the marks, which the pause and the attempt
    /// bound keep few.
    func compactFinished() {
        var kept = Fifo<JobBook.Entry>()
        var runs: [ClosedRange<Int64>] = []
        var run: ClosedRange<Int64>?
        for entry in order {
            if entry.state == .done && !entry.carried {
                run = run.map { $0.lowerBound...entry.offset } ?? entry.offset...entry.offset
                continue
            }
            if let finished = run { runs.append(finished) }
            run = nil
            kept.append(entry)
        }
        if let run { runs.append(run) }
        order = kept
        finishedLetGo = Self.union(finishedLetGo, runs)
    }

    /// The union of two ascending lists of disjoint ranges, ascending, touching ranges joined.
    static func union(_ first: [ClosedRange<Int64>], _ second: [ClosedRange<Int64>]) -> [ClosedRange<Int64>] {
        guard !first.isEmpty else { return second }
        guard !second.isEmpty else { return first }
        var merged: [ClosedRange<Int64>] = []
        merged.reserveCapacity(first.count + second.count)
        for range in (first + second).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound || range.lowerBound == last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// The key's last waiting job finished: its line stays, empty, until the empty ones are too
    /// many.
    func lineEmptied() {
        emptyKeyLines += 1
        guard emptyKeyLines > JobBook.emptyKeyLinesMax else { return }
        keys = keys.filter { !$0.value.isEmpty }
        emptyKeyLines = 0
    }

    /// Counts the job among those whose attempt counts the commit may have to carry.
    func carry(_ entry: JobBook.Entry) {
        guard !entry.carried else { return }
        entry.carried = true
        carriedCount += 1
    }

    func uncarry(_ entry: JobBook.Entry) {
        guard entry.carried else { return }
        entry.carried = false
        carriedCount -= 1
    }

    /// Whether the last commit marked `offset` finished; drops the marks below it (records come
    /// in offset order, so those will not come).
    func takeStoredFinished(_ offset: Int64) -> Bool {
        guard !storedFinished.isEmpty else { return false }
        let below = storedFinished.prefix { $0.upperBound < offset }.count
        if below > 0 { storedFinished.removeFirst(below) }
        return storedFinished.first?.contains(offset) ?? false
    }

    /// The jobs that succeeded (or were cancelled, or resumed finished) above the commit point, as
    /// ranges of the offsets taken in (offsets in between hold no job), with the ranges let go,
    /// then the marks resumed for offsets not taken in yet.
    func finishedAbove(next: Int64) -> [ClosedRange<Int64>] {
        var ranges: [ClosedRange<Int64>] = []
        var run: ClosedRange<Int64>?
        for entry in order {
            let offset = entry.offset
            // A job dead-lettered here is carried with its mark (`DeadLetterMarks`) instead.
            if entry.state == .done && !entry.carried {
                run = run.map { $0.lowerBound...offset } ?? offset...offset
            } else if let finished = run {
                ranges.append(finished)
                run = nil
            }
        }
        if let run { ranges.append(run) }
        ranges = Self.union(ranges, finishedLetGo)
        for stored in storedFinished where stored.upperBound >= next {
            let lower = max(stored.lowerBound, next)
            if let last = ranges.last, last.upperBound + 1 >= lower {
                ranges[ranges.count - 1] = last.lowerBound...stored.upperBound
            } else {
                ranges.append(lower...stored.upperBound)
            }
        }
        return ranges
    }
}
