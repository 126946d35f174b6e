/// Kafka's "range" assignor: for each topic, the members subscribed to it (sorted by id) get
/// contiguous ranges of its partitions, the first ones one more when they do not divide evenly.
/// The leader runs it; every Kafka client ships the same one, so mixed groups agree.
public enum RangeAssignor {
    public static let name = "range"

    /// Member id → encoded assignment, from the members' subscriptions (their JoinGroup metadata).
    public static func assign(members: [(memberId: String, metadata: [UInt8])], partitionCount: (String) -> Int) -> [String: [UInt8]] {
        var subscribers: [String: [String]] = [:]
        for member in members {
            guard let subscription = try? ConsumerProtocol.decodeSubscription(member.metadata) else { continue }
            for topic in Set(subscription.topics) { subscribers[topic, default: []].append(member.memberId) }
        }
        var owned: [String: [(topic: String, partitions: [Int32])]] = [:]
        for member in members { owned[member.memberId] = [] }
        for (topic, ids) in subscribers.sorted(by: { $0.key < $1.key }) {
            let sorted = ids.sorted()
            let partitions = partitionCount(topic)
            let share = partitions / sorted.count
            let extra = partitions % sorted.count
            var next = 0
            for (index, id) in sorted.enumerated() {
                let count = share + (index < extra ? 1 : 0)
                if count > 0 { owned[id, default: []].append((topic, (next..<(next + count)).map { Int32($0) })) }
                next += count
            }
        }
        return owned.mapValues { ConsumerProtocol.encode(ConsumerProtocol.Assignment(partitions: $0)) }
    }
}
