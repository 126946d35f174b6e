import Foundation
import SpoolFormat
import SpoolWire

extension Consumer {
    /// Joins the group (or, without one, takes every partition of the topics) and sets positions
    /// from the committed offsets or the reset point.
    func join() async throws(ClientError) {
        let owned: [(String, Int32)]
        if let group {
            if let revoked = options.onRevoked {
                let old = assignment
                if !old.isEmpty { await revoked(old) }
            }
            owned = try await joinGroup(group)
        } else {
            var all: [(String, Int32)] = []
            for topic in topics { all += try await client.partitions(of: topic).map { (topic, $0.partition) } }
            owned = all
        }
        try await adopt(owned)
        if let assigned = options.onAssigned { await assigned(assignment) }
    }

    private func joinGroup(_ group: String) async throws(ClientError) -> [(String, Int32)] {
        var memberId = currentMemberId
        for _ in 0..<20 {
            let coordinator = try await groupClient.coordinator(group)
            let subscription = ConsumerProtocol.encode(.init(topics: topics))
            let join = try await groupClient.call(coordinator, JoinGroupRequest(
                groupId: group, sessionTimeoutMs: options.sessionTimeoutMs, rebalanceTimeoutMs: options.rebalanceTimeoutMs, memberId: memberId,
                protocolType: "consumer", protocols: [.init(name: RangeAssignor.name, metadata: subscription)]), version: ClientVersions.joinGroup)
            switch join.errorCode {
            case 0: break
            case 79: memberId = join.memberId; continue  // MEMBER_ID_REQUIRED: join again with the id
            case 25, 22: memberId = ""; continue
            case 27: continue
            default: throw .kafka(code: join.errorCode, context: "joining group \(group)")
            }
            memberId = join.memberId
            var assignments: [(memberId: String, assignment: [UInt8])] = []
            if join.leader == join.memberId {
                var counts: [String: Int] = [:]
                for member in join.members {
                    for topic in (try? ConsumerProtocol.decodeSubscription(member.metadata))?.topics ?? [] where counts[topic] == nil {
                        counts[topic] = (try? await client.partitions(of: topic).count) ?? 0
                    }
                }
                assignments = RangeAssignor.assign(members: join.members.map { ($0.memberId, $0.metadata) }, partitionCount: { counts[$0] ?? 0 })
                    .map { ($0.key, $0.value) }
            }
            let synced = try await groupClient.call(coordinator, SyncGroupRequest(
                groupId: group, generationId: join.generationId, memberId: memberId,
                assignments: assignments.map { .init(memberId: $0.memberId, assignment: $0.assignment) }), version: ClientVersions.syncGroup)
            if synced.errorCode == 27 { continue }
            guard synced.errorCode == 0 else { throw .kafka(code: synced.errorCode, context: "syncing group \(group)") }
            let partitions = (try? ConsumerProtocol.decodeAssignment(synced.assignment))?.partitions ?? []
            setMember(memberId, generation: join.generationId)
            startHeartbeats(group)
            return partitions.flatMap { topic, indexes in indexes.map { (topic, $0) } }
        }
        throw .kafka(code: 27, context: "joining group \(group): the group kept rebalancing")
    }

    /// Positions for newly owned partitions: committed offsets first, else the reset point.
    private func adopt(_ owned: [(String, Int32)]) async throws(ClientError) {
        var positions: [String: Int64] = [:]
        for entry in try await committed(owned.map { ($0.0, $0.1) }) where entry.errorCode == 0 && entry.offset >= 0 {
            positions["\(entry.topic)/\(entry.partition)"] = entry.offset
        }
        let missing = owned.filter { positions["\($0.0)/\($0.1)"] == nil }
        let reset = try await client.listOffsets(missing.map { ($0.0, $0.1) }, timestamp: options.fromBeginning ? -2 : -1)
        for (key, offset) in reset { positions[key] = offset }
        setAssignment(owned, positions: positions)
    }

    /// The reset point of partitions whose offset went out of range.
    func resetOffsets(_ partitions: [(topic: String, partition: Int32)]) async throws(ClientError) -> [String: Int64] {
        try await client.listOffsets(partitions.map { ($0.topic, $0.partition) }, timestamp: options.fromBeginning ? -2 : -1)
    }

    private func startHeartbeats(_ group: String) {
        let interval = options.heartbeatIntervalMs
        replaceHeartbeat(Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(interval))
                guard let self, !Task.isCancelled else { return }
                let (memberId, generation) = self.membership
                guard let coordinator = try? await self.groupClient.coordinator(group),
                      let code = try? await self.groupClient.call(coordinator, HeartbeatRequest(groupId: group, generationId: generation, memberId: memberId),
                                                                  version: ClientVersions.heartbeat).errorCode else { continue }
                if code != 0 { self.markRejoin() }
            }
        })
    }
}
