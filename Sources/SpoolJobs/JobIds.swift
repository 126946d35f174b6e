import Glibc
import Synchronization

/// Forks this process has gone through (counted in the child, by the `pthread_atfork` handler
/// `JobIds` registers): a source keyed before the latest one draws a new key first.
private let forks = Atomic<Int>(0)

/// Where job ids come from: random-looking version 4 UUIDs, made without a system call each.
/// The system generator is read once, for a 128-bit key; each id is then SipHash-2-4 of the next
/// two values of a counter under that key. Ids of one source differ while the counter does (the
/// hash is a pseudo-random function, so two alike is as likely as for random UUIDs), and ids of
/// two processes are as unrelated as their random keys; without the key, ids cannot be foretold.
///
/// A child process made by `fork()` shares its parent's key and counter: it draws a new random
/// key before its first id, so it never repeats the ids its parent goes on to draw.
final class JobIds: Sendable {
    /// The process's source.
    static let shared = JobIds(key: randomKey())

    private let key0: Atomic<UInt64>
    private let key1: Atomic<UInt64>
    /// The value of `forks` when the key was drawn.
    private let keyedAt: Atomic<Int>
    private let drawn = Atomic<UInt64>(0)

    /// Registers the fork handler once per process.
    private static let watchingForks: Bool = {
        pthread_atfork(nil, nil, { JobIds.childAfterFork() }) == 0
    }()

    init(key: (UInt64, UInt64)) {
        _ = Self.watchingForks
        key0 = Atomic(key.0)
        key1 = Atomic(key.1)
        keyedAt = Atomic(forks.load(ordering: .acquiring))
    }

    /// Runs in the child right after a fork (async-signal-safe: one atomic add).
    static func childAfterFork() { forks.add(1, ordering: .releasing) }

    private static func randomKey() -> (UInt64, UInt64) { (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max)) }

    /// The next id, in the usual upper-case text form.
    func next() -> String {
        let forked = forks.load(ordering: .acquiring)
        if forked != keyedAt.load(ordering: .acquiring) {
            // Ids drawn by another task at the same moment may use one half of each key: a key
            // no process has, so still not the parent's.
            let key = Self.randomKey()
            key0.store(key.0, ordering: .relaxed)
            key1.store(key.1, ordering: .relaxed)
            keyedAt.store(forked, ordering: .releasing)
        }
        let count = drawn.wrappingAdd(1, ordering: .relaxed).oldValue
        let hash = SipHash24(key: (key0.load(ordering: .relaxed), key1.load(ordering: .relaxed)))
        return Self.uuidText(hash.hash(count << 1), hash.hash(count << 1 | 1))
    }

    /// A version 4 UUID made of the 128 bits `drawnHigh` and `drawnLow` (less the version and
    /// variant bits), 8-4-4-4-12 upper-case hex digits.
    static func uuidText(_ drawnHigh: UInt64, _ drawnLow: UInt64) -> String {
        let high = (drawnHigh & ~UInt64(0xF000)) | 0x4000
        let low = (drawnLow & ~(UInt64(0xC) << 60)) | (UInt64(0x8) << 60)
        let digits: StaticString = "0123456789ABCDEF"
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for index in 0..<32 {
                if index == 8 || index == 12 || index == 16 || index == 20 { text[at] = UInt8(ascii: "-"); at += 1 }
                let word = index < 16 ? high : low
                text[at] = digits.utf8Start[Int(word >> UInt64(60 - (index % 16) * 4) & 0xF)]
                at += 1
            }
            return at
        }
    }
}
