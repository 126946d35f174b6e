import CSpool

/// CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2.
///
/// Computed in hardware (SSE4.2 `crc32`) when the CPU has it, chosen once at load time, and by a
/// slicing-by-8 table otherwise. Checksums chain: `checksum(b, continuing: checksum(a))` equals the
/// checksum of `a` followed by `b`.
public enum CRC32C {
    /// Whether the hardware instruction is in use on this machine.
    public static var isHardwareAccelerated: Bool { spool_crc32c_hardware_available() == 1 }

    /// The checksum of `bytes`, continuing from `crc` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return spool_crc32c(crc, base, bytes.count)
    }

    /// The checksum of `bytes`, continuing from `crc` (0 to start).
    public static func checksum(_ bytes: some Sequence<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({
            checksum(UnsafeRawBufferPointer($0), continuing: crc)
        }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The table implementation alone, for comparison in tests and benchmarks.
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return spool_crc32c_software(crc, base, bytes.count)
    }
}
