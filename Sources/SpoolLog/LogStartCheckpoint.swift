import SpoolFormat
import SpoolSystem

/// The partition's `log-start-offset` file: the log start offset that `deleteRecords(before:)`
/// moved into the middle of a segment. Without it a restart would put the start back at the first
/// segment's base and serve records that were deleted. Retention alone needs no file: the segments
/// it deletes are gone from the directory.
///
/// Layout (24 bytes, big-endian): "SPLS" magic, version u16 (1), 2 bytes of zero, log start offset
/// i64, CRC-32C of the preceding 16 bytes u32, 4 bytes of zero padding. Written atomically
/// (temporary file, fsync, rename, fsync directory).
struct LogStartCheckpoint: Equatable {
    static let fileName = "log-start-offset"
    static let magic: [UInt8] = Array("SPLS".utf8)
    static let version: UInt16 = 1
    static let encodedSize = 24

    var offset: Int64

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.appendBigEndian(Self.version)
        bytes.appendBigEndian(UInt16(0))
        bytes.appendBigEndian(offset)
        bytes.appendBigEndian(CRC32C.checksum(bytes))
        bytes.append(contentsOf: [0, 0, 0, 0])
        return bytes
    }

    init(offset: Int64) {
        precondition(offset >= 0, "a log start offset is never negative")
        self.offset = offset
    }

    /// nil for a file that is not a log start checkpoint of this version or whose CRC does not match.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.encodedSize, Array(bytes[0..<4]) == Self.magic else { return nil }
        let offset: Int64? = bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, position: 4)
            guard let version = try? reader.readInt16(), UInt16(bitPattern: version) == Self.version,
                  (try? reader.readInt16()) != nil, let offset = try? reader.readInt64(),
                  let crc = try? reader.readUInt32(),
                  crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<16])), offset >= 0
            else { return nil }
            return offset
        }
        guard let offset else { return nil }
        self.offset = offset
    }

    /// The stored start, or nil when there is no file (no `deleteRecords` ever moved the start).
    ///
    /// A file that exists but cannot be read or trusted is an error, not a fallback: the start it
    /// held is unknown, and starting at the first segment would serve deleted records again and
    /// move the log start offset backwards. The operator decides (LogError.damagedFile's remedy).
    static func read(directory: String, fileSystem: any FileSystem) throws(LogError) -> LogStartCheckpoint? {
        let path = directory + "/" + fileName
        guard fileSystem.exists(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(path, limit: 4096) } catch { throw LogError.from(error, path: path) }
        guard let checkpoint = LogStartCheckpoint(decoding: bytes) else {
            throw .damagedFile(path: path, reason: "\(bytes.count) bytes that are not a version \(version) log start checkpoint with a matching CRC",
                               remedy: "remove it to start the partition at its first segment, which serves again the records that DeleteRecords removed from that segment")
        }
        return checkpoint
    }

    func write(directory: String, fileSystem: any FileSystem) throws {
        try fileSystem.writeAtomically(directory + "/" + Self.fileName, encoded())
    }
}
