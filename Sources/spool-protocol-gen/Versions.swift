import Foundation

/// A schema's version set: "0+", "3-7", "5" or "none".
struct Versions: Equatable, CustomStringConvertible {
    var lowest: Int
    /// nil: open-ended ("3+").
    var highest: Int?
    var isNone: Bool { lowest > (highest ?? Int.max) }

    static let none = Versions(lowest: 1, highest: 0)
    static let all = Versions(lowest: 0, highest: nil)

    init(lowest: Int, highest: Int?) {
        self.lowest = lowest
        self.highest = highest
    }

    init(parsing text: String, in context: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "none" {
            self = .none
        } else if trimmed.hasSuffix("+"), let low = Int(trimmed.dropLast()) {
            self.init(lowest: low, highest: nil)
        } else if let dash = trimmed.firstIndex(of: "-"), let low = Int(trimmed[..<dash]), let high = Int(trimmed[trimmed.index(after: dash)...]) {
            self.init(lowest: low, highest: high)
        } else if let only = Int(trimmed) {
            self.init(lowest: only, highest: only)
        } else {
            throw GeneratorError("\(context): cannot read versions '\(text)'")
        }
    }

    func contains(_ version: Int) -> Bool { !isNone && version >= lowest && version <= (highest ?? Int.max) }

    func intersection(_ other: Versions) -> Versions {
        let low = max(lowest, other.lowest)
        let high: Int? = switch (highest, other.highest) {
        case let (a?, b?): min(a, b)
        case let (a?, nil): a
        case let (nil, b?): b
        case (nil, nil): nil
        }
        return Versions(lowest: low, highest: high)
    }

    var description: String {
        if isNone { return "none" }
        guard let highest else { return "\(lowest)+" }
        return lowest == highest ? "\(lowest)" : "\(lowest)-\(highest)"
    }

    /// A Swift condition on `version` that holds for these versions within `valid` (the message's
    /// versions): "true" when it holds for all of them, "false" for none.
    func condition(within valid: Versions) -> String {
        let effective = intersection(valid)
        if effective.isNone { return "false" }
        if effective == valid { return "true" }
        let lowBound = effective.lowest > valid.lowest
        let highBound = effective.highest != nil && effective.highest != valid.highest
        switch (lowBound, highBound) {
        case (true, true):
            return effective.lowest == effective.highest ? "version == \(effective.lowest)" : "(\(effective.lowest)...\(effective.highest ?? 0)).contains(version)"
        case (true, false): return "version >= \(effective.lowest)"
        case (false, true): return "version <= \(effective.highest ?? 0)"
        case (false, false): return "true"
        }
    }
}
