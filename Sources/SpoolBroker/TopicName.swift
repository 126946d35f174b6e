/// Topic names follow Kafka's rules: 1-249 characters from [a-zA-Z0-9._-], not "." or "..".
/// They become directory names (`TOPIC-N/`), which is why the rules matter.
public enum TopicName {
    public static let lengthMax = 249

    /// The name with '.' and '_' made one: two topics whose names give the same key collide, as
    /// Kafka's `Topic.unifyCollisionChars` has it.
    static func collisionKey(_ name: String) -> String {
        String(name.map { $0 == "." ? "_" : $0 })
    }

    public static func validate(_ name: String) throws(BrokerError) {
        guard !name.isEmpty else { throw .invalidTopic(name: name, reason: "the name is empty") }
        guard name.utf8.count <= lengthMax else {
            throw .invalidTopic(name: String(name.prefix(40)) + "…", reason: "longer than \(lengthMax) characters")
        }
        guard name != "." && name != ".." else { throw .invalidTopic(name: name, reason: "'.' and '..' are not allowed") }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard allowed else {
            throw .invalidTopic(name: name, reason: "only ASCII letters, digits, '.', '_' and '-' are allowed")
        }
        guard !name.hasPrefix("__") else { throw .invalidTopic(name: name, reason: "names starting with '__' are internal") }
    }
}
