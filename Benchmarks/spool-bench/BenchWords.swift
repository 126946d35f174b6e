/// The words after a benchmark's name. `next()` handles the flags every benchmark shares
/// (`--dir DIR`, `--json`, `--help`) and hands back the others for the benchmark's own options.
struct BenchWords {
    private var rest: ArraySlice<String>
    var directory = ".bench-tmp"
    var json = false
    var help = false

    init(_ words: ArraySlice<String>) { rest = words }

    /// The next flag that is not a shared one, or nil when the words run out.
    mutating func next() throws -> String? {
        while let word = rest.popFirst() {
            switch word {
            case "--json": json = true
            case "--help", "-h": help = true
            case "--dir":
                guard let text = rest.popFirst(), !text.isEmpty else { throw UsageError("--dir needs a directory") }
                directory = text
            default: return word
            }
        }
        return nil
    }

    /// The value after `flag`, a whole number in `range`.
    mutating func number(_ flag: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let text = rest.popFirst(), let value = Int(text), range.contains(value) else {
            throw UsageError("\(flag) needs a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The value after `flag`.
    mutating func value(_ flag: String) throws -> String {
        guard let text = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
        return text
    }
}
