import SpoolFormat

/// Bytes whose lifetime something else manages (a slice of a mapped log segment), readable in
/// place, so a Fetch response copies stored batches straight into its frame.
public protocol RecordBytesSource: Sendable {
    var count: Int { get }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

/// The value of a `records` field: record batches, carried as the bytes they are (decoded from a
/// frame, or borrowed from storage for a response). Two values are equal when their bytes are.
public struct RecordBytes: Sendable, Equatable, RecordBytesSource, FetchedBytes {
    private enum Storage: Sendable {
        case owned([UInt8])
        /// Part of a request frame, sharing its storage: a produce appends from the frame itself.
        case slice(ArraySlice<UInt8>)
        case borrowed(any RecordBytesSource)
    }

    private let storage: Storage

    public init(_ bytes: [UInt8]) { storage = .owned(bytes) }

    public init(borrowing source: any RecordBytesSource) { storage = .borrowed(source) }

    /// Bytes of a frame, kept without a copy (an array slice shares its array's storage).
    public init(slice: ArraySlice<UInt8>) { storage = .slice(slice) }

    public var count: Int {
        switch storage {
        case let .owned(bytes): bytes.count
        case let .slice(bytes): bytes.count
        case let .borrowed(source): source.count
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case let .owned(bytes): try bytes.withUnsafeBytes(body)
        case let .slice(bytes): try bytes.withUnsafeBytes(body)
        case let .borrowed(source): try source.withUnsafeBytes(body)
        }
    }

    /// The bytes as an array (a copy when borrowed).
    public var bytes: [UInt8] {
        switch storage {
        case let .owned(bytes): bytes
        case let .slice(bytes): Array(bytes)
        case let .borrowed(source): source.withUnsafeBytes { Array($0) }
        }
    }

    /// The bytes as a slice: without a copy when they are an array or part of a frame.
    public var slice: ArraySlice<UInt8> {
        switch storage {
        case let .owned(bytes): bytes[...]
        case let .slice(bytes): bytes
        case let .borrowed(source): source.withUnsafeBytes { Array($0) }[...]
        }
    }

    public static func == (lhs: RecordBytes, rhs: RecordBytes) -> Bool {
        lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in left.elementsEqual(right) } }
    }
}
