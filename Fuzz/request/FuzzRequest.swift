import SpoolFormat
import SpoolFuzzSupport
import SpoolWire

/// libFuzzer's entry point: one request frame (without its size prefix) through the decoder the
/// server's router uses, then through what the broker parses next without touching storage: the
/// record batches of a produce request, consumer-protocol subscriptions and assignments.
#if FUZZING
// Only in the libFuzzer build (see FuzzBatch.swift).
@_cdecl("LLVMFuzzerTestOneInput")
#endif
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    decodeRequest(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func decodeRequest(_ frame: [UInt8]) {
    guard case let .success(request) = DecodedRequest.decode(frame), let body = request.body else { return }
    // What decodes re-encodes to a frame that decodes to the same request.
    let again = DecodedRequest.decode(Array(Frames.request(body.message, version: request.version, correlationId: request.header.correlationId,
                                                           clientId: request.header.clientId).dropFirst(4)))
    guard case let .success(reread) = again, reread.body == body else { fatalError("\(request.apiKey.name) v\(request.version) does not round-trip") }
    switch body {
    case let .produce(produce):
        for topic in produce.topicData {
            for partition in topic.partitionData { if let records = partition.records { checkBatches(records.bytes) } }
        }
    case let .joinGroup(join):
        for proto in join.protocols { _ = try? ConsumerProtocol.decodeSubscription(proto.metadata) }
    case let .syncGroup(sync):
        for member in sync.assignments { _ = try? ConsumerProtocol.decodeAssignment(member.assignment) }
    default:
        break
    }
}

/// Splits a partition's records into batches by their declared sizes and validates each (the
/// broker takes one batch per partition and validates it before appending; the rest are walked
/// here so a malformed tail is fuzzed too).
func checkBatches(_ records: [UInt8]) {
    records.withUnsafeBytes { raw in
        var position = 0
        while position < raw.count {
            let rest = UnsafeRawBufferPointer(rebasing: raw[position...])
            guard let size = RecordBatchView.declaredSize(rest), size >= RecordBatchLayout.headerSize, size <= rest.count else { return }
            _ = try? RecordBatchView.validateFromProducer(UnsafeRawBufferPointer(rebasing: rest[..<size]))
            position += size
        }
    }
}

@main struct FuzzTarget {
    static func main() throws {
        try fuzzMain(fuzz, replay: decodeRequest, inputs: "request frames", seeds: { RequestSeeds.all })
    }
}
