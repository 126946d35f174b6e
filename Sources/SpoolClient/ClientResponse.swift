/// What the client tells its callers of the cluster and of a group's commits.
public enum ClientResponse {
    public struct Broker: Sendable, Equatable {
        public var nodeId: Int32
        public var host: String
        public var port: Int32
    }

    public struct PartitionMetadata: Sendable, Equatable {
        public var partition: Int32
        public var leader: Int32
        public var errorCode: Int16
    }

    public struct TopicMetadata: Sendable, Equatable {
        public var name: String
        public var errorCode: Int16
        public var partitions: [PartitionMetadata]
    }

    public struct Metadata: Sendable, Equatable {
        public var brokers: [Broker]
        public var controllerId: Int32
        public var topics: [TopicMetadata]
    }

    /// A committed offset (-1 where the group committed nothing).
    public struct Committed: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var metadata: String?
        public var errorCode: Int16
    }
}
