import Synchronization

/// Where job ids come from: random-looking version 4 UUIDs, made without a system call each.
/// The system generator is read once, for a 128-bit key; each id is then SipHash-2-4 of the next
/// two values of a counter under that key. Ids of one source differ while the counter does (the
/// hash is a pseudo-random function, so two alike is as likely as for random UUIDs), and ids of
/// two processes are as unrelated as their random keys; without the key, ids cannot be foretold.
final class JobIds: Sendable {
    /// The process's source.
    static let shared = JobIds(key: (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max)))

    private let hash: SipHash24
    private let drawn = Atomic<UInt64>(0)

    init(key: (UInt64, UInt64)) { hash = SipHash24(key: key) }

    /// The next id, in the usual upper-case text form.
    func next() -> String {
        let count = drawn.wrappingAdd(1, ordering: .relaxed).oldValue
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
