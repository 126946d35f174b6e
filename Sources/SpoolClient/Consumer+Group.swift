import SpoolFormat

extension Consumer {
    /// Joins the group (or, without one, takes every partition of the topics), sets positions
    /// from the committed offsets or the reset point, and starts heartbeating. `poll()` joins by
    /// itself; call this to own partitions before the first poll.
    public func join() async throws(ClientError) {
        if state.withLock({ $0.closed }) { throw .closed }
        state.withLock { $0.joining += 1 }
        defer { state.withLock { $0.joining -= 1 } }
        let owned: [TopicPartition]
        if let group {
            // A loss a heartbeat found is handed over before anything is assigned again.
            await state.withLock({ $0.losing })?.value
            // As Kafka's consumer does before it rejoins: with auto-commit, what was handed out is
            // committed while this member still owns it (the broker takes commits of the current
            // generation while the group prepares its rebalance). A commit refused because the
            // membership is gone marks it lost below.
            if options.autoCommit, state.withLock({ !$0.membershipLost && !$0.assignment.isEmpty }) { try? await commit() }
            let (old, lost) = state.withLock { state in
                defer { state.membershipLost = false }
                // Lost: another member may commit past what this one consumed before it owns them again.
                if state.membershipLost { state.consumed = [:] }
                return (state.assignment, state.membershipLost)
            }
            if !old.isEmpty, let handOver = lost ? options.onLost ?? options.onRevoked : options.onRevoked { await handOver(old) }
            owned = try await joinGroup(group)
        } else {
            var all: [TopicPartition] = []
            for topic in topics {
                let count = try await transport.partitionCount(of: topic)
                all += (0..<Int32(count)).map { TopicPartition(topic, $0) }
            }
            owned = all
        }
        let committed: [TopicPartition: CommittedOffset]
        do { committed = try await adopt(owned.sorted()) } catch {
            state.withLock { $0.needsJoin = true }
            throw error
        }
        let assignment = self.assignment
        if let assigned = options.onAssigned { await assigned(assignment) }
        if let assigned = options.onAssignedCommitted {
            var owned: [TopicPartition: CommittedOffset?] = [:]
            for partition in assignment { owned.updateValue(committed[partition], forKey: partition) }
            await assigned(owned)
        }
    }

    private func joinGroup(_ group: String) async throws(ClientError) -> [TopicPartition] {
        var memberId = state.withLock { $0.memberId }
        for _ in 0..<20 {
            if state.withLock({ $0.closed }) { throw .closed }
            let request = GroupJoin(group: group, memberId: memberId, clientId: options.clientId, sessionTimeoutMs: options.sessionTimeoutMs,
                                    rebalanceTimeoutMs: options.rebalanceTimeoutMs, subscription: ConsumerProtocol.encode(.init(topics: topics)))
            let join = try await withoutHeartbeats { () async throws(ClientError) in try await transport.joinGroup(request) }
            switch KafkaErrorCode(rawValue: join.errorCode) {
            case .none?: break
            case .memberIdRequired?: memberId = join.memberId; continue  // join again with the id
            case .unknownMemberId?, .illegalGeneration?: memberId = ""; continue
            case .rebalanceInProgress?: continue
            default: throw .kafka(code: join.errorCode, context: "joining group \(group)")
            }
            memberId = join.memberId
            var assignments: [String: [UInt8]] = [:]
            var counts: [String: Int] = [:]
            if join.leaderId == join.memberId {
                for member in join.members {
                    for topic in (try? ConsumerProtocol.decodeSubscription(member.metadata))?.topics ?? [] where counts[topic] == nil {
                        counts[topic] = await currentCount(of: topic) ?? 0
                    }
                }
                assignments = RangeAssignor.assign(members: join.members.map { ($0.memberId, $0.metadata) }, partitionCount: { counts[$0] ?? 0 })
            }
            let sync = GroupSync(group: group, generation: join.generation, memberId: memberId, protocolName: join.protocolName,
                                 assignments: assignments, rebalanceTimeoutMs: options.rebalanceTimeoutMs)
            let synced = try await withoutHeartbeats { () async throws(ClientError) in try await transport.syncGroup(sync) }
            switch KafkaErrorCode(rawValue: synced.errorCode) {
            case .rebalanceInProgress?, .illegalGeneration?: continue
            case .unknownMemberId?: memberId = ""; continue
            default: break
            }
            guard synced.errorCode == 0 else { throw .kafka(code: synced.errorCode, context: "syncing group \(group)") }
            state.withLock { state in
                state.memberId = memberId
                state.generation = join.generation
                state.assignedCounts = counts
                // Joined; a heartbeat of this generation that asks for a rejoin from now on (the
                // group rebalancing again while the positions are read) is kept for the next poll.
                state.needsJoin = false
            }
            startHeartbeats(group)
            let partitions = (try? ConsumerProtocol.decodeAssignment(synced.assignment))?.partitions ?? []
            return partitions.flatMap { topic, indexes in indexes.map { TopicPartition(topic, $0) } }
        }
        throw .kafka(.rebalanceInProgress, "joining group \(group): the group kept rebalancing")
    }

