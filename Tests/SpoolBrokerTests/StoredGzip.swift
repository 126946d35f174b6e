@testable import SpoolFormat

/// The uncompressed batch `plain` as a gzip batch holding the same records: its records in one
/// stored DEFLATE block of a gzip member (what level 0 writes), its codec gzip, its length and
/// CRC-32C made right.
func gzipped(_ plain: [UInt8]) -> [UInt8] {
    let records = Array(plain[RecordBatchLayout.headerSize...])
    precondition(records.count <= 0xFFFF, "one stored block")
    let length = UInt16(records.count)
    var member: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x01]
    member += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)] + records
    member += littleEndian(CRC32.checksum(records)) + littleEndian(UInt32(records.count))
    var batch = Array(plain[..<RecordBatchLayout.headerSize]) + member
    let attributes = Int16(bitPattern: UInt16(batch[RecordBatchLayout.attributes]) << 8 | UInt16(batch[RecordBatchLayout.attributes + 1]))
    batch.storeBigEndian(attributes & ~0x7 | Int16(Compression.gzip.rawValue), at: RecordBatchLayout.attributes)
    RecordBatchLayout.seal(&batch)
    return batch
}

private func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
