import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem

/// A broker driven through a seeded workload on a `SimulatedFileSystem` whose power is cut at a
/// seeded disk operation, again and again: after each cut the broker is reopened on the crash
/// image and checked (docs/reliability.md, "Power cuts"). The test suite runs it briefly; the
/// `spool-powercut` command runs it long.
///
/// The workload is sequential, each call awaited before the next, and the clock is the
/// simulation's. What still varies between two runs of one seed is where the broker's own threads
/// (the flushers, delayed delivery) fall between the workload's calls, and so which operation the
/// cut lands on.
public struct PowerCutScenario: Sendable {
    public var seed: UInt64
    /// Power cuts in the run.
    public var cuts: Int
    /// A cut falls on one of the next this many disk operations after the previous restart.
    public var operationsBeforeCutMax = 300
    /// Workload steps after which a round cuts the power anyway.
    public var stepsPerCutMax = 200
    /// The broker's fsync policy. Anything but `always` breaks the promise the run checks, which
    /// is how a test shows that the checks can fail.
    public var fsync: FsyncPolicy = .always

    public init(seed: UInt64, cuts: Int) {
        self.seed = seed
        self.cuts = cuts
    }

    /// The broker's configuration: small segments, indexes, snapshots and offsets log, so that a
    /// short run rolls, snapshots and compacts often.
    public static func brokerConfig(fsync: FsyncPolicy = .always) -> BrokerConfig {
        var config = BrokerConfig(dataDirectory: "/data")
        config.log.fsync = fsync
        config.log.segmentBytes = 8 << 10
        config.log.preallocateBytes = 4096
        config.log.indexBytesMax = 512
        config.log.indexIntervalBytes = 256
        config.log.segmentMs = nil
        config.log.retentionMs = nil
        config.log.recoveryCheckpointIntervalMs = 50
        config.retentionCheckIntervalMs = 3_600_000
        config.producerStateSnapshotBytes = 4 << 10
        config.offsetsCompactionBytes = 2 << 10
        config.autoCreateTopics = false
        return config
    }

    /// The largest simulated file: the internal logs map 16 MiB segments.
    static let fileBytesMax = 32 << 20

    public func run() async -> PowerCutOutcome {
        let run = PowerCutRun(scenario: self)
        await run.run()
        return run.outcome
    }
}

/// One run's state. Used by one task at a time.
final class PowerCutRun {
    static let topicNames = ["t0", "t1", "t2", "t3"]
    static let groups = ["g0", "g1"]
    static let keys = (0..<6).map { "k\($0)" }

    let scenario: PowerCutScenario
    let config: BrokerConfig
    let clock = SimulationClock()
    var random: SimulationRandom
    var model = PowerCutModel()
    var outcome: PowerCutOutcome
    var disk: SimulatedFileSystem
    var broker: Broker?

    init(scenario: PowerCutScenario) {
        self.scenario = scenario
        config = PowerCutScenario.brokerConfig(fsync: scenario.fsync)
        random = SimulationRandom(seed: scenario.seed)
        outcome = PowerCutOutcome(seed: scenario.seed)
        disk = SimulatedFileSystem(fileBytesMax: PowerCutScenario.fileBytesMax, clock: clock.read)
    }

    func run() async {
        do {
            broker = try Broker.open(config, fileSystem: disk, clock: clock.read)
        } catch {
            outcome.unexpected += 1
            outcome.fail("the broker did not open on an empty disk: \(error)")
            return
        }
        for _ in 0..<scenario.cuts {
            disk.armPowerCut(atOperation: Int.random(in: 1...scenario.operationsBeforeCutMax, using: &random), seed: random.next())
            await runWorkload()
            guard await restart() else { return }
            outcome.cuts += 1
            await check()
        }
        try? broker?.close()
        outcome.redelivered = model.records.reduce(0) { total, record in
            guard case .delayed = record.kind else { return total }
            return total + max(0, record.foundMax - 1)
        }
    }

    // MARK: - Workload

