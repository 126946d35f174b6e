import SpoolFormat

extension Consumer {
    /// Heartbeats every `heartbeatIntervalMs` while the consumer is a member, on
    /// `HeartbeatExecutor` rather than the cooperative pool: whatever the code that polls is doing
    /// (or waiting for), the member stays in its group until its process stops.
    func startHeartbeats(_ group: String) {
        let interval = options.heartbeatIntervalMs
        state.withLock { $0.lastHeartbeat = .now }
        let task = Task(executorPreference: HeartbeatExecutor.shared) { [weak self] in
            while !Task.isCancelled {
                await HeartbeatExecutor.shared.sleep(milliseconds: interval)
                guard let self, !Task.isCancelled, !self.state.withLock({ $0.closed }) else { return }
                _ = await self.heartbeatOnce(group)
            }
        }
        heartbeat.withLock { old in
            old?.cancel()
            old = task
        }
    }

    /// Sends a heartbeat now, on the heartbeat executor. Returns true while this consumer is a
    /// member of its group's current generation, false when the group answered that it must
    /// rejoin (it does on its next poll) or the consumer is closed or has no group; nil when the
    /// coordinator could not be asked.
    public func heartbeatNow() async -> Bool? {
        guard let group else { return false }
        return await Task(executorPreference: HeartbeatExecutor.shared) {
            await self.heartbeatOnce(group)
        }.value
    }

    /// One heartbeat. A group error marks the consumer for rejoining; an answer that it is no
    /// longer a member, or a session's worth of heartbeats that did not get through, loses its
    /// partitions (`onLost`). None is sent while this member's JoinGroup or SyncGroup is out
    /// (false: it is rejoining). It waits at most until the member would take its session for
    /// gone (an interval at least), not the client's request timeout, which let a member whose
    /// coordinator went silent hand out records of partitions the group had already given away.
    private func heartbeatOnce(_ group: String) async -> Bool? {
        let sent = ContinuousClock.now
        let (memberId, generation, closed, rejoining, last) = state.withLock { ($0.memberId, $0.generation, $0.closed, $0.groupCallsOut > 0, $0.lastHeartbeat) }
        if closed || memberId.isEmpty || rejoining { return false }
        let sessionLeft = Int(options.sessionTimeoutMs) - options.heartbeatIntervalMs - last.duration(to: sent).wholeMilliseconds
        let code = await transport.heartbeat(group: group, generation: generation, memberId: memberId,
                                             timeoutMs: max(sessionLeft, options.heartbeatIntervalMs))
        let gone = [KafkaErrorCode.unknownMemberId.rawValue, KafkaErrorCode.illegalGeneration.rawValue]
        // The group counts a heartbeat answered REBALANCE_IN_PROGRESS towards the session too.
        let alive = [0, KafkaErrorCode.rebalanceInProgress.rawValue]
        let (member, lost) = state.withLock { state -> (Bool, [TopicPartition]) in
            // A rejoin finished while the heartbeat was out: its answer is about the old generation.
            guard state.memberId == memberId && state.generation == generation else { return (false, []) }
            if let code, alive.contains(code) { state.lastHeartbeat = max(state.lastHeartbeat, sent) }
            if let code, code != 0 { state.needsJoin = true }
            // The broker ends the session `sessionTimeoutMs` after the last heartbeat it got,
            // which was sent no earlier than `lastHeartbeat`; this check runs once per interval,
            // so it gives up one interval early rather than one late.
            let silent = state.lastHeartbeat.duration(to: .now) >= .milliseconds(Int(options.sessionTimeoutMs) - options.heartbeatIntervalMs)
            // While a join is under way it answers a group error itself; silence still loses the
            // partitions (the group drops a member it does not hear from, join or not).
            let dropped = code.map { gone.contains($0) && state.joining == 0 } ?? false
            guard dropped || silent, !state.assignment.isEmpty else { return (code == 0 && !state.needsJoin, []) }
            let lost = state.assignment
            state.assignment = []
            state.positions = [:]
            // Another member may commit past them before this one owns them again.
            state.consumed = [:]
            state.needsJoin = true
            return (false, lost)
        }
        if !lost.isEmpty, let onLost = options.onLost ?? options.onRevoked {
            let earlier = state.withLock { $0.losing }
            let losing = Task {
                await earlier?.value
                await onLost(lost)
            }
            state.withLock { $0.losing = losing }
        }
        return code == nil && lost.isEmpty ? nil : member
    }
}
