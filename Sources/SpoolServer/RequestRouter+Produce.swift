import SpoolBroker
import SpoolLog
import SpoolSystem
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// Produce: each partition's records go to the broker (auto-creating the topic when allowed);
    /// acks=0 gets no response at all. Every partition is appended first, in the connection's
    /// order of requests (`turn`), and only then does an acks=all request wait for the flushes.
    /// Each partition's records are checked first as Kafka checks them (`ProduceRecordsCheck`): one
    /// that fails is answered with the error and none of its bytes are stored, while the others go
    /// on; one whose failure is the whole request's fails every partition (`wholeRequestFailure`).
    /// Invalid acks are found after these checks, as Kafka finds them only when it appends
    /// (`ReplicaManager.appendRecords`): the partitions that pass get INVALID_REQUIRED_ACKS, and
    /// no topic is created.
    func produce(_ request: ProduceRequest, version: Int16, turn: RequestTurn? = nil, timing: RequestTiming? = nil) async -> ProduceResponse? {
        typealias Partition = ProduceResponse.PartitionProduceResponse
        func failed(_ index: Int32, _ code: KafkaErrorCode, _ message: String? = nil) -> Partition {
            Partition(index: index, errorCode: code.rawValue, baseOffset: -1, logStartOffset: -1, errorMessage: message)
        }
        let acks = Acks(rawValue: request.acks)
        // In its turn: a CreateTopics sent before it on the connection creates the topic first,
        // with its own partitions, and this produce does not make it with the default count.
        // A request before it closes the connection: nothing is stored, and nothing answered.
        guard await turn?.begin() ?? true else { return nil }
        if request.transactionalId == nil && acks != nil { await autoCreate(request.topicData.map(\.name)) }
        if let failure = wholeRequestFailure(request, version: version) {
            turn?.end()
            return failure
        }
        // Kafka keys the partitions by topic-partition, and answers from that map: one answer per
        // topic, one per partition (`ProduceRequest.getErrorResponse` too). Of a partition named
        // more than once it keeps the last records and drops the others unanswered; here none of
        // them is stored, and the answer is INVALID_RECORD, as for two batches in one entry.
        let named = Dictionary(request.topicData.flatMap { topic in topic.partitionData.map { (TopicPartition(topic.name, $0.index), 1) } },
                               uniquingKeysWith: +)
        var answered: Set<TopicPartition> = []
        var topics: [ProduceResponse.TopicProduceResponse] = []
        var topicIndexes: [String: Int] = [:]
        // (topic index, partition index, what was stored) for an acks=all request to see flushed.
        var durable: [(Int, Int, ProduceResult)] = []
        for topic in request.topicData {
            let topicIndex = Self.answerIndex(of: topic.name, in: &topics, &topicIndexes)
            func answer(_ response: Partition) { topics[topicIndex].partitionResponses.append(response) }
            for partition in topic.partitionData {
                let place = TopicPartition(topic.name, partition.index)
                guard answered.insert(place).inserted else { continue }
                if request.transactionalId != nil {
                    answer(failed(partition.index, .invalidRequest, "transactions are not supported"))
                    continue
                }
                // Kafka answers a partition it does not have before it checks records or acks, with
                // no log start offset and no message, whether or not its topic exists
                // (`KafkaApis.handleProduceRequest`: `new PartitionResponse(Errors.UNKNOWN_TOPIC_OR_PARTITION)`).
                guard broker.hasPartition(place) else {
                    answer(failed(partition.index, .unknownTopicOrPartition))
                    continue
                }
                let refusal: KafkaErrorCode? = named[place, default: 0] > 1 ? .invalidRecord
                    : partition.records?.withUnsafeBytes { ProduceRecordsCheck.refusal(of: $0, version: version) }
                if let refusal {
                    broker.metrics.produceErrors.add(1, ordering: .relaxed)
                    answer(failed(partition.index, refusal))
                    continue
                }
                guard let acks else {
                    answer(failed(partition.index, .invalidRequiredAcks))
                    continue
                }
                do throws(BrokerError) {
                    guard let records = partition.records, records.count > 0 else { throw BrokerError.invalidRecord("no records") }
                    // Appended only: the wait for the flush comes after every append of this request.
                    let result = try await broker.produce(topic: topic.name, partition: partition.index, records: records.slice,
                                                          acks: acks == .all ? .leader : acks, willWaitUntilDurable: acks == .all)
                    if acks == .all { durable.append((topicIndex, topics[topicIndex].partitionResponses.count, result)) }
                    answer(Partition(index: partition.index, errorCode: 0, baseOffset: result.baseOffset, logStartOffset: result.logStartOffset))
                } catch {
                    broker.metrics.produceErrors.add(1, ordering: .relaxed)
                    answer(ProduceFailureAnswer.partition(partition.index, error) { broker.logStartOffset(topic: topic.name, partition: partition.index) ?? -1 })
                }
            }
        }
        turn?.end()
        let waitStarted = durable.isEmpty ? 0 : monotonicNanoseconds()
        defer { if waitStarted > 0 { timing?.addWait(since: waitStarted) } }
        for (topicIndex, partitionIndex, result) in durable {
            let name = topics[topicIndex].name
            let index = topics[topicIndex].partitionResponses[partitionIndex].index
            do throws(BrokerError) {
                try await broker.waitUntilDurable(result, topic: name, partition: index)
            } catch {
                broker.metrics.produceErrors.add(1, ordering: .relaxed)
                topics[topicIndex].partitionResponses[partitionIndex] = ProduceFailureAnswer.partition(index, error) {
                    broker.logStartOffset(topic: name, partition: index) ?? -1
                }
            }
        }
        return ProduceResponse(responses: topics)
    }

    /// The answer to a request that a partition's records fail as a whole
    /// (`ProduceRecordsCheck.failsRequest`, an invalid compression code before v7), nil when none
    /// does. As Kafka only checks the records of partitions it has, so does this. Kafka answers
    /// with `ProduceRequest.getErrorResponse`: every partition UNKNOWN_SERVER_ERROR, no offsets and
    /// no message, once per partition, and nothing of the request is stored.
    private func wholeRequestFailure(_ request: ProduceRequest, version: Int16) -> ProduceResponse? {
        // From v7 no records fail the whole request: today's clients skip this walk of every
        // partition (its lookup and its check), which the append loop makes again.
        guard version < 7 else { return nil }
        let fails = request.topicData.contains { topic in
            topic.partitionData.contains { partition in
                broker.hasPartition(TopicPartition(topic.name, partition.index))
                    && partition.records?.withUnsafeBytes { ProduceRecordsCheck.failsRequest($0, version: version) } == true
            }
        }
        guard fails else { return nil }
        var topics: [ProduceResponse.TopicProduceResponse] = []
        var topicIndexes: [String: Int] = [:]
        var answered: Set<TopicPartition> = []
        for topic in request.topicData {
            let topicIndex = Self.answerIndex(of: topic.name, in: &topics, &topicIndexes)
            for partition in topic.partitionData where answered.insert(TopicPartition(topic.name, partition.index)).inserted {
                topics[topicIndex].partitionResponses.append(
                    .init(index: partition.index, errorCode: KafkaErrorCode.unknownServerError.rawValue, baseOffset: -1, logStartOffset: -1))
            }
        }
        broker.metrics.produceErrors.add(UInt64(answered.count), ordering: .relaxed)
        return ProduceResponse(responses: topics)
    }

    /// Where the answer for topic `name` is in `topics` (its place kept in `indexes`), added at the
    /// end if it is not there yet: a topic the request names more than once gets one answer, as in Kafka's.
    private static func answerIndex(of name: String, in topics: inout [ProduceResponse.TopicProduceResponse],
                                    _ indexes: inout [String: Int]) -> Int {
        if let index = indexes[name] { return index }
        topics.append(.init(name: name, partitionResponses: []))
        indexes[name] = topics.count - 1
        return topics.count - 1
    }

    /// What a produce with acks=0 gets: no answer, unless a partition failed. Then, as Kafka's
    /// broker does, the connection is closed, so the producer learns that something went wrong
    /// and refreshes its metadata (an answer it does not read would tell it nothing).
    static func unacknowledged(_ response: ProduceResponse) -> Outcome {
        let failures = response.responses.flatMap { topic in
            topic.partitionResponses.filter { $0.errorCode != 0 }.map { "\(topic.name)[\($0.index)]: \(KafkaErrorCode(rawValue: $0.errorCode).map(String.init(describing:)) ?? "error \($0.errorCode)")" }
        }
        return failures.isEmpty ? .silent : .close("produce with acks=0 failed for \(failures.joined(separator: ", "))")
    }

    /// Produce v0-2 (message formats 0 and 1) is advertised only so librdkafka keeps compression
    /// on; it is answered, per partition, with UNSUPPORTED_VERSION.
    func legacyProduce(_ request: ProduceRequest, _ context: Context) -> Outcome {
        // Unanswered, nothing stored would say so: the connection is closed instead.
        guard request.acks != 0 else { return .close("produce v\(context.version) with acks=0: message formats 0 and 1 are not stored") }
        let response = ProduceResponse(responses: request.topicData.map { topic in
            .init(name: topic.name, partitionResponses: topic.partitionData.map {
                .init(index: $0.index, errorCode: KafkaErrorCode.unsupportedVersion.rawValue, baseOffset: -1, logStartOffset: -1)
            })
        })
        return .response(frame(response, to: ProduceRequest.self, context))
    }
}
