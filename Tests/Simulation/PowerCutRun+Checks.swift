import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem

extension PowerCutRun {
    /// Polls of the held records, 5 ms apart, before a check gives up waiting for their delivery.
    static let drainPollsMax = 2000

    /// Takes the crash image, lets the old broker finish in its dead world, and opens a new one on
    /// the image. Returns false when it does not open (counted; the run cannot go on).
    func restart() async -> Bool {
        let image = disk.cutImage ?? disk.powerCut(&random)
        try? broker?.close()
        broker = nil
        checkRecoveryReports(image)
        disk = SimulatedFileSystem(image: image, fileBytesMax: PowerCutScenario.fileBytesMax, clock: clock.read)
        do {
            broker = try Broker.open(config, fileSystem: disk, clock: clock.read)
        } catch {
            outcome.unexpected += 1
            outcome.fail("the broker did not open on the crash image: \(error)")
            return false
        }
        return true
    }

    /// Opens every log of the image on a copy of it and checks that recovery reports the bytes it
    /// threw away (`RecoveryReport.truncation.bytesCut`: up to the last non-zero byte, the zeros
    /// of preallocation after it not counted): for each `.log` file, its bytes up to its last
    /// non-zero one in the image beyond its size after recovery.
    func checkRecoveryReports(_ image: CrashImage) {
        let copy = SimulatedFileSystem(image: image, fileBytesMax: PowerCutScenario.fileBytesMax, clock: clock.read)
        var logConfig = config.log
        logConfig.segmentBytes = 16 << 20
        let segments = image.files.filter { $0.key.hasSuffix(".log") }
        for directory in Set(segments.keys.map { parentDirectory(of: $0) }).sorted() {
            do {
                let log = try PartitionLog.open(directory: directory, config: logConfig, fileSystem: copy, clock: clock.read)
                var cut = 0
                for (path, file) in segments where parentDirectory(of: path) == directory {
                    var written = 0
                    for (start, page) in file.pages {
                        if let last = page.lastIndex(where: { $0 != 0 }) { written = max(written, start + last + 1) }
                    }
                    let kept = copy.exists(path) ? try copy.readFile(path, limit: PowerCutScenario.fileBytesMax).count : 0
                    cut += max(0, written - kept)
                }
                let reported = log.recoveryReport.truncation?.bytesCut ?? 0
                if cut != reported {
                    outcome.unexpected += 1
                    outcome.fail("recovery of \(directory) threw away \(cut) bytes and reported \(reported): \(log.recoveryReport)")
                }
                try log.close()
            } catch {
                outcome.unexpected += 1
                outcome.fail("recovery of \(directory) failed: \(error)")
            }
        }
    }

    /// After a restart: settles the call the cut interrupted, resends the batches in flight,
    /// delivers every held record, then reads everything back and checks it against the model.
    func check() async {
        guard let broker else { return }
        settlePending(broker)
        await resendInFlight(broker)
        await drainHeldRecords(broker)
        for name in model.topics.keys.sorted() {
            guard let topic = model.topics[name] else { continue }
            for partition in 0..<Int32(topic.partitions) {
                await checkPartition(broker, name, topic, partition)
            }
        }
        checkCommits(broker)
        countOffsetsLogCompaction()
    }

    /// Compaction of the committed-offsets log shows on the disk as its first segment starting
    /// later than at the previous check: nothing else deletes that log's segments (it has no
    /// retention). Counted, so that a test can require it to happen.
    func countOffsetsLogCompaction() {
        // OffsetStore.directoryName.
        let directory = config.dataDirectory + "/__consumer_offsets-0"
        let bases = ((try? disk.contents(ofDirectory: directory)) ?? []).compactMap { name -> Int64? in
            name.hasSuffix(".log") ? Int64(name.dropLast(".log".count)) : nil
        }
        guard let first = bases.min(), first > model.offsetsLogStart else { return }
        model.offsetsLogStart = first
        outcome.offsetsLogCompactions += 1
    }

    /// A topic created or deleted as the power went may or may not have been; every other topic
    /// must be as the model has it.
    func settlePending(_ broker: Broker) {
        switch model.pending {
        case let .create(name):
            if let count = broker.partitionCount(name), model.topics[name] == nil { model.addTopic(name, partitions: count) }
        case let .delete(name):
            if broker.partitionCount(name) == nil { model.forget(topic: name) }
        case .commit, nil: break
        }
        model.pending = nil
        for name in PowerCutRun.topicNames {
            let stored = broker.partitionCount(name)
            let expected = model.topics[name]?.partitions
            if stored != expected {
                outcome.unexpected += 1
                outcome.fail("topic \(name) has \(stored.map(String.init) ?? "no") partitions after the restart, \(expected.map(String.init) ?? "none") acknowledged")
                if let stored { model.addTopic(name, partitions: stored) } else { model.forget(topic: name) }
            }
        }
    }

    /// Resends what the producers had in flight, as a client does after reconnecting: the broker
    /// must store each batch once, whether or not it had it before the cut.
    func resendInFlight(_ broker: Broker) async {
        for name in model.topics.keys.sorted() {
            guard let topic = model.topics[name] else { continue }
            for (partition, producer) in topic.producers.sorted(by: { $0.key < $1.key }) {
                guard let (bytes, _) = producer.inFlight else { continue }
                do {
                    _ = try await broker.produce(topic: name, partition: partition, records: bytes, acks: .all)
                    acknowledge(topic: name, partition: partition)
                } catch {
                    outcome.unexpected += 1
                    outcome.fail("resending \(name)[\(partition)] sequence \(producer.nextSequence) after the restart failed: \(error)")
                }
            }
        }
    }

