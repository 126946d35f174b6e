import SpoolFormat
@testable import SpoolJobs

extension JobBook {
    /// Takes in a record built as a `ConsumedRecord` (as the tests build them), laid out as the
    /// worker's polls hand records over.
    mutating func add(_ record: ConsumedRecord, now: Int64) -> (accepted: Bool, wake: JobWake?) {
        add(BatchRecord(record), now: now)
    }
}
