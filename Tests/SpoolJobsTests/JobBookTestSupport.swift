import SpoolFormat
@testable import SpoolJobs

extension JobBook {
    /// Takes in a record built as a `ConsumedRecord` (as the tests build them), laid out as the
    /// worker's polls hand records over.
    mutating func add(_ record: ConsumedRecord, now: Int64) -> (accepted: Bool, wake: JobWake?) {
        add(BatchRecord(record), now: now)
    }
}

extension JobHeaderFields {
    /// The fields of a record with these headers (as the tests build them).
    init(_ headers: [RecordHeader], expectedType: [UInt8]? = nil, group: [UInt8]? = nil) {
        let record = ConsumedRecord(topic: "", partition: 0, offset: 0, timestamp: 0, key: nil, value: nil, headers: headers)
        self.init(BatchRecord(record), expectedType: expectedType, group: group)
    }
}
