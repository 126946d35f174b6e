extension Broker {
    /// The name of the topic whose id (`TopicDescription.id`, a UUID string) is `id`; nil if none.
    public func topicName(id: String) -> String? {
        let wanted = id.uppercased()
        return topics.withLock { topics in topics.values.first { $0.metadata.id.uppercased() == wanted }?.metadata.name }
    }

    /// The id of topic `name`; nil if there is no such topic.
    public func topicId(_ name: String) -> String? {
        topics.withLock { $0[name]?.metadata.id }
    }
}
