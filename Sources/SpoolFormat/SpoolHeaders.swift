/// The record headers Spool gives meaning to. The broker acts on `deliverAt` and
/// `idempotencyKey` whoever produced the record; the rest are written and read by the job runtime.
public enum SpoolHeaders {
    /// Hold the record until this time: milliseconds since the Unix epoch, decimal ASCII digits.
    public static let deliverAt = "spool-deliver-at"
    /// Store the record only if no record with this key was accepted on the topic within the
    /// topic's `dedupe.window.ms`.
    public static let idempotencyKey = "spool-idempotency-key"
    /// The job's id, kept across retries, dead-lettering and redrive.
    public static let jobId = "spool-job-id"
    /// The attempt this delivery is (1 for the first run).
    public static let attempt = "spool-attempt"
    /// The job's type name, so one topic can carry several.
    public static let jobType = "spool-job-type"
    /// On dead letters: why the last attempt failed.
    public static let error = "spool-error"
    public static let originTopic = "spool-origin-topic"
    public static let originPartition = "spool-origin-partition"
    public static let originOffset = "spool-origin-offset"
    /// On dead letters: when the job was dead-lettered (ms since the Unix epoch).
    public static let failedAt = "spool-failed-at"
    /// On a job enqueued again for its next attempt (`.none` ordering): why the last run failed.
    public static let lastError = "spool-last-error"
    /// On a job enqueued again for its next attempt (`.none` ordering), and on dead letters: the
    /// group whose worker ran it. Workers of other groups of the topic skip such a retry: each
    /// group ran the job's first delivery itself and retries it on its own. A redrive drops it.
    public static let group = "spool-group"
    /// On a dead-letter topic's redrive markers: "partition:offset" of the dead letter sent back.
    public static let redriven = "spool-redriven"
    /// On dead letters of a held key (`onDeadLetter: .holdKey`): the hold's id, GROUP/PARTITION:OFFSET.
    public static let hold = "spool-hold"
    /// On a job parked while its key is held: the id of the dead job it waits behind.
    public static let parkedBehind = "spool-parked-behind"
    /// On a dead letter stored without its payload, because with it the record was over the
    /// dead-letter topic's `max.message.bytes`: the payload's size in bytes. The payload stays in
    /// the job's topic, at the origin headers' place, until retention deletes it.
    public static let valueDropped = "spool-value-dropped"
    /// On a redrive marker in a job topic: the id of the hold whose jobs to replay in order there.
    public static let redriveHold = "spool-redrive-hold"

    /// On records in the broker's delay log (`__spool_delayed`): the topic and partition a held
    /// record goes to when due.
    public static let heldTopic = "spool-delay-topic"
    public static let heldPartition = "spool-delay-partition"
    /// On the delay log's markers: the comma-separated offsets of held records already delivered.
    public static let delivered = "spool-delivered"
    /// On a record the broker held for a later `spool-deliver-at` and then delivered: the timestamp
    /// it was produced with (ms since the Unix epoch). The delivered record's own timestamp is when
    /// it was delivered, so that retention counts from when it became readable.
    public static let producedAt = "spool-produced-at"

    /// The first bytes every Spool header key shares: a batch whose bytes lack them needs no look.
    public static let prefix: [UInt8] = Array("spool-".utf8)

    /// Parses a `spool-deliver-at` value: 1 to 18 decimal digits, nothing else.
    public static func parseMilliseconds(_ value: [UInt8]?) -> Int64? {
        value?.withUnsafeBytes { parseMilliseconds($0) } ?? nil
    }

    /// `parseMilliseconds` of a header value read in place.
    public static func parseMilliseconds(_ value: UnsafeRawBufferPointer?) -> Int64? {
        guard let value, !value.isEmpty, value.count <= 18 else { return nil }
        var result: Int64 = 0
        for byte in value {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            result = result * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return result
    }
}

extension Record {
    /// The value of the first header named `key`, or nil.
    public func header(_ key: String) -> [UInt8]? {
        headers.first { $0.key == key }?.value
    }

    /// The first header named `key` as UTF-8 text, or nil.
    public func headerString(_ key: String) -> String? {
        header(key).map { String(decoding: $0, as: UTF8.self) }
    }
}
