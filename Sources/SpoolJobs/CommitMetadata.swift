/// What a worker's commit carries beside the offset, in its metadata: the attempt counts of jobs
/// waiting to run again (`AttemptMetadata`), the jobs dead-lettered above the commit point
/// (`DeadLetterMarks`) and the jobs already finished above it (`FinishedMarks`), as
/// space-separated sections: "spool-attempts:OFFSET=ATTEMPT,… spool-dead:OFFSET,… spool-done:FIRST-LAST,OFFSET,…".
///
/// Kafka limits metadata to 4096 bytes (offset.metadata.max.bytes) and refuses the whole commit
/// past it (OFFSET_METADATA_TOO_LARGE), as Spool's broker does. Counts and dead-letter marks come
/// first and always fit (see `AttemptMetadata.countsMax`); finished marks take the room left, lowest offsets first, and
/// the ones that do not fit are left out: those jobs run again under the next owner (at least
/// once), as every finished job above the commit point did before marks existed.
struct CommitMetadata: Equatable {
    static let bytesMax = 4000

    var attempts: [Int64: Int] = [:]
    /// Offsets of jobs dead-lettered above the commit point.
    var dead: Set<Int64> = []
    /// Offset ranges whose jobs have all finished, ascending and disjoint.
    var finished: [ClosedRange<Int64>] = []

    init(attempts: [Int64: Int] = [:], dead: Set<Int64> = [], finished: [ClosedRange<Int64>] = []) {
        self.attempts = attempts
        self.dead = dead
        self.finished = finished
    }

    /// Reads what a commit's metadata carries; sections it does not know are left out. A NUL
    /// ends a section as a space does: confluent-kafka's Python client sends the metadata with the
    /// C string's NUL at its end, which made the last section unreadable (its marks were lost).
    init(decoding text: String) {
        for section in text.split(whereSeparator: { $0 == " " || $0 == "\0" }) {
            if section.hasPrefix(AttemptMetadata.prefix) {
                attempts = AttemptMetadata.decode(String(section))
            } else if section.hasPrefix(DeadLetterMarks.prefix) {
                dead = DeadLetterMarks.decode(section.dropFirst(DeadLetterMarks.prefix.count))
            } else if section.hasPrefix(FinishedMarks.prefix) {
                finished = FinishedMarks.decode(section.dropFirst(FinishedMarks.prefix.count))
            }
        }
    }

    var encoded: String {
        let carried = carried
        let marks = FinishedMarks.encode(finished, within: Self.room(after: carried))
        return carried.isEmpty || marks.isEmpty ? carried + marks : carried + " " + marks
    }

    /// Jobs of the finished ranges `encoded` has no room for, counted as the offsets the ranges
    /// span: a next owner runs them again.
    var finishedLeftOut: Int {
        finished.dropFirst(FinishedMarks.fitting(finished, within: Self.room(after: carried))).reduce(0) { $0 + $1.count }
    }

    /// The counts and the dead-letter marks, which always go in.
    private var carried: String {
        [AttemptMetadata.encode(attempts), DeadLetterMarks.encode(dead)].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// What the finished marks may take beside `carried` (and the space between).
    private static func room(after carried: String) -> Int { bytesMax - carried.utf8.count - (carried.isEmpty ? 0 : 1) }
}

/// Attempt counts of jobs that failed and wait to run again ("spool-attempts:OFFSET=ATTEMPT,…"),
/// so a crash neither loses nor grants attempts.
///
/// `countsMax` counts with the widest offsets, so a book that keeps each partition within it always
/// fits, dead-letter marks among them; should more arrive (counts stored under a larger
/// `maxAttempts`), the oldest jobs are kept.
enum AttemptMetadata {
    static let prefix = "spool-attempts:"
    static let bytesMax = CommitMetadata.bytesMax
    /// Digits of the largest offset (Int64.max).
    static let offsetDigitsMax = 19

