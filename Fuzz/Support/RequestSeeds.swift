import SpoolWire

/// Seed frames for the request and router fuzzers: the sample request of every API the codec
/// covers (`RequestSamples`), at every version Kafka 3.9 defines, classic and flexible, so the
/// fuzzer starts from every branch of every decoder.
public enum RequestSeeds {
    /// One seed frame per API and version, named for the corpus directory.
    public static var all: [(name: String, frame: [UInt8])] {
        ApiKey.allCases.flatMap { api in
            api.kafkaVersions.map { version in
                (name: "\(api.name)-v\(version)", frame: RequestSamples.frame(RequestSamples.request(api), version: version))
            }
        }
    }
}
