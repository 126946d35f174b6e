/// The Kafka APIs Spool answers, with the version ranges it advertises. All are non-flexible
/// versions (CLIENT_NOTES section 2); Produce 0-2 are advertised but answered with
/// UNSUPPORTED_VERSION, because librdkafka before 2.11.1 compresses only when Produce 0 is listed.
public enum ApiKey: Int16, CaseIterable, Sendable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case leaveGroup = 13
    case syncGroup = 14
    case describeGroups = 15
    case listGroups = 16
    case apiVersions = 18
    case createTopics = 19
    case deleteTopics = 20
    case initProducerId = 22

    /// What ApiVersions advertises.
    public var advertised: ClosedRange<Int16> {
        switch self {
        case .produce: 0...8
        case .fetch: 4...11
        case .listOffsets: 1...5
        case .metadata: 0...8
        case .offsetCommit: 2...7
        case .offsetFetch: 1...5
        case .findCoordinator: 0...2
        case .joinGroup: 0...5
        case .heartbeat: 0...3
        case .leaveGroup: 0...3
        case .syncGroup: 0...3
        case .describeGroups: 0...4
        case .listGroups: 0...2
        case .apiVersions: 0...2
        case .createTopics: 2...4
        case .deleteTopics: 1...3
        case .initProducerId: 0...1
        }
    }

    /// What is actually decoded (a subset of `advertised`).
    public var implemented: ClosedRange<Int16> {
        self == .produce ? 3...8 : advertised
    }
}
