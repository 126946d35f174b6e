import SpoolBroker
import SpoolLog
import SpoolWire

extension RequestRouter {
    /// Produce: each partition's records go to the broker (auto-creating the topic when allowed);
    /// acks=0 gets no response at all. Every partition is appended first, in the connection's
    /// order of produces (`turn`), and only then does an acks=all request wait for the flushes.
    func produce(_ request: ProduceRequest, turn: RequestTurn? = nil) async -> ProduceResponse? {
        guard let acks = Acks(rawValue: request.acks) else {
            return ProduceResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(index: $0.index, errorCode: KafkaErrorCode.invalidRequiredAcks.rawValue, baseOffset: -1, logStartOffset: -1)
                })
            })
        }
        await turn?.begin()
        var topics: [ProduceResponse.Topic] = []
        // (topic index, partition index, what was stored) for an acks=all request to see flushed.
        var durable: [(Int, Int, ProduceResult)] = []
        for topic in request.topics {
            if request.transactionalId != nil || (try? broker.ensureTopic(topic.name)) == nil {
                let code: KafkaErrorCode = request.transactionalId != nil ? .invalidRequest : .unknownTopicOrPartition
                topics.append(.init(name: topic.name, partitions: topic.partitions.map {
                    .init(index: $0.index, errorCode: code.rawValue, baseOffset: -1, logStartOffset: -1)
                }))
                continue
            }
            var partitions: [ProduceResponse.Partition] = []
            for partition in topic.partitions {
                do throws(BrokerError) {
                    guard let records = partition.records, !records.isEmpty else { throw BrokerError.invalidRecord("no records") }
                    // Appended only: the wait for the flush comes after every append of this request.
                    let result = try await broker.produce(topic: topic.name, partition: partition.index, records: records,
                                                          acks: acks == .all ? .leader : acks)
                    if acks == .all { durable.append((topics.count, partitions.count, result)) }
                    partitions.append(.init(index: partition.index, errorCode: 0, baseOffset: result.baseOffset, logStartOffset: result.logStartOffset))
                } catch {
                    broker.metrics.produceErrors.add(1, ordering: .relaxed)
                    partitions.append(.init(index: partition.index, errorCode: error.code.rawValue, baseOffset: -1, logStartOffset: -1,
                                            errorMessage: error.description))
                }
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        turn?.end()
        for (topicIndex, partitionIndex, result) in durable {
            let name = topics[topicIndex].name
            let partition = topics[topicIndex].partitions[partitionIndex]
            do throws(BrokerError) {
                try await broker.waitUntilDurable(result, topic: name, partition: partition.index)
            } catch {
                broker.metrics.produceErrors.add(1, ordering: .relaxed)
                topics[topicIndex].partitions[partitionIndex] = .init(index: partition.index, errorCode: error.code.rawValue, baseOffset: -1,
                                                                      logStartOffset: -1, errorMessage: error.description)
            }
        }
        return acks == .none ? nil : ProduceResponse(topics: topics)
    }

    /// Fetch: a long poll over every requested partition; the stored batches are copied into the
    /// response as they are on disk, never decoded.
    func fetch(_ request: FetchRequest, version: Int16, into writer: inout WireWriter) async {
        let partitions = request.topics.flatMap { topic in
            topic.partitions.map { FetchPartitionRequest(TopicPartition(topic.name, $0.index), fetchOffset: $0.fetchOffset, maxBytes: Int($0.maxBytes)) }
        }
        let results = await broker.fetch(partitions, maxWaitMs: Int(request.maxWaitMs), minBytes: Int(request.minBytes),
                                          maxBytes: Int(request.maxBytes <= 0 ? Int32.max : request.maxBytes))
        var next = results.makeIterator()
        FetchResponseWriter.beginResponse(&writer, version: version, topicCount: request.topics.count)
        for topic in request.topics {
            FetchResponseWriter.beginTopic(&writer, name: topic.name, partitionCount: topic.partitions.count)
            for partition in topic.partitions {
                guard let result = next.next() else { break }
                let info = FetchResponseWriter.Partition(index: partition.index, errorCode: result.error.rawValue,
                                                         highWatermark: result.highWatermark, logStartOffset: result.logStartOffset)
                if let slice = result.records {
                    slice.withUnsafeBytes { FetchResponseWriter.partition(&writer, version: version, info, records: $0) }
                } else {
                    FetchResponseWriter.partition(&writer, version: version, info, records: nil)
                }
            }
        }
    }

    func listOffsets(_ request: ListOffsetsRequest) -> ListOffsetsResponse {
        ListOffsetsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                do throws(BrokerError) {
                    let (offset, timestamp) = try broker.listOffset(topic: topic.name, partition: partition.index, timestamp: partition.timestamp)
                    return .init(index: partition.index, errorCode: 0, timestamp: timestamp, offset: offset)
                } catch {
                    return .init(index: partition.index, errorCode: error.code.rawValue, timestamp: -1, offset: -1)
                }
            })
        })
    }
}