    /// How many counts and dead-letter marks together always fit: a count takes the widest
    /// offset, "=", the count and ","; a mark less (the offset and ","); the marks' section takes
    /// its prefix and a space.
    static func countsMax(attemptsMax: Int) -> Int {
        let entryBytes = offsetDigitsMax + 1 + String(max(1, attemptsMax)).utf8.count + 1
        // The last entry has no comma.
        return (bytesMax - prefix.utf8.count - DeadLetterMarks.prefix.utf8.count - 1 + 1) / entryBytes
    }

    static func encode(_ attempts: [Int64: Int]) -> String {
        guard !attempts.isEmpty else { return "" }
        var text = prefix
        for (offset, attempt) in attempts.sorted(by: { $0.key < $1.key }) {
            let item = (text == prefix ? "" : ",") + "\(offset)=\(attempt)"
            if text.utf8.count + item.utf8.count > bytesMax { break }
            text += item
        }
        return text
    }

    /// The counts of the metadata's attempts section (the whole text, or the section alone).
    static func decode(_ text: String) -> [Int64: Int] {
        guard let section = text.split(separator: " ").first(where: { $0.hasPrefix(prefix) }) else { return [:] }
        var attempts: [Int64: Int] = [:]
        for item in section.dropFirst(prefix.count).split(separator: ",") {
            let parts = item.split(separator: "=")
            if parts.count == 2, let offset = Int64(parts[0]), let attempt = Int(parts[1]), attempt >= 1 { attempts[offset] = attempt }
        }
        return attempts
    }
}

/// Jobs dead-lettered above the commit point ("spool-dead:OFFSET,…"): a job of another key below
/// them was unfinished when the commit was made. The next owner of the partition finishes them
/// without running them again. Apart from the counts, so that a count stays a count whatever
/// `maxAttempts` the next owner has. Earlier versions wrote a mark as the count `maxAttempts + 1`,
/// so a worker with a lower `maxAttempts` took a count for a mark (and dropped the job), and one
/// with a higher took a mark for a count (and ran a dead job again). Such a count past the last
/// attempt is dead-lettered now, perhaps a second time (`Worker.execute`).
enum DeadLetterMarks {
    static let prefix = "spool-dead:"

    /// The offsets, lowest first; "" for none.
    static func encode(_ offsets: Set<Int64>) -> String {
        guard !offsets.isEmpty else { return "" }
        return prefix + offsets.sorted().map { String($0) }.joined(separator: ",")
    }

    static func decode(_ text: Substring) -> Set<Int64> {
        Set(text.split(separator: ",").compactMap { Int64($0) }.filter { $0 >= 0 })
    }
}

/// Jobs finished above the commit point ("spool-done:FIRST-LAST,OFFSET,…"): a job of another key
/// below them was still running or waiting to retry when the commit was made. The next owner of
/// the partition (after a rebalance, a stop or a crash past that commit) skips them instead of
/// running them again.
enum FinishedMarks {
    static let prefix = "spool-done:"

    /// The ranges, lowest first, as many as fit in `bytes`; "" for none.
    static func encode(_ ranges: [ClosedRange<Int64>], within bytes: Int) -> String {
        let fit = fitting(ranges, within: bytes)
        return fit == 0 ? "" : prefix + ranges.prefix(fit).map(item).joined(separator: ",")
    }

    /// How many of the ranges, lowest first, fit in `bytes` (with the prefix and the commas).
    static func fitting(_ ranges: [ClosedRange<Int64>], within bytes: Int) -> Int {
        var used = prefix.utf8.count
        for (index, range) in ranges.enumerated() {
            used += (index == 0 ? 0 : 1) + item(range).utf8.count
            if used > bytes { return index }
        }
        return ranges.count
    }

    private static func item(_ range: ClosedRange<Int64>) -> String {
        range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"
    }

    static func decode(_ text: Substring) -> [ClosedRange<Int64>] {
        var ranges: [ClosedRange<Int64>] = []
        for item in text.split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let first = Int64(bounds[0]), first >= 0,
                  let last = bounds.count == 2 ? Int64(bounds[1]) : first, last >= first,
                  first > ranges.last?.upperBound ?? -1 else { continue }
            ranges.append(first...last)
        }
        return ranges
    }
}
