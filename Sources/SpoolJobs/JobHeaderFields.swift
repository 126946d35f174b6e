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

    /// `expectedType`: the UTF-8 of the type name the reader runs, which `type` is compared with
    /// (nil: not compared); `group`: the UTF-8 of the reader's group, which `spool-group` is
    /// compared with (nil: not compared).
    ///
    /// The headers are read in place: a header copied out of the array retained and released its
    /// value's buffer.
    init(_ headers: [RecordHeader], expectedType: [UInt8]? = nil, group: [UInt8]? = nil) {
        var (idSeen, typeSeen, attemptSeen, deliverAtSeen, producedAtSeen, groupSeen) = (false, false, false, false, false, false)
        headers.withUnsafeBufferPointer { headers in
            for index in headers.indices {
                switch headers[index].key {
                case SpoolHeaders.jobId where !idSeen:
                    idSeen = true
                    idBytes = headers[index].value
                case SpoolHeaders.jobType where !typeSeen:
                    typeSeen = true
                    guard let expectedType else {
                        type = headers[index].value
                        continue
                    }
                    wrongType = headers[index].value?.withUnsafeBufferPointer { !$0.elementsEqual(expectedType) } ?? false
                    if wrongType { type = headers[index].value }
                case SpoolHeaders.attempt where !attemptSeen:
                    attemptSeen = true
                    attempt = headers[index].value?.withUnsafeBufferPointer { Int(String(decoding: $0, as: UTF8.self)) } ?? nil
                case SpoolHeaders.deliverAt where !deliverAtSeen:
                    deliverAtSeen = true
                    deliverAtMs = SpoolHeaders.parseMilliseconds(headers[index].value)
                case SpoolHeaders.producedAt where !producedAtSeen:
                    producedAtSeen = true
                    producedAtMs = SpoolHeaders.parseMilliseconds(headers[index].value)
                case SpoolHeaders.group where !groupSeen:
                    groupSeen = true
                    guard let group, let value = headers[index].value else { continue }
                    otherGroup = !value.elementsEqual(group)
                default:
                    continue
                }
            }
        }
    }
}