    /// Runs a JoinGroup or SyncGroup with no heartbeat sent meanwhile, as Kafka's consumer has it:
    /// the pending request keeps the member alive on the broker, and a heartbeat queued behind
    /// it (the broker answers a connection's requests in turn, and may hold a JoinGroup up to the
    /// rebalance timeout) timed out and dropped the connection, the JoinGroup with it. An answer
    /// starts the member's session afresh on the broker.
    private func withoutHeartbeats<T>(_ call: () async throws(ClientError) -> T) async throws(ClientError) -> T {
        state.withLock { $0.groupCallsOut += 1 }
        defer { state.withLock { $0.groupCallsOut -= 1 } }
        let answer = try await call()
        state.withLock { $0.lastHeartbeat = max($0.lastHeartbeat, .now) }
        return answer
    }

    /// Whether a topic this member assigned as the group's leader has another partition count
    /// now (the transport's metadata, asked again once `metadataMaxAgeMs` old): the leader then
    /// rejoins, and the group assigns the partitions added, as Kafka's consumer does. Without it
    /// they were never assigned, and their records never read. A topic the cluster does not know
    /// counts none: deleted, its partitions are taken out of the assignment (their positions
    /// with them), and created again, they are assigned afresh and read from the group's
    /// commits or the reset point, not from where the deleted topic's were.
    func assignedCountsChanged() async -> Bool {
        for (topic, count) in state.withLock({ $0.assignedCounts }) {
            if let now = await currentCount(of: topic), now != count { return true }
        }
        return false
    }

    /// The partition count of `topic` (0 when the cluster does not know it), nil when it could
    /// not be asked.
    func currentCount(of topic: String) async -> Int? {
        do { return try await transport.partitionCount(of: topic) } catch {
            return error.kafkaCode == .unknownTopicOrPartition ? 0 : nil
        }
    }

    /// Positions for the owned partitions: committed offsets first, else the reset point.
    /// Returns what the group had committed for them.
    private func adopt(_ owned: [TopicPartition]) async throws(ClientError) -> [TopicPartition: CommittedOffset] {
        var positions: [TopicPartition: Int64] = [:]
        var committed: [TopicPartition: CommittedOffset] = [:]
        if let group, !owned.isEmpty {
            committed = try await transport.committed(group: group, partitions: owned)
            for (partition, stored) in committed where stored.offset >= 0 { positions[partition] = stored.offset }
        }
        let missing = owned.filter { positions[$0] == nil }
        if !missing.isEmpty { positions.merge(try await resetPoints(missing)) { committed, _ in committed } }
        state.withLock { state in
            state.assignment = owned
            state.positions = [:]
            state.buffered = [:]
            for partition in owned { state.positions[partition] = positions[partition] ?? 0 }
            // A consumed offset at or below where the partition now starts adds nothing, and one
            // below it (kept from before the partition was lost, while another member committed
            // further) would take the group's offset backwards.
            state.consumed = state.consumed.filter { partition, offset in owned.contains(partition) && offset > state.positions[partition] ?? 0 }
            // Without a group there is no join to ask for again.
            if group == nil { state.needsJoin = false }
        }
        return committed
    }

    /// Where `offsetReset` starts these partitions.
    func resetPoints(_ partitions: [TopicPartition]) async throws(ClientError) -> [TopicPartition: Int64] {
        try await transport.listOffsets(partitions, timestamp: options.offsetReset == .earliest ? -2 : -1)
    }
}
