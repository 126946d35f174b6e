/// A whole response frame (size prefix included) as pieces in order: encoded bytes, and the
/// `records` fields large enough to be kept by reference rather than copied into them (a fetch's
/// stored batches, still in the segment's mapping). A server writes the pieces with one `writev`,
/// so record bytes are never copied in user space on their way out.
public struct ResponseFrame: Sendable {
    /// `records` fields from this size on are kept by reference: below it a copy costs less than
    /// another piece to gather.
    public static let spliceRecordsMin = 4 << 10

    public enum Piece: Sendable {
        case bytes(ArraySlice<UInt8>)
        case records(RecordBytes)

        public var count: Int {
            switch self {
            case let .bytes(bytes): bytes.count
            case let .records(records): records.count
            }
        }

        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch self {
            case let .bytes(bytes): try bytes.withUnsafeBytes(body)
            case let .records(records): try records.withUnsafeBytes(body)
            }
        }
    }

    public let pieces: [Piece]
    /// Bytes in all.
    public let count: Int

    /// A frame in one piece.
    public init(_ bytes: [UInt8]) {
        pieces = bytes.isEmpty ? [] : [.bytes(bytes[...])]
        count = bytes.count
    }

    /// The frame `writer` wrote: its bytes, cut where its splices go (sharing the bytes' storage).
    init(_ writer: WireWriter) {
        var pieces: [Piece] = []
        var start = 0
        for splice in writer.splices {
            if splice.at > start { pieces.append(.bytes(writer.bytes[start..<splice.at])) }
            pieces.append(.records(splice.records))
            start = splice.at
        }
        if writer.bytes.count > start { pieces.append(.bytes(writer.bytes[start...])) }
        self.pieces = pieces
        count = writer.count
    }

    /// The frame in one array (a copy of every piece).
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for piece in pieces { piece.withUnsafeBytes { bytes.append(contentsOf: $0) } }
        return bytes
    }
}
