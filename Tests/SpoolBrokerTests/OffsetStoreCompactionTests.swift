import SpoolFormat
import Dispatch
import Foundation
@testable import SpoolBroker
import SpoolSystem
import SpoolTestSupport
import Synchronization
import Testing

/// Compaction of the offsets log running beside commits and deletions. The store's hooks stop a
/// commit between its append and its being applied, and a compaction after its roll and after it
/// has taken its snapshot, so each test forces one interleaving rather than hoping for it; after
/// the race the store is reopened and must hold the last acknowledged value of every key.
@Suite struct OffsetStoreCompactionTests {
    /// Where a commit is appended relative to the compaction.
    enum Phase: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// Before the roll: its record lies in a segment the compaction deletes.
        case beforeRoll
        /// After the roll, before the snapshot is taken: its record lies below the snapshot's.
        case afterRoll
        /// After the snapshot is taken, before it is written: the snapshot holds the value before it.
        case afterSnapshot

        var testDescription: String { rawValue }
    }

    @Test(arguments: Phase.allCases)
    func aCommitRacingCompactionIsWhatARestartReads(phase: Phase) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let race = Race()
        var store = try race.open(data.path)
        let key = OffsetStore.Key(group: "g", topicPartition: TopicPartition("jobs", 0))
        let other = OffsetStore.Key(group: "g", topicPartition: TopicPartition("jobs", 1))
        try await store.commit([(key, CommittedOffset(offset: 1)), (other, CommittedOffset(offset: 10))])

        try await race.run(store, commits: [(phase, key, CommittedOffset(offset: 2))])

        #expect(store.committed(group: "g")[key.topicPartition]?.offset == 2)
        try store.close()
        store = try race.open(data.path)
        #expect(store.committed(group: "g") == [key.topicPartition: CommittedOffset(offset: 2), other.topicPartition: CommittedOffset(offset: 10)])
        try store.close()
    }

    @Test(arguments: Phase.allCases)
    func aGroupDeletedWhileCompactionRunsStaysDeleted(phase: Phase) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let race = Race()
        var store = try race.open(data.path)
        let gone = (0..<3).map { OffsetStore.Key(group: "gone", topicPartition: TopicPartition("jobs", Int32($0))) }
        let kept = OffsetStore.Key(group: "kept", topicPartition: TopicPartition("jobs", 0))
        try await store.commit(gone.map { ($0, CommittedOffset(offset: 5)) } + [(kept, CommittedOffset(offset: 7))])

        try await race.run(store, commits: [(phase, gone[0], nil)], deleting: gone)

        #expect(store.groups() == ["kept"])
        try store.close()
        store = try race.open(data.path)
        #expect(store.groups() == ["kept"])
        #expect(store.committed(group: "kept") == [kept.topicPartition: CommittedOffset(offset: 7)])
        try store.close()
    }

    /// Many rounds of commits and deletions started and released at seeded points of a compaction;
    /// after every round the store, and the store reopened, hold exactly what was acknowledged.
    @Test func seededInterleavingsKeepEveryAcknowledgedChange() async throws {
        for seed in UInt64(1)...40 {
            let data = TestDataDirectory("seeded\(seed)")
            defer { data.remove() }
            var generator = SplitMix64(seed: seed)
            let race = Race()
            var store = try race.open(data.path)
            let keys = (0..<6).map { OffsetStore.Key(group: "g\($0 % 2)", topicPartition: TopicPartition("t", Int32($0))) }
            var model: [OffsetStore.Key: Int64] = [:]
            var next: Int64 = 1
            for round in 0..<4 {
                let chosen = keys.shuffled(using: &generator).prefix(Int.random(in: 1...keys.count, using: &generator))
                var plan: [Race.Step] = []
                for key in chosen {
                    let value: CommittedOffset? = Int.random(in: 0..<4, using: &generator) == 0 ? nil : CommittedOffset(offset: next)
                    next += 1
                    let start = Int.random(in: 0...2, using: &generator)
                    let pauses = Bool.random(using: &generator)
                    plan.append(Race.Step(key: key, value: value, start: start,
                                          release: pauses ? Int.random(in: start...3, using: &generator) : nil))
                }
                try await race.run(store, plan: plan, order: &generator)
                for step in plan { model[step.key] = step.value?.offset }
                let expected = model.compactMapValues { $0 }
                let context: Comment = "seed \(seed), round \(round)"
                let before = Self.contents(store, keys)
                try store.close()
                store = try race.open(data.path)
                let after = Self.contents(store, keys)
                #expect(before == expected, context)
                #expect(after == expected, context)
                #expect(store.groups() == Set(expected.keys.map(\.group)), context)
                // Later rounds would only repeat the first difference.
                if before != expected || after != expected { break }
            }
            try store.close()
        }
    }

    @Test func theSegmentsGoOnlyOnceTheRecordsReplacingThemAreOnDisk() async throws {
        // Every key changes after the snapshot is taken, so no chunk of it is appended: the
        // compaction must still wait for those changes to be on disk before it deletes the
        // segments that held the keys' earlier values, or a power cut then loses the keys.
        let data = TestDataDirectory()
        defer { data.remove() }
        let disk = FaultInjectingFileSystem()
        let gate = DispatchSemaphore(value: 0)
        let store = Mutex<OffsetStore?>(nil)
        let changing = Mutex<Task<Void, any Error>?>(nil)
        let seenAtDeletion = Mutex<(durable: Int64, end: Int64)?>(nil)
        var hooks = OffsetStore.Hooks()
        let key = OffsetStore.Key(group: "g", topicPartition: TopicPartition("jobs", 0))
        hooks.compactionSnapshotTaken = {
            guard let opened = store.withLock({ $0 }) else { return }
            // From now on the disk holds every sync back; the key's change is appended, not synced.
            disk.syncGate.withLock { $0 = gate }
            let end = opened.log.logEndOffset
            changing.withLock { $0 = Task { try await opened.commit([(key, CommittedOffset(offset: 2))]) } }
            for _ in 0..<500 where opened.log.logEndOffset == end { try? await Task.sleep(for: .milliseconds(2)) }
        }
        hooks.compactionDeleting = {
            guard let opened = store.withLock({ $0 }) else { return }
            seenAtDeletion.withLock { $0 = (opened.log.durableOffset, opened.log.logEndOffset) }
        }
        let opened = try OffsetStore(dataDirectory: data.path, fileSystem: disk, clock: { 1_764_370_000_000 },
                                     compactionBytesMax: Int.max, snapshotChunkRecords: 2, hooks: hooks)
        store.withLock { $0 = opened }
        try await opened.commit([(key, CommittedOffset(offset: 1))])
        let compaction = Task { await opened.compact() }
        // Until the disk syncs again, the deletion must not come.
        for _ in 0..<100 where seenAtDeletion.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(5)) }
        let early = seenAtDeletion.withLock { $0 }
        disk.syncGate.withLock { $0 = nil }
        gate.signal()
        await compaction.value
        try await changing.withLock { $0 }?.value
        #expect(early == nil, "segments deleted while the records replacing them were not on disk: \(String(describing: early))")
        let seen = try #require(seenAtDeletion.withLock { $0 })
        #expect(seen.durable == seen.end)
        #expect(opened.committed(group: "g")[key.topicPartition]?.offset == 2)
        try opened.close()
    }

    private static func contents(_ store: OffsetStore, _ keys: [OffsetStore.Key]) -> [OffsetStore.Key: Int64] {
        var result: [OffsetStore.Key: Int64] = [:]
        for group in Set(keys.map(\.group)) {
            for (topicPartition, committed) in store.committed(group: group) {
                result[OffsetStore.Key(group: group, topicPartition: topicPartition)] = committed.offset
            }
        }
        return result
    }
}

