import CSpool

/// Finding bytes in bytes.
public enum ByteSearch {
    /// Whether `needle` occurs in `haystack` (memmem: a scan that does not stop at every
    /// occurrence of the needle's first byte).
    public static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let base = haystack.baseAddress, !needle.isEmpty, haystack.count >= needle.count else { return false }
        return needle.withUnsafeBytes { spool_memmem(base, haystack.count, $0.baseAddress, needle.count) } != nil
    }
}
