/// Why compressed bytes cannot be decompressed, in any of the codecs Spool reads.
struct DecompressionFailure: Error, Equatable {
    var reason: String
}