/// Drives one compaction and the commits racing it, stopping each at the store's hooks.
private final class Race: Sendable {
    /// One change: started at phase `start`, held before being applied until phase `release`
    /// (nil: not held). Phases: 0 before the compaction starts, 1 after its roll, 2 after its
    /// snapshot is taken, 3 after it finished.
    struct Step {
        var key: OffsetStore.Key
        var value: CommittedOffset?
        var start: Int
        var release: Int?
    }

    private let heldCommits = Mutex<[OffsetStore.Key: Gate]>([:])
    private let rolled = Mutex<Gate?>(nil)
    private let snapshotTaken = Mutex<Gate?>(nil)

    func open(_ directory: String) throws -> OffsetStore {
        var hooks = OffsetStore.Hooks()
        hooks.commitDurable = { [self] keys in
            guard let first = keys.first, let gate = heldCommits.withLock({ $0.removeValue(forKey: first) }) else { return }
            await gate.pass()
        }
        hooks.compactionRolled = { [self] in await rolled.withLock { $0.take() }?.pass() }
        hooks.compactionSnapshotTaken = { [self] in await snapshotTaken.withLock { $0.take() }?.pass() }
        return try OffsetStore(dataDirectory: directory, fileSystem: LiveFileSystem(), clock: { 1_764_370_000_000 },
                               compactionBytesMax: Int.max, snapshotChunkRecords: 2, hooks: hooks)
    }