    /// Moves the clock past every due time and waits until the broker holds nothing back.
    func drainHeldRecords(_ broker: Broker) async {
        clock.advance(byMs: 1000)
        broker.clockMoved()
        var polls = 0
        while broker.heldRecordCount > 0 && polls < Self.drainPollsMax {
            polls += 1
            try? await Task.sleep(for: .milliseconds(5))
        }
        if broker.heldRecordCount > 0 {
            outcome.unexpected += 1
            outcome.fail("\(broker.heldRecordCount) held records still undelivered after \(Self.drainPollsMax) polls")
        }
    }

    /// Reads a partition from its start, checking every batch, and compares what it holds with
    /// what the model expects.
    func checkPartition(_ broker: Broker, _ name: String, _ topic: PowerCutModel.Topic, _ partition: Int32) async {
        let where_ = "\(name)[\(partition)]"
        var found: [Int: Int] = [:]
        var lastByKey: [String: Int] = [:]
        for id in await readIds(broker, name, partition, where_) {
            guard model.records.indices.contains(id) else {
                outcome.unexpected += 1
                outcome.fail("\(where_) serves r\(id), which was never produced")
                continue
            }
            let record = model.records[id]
            guard record.topic == name, record.incarnation == topic.incarnation, record.partition == partition else {
                outcome.unexpected += 1
                outcome.fail("\(where_) serves r\(id), produced to \(record.topic)[\(record.partition)] (incarnation \(record.incarnation), now \(topic.incarnation); \(record.kind))")
                continue
            }
            found[id, default: 0] += 1
            if case .delayed = record.kind { continue }
            if let last = lastByKey[record.key], last > id {
                outcome.outOfOrder += 1
                outcome.fail("\(where_) serves r\(id) after r\(last) of key \(record.key)")
            }
            lastByKey[record.key] = max(id, lastByKey[record.key] ?? id)
        }
        for id in model.records.indices {
            let record = model.records[id]
            guard record.topic == name, record.incarnation == topic.incarnation, record.partition == partition else { continue }
            judge(id, count: found[id] ?? 0, where_)
        }
    }

    /// The ids of the records a partition serves from its start ("r<id>" values), counting
    /// corrupt batches.
    private func readIds(_ broker: Broker, _ name: String, _ partition: Int32, _ where_: String) async -> [Int] {
        var ids: [Int] = []
        var next: Int64 = 0
        while true {
            let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(name, partition), fetchOffset: next)],
                                             maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
            guard let slice = fetched.first?.records, !slice.isEmpty else { return ids }
            var progressed = false
            var corrupt = false
            slice.forEachBatch { bytes in
                guard !corrupt else { return }
                do {
                    _ = try RecordBatchView.validate(bytes)
                    let batch = try RecordBatch(decoding: bytes)
                    for record in batch.records {
                        let value = String(decoding: record.value ?? [], as: UTF8.self)
                        guard value.hasPrefix("r"), let id = Int(value.dropFirst()) else {
                            outcome.unexpected += 1
                            outcome.fail("\(where_) serves a record whose value is '\(value)'")
                            continue
                        }
                        ids.append(id)
                    }
                    next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
                    progressed = true
                } catch {
                    outcome.corruptServed += 1
                    outcome.fail("\(where_) serves a corrupt batch at offset \(next): \(error)")
                    corrupt = true
                }
            }
            if corrupt || !progressed { return ids }
        }
    }

    /// Compares how often a record was found with what the model expects, and moves the
    /// expectation on.
    private func judge(_ id: Int, count: Int, _ where_: String) {
        var record = model.records[id]
        record.foundMax = max(record.foundMax, count)
        switch record.expectation {
        case .once where count == 0, .atLeastOnce where count == 0:
            outcome.lost += 1
            outcome.fail("\(where_) lost acknowledged r\(id) (\(record.kind))")
            record.expectation = .untracked
        case .once where count > 1, .atMostOnce where count > 1:
            outcome.duplicated += 1
            outcome.fail("\(where_) holds r\(id) \(count) times (\(record.kind))")
            record.expectation = .untracked
        case .never where count > 0:
            if case .repeatedKey = record.kind { outcome.duplicated += 1 } else { outcome.unexpected += 1 }
            outcome.fail("\(where_) holds r\(id) \(count) times, expected never (\(record.kind))")
            record.expectation = .untracked
        case .atMostOnce, .heldUnacknowledged:
            record.expectation = count == 0 ? .never : (record.expectation == .atMostOnce ? .once : .atLeastOnce)
        default: break
        }
        model.records[id] = record
    }

    /// No committed offset behind the last acknowledged commit or past the log end.
    func checkCommits(_ broker: Broker) {
        for group in Self.groups {
            let committed = broker.committedOffsets(group: group)
            for (topicPartition, offset) in committed.sorted(by: { $0.key < $1.key }) {
                guard let end = broker.logEndOffset(topic: topicPartition.topic, partition: topicPartition.partition) else { continue }
                if offset.offset > end {
                    outcome.committedBackwards += 1
                    outcome.fail("\(group) committed \(offset.offset) on \(topicPartition), past its end \(end)")
                }
            }
            for (key, last) in model.commits.sorted(by: { $0.key.topicPartition < $1.key.topicPartition }) where key.group == group {
                let recovered = committed[key.topicPartition]?.offset
                if (recovered ?? -1) < last {
                    outcome.committedBackwards += 1
                    outcome.fail("\(group) on \(key.topicPartition) came back at \(recovered.map(String.init) ?? "nothing"), acknowledged \(last)")
                }
            }
            for (topicPartition, offset) in committed where model.topics[topicPartition.topic] != nil {
                model.commits[PowerCutModel.CommitKey(group: group, topicPartition: topicPartition)] = offset.offset
            }
        }
    }
}
