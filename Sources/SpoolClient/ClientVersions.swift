/// The version of each API Spool's own client sends: the newest non-flexible version, which Spool
/// serves and Kafka 2.x-4.x brokers do too.
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
}
