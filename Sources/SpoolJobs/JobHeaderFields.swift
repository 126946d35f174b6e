import SpoolFormat

/// The Spool headers a worker reads from every job, found in one pass over the record's headers
/// when the job is taken in (the first header of each name counts, as `ConsumedRecord.header`
/// reads them). The poll loop reads them there, just after the record was decoded: a runner on
/// another core would fetch each header's buffer into its cache again.
struct JobHeaderFields: Sendable {
    /// `spool-job-id`, as stored; nil when the record has none (a record not enqueued through
    /// `JobQueue`). Made text only when read (`id`): most jobs' ids never are.
    var idBytes: [UInt8]?
    var id: String? { idBytes.map { String(decoding: $0, as: UTF8.self) } }
    /// `spool-job-type`, as stored, when it differs from the expected type or none was given:
    /// made text only for the error.
    var type: [UInt8]?
    /// `spool-attempt` as a number; nil when absent or not a number.
    var attempt: Int?
    /// `spool-deliver-at` in epoch ms; nil when absent or not a number.
    var deliverAtMs: Int64?
    /// `spool-produced-at` in epoch ms, on a record the broker held and delivered (whose own
    /// timestamp is when it was delivered); nil when absent or not a number.
    var producedAtMs: Int64?
    /// `type` is there and differs from the type the reader expects.
    var wrongType = false
    /// `spool-group` is there and names another group than the reader's: a `.none` retry of that
    /// group's, which this reader ran (or runs) from the job's own first delivery.
    var otherGroup = false

    /// No header read: a record not taken in as a job.
    init() {}

    /// `expectedType`: the UTF-8 of the type name the reader runs, which `type` is compared with
    /// (nil: not compared); `group`: the UTF-8 of the reader's group, which `spool-group` is
    /// compared with (nil: not compared).
    ///
    /// The headers are read in place, in the record's batch: only the values kept are copied out.
    init(_ record: borrowing BatchRecord, expectedType: [UInt8]? = nil, group: [UInt8]? = nil) {
        // Made in the closure and handed back: `self` changed from inside it was copied once more.
        self = record.withHeaders { headers in
            var fields = JobHeaderFields()
            // A bit per name: the first header of each name counts.
            var seen: UInt8 = 0
            while let (rawName, value) = headers.next() {
                guard let name = Name(rawName), seen & name.bit == 0 else { continue }
                seen |= name.bit
                switch name {
                case .jobId:
                    fields.idBytes = value.map { Array($0) }
                case .jobType:
                    guard let expectedType else {
                        fields.type = value.map { Array($0) }
                        continue
                    }
                    fields.wrongType = value.map { !$0.elementsEqual(expectedType) } ?? false
                    if fields.wrongType { fields.type = value.map { Array($0) } }
                case .attempt:
                    fields.attempt = value.flatMap { Int(String(decoding: $0, as: UTF8.self)) }
                case .deliverAt:
                    fields.deliverAtMs = SpoolHeaders.parseMilliseconds(value)
                case .producedAt:
                    fields.producedAtMs = SpoolHeaders.parseMilliseconds(value)
                case .group:
                    guard let group, let value else { continue }
                    fields.otherGroup = !value.elementsEqual(group)
                }
            }
            return fields
        }
    }

    /// The headers read here.
    private enum Name: UInt8 {
        case jobId, jobType, attempt, deliverAt, producedAt, group

        var bit: UInt8 { 1 << rawValue }

        /// Each name's UTF-8; the six have six lengths, so a name's length picks the one it can be.
        private static let jobIdBytes = Array(SpoolHeaders.jobId.utf8), jobTypeBytes = Array(SpoolHeaders.jobType.utf8),
                           attemptBytes = Array(SpoolHeaders.attempt.utf8), deliverAtBytes = Array(SpoolHeaders.deliverAt.utf8),
                           producedAtBytes = Array(SpoolHeaders.producedAt.utf8), groupBytes = Array(SpoolHeaders.group.utf8)

        /// The header a raw name names, if one read here: compared byte for byte (each is ASCII,
        /// which no other text equals as a `String`).
        init?(_ raw: UnsafeRawBufferPointer) {
            let name: Name, bytes: [UInt8]
            switch raw.count {
            case Self.jobIdBytes.count: (name, bytes) = (.jobId, Self.jobIdBytes)
            case Self.jobTypeBytes.count: (name, bytes) = (.jobType, Self.jobTypeBytes)
            case Self.attemptBytes.count: (name, bytes) = (.attempt, Self.attemptBytes)
            case Self.deliverAtBytes.count: (name, bytes) = (.deliverAt, Self.deliverAtBytes)
            case Self.producedAtBytes.count: (name, bytes) = (.producedAt, Self.producedAtBytes)
            case Self.groupBytes.count: (name, bytes) = (.group, Self.groupBytes)
            default: return nil
            }
            guard raw.elementsEqual(bytes) else { return nil }
            self = name
        }
    }
}
