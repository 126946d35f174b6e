import SpoolBroker
import SpoolLog

/// `GET /api/v1/overview` and `GET /api/v1/history`.
extension ConsoleAPI {
    struct Overview: Encodable {
        struct Traffic: Encodable {
            var recordsIn: UInt64
            var recordsOut: UInt64
            var bytesIn: UInt64
            var bytesOut: UInt64
            var produceErrors: UInt64
            var connections: Int
            var fetchesParked: Int
            /// Records held for delayed delivery.
            var heldRecords: Int
        }
        struct Topic: Encodable {
            var name: String
            var partitions: Int
            /// High watermark minus log start, summed over partitions.
            var records: Int64
            var bytes: Int
        }
        struct Group: Encodable {
            var group: String
            var state: String
            var members: Int
            /// Sum of the group's lag over the partitions it committed for; nil when it committed none.
            var totalLag: Int64?
        }
        struct Fsync: Encodable {
            var count: UInt64
            var totalSeconds: Double
            /// Over the last minute of samples.
            var perSecond: Double
            var meanMs: Double?
        }
        var traffic: Traffic
        var topics: [Topic]
        var groups: [Group]
        var bytesOnDisk: Int
        var fsync: Fsync
    }

    func overview() -> Overview {
        let metrics = broker.metrics
        let traffic = Overview.Traffic(
            recordsIn: metrics.recordsIn.load(ordering: .relaxed), recordsOut: metrics.recordsOut.load(ordering: .relaxed),
            bytesIn: metrics.bytesIn.load(ordering: .relaxed), bytesOut: metrics.bytesOut.load(ordering: .relaxed),
            produceErrors: metrics.produceErrors.load(ordering: .relaxed), connections: handler.server?.connections ?? 0,
            fetchesParked: metrics.fetchesParked.load(ordering: .relaxed), heldRecords: broker.heldRecordCount)
        let topics = broker.listTopics().sorted { $0.name < $1.name }.map { topic in
            Overview.Topic(name: topic.name, partitions: topic.partitions.count,
                           records: topic.partitions.reduce(0) { $0 + max(0, $1.highWatermark - $1.logStartOffset) },
                           bytes: topic.partitions.reduce(0) { $0 + $1.sizeInBytes })
        }
        let groups = broker.listGroups().map { summary in
            let lags = broker.lag(group: summary.groupId).compactMap(\.lag)
            return Overview.Group(group: summary.groupId, state: summary.state.rawValue,
                                  members: broker.groups.describe(groupId: summary.groupId).members.count,
                                  totalLag: lags.isEmpty ? nil : lags.reduce(0, +))
        }
        let flushes = broker.flushStatistics
        let recent = handler.history.samples.suffix(60)
        let perSecond = recent.isEmpty ? 0 : recent.map(\.fsyncsPerSecond).reduce(0, +) / Double(recent.count)
        let fsync = Overview.Fsync(count: flushes.count, totalSeconds: flushes.totalSeconds, perSecond: perSecond,
                                   meanMs: flushes.count > 0 ? flushes.totalSeconds / Double(flushes.count) * 1000 : nil)
        return Overview(traffic: traffic, topics: topics, groups: groups, bytesOnDisk: topics.reduce(0) { $0 + $1.bytes }, fsync: fsync)
    }

    struct History: Encodable {
        var intervalMs: Int
        var samples: [ConsoleHistory.Sample]
    }

    func historyBody() -> History { History(intervalMs: 1000, samples: handler.history.samples) }
}
