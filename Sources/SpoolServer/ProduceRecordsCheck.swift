import SpoolFormat

/// Kafka's check of one partition's records in a Produce request, made before anything of the
/// request is appended (`ProduceRequest.validateRecords`, from `KafkaApis.handleProduceRequest`).
/// From v3 (message format 2) the records must be exactly one record batch, of magic 2, and not
/// zstd-compressed before v7. A partition that fails is answered with the error alone (no offsets,
/// no message, as Kafka's `PartitionResponse(error)`), and the request's other partitions go on;
/// only a compression code no codec has, before v7, fails the whole request (`failsRequest`).
///
/// Batches are walked as Kafka's `ByteBufferLogInputStream` walks them: a batch cut short by the
/// end of the records is not one (so a lone one counts as no batch, and one after a whole batch
/// passes: the broker stores the whole batch alone), a length below any batch's or a magic above
/// 2 is CORRUPT_MESSAGE. Only the headers are read; the log validates the batch.
enum ProduceRecordsCheck {
    /// The error Kafka answers the partition with, nil when its records pass.
    static func refusal(of records: UnsafeRawBufferPointer, version: Int16) -> KafkaErrorCode? {
        guard version >= 3 else { return nil }
        let first: Batch
        switch nextBatch(records, at: 0) {
        // "Produce requests with version N must have at least one record batch per partition"
        case .none: return .invalidRecord
        case .corrupt: return .corruptMessage
        case let .batch(batch): first = batch
        }
        // "… are only allowed to contain record batches with magic version 2"
        guard first.magic == RecordBatchLayout.currentMagic else { return .invalidRecord }
        if version < 7 {
            // `CompressionType.forId` throws for a code no codec has: the whole request fails (`failsRequest`).
            guard let compression = Compression(rawValue: first.compressionCode) else { return .unknownServerError }
            // "… are not allowed to use ZStandard compression"
            if compression == .zstd { return .unsupportedCompressionType }
        }
        switch nextBatch(records, at: first.size) {
        case .none: return nil
        case .corrupt: return .corruptMessage
        // "… are only allowed to contain exactly one record batch per partition"
        case .batch: return .invalidRecord
        }
    }

    /// Whether the partition's records fail the whole request, not the partition alone. Before v7
    /// Kafka's check reads the first batch's compression, and `CompressionType.forId` throws
    /// IllegalArgumentException for codes 5-7: no ApiException, so `KafkaApis.handleProduceRequest`
    /// does not answer it per partition, and `KafkaApis.handle` answers the request with
    /// `ProduceRequest.getErrorResponse`: every partition UNKNOWN_SERVER_ERROR, nothing stored.
    /// From v7 the check does not read the compression, and the log refuses the batch alone.
    static func failsRequest(_ records: UnsafeRawBufferPointer, version: Int16) -> Bool {
        refusal(of: records, version: version) == .unknownServerError
    }

    /// The header fields the check reads of a batch that is all there.
    private struct Batch {
        var size: Int
        var magic: Int8
        var compressionCode: Int
    }

    private enum Next {
        /// No whole batch starts here (no bytes left, or too few for the batch they begin).
        case none
        /// A length or magic no batch has.
        case corrupt
        case batch(Batch)
    }

    /// The batch at `position`, as Kafka's `ByteBufferLogInputStream.nextBatch` reads it.
    private static func nextBatch(_ records: UnsafeRawBufferPointer, at position: Int) -> Next {
        let rest = UnsafeRawBufferPointer(rebasing: records[position...])
        guard let size = RecordBatchView.declaredSize(rest) else { return .none }
        guard size - RecordBatchLayout.logOverhead >= RecordBatchLayout.batchLengthMin else { return .corrupt }
        guard rest.count > RecordBatchLayout.magic else { return .none }
        let magic = Int8(bitPattern: rest[RecordBatchLayout.magic])
        guard magic >= 0 && magic <= RecordBatchLayout.currentMagic else { return .corrupt }
        guard rest.count >= size else { return .none }
        // Magic 0 and 1 keep their compression elsewhere (the check stops at their magic). A batch
        // is at least 26 bytes (`RecordBatchLayout.batchLengthMin`), so its attributes are there.
        let compression = magic == RecordBatchLayout.currentMagic ? Int(rest[RecordBatchLayout.attributes + 1] & 0x7) : 0
        return .batch(Batch(size: size, magic: magic, compressionCode: compression))
    }
}
