import SpoolFormat

/// A config's type as DescribeConfigs reports it (Kafka's `ConfigType` codes, v3+).
public enum ConfigType: Int8, Sendable, CustomStringConvertible {
    case unknown = 0
    case boolean = 1
    case string = 2
    case int = 3
    case short = 4
    case long = 5
    case double = 6
    case list = 7
    case `class` = 8
    case password = 9

    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .boolean: "BOOLEAN"
        case .string: "STRING"
        case .int: "INT"
        case .short: "SHORT"
        case .long: "LONG"
        case .double: "DOUBLE"
        case .list: "LIST"
        case .class: "CLASS"
        case .password: "PASSWORD"
        }
    }
}

/// Where a described config's value comes from (Kafka's DescribeConfigs `ConfigSource` codes).
public enum ConfigSource: Int8, Sendable, CustomStringConvertible {
    case unknown = 0
    /// Set on the topic (CreateTopics, AlterConfigs, IncrementalAlterConfigs).
    case dynamicTopicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    /// Set when the broker was started (a `spool serve` flag or `BrokerConfig`).
    case staticBrokerConfig = 4
    /// Kafka's default, set by no one.
    case defaultConfig = 5
    case dynamicBrokerLoggerConfig = 6

    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .dynamicTopicConfig: "DYNAMIC_TOPIC_CONFIG"
        case .dynamicBrokerConfig: "DYNAMIC_BROKER_CONFIG"
        case .dynamicDefaultBrokerConfig: "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case .staticBrokerConfig: "STATIC_BROKER_CONFIG"
        case .defaultConfig: "DEFAULT_CONFIG"
        case .dynamicBrokerLoggerConfig: "DYNAMIC_BROKER_LOGGER_CONFIG"
        }
    }
}

/// The kinds of resource whose configs can be described and altered (Kafka's resource type codes).
public enum ConfigResourceType: Int8, Sendable {
    case topic = 2
    case broker = 4
}

/// One place a config's value could come from, most specific first (DescribeConfigs synonyms).
public struct ConfigSynonym: Equatable, Sendable {
    public var name: String
    public var value: String?
    public var source: ConfigSource

    public init(name: String, value: String?, source: ConfigSource) {
        self.name = name
        self.value = value
        self.source = source
    }
}

/// One config of a described resource, as a DescribeConfigs response carries it.
public struct ConfigEntry: Equatable, Sendable {
    public var name: String
    /// nil when the config has no value (or is sensitive).
    public var value: String?
    public var source: ConfigSource
    /// The value is Kafka's (or Spool's) default: set by neither the topic nor the broker.
    public var isDefault: Bool
    public var readOnly: Bool
    public var sensitive: Bool
    /// Where the value could come from, most specific first; the first is the one in effect.
    public var synonyms: [ConfigSynonym]
    public var type: ConfigType
    /// One line on what the config does and, where Spool differs from Kafka, what Spool does with it.
    public var documentation: String
}

/// The outcome for one resource of an admin request: Kafka's error code and message, as each
/// resource of a DescribeConfigs, AlterConfigs or CreatePartitions answer carries them.
public struct AdminOutcome: Equatable, Sendable {
    public var error: KafkaErrorCode
    /// nil on success.
    public var message: String?

    public static let success = AdminOutcome(error: .none, message: nil)

    public init(error: KafkaErrorCode, message: String?) {
        self.error = error
        self.message = message
    }

    init(_ error: BrokerError) {
        self.init(error: error.code, message: error.message)
    }
}

/// One resource's configs as DescribeConfigs answers them.
public struct DescribedConfigs: Equatable, Sendable {
    public var resourceType: ConfigResourceType
    public var resourceName: String
    public var outcome: AdminOutcome
    /// Empty when `outcome` is an error.
    public var entries: [ConfigEntry]
}
