/// The APIs Spool's codec covers: the ones the broker serves and its client sends. Both the
/// request and the response schema of each are generated, for every version Kafka 3.9 defines;
/// what the broker serves of them is decided in SpoolServer (`ServedApis`).
enum Catalogue {
    static let apis = [
        "Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup", "Heartbeat",
        "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords",
        "InitProducerId", "OffsetForLeaderEpoch", "DescribeConfigs", "AlterConfigs", "DescribeLogDirs", "CreatePartitions",
        "DeleteGroups", "IncrementalAlterConfigs", "OffsetDelete", "DescribeCluster", "DescribeProducers",
    ]

    /// Schemas of other kinds generated too.
    static let headers = ["RequestHeader", "ResponseHeader"]
}
