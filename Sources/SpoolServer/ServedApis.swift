import SpoolWire

/// The APIs and versions `spool serve` answers: every version Kafka 3.9 serves of each API Spool
/// implements, but for Produce below 3 and Fetch below 4 (message formats 0 and 1 are not
/// stored). ApiVersions advertises exactly this, except that Produce 0-2 are advertised too and
/// answered with UNSUPPORTED_VERSION per partition: librdkafka before 2.11.1 compresses only when
/// Produce 0 is advertised (CLIENT_NOTES section 2), and Kafka 4 does the same (KAFKA-18659).
enum ServedApis {
    /// The versions answered, nil for an API not served.
    static func served(_ api: ApiKey) -> ClosedRange<Int16>? {
        switch api {
        case .produce: 3...api.kafkaVersions.upperBound
        case .fetch: 4...api.kafkaVersions.upperBound
        case .listOffsets, .metadata, .offsetCommit, .offsetFetch, .findCoordinator, .joinGroup, .heartbeat, .leaveGroup, .syncGroup,
             .describeGroups, .listGroups, .apiVersions, .createTopics, .deleteTopics, .deleteRecords, .initProducerId,
             .offsetForLeaderEpoch, .describeConfigs, .alterConfigs, .describeLogDirs, .createPartitions, .deleteGroups,
             .incrementalAlterConfigs, .offsetDelete, .describeCluster, .describeProducers:
            api.kafkaVersions
        }
    }

    /// What ApiVersions advertises for `api`, nil for an API not served.
    static func advertised(_ api: ApiKey) -> ClosedRange<Int16>? {
        api == .produce ? api.kafkaVersions : served(api)
    }
}
