extension Broker {
    /// The name of the topic whose id (`TopicDescription.id`, a UUID string) is `id`; nil if none.
    /// Ids are stored as Foundation writes them, in upper case.
    public func topicName(id: String) -> String? {
        let wanted = id.uppercased()
        return topics.withLock { topics in topics.values.first { $0.metadata.id == wanted }?.metadata.name }
    }

    /// The id of topic `name`; nil if there is no such topic.
    public func topicId(_ name: String) -> String? {
        topics.withLock { $0[name]?.metadata.id }
    }
}
