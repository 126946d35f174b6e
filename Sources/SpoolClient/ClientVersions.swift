import SpoolWire

/// The versions of each API Spool's own client can send. The highest is the newest non-flexible
/// version, which Spool serves and Kafka 2.x-4.x brokers do too; the client sends the highest
/// version both it and the broker (by its ApiVersions answer) support.
public enum ClientVersions {
    public static let apiVersions: Int16 = 2
    public static let metadata: Int16 = 8
    public static let produce: Int16 = 8
    public static let fetch: Int16 = 11
    public static let listOffsets: Int16 = 5
    public static let findCoordinator: Int16 = 2
    public static let joinGroup: Int16 = 5
    public static let syncGroup: Int16 = 3
    public static let heartbeat: Int16 = 3
    public static let leaveGroup: Int16 = 3
    public static let offsetCommit: Int16 = 7
    public static let offsetFetch: Int16 = 5
    public static let initProducerId: Int16 = 1
    public static let createTopics: Int16 = 4
    public static let deleteTopics: Int16 = 3
    public static let listGroups: Int16 = 2
    public static let describeGroups: Int16 = 4

    /// The versions the client can send of each API it uses. The lower bounds are where the
    /// client's use of the API starts to work: Metadata 4 (auto-creation flag), Produce 3 and
    /// Fetch 4 (record batches v2), OffsetFetch 2 (all of a group's offsets), JoinGroup 1
    /// (rebalance timeout).
    public static let supported: [ApiKey: ClosedRange<Int16>] = [
        .apiVersions: 0...apiVersions,
        .metadata: 4...metadata,
        .produce: 3...produce,
        .fetch: 4...fetch,
        .listOffsets: 1...listOffsets,
        .findCoordinator: 1...findCoordinator,
        .joinGroup: 1...joinGroup,
        .syncGroup: 0...syncGroup,
        .heartbeat: 0...heartbeat,
        .leaveGroup: 0...leaveGroup,
        .offsetCommit: 2...offsetCommit,
        .offsetFetch: 2...offsetFetch,
        .initProducerId: 0...initProducerId,
        .createTopics: 2...createTopics,
        .deleteTopics: 1...deleteTopics,
        .listGroups: 0...listGroups,
        .describeGroups: 0...describeGroups,
    ]

    /// The highest version both the client and a broker serving `served` can use, if any.
    static func choose(_ api: ApiKey, served: ClosedRange<Int16>?) -> Int16? {
        guard let client = supported[api], let served, client.overlaps(served) else { return nil }
        return min(client.upperBound, served.upperBound)
    }
}
