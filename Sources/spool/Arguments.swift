/// A command line split into positional words and `--flag value` options, with the errors a
/// user should see when it is wrong.
struct Arguments {
    var positional: [String] = []
    var options: [String: String] = [:]
    /// Every value of a flag that may be repeated (`--header a=1 --header b=2`).
    var repeated: [String: [String]] = [:]
    var switches: Set<String> = []

    /// A mistake in how the command was called: printed with the usage, exit code 64.
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `words`; `valued` lists the flags that take a value, `flags` those that do not.
    init(_ words: ArraySlice<String>, valued: Set<String>, flags: Set<String> = []) throws {
        var rest = words[...]
        while let word = rest.popFirst() {
            guard word.hasPrefix("--") else {
                positional.append(word)
                continue
            }
            var name = String(word.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if flags.contains(name) || name == "help" {
                guard value == nil else { throw UsageError(description: "--\(name) takes no value") }
                switches.insert(name)
            } else if valued.contains(name) {
                guard let given = value ?? rest.popFirst() else { throw UsageError(description: "--\(name) needs a value") }
                options[name] = given
                repeated[name, default: []].append(given)
            } else {
                throw UsageError(description: "unknown option --\(name)")
            }
        }
    }

    var wantsHelp: Bool { switches.contains("help") }

    /// KEY=VALUE pairs of a repeatable flag.
    func pairs(_ name: String) throws -> [(String, String)] {
        try (repeated[name] ?? []).map { text in
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw UsageError(description: "--\(name) takes KEY=VALUE, not '\(text)'")
            }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
    }

    func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = options[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(description: "--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return value
    }
}
