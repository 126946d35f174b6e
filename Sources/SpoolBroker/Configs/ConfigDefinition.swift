/// One config Spool knows: its Kafka type, default, the values Kafka accepts, and what Spool
/// does with it.
public struct ConfigDefinition: Sendable {
    /// What Spool does with a config's value.
    public enum Support: Equatable, Sendable {
        /// The value changes how Spool behaves.
        case honoured
        /// Only some values can be honoured; others are refused with INVALID_CONFIG. The string
        /// says which.
        case restricted(String)
        /// Validated as Kafka validates it, stored and described, with no effect on Spool
        /// (replication, compaction, tiered storage and other things a single node does not do).
        case storedOnly
    }

    /// The values Kafka accepts, checked after the value parses as `type`.
    enum Validator: Sendable {
        case any
        /// A whole number in `min...max` (either end open).
        case range(min: Int64?, max: Int64?)
        case doubleRange(min: Double, max: Double)
        /// One of these strings (case-sensitive, as Kafka's `ValidString`).
        case oneOf([String])
        /// A list whose every item is one of these (Kafka's `ValidList.in`).
        case listOf([String])
        /// `*`, or `partition:broker` pairs (Kafka's `ThrottledReplicaListValidator`).
        case throttledReplicas
        /// A Kafka release or metadata version such as `3.0-IV1` (Kafka's `MetadataVersionValidator`).
        case kafkaVersion
        /// gzip's level: -1 (the codec's default) or 1 through 9.
        case gzipLevel
    }

    public let name: String
    public let type: ConfigType
    /// Kafka's default, as DescribeConfigs shows it (nil: no value).
    public let defaultValue: String?
    public let documentation: String
    public let support: Support
    /// Broker configs whose value becomes this one's default, most specific first (Kafka's
    /// `ServerTopicConfigSynonyms`).
    public let brokerSynonyms: [String]
    let validator: Validator
    /// Spool's own limit on top of Kafka's, when there is one: the message for a refused value, nil
    /// when the value is fine.
    let spoolCheck: (@Sendable (String) -> String?)?

    init(_ name: String, _ type: ConfigType, _ defaultValue: String?, _ validator: Validator = .any, _ support: Support = .storedOnly,
         synonyms: [String] = [], spoolCheck: (@Sendable (String) -> String?)? = nil, doc documentation: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.validator = validator
        self.support = support
        self.brokerSynonyms = synonyms
        self.spoolCheck = spoolCheck
        self.documentation = documentation
    }

    /// Whether Spool changes its behaviour for this config.
    public var isHonoured: Bool { support != .storedOnly }

    /// The value in the form Spool stores and describes: list items trimmed and joined by commas,
    /// booleans lower-cased, everything else as given. Throws `.invalidConfig` with Kafka's wording
    /// ("Invalid value X for configuration Y: …") when Kafka would refuse the value, or with
    /// Spool's reason when Spool cannot honour it.
    public func normalise(_ value: String) throws(BrokerError) -> String {
        func refuse(_ reason: String) -> BrokerError { .invalidConfig("Invalid value \(value) for configuration \(name): \(reason)") }
        let trimmed = value.trimmingWhitespace()
        var normalised = trimmed
        switch type {
        case .boolean:
            let lower = trimmed.lowercased()
            guard lower == "true" || lower == "false" else { throw refuse("Expected value to be either true or false") }
            normalised = lower
        case .int, .short, .long:
            let bounds: ClosedRange<Int64> = switch type {
            case .int: Int64(Int32.min)...Int64(Int32.max)
            case .short: Int64(Int16.min)...Int64(Int16.max)
            default: Int64.min...Int64.max
            }
            guard let number = Int64(trimmed), bounds.contains(number) else { throw refuse("Not a number of type \(type)") }
            normalised = String(number)
        case .double:
            guard let number = Double(trimmed), number.isFinite else { throw refuse("Not a number of type DOUBLE") }
            normalised = trimmed
            _ = number
        case .list:
            normalised = Self.listItems(trimmed).joined(separator: ",")
        default:
            break
        }
        if let reason = Self.check(validator, normalised) { throw refuse(reason) }
        if let spoolCheck, let reason = spoolCheck(normalised) { throw .invalidConfig("\(name)=\(value): \(reason)") }
        return normalised
    }

    /// The items of a LIST value: split at commas, trimmed, empty items dropped.
    static func listItems(_ value: String) -> [String] {
        value.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// Kafka's validators, with Kafka's messages. nil when the (normalised) value passes.
    private static func check(_ validator: Validator, _ value: String) -> String? {
        switch validator {
        case .any:
            return nil
        case let .range(min, max):
            guard let number = Int64(value) else { return "Not a number" }
            if let min, number < min { return "Value must be at least \(min)" }
            if let max, number > max { return "Value must be no more than \(max)" }
            return nil
        case let .doubleRange(min, max):
            guard let number = Double(value) else { return "Not a number" }
            if number < min { return "Value must be at least \(min)" }
            if number > max { return "Value must be no more than \(max)" }
            return nil
        case let .oneOf(allowed):
            return allowed.contains(value) ? nil : "String must be one of: \(allowed.joined(separator: ", "))"
        case let .listOf(allowed):
            let bad = listItems(value).filter { !allowed.contains($0) }
            return bad.isEmpty ? nil : "Invalid value \(bad.joined(separator: ",")) ; must be one of [\(allowed.joined(separator: ", "))]"
        case .throttledReplicas:
            let items = listItems(value)
            if items == ["*"] || items.isEmpty { return nil }
            let valid = items.allSatisfy { item in
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                return parts.count == 2 && parts.allSatisfy { Int32($0) != nil && !$0.hasPrefix("-") }
            }
            return valid ? nil : "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
        case .kafkaVersion:
            return isKafkaVersion(value) ? nil : "Version `\(value)` is not a valid version"
        case .gzipLevel:
            guard let level = Int(value), level == -1 || (1...9).contains(level) else { return "Value must be between 1 and 9, or equal to -1" }
            return nil
        }
    }

    /// A Kafka version as Kafka's `MetadataVersion.fromVersionString` reads it: `0.x.y` (three
    /// parts) before 1.0, `x.y` from 1.0, each with an optional `-IVn` on its last part; parts
    /// beyond those are ignored, as Kafka ignores them (`0.10.0.0` is `0.10.0`, `2.8.1` is `2.8`).
    private static func isKafkaVersion(_ value: String) -> Bool {
        let segments = value.split(separator: ".", omittingEmptySubsequences: false)
        let kept = value.hasPrefix("0.") ? 3 : 2
        guard segments.count >= kept else { return false }
        let key = Array(segments.prefix(kept))
        guard let last = key.last else { return false }
        let lastParts = last.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let numbers = key.dropLast() + [lastParts[0]]
        guard numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let major = Int(numbers[0]), major <= 3 else { return false }
        if lastParts.count == 2 {
            let suffix = lastParts[1]
            return suffix.hasPrefix("IV") && Int(suffix.dropFirst(2)) != nil
        }
        return true
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
