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
            let subscription = ConsumerProtocol.encode(.init(topics: topics))
            let request = JoinGroupRequest(
                groupId: group, sessionTimeoutMs: options.sessionTimeoutMs, rebalanceTimeoutMs: options.rebalanceTimeoutMs, memberId: memberId,
                protocolType: "consumer", protocols: [.init(name: RangeAssignor.name, metadata: subscription)])
            // The broker holds a JoinGroup until the rebalance ends: wait that long and the request timeout more.
            let joinTimeoutMs = Int(options.rebalanceTimeoutMs) + groupClient.requestTimeoutMs
            let join = try await groupClient.withCoordinator(group) { coordinator async throws(ClientError) -> JoinGroupResponse in
                let join = try await groupClient.call(coordinator, request, timeoutMs: joinTimeoutMs)
                try SpoolClient.checkCoordinator(join.errorCode, "joining group \(group)")
                return join
            }
            switch join.errorCode {
            case KafkaErrorCode.none.rawValue: break
            case KafkaErrorCode.memberIdRequired.rawValue: memberId = join.memberId; continue  // join again with the id
            case KafkaErrorCode.unknownMemberId.rawValue, KafkaErrorCode.illegalGeneration.rawValue: memberId = ""; continue
            case KafkaErrorCode.rebalanceInProgress.rawValue: continue
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
            let sync = SyncGroupRequest(groupId: group, generationId: join.generationId, memberId: memberId,
                                        assignments: assignments.map { .init(memberId: $0.memberId, assignment: $0.assignment) })
            let synced = try await groupClient.withCoordinator(group, timeoutMs: joinTimeoutMs) { coordinator async throws(ClientError) -> SyncGroupResponse in
                let synced = try await groupClient.call(coordinator, sync, timeoutMs: joinTimeoutMs)
                try SpoolClient.checkCoordinator(synced.errorCode, "syncing group \(group)")
                return synced
            }
            switch KafkaErrorCode(rawValue: synced.errorCode) {
            case .rebalanceInProgress?, .illegalGeneration?: continue
            case .unknownMemberId?: memberId = ""; continue
            default: break
            }
            guard synced.errorCode == 0 else { throw .kafka(code: synced.errorCode, context: "syncing group \(group)") }
            let partitions = (try? ConsumerProtocol.decodeAssignment(synced.assignment))?.partitions ?? []
            setMember(memberId, generation: join.generationId)
            startHeartbeats(group)
            return partitions.flatMap { topic, indexes in indexes.map { (topic, $0) } }
        }
        throw .kafka(.rebalanceInProgress, "joining group \(group): the group kept rebalancing")
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
                let request = HeartbeatRequest(groupId: group, generationId: generation, memberId: memberId)
                let client = self.groupClient
                guard let code = try? await client.withCoordinator(group, timeoutMs: max(interval, 1_000), { coordinator async throws(ClientError) -> Int16 in
                    let code = try await client.call(coordinator, request).errorCode
                    try SpoolClient.checkCoordinator(code, "heartbeat of group \(group)")
                    return code
                }) else { continue }
                if code != 0 { self.markRejoin() }
            }
        })
    }
}
