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

    /// The id of topic `name` whose deletion is pending (left by a storage error), as its marker
    /// holds it; nil if there is none or it cannot be read.
    public func pendingDeletionId(_ name: String) -> String? {
        topicStore.pendingDeletion(name)?.id
    }

    /// The name of the topic of id `id` whose deletion is pending, as its marker holds it; nil if
    /// there is none or it cannot be read.
    public func pendingDeletionName(id: String) -> String? {
        topicStore.pendingDeletion(id: id.uppercased())?.name
    }
}
