import Foundation
import SpoolFormat

/// A kind of work a web request hands off: a Codable payload and the topic its jobs wait in.
///
/// ```swift
/// struct WelcomeEmail: Job {
///     static let topic = "emails"
///     var to: String
/// }
/// ```
public protocol Job: Codable, Sendable {
    /// The topic jobs of this type are enqueued to (its dead letters go to `topic + ".dlq"`).
    static var topic: String { get }
    /// The name written in each job's `spool-job-type` header (default: the type's name).
    static var typeName: String { get }
}

extension Job {
    public static var typeName: String { String(describing: Self.self) }
}

/// One run of a job, as a handler sees it.
public struct JobContext<Payload: Job>: Sendable {
    public var payload: Payload
    /// The job's id: the same on every attempt, in the dead-letter topic and after redrive.
    public var id: String {
        get { idText.string }
        set { idText = .text(newValue) }
    }
    /// The id as the worker has it: made text when read.
    var idText: JobIdText
    /// The ordering key the job was enqueued with (e.g. a user id).
    public var key: String?
    /// This run's attempt, 1 for the first.
    public var attempt: Int
    /// The retry policy's limit: the attempt that fails at this number is dead-lettered.
    public var maxAttempts: Int
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// When the record was produced: for one the broker held for a later `spool-deliver-at`, its
    /// `spool-produced-at` (the delivered record's own timestamp is when it was delivered).
    public var enqueuedAt: Date
    /// The record's headers, made when first read (most handlers never read them); set, they
    /// are what was set.
    public var headers: [RecordHeader] {
        get { headerSource.headers }
        set { headerSource = .list(newValue) }
    }
    var headerSource: JobContextHeaders
    /// The worker's hold on the job while it runs (`extendLease()`).
    var lease: JobLease?

    public var isLastAttempt: Bool { attempt >= maxAttempts }

    /// Inlined into the worker's generic code, which has looked `JobContext<Payload>` up already:
    /// called, it looked the type up again on every job.
    @inline(__always)
    init(payload: Payload, id: JobIdText, key: String?, attempt: Int, maxAttempts: Int, topic: String, partition: Int32, offset: Int64,
         enqueuedAt: Date, headers: JobContextHeaders, lease: JobLease?) {
        self.payload = payload
        self.idText = id
        self.key = key
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.enqueuedAt = enqueuedAt
        self.headerSource = headers
        self.lease = lease
    }

    init(payload: Payload, id: String, key: String?, attempt: Int, maxAttempts: Int, topic: String, partition: Int32, offset: Int64,
         enqueuedAt: Date, headers: [RecordHeader], lease: JobLease?) {
        self.init(payload: payload, id: JobIdText.text(id), key: key, attempt: attempt, maxAttempts: maxAttempts, topic: topic,
                  partition: partition, offset: offset, enqueuedAt: enqueuedAt, headers: .list(headers), lease: lease)
    }
}

/// Where a `JobContext`'s headers come from: the job's record, read in place until they are
/// asked for, or a list made (or set) already.
enum JobContextHeaders: Sendable {
    /// The headers of the record the job's entry holds.
    case entry(JobEntryReference)
    case list([RecordHeader])

    var headers: [RecordHeader] {
        switch self {
        case let .entry(reference): reference.entry.record.headers
        case let .list(headers): headers
        }
    }
}

/// A job's id, as text or as the UTF-8 its record's header holds (made text when read: a
/// string of a UUID's length is an allocation, and most runs never read their id).
enum JobIdText: Sendable {
    case text(String)
    /// The UTF-8 where it lies in the record the job's entry holds (whose `spool-job-id` it has).
    case inEntry(JobEntryReference)

    var string: String {
        switch self {
        case let .text(text): text
        case let .inEntry(reference): reference.entry.fields.id(in: reference.entry.record) ?? ""
        }
    }
}

/// A job's entry in its worker's book, as its run reads it: only the record and its Spool
/// headers, which never change once the record is taken in (hence `@unchecked Sendable`; the
/// book changes the entry's other properties under its lock).
struct JobEntryReference: @unchecked Sendable {
    let entry: JobBook.Entry
}

/// Where an enqueued job went.
public struct EnqueuedJob: Sendable, Equatable {
    public var id: String
    public var topic: String
    public var partition: Int32
    /// The job's offset, or nil while it is held for a later `runAt` (it gets one when due) or when
    /// the broker answered without one.
    public var offset: Int64?
}

/// How payloads become record values and back.
public protocol JobCoding: Sendable {
    func encode<T: Encodable>(_ value: T) throws -> [UInt8]
    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T
    /// Decodes from bytes read in place (a record's value in its batch). By default, from a copy
    /// of them as an array.
    func decode<T: Decodable>(_ type: T.Type, fromBytesAt bytes: UnsafeRawBufferPointer) throws -> T
}

extension JobCoding {
    public func decode<T: Decodable>(_ type: T.Type, fromBytesAt bytes: UnsafeRawBufferPointer) throws -> T {
        try decode(type, from: Array(bytes))
    }
}

/// JSON (the default): readable from any language's Kafka client. One encoder and one decoder
/// serve every job (creating them per job costs more than the work itself).
///
/// Payloads are written by `JSONBytesEncoding`, more than twice as fast as Foundation's
/// `JSONEncoder` and byte for byte the same: where it cannot be sure of that, `JSONEncoder` writes
/// the payload (or throws its error), which the tests check against it.
///
/// Payloads are read by `JSONTapeDecoding`, several times faster than Foundation's `JSONDecoder`
/// and stricter: what it refuses (a payload that is not strict JSON, or does not fit the type)
/// is read again by `JSONDecoder`, whose answer (a value, or its error) is the one given. So the
/// results are `JSONDecoder`'s, which the tests check against it.
public struct JSONJobCoding: JobCoding {
    private let encoder: JSONEncoder
    private let decoder: JSONDecoder

    public init() {
        encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
    }

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do { return try JSONBytesEncoding.encode(value) } catch { return Array(try encoder.encode(value)) }
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        do { return try JSONTapeDecoding.decode(type, from: bytes) } catch { return try decoder.decode(type, from: Data(bytes)) }
    }

    public func decode<T: Decodable>(_ type: T.Type, fromBytesAt bytes: UnsafeRawBufferPointer) throws -> T {
        do { return try JSONTapeDecoding.decode(type, from: bytes.assumingMemoryBound(to: UInt8.self)) } catch {
            return try decoder.decode(type, from: Data(bytes))
        }
    }
}