    /// Runs seeded steps until the cut happens (or `stepsPerCutMax` steps).
    func runWorkload() async {
        guard let broker else { return }
        for _ in 0..<scenario.stepsPerCutMax where !disk.hasCut {
            model.pending = nil
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<60: await produce(broker)
            case 60..<75: await commit(broker)
            case 75..<87:
                clock.advance(byMs: Int64.random(in: 1...300, using: &random))
                broker.clockMoved()
            case 87..<95: createTopic(broker)
            default: await deleteTopic(broker)
            }
        }
    }

    /// Counts a failed call, unless it failed in the dead world after the cut.
    func failed(_ call: String, _ error: any Error) {
        guard !disk.hasCut else { return }
        outcome.unexpected += 1
        outcome.fail("\(call) failed before the cut: \(error)")
    }

    func produce(_ broker: Broker) async {
        guard let name = model.topics.keys.sorted().randomElement(using: &random), var topic = model.topics[name] else {
            createTopic(broker)
            return
        }
        let partition = Int32.random(in: 0..<Int32(topic.partitions), using: &random)
        var producer: PowerCutModel.Producer
        if let existing = topic.producers[partition] {
            producer = existing
        } else {
            do {
                let (id, epoch) = try broker.initProducerId()
                producer = PowerCutModel.Producer(id: id, epoch: epoch)
            } catch {
                failed("InitProducerId", error)
                return
            }
            if disk.hasCut { return }
        }
        let now = clock.milliseconds
        var produced: [ProducerRecord] = []
        var ids: [Int] = []
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let id = model.records.count
            let key = Self.keys.randomElement(using: &random) ?? "k0"
            var kind = PowerCutModel.Kind.plain
            var headers: [RecordHeader] = []
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<12:
                kind = .freshKey("ik\(id)")
                headers = [RecordHeader(key: SpoolHeaders.idempotencyKey, value: Array("ik\(id)".utf8))]
            case 12..<20 where !topic.acceptedKeys.isEmpty:
                let repeated = topic.acceptedKeys.randomElement(using: &random) ?? ""
                kind = .repeatedKey(repeated)
                headers = [RecordHeader(key: SpoolHeaders.idempotencyKey, value: Array(repeated.utf8))]
            case 20..<30:
                let due = now + Int64.random(in: 1...400, using: &random)
                kind = .delayed(dueMs: due)
                headers = [RecordHeader(key: SpoolHeaders.deliverAt, value: Array(String(due).utf8))]
            default: break
            }
            let expectation: PowerCutModel.Expectation
            switch kind {
            case .repeatedKey: expectation = .never
            case .delayed: expectation = .heldUnacknowledged
            default: expectation = .atMostOnce
            }
            model.records.append(PowerCutModel.Record(topic: name, incarnation: topic.incarnation, partition: partition, key: key,
                                                      kind: kind, expectation: expectation))
            produced.append(ProducerRecord(key: Array(key.utf8), value: Array("r\(id)".utf8), headers: headers, timestamp: now))
            ids.append(id)
        }
        let bytes = RecordBatch(producing: produced, producerId: producer.id, producerEpoch: producer.epoch,
                                baseSequence: producer.nextSequence).encoded()
        producer.nextSequence += Int32(produced.count)
        producer.inFlight = (bytes, ids)
        topic.producers[partition] = producer
        model.topics[name] = topic
        do {
            _ = try await broker.produce(topic: name, partition: partition, records: bytes, acks: .all)
        } catch {
            failed("Produce to \(name)[\(partition)]", error)
            return
        }
        if disk.hasCut { return }
        acknowledge(topic: name, partition: partition)
    }

    /// The in-flight batch of the topic's producer for `partition` was acknowledged.
    func acknowledge(topic name: String, partition: Int32) {
        guard var topic = model.topics[name], var producer = topic.producers[partition], let (_, ids) = producer.inFlight else { return }
        for id in ids {
            switch model.records[id].kind {
            case .plain: model.records[id].expectation = .once
            case let .freshKey(key):
                model.records[id].expectation = .once
                topic.acceptedKeys.append(key)
            case .delayed: model.records[id].expectation = .atLeastOnce
            case .repeatedKey: break
            }
            outcome.acknowledged += 1
        }
        producer.inFlight = nil
        topic.producers[partition] = producer
        model.topics[name] = topic
    }

    func commit(_ broker: Broker) async {
        guard let name = model.topics.keys.sorted().randomElement(using: &random), let topic = model.topics[name],
              let group = Self.groups.randomElement(using: &random) else { return }
        let partition = Int32.random(in: 0..<Int32(topic.partitions), using: &random)
        let key = PowerCutModel.CommitKey(group: group, topicPartition: TopicPartition(name, partition))
        let end = broker.logEndOffset(topic: name, partition: partition) ?? 0
        let last = model.commits[key] ?? 0
        // Consumers commit forwards: a later commit never goes below an earlier one.
        let offset = last >= end ? last : Int64.random(in: last...end, using: &random)
        model.pending = .commit(key, offset)
        do {
            try await broker.storeOffsets(group: group, [key.topicPartition: CommittedOffset(offset: offset)])
        } catch {
            failed("OffsetCommit \(group) \(key.topicPartition)", error)
            return
        }
        if disk.hasCut { return }
        model.commits[key] = offset
    }

    func createTopic(_ broker: Broker) {
        guard let name = Self.topicNames.filter({ model.topics[$0] == nil }).randomElement(using: &random) else { return }
        let partitions = Int.random(in: 1...3, using: &random)
        model.pending = .create(name)
        do {
            try broker.createTopic(name, partitions: partitions)
        } catch {
            failed("CreateTopics \(name)", error)
            return
        }
        if disk.hasCut { return }
        model.addTopic(name, partitions: partitions)
    }

    func deleteTopic(_ broker: Broker) async {
        guard model.topics.count > 1, let name = model.topics.keys.sorted().randomElement(using: &random) else { return }
        model.pending = .delete(name)
        do {
            try await broker.deleteTopic(name)
        } catch {
            failed("DeleteTopics \(name)", error)
            return
        }
        if disk.hasCut { return }
        model.forget(topic: name)
    }
}
