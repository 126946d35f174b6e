import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// DescribeConfigs: topics (resource type 2) and this broker (4), with Kafka's names, values,
    /// sources, read-only flags, synonyms (v1+, when asked for), types and documentation (v3+).
    /// Another resource type gets INVALID_REQUEST.
    func describeConfigs(_ request: DescribeConfigsRequest, _ context: Context) -> DescribeConfigsResponse {
        DescribeConfigsResponse(results: request.resources.map { resource in
            guard let type = ConfigResourceType(rawValue: resource.resourceType) else {
                return .init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: "Unsupported resource type \(resource.resourceType)",
                             resourceType: resource.resourceType, resourceName: resource.resourceName)
            }
            let described = broker.describeConfigs(type, name: resource.resourceName, configNames: resource.configurationKeys, nodeId: nodeId,
                                                   includeSynonyms: context.version >= 1 && request.includeSynonyms,
                                                   includeDocumentation: context.version >= 3 && request.includeDocumentation)
            return .init(
                errorCode: described.outcome.error.rawValue, errorMessage: described.outcome.message, resourceType: resource.resourceType,
                resourceName: resource.resourceName,
                configs: described.entries.map { entry in
                    .init(name: entry.name, value: entry.value, readOnly: entry.readOnly, isDefault: entry.isDefault,
                          configSource: entry.source.rawValue, isSensitive: entry.sensitive,
                          synonyms: entry.synonyms.map { .init(name: $0.name, value: $0.value, source: $0.source.rawValue) },
                          configType: entry.type.rawValue, documentation: entry.documentation.isEmpty ? nil : entry.documentation)
                })
        })
    }

    /// AlterConfigs: each resource's overrides become exactly the configs given.
    func alterConfigs(_ request: AlterConfigsRequest) -> AlterConfigsResponse {
        AlterConfigsResponse(responses: request.resources.map { resource in
            let outcome = configOutcome(resource.resourceType) { type in
                var configs: [String: String?] = [:]
                for config in resource.configs {
                    if configs[config.name] != nil { return AdminOutcome(error: .invalidRequest, message: "Duplicate config \(config.name)") }
                    configs[config.name] = .some(config.value)
                }
                return broker.alterConfigs(type, name: resource.resourceName, configs: configs, validateOnly: request.validateOnly, nodeId: nodeId)
            }
            return .init(errorCode: outcome.error.rawValue, errorMessage: outcome.message, resourceType: resource.resourceType,
                         resourceName: resource.resourceName)
        })
    }

    /// IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT, per config.
    func incrementalAlterConfigs(_ request: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse(responses: request.resources.map { resource in
            let outcome = configOutcome(resource.resourceType) { type in
                var alterations: [ConfigAlteration] = []
                for config in resource.configs {
                    guard let operation = ConfigAlteration.Operation(rawValue: config.configOperation) else {
                        return AdminOutcome(error: .invalidRequest, message: "Unknown config operation \(config.configOperation) for \(config.name)")
                    }
                    alterations.append(ConfigAlteration(name: config.name, operation: operation, value: config.value))
                }
                return broker.incrementalAlterConfigs(type, name: resource.resourceName, alterations: alterations,
                                                      validateOnly: request.validateOnly, nodeId: nodeId)
            }
            return .init(errorCode: outcome.error.rawValue, errorMessage: outcome.message, resourceType: resource.resourceType,
                         resourceName: resource.resourceName)
        })
    }

    private func configOutcome(_ rawType: Int8, _ body: (ConfigResourceType) -> AdminOutcome) -> AdminOutcome {
        guard let type = ConfigResourceType(rawValue: rawType) else {
            return AdminOutcome(error: .invalidRequest, message: "Unsupported resource type \(rawType)")
        }
        return body(type)
    }
}
