import SpoolFormat
import SpoolSystem

/// A point in the log: an offset and where it sits on disk.
public struct LogPosition: Equatable, Sendable, CustomStringConvertible {
    public var offset: Int64
    /// Base offset of the segment holding `position`.
    public var segmentBase: Int64
    /// Byte position in that segment's log file.
    public var position: Int

    public init(offset: Int64, segmentBase: Int64, position: Int) {
        self.offset = offset
        self.segmentBase = segmentBase
        self.position = position
    }

    public var description: String { "offset \(offset) (segment \(segmentBase), byte \(position))" }
}

/// The partition's `recovery-point` file: how far the log is known to be flushed, and whether it
/// was closed cleanly. Recovery trusts everything before it and scans everything after.
///
/// Layout (40 bytes, big-endian): "SPRP" magic, version u16 (1), flags u16 (bit 0: clean
/// shutdown; bit 1: written under a relaxed fsync policy), offset i64, segment base i64, position i64, CRC-32C of the preceding 32 bytes u32,
/// 4 bytes of zero padding.
struct RecoveryCheckpoint: Equatable {
    static let fileName = "recovery-point"
    static let magic: [UInt8] = Array("SPRP".utf8)
    static let version: UInt16 = 1
    static let encodedSize = 40

    var point: LogPosition
    var cleanShutdown: Bool
    /// The log that wrote it ran under `interval` or `never`, where consumers see records before
    /// they are on disk: after a crash, records they saw may be gone. Files that predate the flag
    /// read as false.
    var relaxedFsync: Bool

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.appendBigEndian(Self.version)
        bytes.appendBigEndian(UInt16(cleanShutdown ? 1 : 0) | UInt16(relaxedFsync ? 2 : 0))
        bytes.appendBigEndian(point.offset)
        bytes.appendBigEndian(point.segmentBase)
        bytes.appendBigEndian(Int64(point.position))
        bytes.appendBigEndian(CRC32C.checksum(bytes))
        bytes.append(contentsOf: [0, 0, 0, 0])
        return bytes
    }

    /// nil for a file that is not a checkpoint of this version or whose CRC does not match.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.encodedSize, Array(bytes[0..<4]) == Self.magic else { return nil }
        let result: RecoveryCheckpoint?? = bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, position: 4)
            guard let version = try? reader.readInt16(), UInt16(bitPattern: version) == Self.version,
                  let flags = try? reader.readInt16(), let offset = try? reader.readInt64(),
                  let base = try? reader.readInt64(), let position = try? reader.readInt64(),
                  let crc = try? reader.readUInt32(),
                  crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<32])),
                  offset >= 0, base >= 0, position >= 0, position <= Int64(Int32.max)
            else { return .some(nil) }
            return RecoveryCheckpoint(point: LogPosition(offset: offset, segmentBase: base, position: Int(position)),
                                      cleanShutdown: flags & 1 != 0, relaxedFsync: flags & 2 != 0)
        }
        guard let checkpoint = result ?? nil else { return nil }
        self = checkpoint
    }

    init(point: LogPosition, cleanShutdown: Bool, relaxedFsync: Bool) {
        self.point = point
        self.cleanShutdown = cleanShutdown
        self.relaxedFsync = relaxedFsync
    }

    static func read(directory: String, fileSystem: any FileSystem) -> RecoveryCheckpoint? {
        guard let bytes = try? fileSystem.readFile(directory + "/" + fileName, limit: 4096) else { return nil }
        return RecoveryCheckpoint(decoding: bytes)
    }

    func write(directory: String, fileSystem: any FileSystem) throws {
        try fileSystem.writeAtomically(directory + "/" + Self.fileName, encoded())
    }
}
