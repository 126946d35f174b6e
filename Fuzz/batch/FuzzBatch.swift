import SpoolFormat
import SpoolFuzzSupport

/// libFuzzer's entry point: bytes as one record batch through every check the broker and the log
/// apply (declared size, header parse, validate, the producer rules, each record read, a compacted
/// topic's key check, compressed records decompressed with every codec) and through record decoding;
/// then the same bytes with batchLength and CRC-32C made right, so that mutations reach the
/// record decoder instead of stopping at the checksum.
#if FUZZING
// Only in the libFuzzer build: in a plain build both fuzz targets link into the test bundle, and
// one C symbol of the same name in each would clash.
@_cdecl("LLVMFuzzerTestOneInput")
#endif
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzBatch(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func fuzzBatch(_ bytes: [UInt8]) {
    checkBatch(bytes)
    guard bytes.count >= RecordBatchLayout.headerSize else { return }
    var fixed = bytes
    RecordBatchLayout.seal(&fixed)
    checkBatch(fixed)
}

/// The largest base offset a stored batch can carry: the broker writes it (from 0 up), and a log
/// never gets within a batch's span of Int64.max. Producers may send any base offset, but it is
/// overwritten before anything computes with it, so offsets are only derived within 0...this.
let storedOffsetMax = Int64.max - Int64(Int32.max) - 1

func checkBatch(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        _ = RecordBatchView.declaredSize(raw)
        _ = try? RecordBatchHeader(parsing: raw)
        if let header = try? RecordBatchView.validate(raw) {
            _ = try? RecordBatchView.checkProducerRules(header)
            // What the broker and the log derive from a validated header.
            _ = (header.totalSize, header.lastSequence)
            if (0...storedOffsetMax).contains(header.baseOffset) { _ = header.nextOffset }
            // The broker's reads of a produced batch's records (each read, keys found), a
            // compressed batch's decompressed first.
            _ = try? KeylessRecords.read(raw, header: header)
            if header.attributes.compression != Compression.none { _ = try? InflatedBatch.checkedRecords(of: raw, header: header) }
            // What the header router, ListOffsets and `spool log dump` read.
            _ = try? RecordBatch(inflating: raw)
        }
        _ = try? RecordBatchView.validateFromProducer(raw)
        // As a consumer reads it (a compressed batch decompressed).
        _ = FetchedRecords(decoding: raw, topic: "t", partition: 0, from: 0)
    }
    guard let batch = try? RecordBatch(decoding: bytes) else { return }
    // What readers derive from a decoded batch: ListOffsets looks for a timestamp, consumers and
    // `spool log dump` print offsets and timestamps.
    for record in batch.records {
        _ = batch.timestamp(of: record)
        if (0...storedOffsetMax).contains(batch.baseOffset) { _ = batch.offset(of: record) }
    }
    // What decodes must survive a round trip: encoding writes canonical varints, so the bytes may
    // differ, but the batch they decode to may not.
    let again = try? RecordBatch(decoding: batch.encoded())
    precondition(again == batch, "a decoded batch re-encoded decodes differently")
}

@main struct FuzzTarget {
    static func main() throws {
        try fuzzMain(fuzz, replay: fuzzBatch, inputs: "batches", seeds: { BatchSeeds.all })
    }
}
