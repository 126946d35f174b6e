import Glibc
import SpoolFormat

/// The Spool headers a worker reads from every job, found in one pass over the record's headers
/// when the job is taken in (the first header of each name counts, as `ConsumedRecord.header`
/// reads them). The poll loop reads them there, just after the record was decoded: a runner on
/// another core would fetch each header's buffer into its cache again.
struct JobHeaderFields: Sendable {
    /// Where `spool-job-id` lies in the record; nil when the record has none (a record not
    /// enqueued through `JobQueue`). Left there, and made text only when read (`id(in:)`): most
    /// jobs' ids never are, and a copy of each was an allocation per job.
    var idSpan: RecordBytesSpan?
    func id(in record: borrowing BatchRecord) -> String? {
        idSpan.map { record.withBytes($0) { String(decoding: $0, as: UTF8.self) } }
    }
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
                    fields.idSpan = value.map { headers.span(of: $0) }
                case .jobType:
                    guard let expectedType else {
                        fields.type = value.map { Array($0) }
                        continue
                    }
                    fields.wrongType = value.map { !Self.equal($0, expectedType) } ?? false
                    if fields.wrongType { fields.type = value.map { Array($0) } }
                case .attempt:
                    fields.attempt = value.flatMap(Self.attempt)
                case .deliverAt:
                    fields.deliverAtMs = SpoolHeaders.parseMilliseconds(value)
                case .producedAt:
                    fields.producedAtMs = SpoolHeaders.parseMilliseconds(value)
                case .group:
                    guard let group, let value else { continue }
                    fields.otherGroup = !Self.equal(value, group)
                }
            }
            return fields
        }
    }

    /// Whether `raw` holds exactly `bytes`.
    private static func equal(_ raw: UnsafeRawBufferPointer, _ bytes: [UInt8]) -> Bool {
        raw.count == bytes.count && bytes.withUnsafeBytes { Self.equal(raw, $0) }
    }

    /// Whether two buffers of one length hold the same bytes (an empty one has no address).
    fileprivate static func equal(_ raw: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer) -> Bool {
        guard let left = raw.baseAddress, let right = other.baseAddress else { return raw.count == other.count }
        return memcmp(left, right, raw.count) == 0
    }

    /// `spool-attempt`'s value as `Int(String(decoding: value, as: UTF8.self))` reads it: a plain
    /// run of up to 18 digits without making text, anything else (a sign, more digits) as text.
    static func attempt(_ value: UnsafeRawBufferPointer) -> Int? {
        if let plain = SpoolHeaders.parseMilliseconds(value) { return Int(plain) }
        return Int(String(decoding: value, as: UTF8.self))
    }

    /// The headers read here.
    private enum Name: UInt8 {
        case jobId, jobType, attempt, deliverAt, producedAt, group

        var bit: UInt8 { 1 << rawValue }

        /// The header a raw name names, if one read here: compared byte for byte (each is ASCII,
        /// which no other text equals as a `String`). The six names have six lengths, so a name's
        /// length picks the one it can be; each is a literal, read where the binary holds it.
        init?(_ raw: UnsafeRawBufferPointer) {
            let name: Name, text: StaticString
            switch raw.count {
            case 12: (name, text) = (.jobId, "spool-job-id")
            case 14: (name, text) = (.jobType, "spool-job-type")
            case 13: (name, text) = (.attempt, "spool-attempt")
            case 16: (name, text) = (.deliverAt, "spool-deliver-at")
            case 17: (name, text) = (.producedAt, "spool-produced-at")
            case 11: (name, text) = (.group, "spool-group")
            default: return nil
            }
            guard JobHeaderFields.equal(raw, UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)) else { return nil }
            self = name
        }

        /// Each name's literal is the header's name, and their lengths differ (checked by a test).
        static let all: [(Name, String)] = [(.jobId, SpoolHeaders.jobId), (.jobType, SpoolHeaders.jobType), (.attempt, SpoolHeaders.attempt),
                                            (.deliverAt, SpoolHeaders.deliverAt), (.producedAt, SpoolHeaders.producedAt), (.group, SpoolHeaders.group)]
    }

    /// Whether every header read here is recognized by its name as `SpoolHeaders` spells it (for the tests).
    static var namesMatchSpoolHeaders: Bool {
        Name.all.allSatisfy { name, text in
            var text = text
            return text.withUTF8 { Name(UnsafeRawBufferPointer($0)) == name }
        }
    }
}
