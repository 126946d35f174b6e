/// The bytes of one fetched batch, copied once out of what it was fetched in (a Fetch response's
/// frame, a mapped log segment), which it does not keep alive: the records read from it
/// (`BatchRecord`) share it.
public final class BatchBytes: Sendable {
    public let topic: String
    public let partition: Int32
    let bytes: [UInt8]

    init(topic: String, partition: Int32, bytes: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.bytes = bytes
    }

    convenience init(topic: String, partition: Int32, copying raw: UnsafeRawBufferPointer) {
        self.init(topic: topic, partition: partition, bytes: Array(raw))
    }

}

/// Where some bytes of a `BatchRecord` lie in its batch (a header's value), to be read later
/// (`BatchRecord.withBytes`) without a copy made meanwhile.
public struct RecordBytesSpan: Sendable, Equatable {
    public let start: Int32
    public let count: Int32
}

/// A fetched record read in place: its batch's bytes (`BatchBytes`, shared by the batch's
/// records) and where its fields lie in them. For readers that need few of a record's fields,
/// as a job worker: nothing is copied out until asked for, where `ConsumedRecord` makes an array
/// for the key, the value, each header's value, the headers and each header name's string.
/// `consumedRecord` makes that record when one is needed.
public struct BatchRecord: Sendable {
    /// Nil only in what a record moved out of an array leaves in its place (`movedOut`), which is
    /// never read: a shared empty batch there was retained and released by every thread for every
    /// record taken.
    private let storage: BatchBytes?
    var batch: BatchBytes { storage! }
    public let offset: Int64
    /// Milliseconds since the Unix epoch.
    public let timestamp: Int64
    let layout: RecordLayout

    init(batch: BatchBytes?, offset: Int64, timestamp: Int64, layout: RecordLayout) {
        self.storage = batch
        self.offset = offset
        self.timestamp = timestamp
        self.layout = layout
    }

    public var topic: String { batch.topic }
    public var partition: Int32 { batch.partition }
    public var topicPartition: TopicPartition { TopicPartition(batch.topic, batch.partition) }

    /// Whether the key is not null.
    public var hasKey: Bool { layout.keyLength >= 0 }
    /// Whether the value is not null (a tombstone's is).
    public var hasValue: Bool { layout.valueLength >= 0 }
    /// The number of headers.
    public var headerCount: Int { Int(layout.headerCount) }

    /// The key (nil: null), copied out.
    public var key: [UInt8]? { batch.bytes.withUnsafeBytes { RecordLayout.bytes($0, layout.keyStart, layout.keyLength) } }
    /// The value (nil: null), copied out.
    public var value: [UInt8]? { batch.bytes.withUnsafeBytes { RecordLayout.bytes($0, layout.valueStart, layout.valueLength) } }
    /// The key as UTF-8 text (nil for a null key).
    public var keyString: String? { withKey { $0.map { String(decoding: $0, as: UTF8.self) } } }

    /// Reads the key in place (nil: null).
    public func withKey<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        try batch.bytes.withUnsafeBytes { try body(Self.slice($0, layout.keyStart, layout.keyLength)) }
    }

    /// Reads the value in place (nil: null).
    public func withValue<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        try batch.bytes.withUnsafeBytes { try body(Self.slice($0, layout.valueStart, layout.valueLength)) }
    }

    /// Reads the headers in place, in order: raw name and value slices (nil value: null).
    public func withHeaders<R>(_ body: (inout RawHeaderIterator) throws -> R) rethrows -> R {
        try batch.bytes.withUnsafeBytes { bytes in
            var headers = RawHeaderIterator(bytes, start: Int(layout.headersStart), count: Int(layout.headerCount))
            return try body(&headers)
        }
    }

    /// The headers, copied out.
    public var headers: [RecordHeader] { batch.bytes.withUnsafeBytes { layout.headers(in: $0) } }

    /// The value of the first header named `name`, as UTF-8 text (as `ConsumedRecord.header`,
    /// which compares names as `String`s: a name that is not ASCII is compared so too, as a
    /// canonically equivalent spelling of `name` matches).
    public func header(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { name in
            withHeaders { headers in
                while let (key, value) = headers.next() {
                    if key.elementsEqual(name) || (!key.allSatisfy { $0 < 0x80 } && String(decoding: key, as: UTF8.self) == String(decoding: name, as: UTF8.self)) {
                        return value.map { String(decoding: $0, as: UTF8.self) }
                    }
                }
                return nil
            }
        }
    }

    /// The record with its fields copied out, as the consumer's `poll()` hands it out.
    public var consumedRecord: ConsumedRecord {
        batch.bytes.withUnsafeBytes { bytes in
            ConsumedRecord(topic: batch.topic, partition: batch.partition, offset: offset, timestamp: timestamp,
                           key: RecordLayout.bytes(bytes, layout.keyStart, layout.keyLength),
                           value: RecordLayout.bytes(bytes, layout.valueStart, layout.valueLength), headers: layout.headers(in: bytes))
        }
    }

    /// Reads bytes of the record where they lie (a header's value, found by `RawHeaderIterator.span(of:)`).
    public func withBytes<R>(_ span: RecordBytesSpan, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try batch.bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(span.start)..<(Int(span.start) + Int(span.count))])) }
    }

    private static func slice(_ bytes: UnsafeRawBufferPointer, _ start: Int32, _ length: Int32) -> UnsafeRawBufferPointer? {
        length < 0 ? nil : UnsafeRawBufferPointer(rebasing: bytes[Int(start)..<(Int(start) + Int(length))])
    }
}

extension BatchRecord {
    /// A record already materialized, laid out in bytes of its own as a batch's record is (for
    /// what hands out `ConsumedRecord`s where `BatchRecord`s are asked for): its
    /// `consumedRecord` equals `record`.
    public init(_ record: ConsumedRecord) {
        var bytes: [UInt8] = []
        func append(_ field: [UInt8]?) -> (Int32, Int32) {
            let start = Int32(bytes.count)
            guard let field else { return (start, -1) }
            bytes += field
            return (start, Int32(field.count))
        }
        let key = append(record.key)
        let value = append(record.value)
        let headersStart = Int32(bytes.count)
        for header in record.headers {
            Varint.write(Int64(header.key.utf8.count), to: &bytes)
            bytes += header.key.utf8
            Varint.write(Int64(header.value?.count ?? -1), to: &bytes)
            if let headerValue = header.value { bytes += headerValue }
        }
        let layout = RecordLayout(timestampDelta: 0, offsetDelta: 0, attributes: 0, keyStart: key.0, keyLength: key.1,
                                  valueStart: value.0, valueLength: value.1, headersStart: headersStart, headersEnd: Int32(bytes.count),
                                  headerCount: Int32(record.headers.count))
        self.init(batch: BatchBytes(topic: record.topic, partition: record.partition, bytes: bytes), offset: record.offset,
                  timestamp: record.timestamp, layout: layout)
    }
}
