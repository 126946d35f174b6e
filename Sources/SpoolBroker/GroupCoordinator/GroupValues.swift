import SpoolFormat

/// One protocol a member can speak (for Kafka consumers: an assignor name and its subscription).
public struct GroupProtocol: Sendable, Equatable {
    public var name: String
    public var metadata: [UInt8]

    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

/// A JoinGroup request, whatever carried it (the wire protocol or the embedded consumer).
public struct JoinGroupRequest: Sendable {
    public var groupId: String
    /// "" for a member joining for the first time.
    public var memberId: String
    /// Static membership id, if the client set one.
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int
    /// JoinGroup v0 has none: callers pass the session timeout.
    public var rebalanceTimeoutMs: Int
    /// "consumer" for Kafka consumers.
    public var protocolType: String
    /// In the member's order of preference.
    public var protocols: [GroupProtocol]
    /// JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED with its id, then joins with it.
    /// Static members (with a `groupInstanceId`) are never asked to, as in Kafka.
    public var requireKnownMemberId: Bool
    /// JoinGroup v9+: a static leader rejoining a stable group is told it leads, with
    /// `JoinGroupResponse.skipAssignment` set, instead of being handed the previous leader's id.
    public var supportsSkippingAssignment: Bool

    public init(groupId: String, memberId: String, groupInstanceId: String? = nil, clientId: String, clientHost: String = "",
                sessionTimeoutMs: Int, rebalanceTimeoutMs: Int, protocolType: String, protocols: [GroupProtocol],
                requireKnownMemberId: Bool = false, supportsSkippingAssignment: Bool = false) {
        self.groupId = groupId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.requireKnownMemberId = requireKnownMemberId
        self.supportsSkippingAssignment = supportsSkippingAssignment
    }
}

/// A member as the leader sees it in its JoinGroup response.
public struct JoinedMember: Sendable, Equatable {
    public var memberId: String
    public var groupInstanceId: String?
    /// The member's metadata for the chosen protocol.
    public var metadata: [UInt8]
}

public struct JoinGroupResponse: Sendable, Equatable {
    public var error: KafkaErrorCode
    /// -1 on error.
    public var generationId: Int32
    public var protocolType: String?
    public var protocolName: String?
    public var leaderId: String
    /// The member's id (also set with MEMBER_ID_REQUIRED).
    public var memberId: String
    /// Every member with its metadata, in the leader's response only.
    public var members: [JoinedMember]
    /// JoinGroup v9+: the member leads but must not assign (a static leader rejoined a stable
    /// group, whose assignment stands).
    public var skipAssignment = false

    static func failure(_ error: KafkaErrorCode, memberId: String = "") -> JoinGroupResponse {
        JoinGroupResponse(error: error, generationId: -1, protocolType: nil, protocolName: nil, leaderId: "", memberId: memberId, members: [])
    }
}

public struct SyncGroupResponse: Sendable, Equatable {
    public var error: KafkaErrorCode
    public var protocolType: String?
    public var protocolName: String?
    /// This member's assignment as the leader encoded it (empty if it got none).
    public var assignment: [UInt8]

    static func failure(_ error: KafkaErrorCode) -> SyncGroupResponse {
        SyncGroupResponse(error: error, protocolType: nil, protocolName: nil, assignment: [])
    }
}

/// Kafka's classic group states, with the names Kafka's tools print.
public enum GroupState: String, Sendable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"
    case dead = "Dead"
}

public struct GroupSummary: Sendable, Equatable {
    public var groupId: String
    public var protocolType: String
    public var state: GroupState
}

public struct MemberDescription: Sendable, Equatable {
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var metadata: [UInt8]
    public var assignment: [UInt8]
}

public struct GroupDescription: Sendable, Equatable {
    public var groupId: String
    public var state: GroupState
    public var protocolType: String
    public var protocolName: String
    public var generationId: Int32
    public var leaderId: String
    public var members: [MemberDescription]
}

/// A member named in a LeaveGroup request. v3+ names several, each by member id, by instance id
/// (an administrator removing a static member leaves the member id empty), or both.
public struct LeavingMember: Sendable, Hashable {
    public var memberId: String
    public var groupInstanceId: String?

    public init(memberId: String, groupInstanceId: String? = nil) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }
}

/// How one member named in a LeaveGroup request fared, in the order the request named them.
public struct LeftMember: Sendable, Equatable {
    public var memberId: String
    public var groupInstanceId: String?
    public var error: KafkaErrorCode

    public init(memberId: String, groupInstanceId: String?, error: KafkaErrorCode) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.error = error
    }
}
