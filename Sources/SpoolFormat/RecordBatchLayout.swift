/// Byte offsets of the RecordBatch v2 header fields (all big-endian). Writer, reader and the log
/// share these, so the format is described in exactly one place.
///
/// ```
///  0 baseOffset int64        the broker writes the assigned offset here (outside the CRC)
///  8 batchLength int32       bytes after this field; the whole batch is batchLength + 12
/// 12 partitionLeaderEpoch    int32, outside the CRC
/// 16 magic int8              must be 2
/// 17 crc uint32              CRC-32C of [21, end)
/// 21 attributes int16        compression, timestamp type, transactional, control
/// 23 lastOffsetDelta int32
/// 27 baseTimestamp int64
/// 35 maxTimestamp int64
/// 43 producerId int64
/// 51 producerEpoch int16
/// 53 baseSequence int32
/// 57 recordsCount int32
/// 61 records…
/// ```
public enum RecordBatchLayout {
    public static let baseOffset = 0
    public static let batchLength = 8
    public static let partitionLeaderEpoch = 12
    public static let magic = 16
    public static let crc = 17
    public static let attributes = 21
    public static let lastOffsetDelta = 23
    public static let baseTimestamp = 27
    public static let maxTimestamp = 35
    public static let producerId = 43
    public static let producerEpoch = 51
    public static let baseSequence = 53
    public static let recordsCount = 57
    /// Size of the header; records start here.
    public static let headerSize = 61
    /// baseOffset + batchLength: the bytes not counted by batchLength.
    public static let logOverhead = 12
    /// The CRC covers from here to the end of the batch.
    public static let crcStart = attributes
    /// Kafka's `LegacyRecord.RECORD_OVERHEAD_V0`: the smallest batchLength Kafka's log input stream
    /// reads at all, whatever the magic (`ByteBufferLogInputStream.nextBatchSize`); a smaller one
    /// is corrupt.
    public static let batchLengthMin = 14
    /// The only supported magic value.
    public static let currentMagic: Int8 = 2
}

/// Compression codec, bits 0-2 of the batch attributes.
public enum Compression: Int, Sendable, CustomStringConvertible {
    case none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}

/// The batch attributes (int16).
public struct BatchAttributes: Equatable, Hashable, Sendable {
    public var rawValue: Int16

    public init(rawValue: Int16) { self.rawValue = rawValue }

    public init(
        compression: Compression = .none, logAppendTime: Bool = false,
        transactional: Bool = false, control: Bool = false
    ) {
        var raw = Int16(compression.rawValue)
        if logAppendTime { raw |= 1 << 3 }
        if transactional { raw |= 1 << 4 }
        if control { raw |= 1 << 5 }
        self.rawValue = raw
    }

    /// The raw compression code (0-7); codes above 4 are invalid.
    public var compressionCode: Int { Int(rawValue & 0x7) }
    /// The compression codec, nil for an invalid code.
    public var compression: Compression? { Compression(rawValue: compressionCode) }
    /// Timestamps are the broker's append time (the batch's maxTimestamp), not the producer's.
    public var isLogAppendTime: Bool { rawValue & (1 << 3) != 0 }
    public var isTransactional: Bool { rawValue & (1 << 4) != 0 }
    public var isControl: Bool { rawValue & (1 << 5) != 0 }
}
