extension RecordBatch {
    /// The batch's bytes, with batchLength and CRC computed. Records are written uncompressed: the
    /// compression bits of `attributes` are written as given, so set them only for records that are
    /// already compressed by the caller.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(RecordBatchLayout.headerSize + records.count * 32)
        bytes.appendBigEndian(baseOffset)
        bytes.appendBigEndian(Int32(0))  // batchLength, patched below
        bytes.appendBigEndian(partitionLeaderEpoch)
        bytes.append(UInt8(bitPattern: RecordBatchLayout.currentMagic))
        bytes.appendBigEndian(UInt32(0))  // crc, patched below
        bytes.appendBigEndian(attributes.rawValue)
        bytes.appendBigEndian(lastOffsetDelta)
        bytes.appendBigEndian(baseTimestamp)
        bytes.appendBigEndian(maxTimestamp)
        bytes.appendBigEndian(producerId)
        bytes.appendBigEndian(producerEpoch)
        bytes.appendBigEndian(baseSequence)
        bytes.appendBigEndian(Int32(records.count))
        for record in records { record.encode(into: &bytes) }

        RecordBatchLayout.seal(&bytes)
        return bytes
    }
}

extension RecordBatchLayout {
    /// Writes the batchLength and the CRC-32C of the one whole batch `bytes` holds, for the bytes
    /// as they are: after a batch is built, or its header or records changed.
    public static func seal(_ bytes: inout [UInt8]) {
        bytes.storeBigEndian(Int32(truncatingIfNeeded: bytes.count - logOverhead), at: batchLength)
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[crcStart...])) }
        bytes.storeBigEndian(crc, at: Self.crc)
    }
}

extension Record {
    /// Size of the record body (everything after its length varint).
    var bodySize: Int {
        var size = 1 + Varint.encodedSize(timestampDelta) + Varint.encodedSize(Int64(offsetDelta))
        size += Varint.encodedSize(Int64(key?.count ?? -1)) + (key?.count ?? 0)
        size += Varint.encodedSize(Int64(value?.count ?? -1)) + (value?.count ?? 0)
        size += Varint.encodedSize(Int64(headers.count))
        for header in headers {
            let keyCount = header.key.utf8.count
            size += Varint.encodedSize(Int64(keyCount)) + keyCount
            size += Varint.encodedSize(Int64(header.value?.count ?? -1)) + (header.value?.count ?? 0)
        }
        return size
    }

    func encode(into bytes: inout [UInt8]) {
        Varint.write(Int64(bodySize), to: &bytes)
        bytes.append(UInt8(bitPattern: attributes))
        Varint.write(timestampDelta, to: &bytes)
        Varint.write(Int64(offsetDelta), to: &bytes)
        writeNullable(key, to: &bytes)
        writeNullable(value, to: &bytes)
        Varint.write(Int64(headers.count), to: &bytes)
        for header in headers {
            Varint.write(Int64(header.key.utf8.count), to: &bytes)
            bytes.append(contentsOf: header.key.utf8)
            writeNullable(header.value, to: &bytes)
        }
    }
}

private func writeNullable(_ field: [UInt8]?, to bytes: inout [UInt8]) {
    if let field {
        Varint.write(Int64(field.count), to: &bytes)
        bytes.append(contentsOf: field)
    } else {
        Varint.write(-1, to: &bytes)
    }
}