    /// Each commit starts at its phase and is held until the compaction has finished.
    func run(_ store: OffsetStore, commits: [(OffsetStoreCompactionTests.Phase, OffsetStore.Key, CommittedOffset?)],
             deleting extra: [OffsetStore.Key] = []) async throws {
        let plan = commits.map { phase, key, value in
            let start = switch phase {
            case .beforeRoll: 0
            case .afterRoll: 1
            case .afterSnapshot: 2
            }
            return Step(key: key, value: value, start: start, release: 3)
        }
        var generator = SplitMix64(seed: 0)
        try await run(store, plan: plan, order: &generator, extraDeletions: extra)
    }

    /// Runs one compaction through its phases, starting and releasing the plan's changes at theirs
    /// (releases within a phase in an order drawn from `order`). A change the plan does not hold
    /// is awaited as soon as it starts.
    func run(_ store: OffsetStore, plan: [Step], order: inout SplitMix64, extraDeletions: [OffsetStore.Key] = []) async throws {
        let rolledGate = Gate()
        let snapshotGate = Gate()
        rolled.withLock { $0 = rolledGate }
        snapshotTaken.withLock { $0 = snapshotGate }
        var running: [Int: Task<Void, any Error>] = [:]
        var held: [Int: Gate] = [:]
        var compaction: Task<Void, Never>?
        for phase in 0...3 {
            switch phase {
            case 1:
                compaction = Task { await store.compact() }
                await rolledGate.reached()
            case 2:
                rolledGate.open()
                await snapshotGate.reached()
            case 3:
                snapshotGate.open()
                await compaction?.value
            default:
                break
            }
            for (index, step) in plan.enumerated() where step.start == phase {
                let gate = step.release.map { _ in Gate() }
                if let gate { heldCommits.withLock { $0[step.key] = gate } }
                var changes: [(OffsetStore.Key, CommittedOffset?)] = [(step.key, step.value)]
                if step.value == nil { changes += extraDeletions.filter { $0 != step.key }.map { ($0, nil) } }
                let task = Task { [changes] in try await store.commit(changes) }
                if let gate {
                    await gate.reached()
                    held[index] = gate
                    running[index] = task
                } else {
                    try await task.value
                }
            }
            let releases = plan.indices.filter { plan[$0].release == phase }.shuffled(using: &order)
            for index in releases {
                held[index]?.open()
                try await running[index]?.value
            }
        }
        for task in running.values { try await task.value }
    }
}

/// A point where a hook waits until the test opens it; the test can wait for the hook to arrive.
private final class Gate: Sendable {
    private struct State {
        var arrived = false
        var isOpen = false
        var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
        var passers: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Records the arrival and waits until the gate is opened.
    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (waiters, passNow) = state.withLock { state in
                state.arrived = true
                defer { state.arrivalWaiters = [] }
                if state.isOpen { return (state.arrivalWaiters, true) }
                state.passers.append(continuation)
                return (state.arrivalWaiters, false)
            }
            for waiter in waiters { waiter.resume() }
            if passNow { continuation.resume() }
        }
    }

    /// Waits until a hook has arrived at the gate.
    func reached() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.arrived { return true }
                state.arrivalWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets every waiting and later hook through.
    func open() {
        let passers = state.withLock { state in
            state.isOpen = true
            defer { state.passers = [] }
            return state.passers
        }
        for passer in passers { passer.resume() }
    }
}

/// A small seeded generator (SplitMix64), so a failing round can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
