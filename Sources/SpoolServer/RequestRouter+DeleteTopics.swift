import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// DeleteTopics: by name, or from v6 by name or id. Each answer carries the topic's name and
    /// id, as Kafka's do (the zero id for a name that is unknown, no name for an unknown id); a
    /// deletion left pending by a storage error is finished by the retry, by name or by id.
    ///
    /// As Kafka's controller does (`ControllerApis.deleteTopics`), entries that do not name one
    /// topic once are refused with INVALID_REQUEST and delete nothing: one that gives both a name
    /// and an id, one that gives neither, a name or an id given more than once (answered once),
    /// and a name whose topic's id the request gives too (answered for the name, with that id;
    /// the id gets no answer of its own). The others are answered in the order of the request.
    func deleteTopics(_ request: DeleteTopicsRequest) async -> DeleteTopicsResponse {
        let wanted: [(name: String?, id: KafkaUUID)] = request.topicNames.map { ($0, .zero) } + request.topics.map { ($0.name, $0.topicId) }
        let names = Dictionary(wanted.compactMap { $0.id == .zero ? $0.name.map { ($0, 1) } : nil }, uniquingKeysWith: +)
        let ids = Dictionary(wanted.compactMap { $0.name == nil && $0.id != .zero ? ($0.id, 1) : nil }, uniquingKeysWith: +)
        func refused(_ name: String?, _ id: KafkaUUID, _ message: String) -> DeleteTopicsResponse.DeletableTopicResult {
            .init(name: name, topicId: id, errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: message)
        }
        var results: [DeleteTopicsResponse.DeletableTopicResult] = []
        var answeredNames: Set<String> = []
        var answeredIds: Set<KafkaUUID> = []
        for topic in wanted {
            switch (topic.name, topic.id == .zero) {
            case (nil, true):
                results.append(refused(nil, .zero, "Neither topic name nor id were specified."))
            case let (name?, false):
                results.append(refused(name, topic.id, "You may not specify both topic name and topic id."))
            case let (name?, true):
                guard answeredNames.insert(name).inserted else { continue }
                if names[name, default: 0] > 1 {
                    results.append(refused(name, .zero, "Duplicate topic name."))
                } else if !ids.isEmpty, let id = (broker.topicId(name) ?? broker.pendingDeletionId(name)).map({ KafkaUUID(topicId: $0) }),
                          ids[id] != nil {
                    results.append(refused(name, id, "The provided topic name maps to an ID that was already supplied."))
                } else {
                    results.append(await deleteTopic(name: name))
                }
            case (nil, false):
                guard answeredIds.insert(topic.id).inserted else { continue }
                if ids[topic.id, default: 0] > 1 {
                    results.append(refused(nil, topic.id, "Duplicate topic id."))
                } else if !namesTheSameTopic(topic.id, names) {
                    results.append(await deleteTopic(id: topic.id))
                }
            }
        }
        return DeleteTopicsResponse(responses: results)
    }

    /// Whether a name the request gives once (`names`) is that of the topic with this id: the name
    /// is refused, and the id goes unanswered, as in Kafka.
    private func namesTheSameTopic(_ id: KafkaUUID, _ names: [String: Int]) -> Bool {
        let text = id.topicIdString
        guard let name = broker.topicName(id: text) ?? broker.pendingDeletionName(id: text) else { return false }
        return names[name] == 1
    }

    /// Deletes the topic named `name`.
    private func deleteTopic(name: String) async -> DeleteTopicsResponse.DeletableTopicResult {
        // The id a storage error leaves the answer with.
        let id = broker.topicId(name)
        do {
            let deleted = try await broker.deleteTopic(name)
            return .init(name: name, topicId: (deleted ?? id).map { KafkaUUID(topicId: $0) } ?? .zero, errorCode: 0)
        } catch {
            return .init(name: name, topicId: (id ?? broker.pendingDeletionId(name)).map { KafkaUUID(topicId: $0) } ?? .zero,
                         errorCode: error.code.rawValue, errorMessage: error.description)
        }
    }

    /// Deletes the topic whose id is `id`.
    private func deleteTopic(id: KafkaUUID) async -> DeleteTopicsResponse.DeletableTopicResult {
        let text = id.topicIdString
        // The name a storage error leaves the answer with.
        let name = broker.topicName(id: text)
        do {
            return .init(name: try await broker.deleteTopic(id: text), topicId: id, errorCode: 0)
        } catch .unknownTopicId {
            return .init(name: nil, topicId: id, errorCode: KafkaErrorCode.unknownTopicId.rawValue, errorMessage: "no topic has this id")
        } catch {
            return .init(name: name ?? broker.pendingDeletionName(id: text), topicId: id, errorCode: error.code.rawValue, errorMessage: error.description)
        }
    }
}
