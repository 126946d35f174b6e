/// One change of an IncrementalAlterConfigs request.
public struct ConfigAlteration: Equatable, Sendable {
    /// Kafka's `AlterConfigOp.OpType` codes.
    public enum Operation: Int8, Sendable {
        /// Set the value.
        case set = 0
        /// Remove the topic's value, so the default applies again.
        case delete = 1
        /// Add the items of `value` to a LIST config (those not there yet).
        case append = 2
        /// Remove the items of `value` from a LIST config.
        case subtract = 3
    }

    public var name: String
    public var operation: Operation
    /// Ignored by `.delete`; required by the others.
    public var value: String?

    public init(name: String, operation: Operation, value: String?) {
        self.name = name
        self.operation = operation
        self.value = value
    }

    /// Applies `alterations` to a topic's overrides, in order, checking each against the
    /// catalogue: unknown names and APPEND/SUBTRACT on a non-LIST config are `.invalidConfig`, a
    /// missing value or a name given twice is `.invalidRequest` (Kafka's errors). Values are
    /// validated later, with the whole set.
    static func apply(_ alterations: [ConfigAlteration], to overrides: [String: String]) throws(BrokerError) -> [String: String] {
        var seen = Set<String>()
        for alteration in alterations where !seen.insert(alteration.name).inserted {
            throw .invalidRequest("Error due to duplicate config keys: \(alteration.name)")
        }
        var result = overrides
        for alteration in alterations {
            let definition = try TopicConfigCatalogue.definition(alteration.name)
            if alteration.operation == .delete {
                result.removeValue(forKey: alteration.name)
                continue
            }
            guard let value = alteration.value else {
                throw .invalidRequest("Null value not supported for : \(alteration.name)")
            }
            switch alteration.operation {
            case .set:
                result[alteration.name] = value
            case .append, .subtract:
                guard definition.type == .list else {
                    throw .invalidConfig("Config value \(alteration.operation == .append ? "append" : "subtract") is not allowed for config key: \(alteration.name)")
                }
                let current = ConfigDefinition.listItems(result[alteration.name] ?? definition.defaultValue ?? "")
                let items = ConfigDefinition.listItems(value)
                let updated = alteration.operation == .append
                    ? current + items.filter { !current.contains($0) }
                    : current.filter { !items.contains($0) }
                result[alteration.name] = updated.joined(separator: ",")
            case .delete:
                preconditionFailure("handled above")
            }
        }
        return result
    }
}
