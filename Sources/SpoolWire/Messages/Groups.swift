/// JoinGroup (11) 0-5, SyncGroup (14) 0-3, Heartbeat (12) 0-3, LeaveGroup (13) 0-3.
public struct JoinGroupRequestMessage: Sendable {
    public var groupId: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var protocolType: String
    public var protocols: [(name: String, metadata: [UInt8])]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        groupId = try reader.readString()
        sessionTimeoutMs = try reader.readInt32()
        rebalanceTimeoutMs = version >= 1 ? try reader.readInt32() : sessionTimeoutMs
        memberId = try reader.readString()
        groupInstanceId = version >= 5 ? try reader.readNullableString() : nil
        protocolType = try reader.readString()
        protocols = try reader.readArray { reader throws(WireError) in (try reader.readString(), try reader.readBytes()) }
    }
}

public struct JoinGroupResponseMessage: Sendable {
    public var errorCode: Int16; public var generationId: Int32; public var protocolName: String?; public var leader: String
    public var memberId: String; public var members: [(memberId: String, groupInstanceId: String?, metadata: [UInt8])]
    public init(errorCode: Int16, generationId: Int32, protocolName: String?, leader: String, memberId: String,
                members: [(memberId: String, groupInstanceId: String?, metadata: [UInt8])]) {
        self.errorCode = errorCode; self.generationId = generationId; self.protocolName = protocolName; self.leader = leader
        self.memberId = memberId; self.members = members
    }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 2 { writer.writeInt32(0) }
        writer.writeInt16(errorCode)
        writer.writeInt32(generationId)
        writer.writeString(protocolName ?? "")  // nullable only from v7
        writer.writeString(leader)
        writer.writeString(memberId)
        writer.writeArray(members) { writer, member in
            writer.writeString(member.memberId)
            if version >= 5 { writer.writeNullableString(member.groupInstanceId) }
            writer.writeBytes(member.metadata)
        }
    }
}

public struct SyncGroupRequestMessage: Sendable {
    public var groupId: String; public var generationId: Int32; public var memberId: String; public var groupInstanceId: String?
    public var assignments: [(memberId: String, assignment: [UInt8])]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        groupId = try reader.readString()
        generationId = try reader.readInt32()
        memberId = try reader.readString()
        groupInstanceId = version >= 3 ? try reader.readNullableString() : nil
        assignments = try reader.readArray { reader throws(WireError) in (try reader.readString(), try reader.readBytes()) }
    }
}

public struct SyncGroupResponseMessage: Sendable {
    public var errorCode: Int16; public var assignment: [UInt8]
    public init(errorCode: Int16, assignment: [UInt8]) { self.errorCode = errorCode; self.assignment = assignment }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 1 { writer.writeInt32(0) }
        writer.writeInt16(errorCode)
        writer.writeBytes(assignment)
    }
}

public struct HeartbeatRequestMessage: Sendable {
    public var groupId: String; public var generationId: Int32; public var memberId: String; public var groupInstanceId: String?

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        groupId = try reader.readString()
        generationId = try reader.readInt32()
        memberId = try reader.readString()
        groupInstanceId = version >= 3 ? try reader.readNullableString() : nil
    }
}

/// Heartbeat's response, and any other that is just a throttle time (v1+) and an error code.
public struct ErrorOnlyResponse: Sendable {
    public var errorCode: Int16
    public init(errorCode: Int16) { self.errorCode = errorCode }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 1 { writer.writeInt32(0) }
        writer.writeInt16(errorCode)
    }
}

public struct LeaveGroupRequestMessage: Sendable {
    public var groupId: String
    public var memberIds: [String]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        groupId = try reader.readString()
        if version >= 3 {
            memberIds = try reader.readArray { reader throws(WireError) in
                let id = try reader.readString()
                _ = try reader.readNullableString()  // group instance id
                return id
            }
        } else {
            memberIds = [try reader.readString()]
        }
    }
}

public struct LeaveGroupResponseMessage: Sendable {
    public var errorCode: Int16; public var members: [(memberId: String, errorCode: Int16)]
    public init(errorCode: Int16, members: [(memberId: String, errorCode: Int16)]) { self.errorCode = errorCode; self.members = members }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 1 { writer.writeInt32(0) }
        writer.writeInt16(errorCode)
        if version >= 3 {
            writer.writeArray(members) { writer, member in
                writer.writeString(member.memberId)
                writer.writeNullableString(nil)
                writer.writeInt16(member.errorCode)
            }
        }
    }
}

/// ListGroups (16) 0-2.
public struct ListGroupsResponseMessage: Sendable {
    public var groups: [(groupId: String, protocolType: String)]
    public init(groups: [(groupId: String, protocolType: String)]) { self.groups = groups }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 1 { writer.writeInt32(0) }
        writer.writeInt16(0)
        writer.writeArray(groups) { writer, group in
            writer.writeString(group.groupId)
            writer.writeString(group.protocolType)
        }
    }
}

/// DescribeGroups (15) 0-4.
public struct DescribeGroupsRequestMessage: Sendable {
    public var groups: [String]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        groups = try reader.readArray { reader throws(WireError) in try reader.readString() }
        if version >= 3 { _ = try reader.readBool() }
    }
}

public struct DescribeGroupsResponseMessage: Sendable {
    public struct Member: Sendable {
        public var memberId: String; public var groupInstanceId: String?; public var clientId: String; public var clientHost: String
        public var metadata: [UInt8]; public var assignment: [UInt8]
        public init(memberId: String, groupInstanceId: String?, clientId: String, clientHost: String, metadata: [UInt8], assignment: [UInt8]) {
            self.memberId = memberId; self.groupInstanceId = groupInstanceId; self.clientId = clientId; self.clientHost = clientHost
            self.metadata = metadata; self.assignment = assignment
        }
    }
    public struct Group: Sendable {
        public var errorCode: Int16; public var groupId: String; public var state: String; public var protocolType: String
        public var protocolData: String; public var members: [Member]
        public init(errorCode: Int16, groupId: String, state: String, protocolType: String, protocolData: String, members: [Member]) {
            self.errorCode = errorCode; self.groupId = groupId; self.state = state; self.protocolType = protocolType
            self.protocolData = protocolData; self.members = members
        }
    }
    public var groups: [Group]
    public init(groups: [Group]) { self.groups = groups }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 1 { writer.writeInt32(0) }
        writer.writeArray(groups) { writer, group in
            writer.writeInt16(group.errorCode)
            writer.writeString(group.groupId)
            writer.writeString(group.state)
            writer.writeString(group.protocolType)
            writer.writeString(group.protocolData)
            writer.writeArray(group.members) { writer, member in
                writer.writeString(member.memberId)
                if version >= 4 { writer.writeNullableString(member.groupInstanceId) }
                writer.writeString(member.clientId)
                writer.writeString(member.clientHost)
                writer.writeBytes(member.metadata)
                writer.writeBytes(member.assignment)
            }
            if version >= 3 { writer.writeInt32(Int32.min) }
        }
    }
}
