import SpoolFormat
import SpoolSystem

/// What a walk over a segment's batches found.
struct ScanOutcome {
    var batches = 0
    var bytes = 0
    /// Where the walk stopped before the end of the file, and why.
    var stop: (position: Int, reason: String)?
}

extension Segment {
    /// Rebuilds the segment's size, offsets and both indexes by walking every batch from the
    /// start. Batches at or past `verifyFrom` are fully validated (magic, bounds, CRC); before it,
    /// only their bounds and offsets (that range was flushed before the checkpoint was written).
    /// Stops at the first bad batch; the caller cuts the file there.
    func rebuild(verifyFrom: Int) throws -> ScanOutcome {
        let fileSystem = log.fileSystem
        // The segment may have been written under a larger `segment.index.bytes` or a wider
        // `index.interval.bytes` than today's: size the rebuilt indexes for the worst case of the
        // file's bytes (one entry per smallest batch) so that a rebuild never runs out of entries.
        let entriesMax = log.allocated / RecordBatchLimits.minimumBatchBytes + 2
        offsetIndex = try Segment.freshIndex(OffsetEntry.self, SegmentFiles.offsetIndexPath(directory, baseOffset), config, entriesMax, fileSystem)
        timeIndex = try Segment.freshIndex(TimeEntry.self, SegmentFiles.timeIndexPath(directory, baseOffset), config, entriesMax, fileSystem)
        resetForScan()
        var outcome = ScanOutcome()
        guard let region = log.region else { return outcome }
        let end = log.allocated
        var position = 0
        while position < end {
            guard let batch = BatchBounds.read(region, at: position, limit: end) else {
                outcome.stop = (position, end - position < RecordBatchLayout.headerSize
                    ? "partial batch header (\(end - position) bytes)" : "batch length runs past the end of the file or below the header size")
                break
            }
            guard batch.magic == RecordBatchLayout.currentMagic else {
                outcome.stop = (position, "magic \(batch.magic)")
                break
            }
            if position >= verifyFrom {
                let error: FormatError? = region.withUnsafeBytes(position..<(position + batch.size)) { bytes in
                    do throws(FormatError) { _ = try RecordBatchView.validate(bytes); return nil } catch { return error }
                }
                if let error {
                    outcome.stop = (position, String(describing: error))
                    break
                }
            }
            guard batch.baseOffset == nextOffset, batch.lastOffsetDelta >= 0 else {
                outcome.stop = (position, "offset \(batch.baseOffset) where \(nextOffset) was expected")
                break
            }
            let indexed = needsIndexEntryForScan()
            if indexed {
                try offsetIndex.reserveOne()
                try timeIndex.reserveOne()
            }
            indexScanned(position: position, batch: batch, indexed: indexed)
            position += batch.size
            outcome.batches += 1
        }
        outcome.bytes = position
        return outcome
    }

    /// Restores state for a segment that was flushed and trimmed before the checkpoint (or a clean
    /// shutdown): trusts the file size and the indexes after a sanity check, and walks only the
    /// batches after the last index entry. Returns false when something does not add up; the
    /// caller then rebuilds the segment.
    func loadTrusted() -> Bool {
        let fileSize = log.allocated
        guard !indexFileWasMissing, offsetIndex.file.allocated % OffsetEntry.size == 0, timeIndex.file.allocated % TimeEntry.size == 0,
              offsetIndex.looksSane({ Int($0.position) < fileSize }),
              timeIndex.looksSane({ Int64($0.relativeOffset) <= Int64(UInt32.max) })
        else { return false }
        resetForScan()
        guard let region = log.region else { return fileSize == 0 }
        var position = 0
        if let entry = offsetIndex.last {
            position = Int(entry.position)
            setScanStart(offset: baseOffset + Int64(entry.relativeOffset), position: position)
        }
        while position < fileSize {
            guard let batch = BatchBounds.read(region, at: position, limit: fileSize),
                  batch.magic == RecordBatchLayout.currentMagic, batch.baseOffset == nextOffset
            else { return false }
            advanceTrusted(position: position, batch: batch)
            position += batch.size
        }
        restoreRollTimestamp()
        if let last = timeIndex.last { adoptMaxTimestamp(last.timestamp, offset: baseOffset + Int64(last.relativeOffset)) }
        return true
    }

    /// Bytes between `from` and the last non-zero byte of the file: how much real data a cut at
    /// `from` throws away. A crash leaves zeros in allocated space; those are not data.
    func nonZeroBytes(after from: Int) -> Int {
        guard let region = log.region else { return 0 }
        let end = log.allocated
        guard from < end else { return 0 }
        return region.withUnsafeBytes(from..<end) { bytes in
            var last = bytes.count
            while last > 0 && bytes[last - 1] == 0 { last -= 1 }
            return last
        }
    }

    /// Cuts the log file to the valid bytes found by `rebuild`.
    func cutToSize() throws { try log.truncate(to: size) }

    private static func freshIndex<E: IndexEntry>(_ type: E.Type, _ path: String, _ config: LogConfig, _ entriesMax: Int,
                                                   _ fileSystem: any FileSystem) throws -> SparseIndex<E> {
        let file = try MappedFile(path: path, create: true, writable: true, capacity: max(config.indexBytesMax / E.size, entriesMax) * E.size,
                                  step: 64 << 10, fileSystem: fileSystem)
        return SparseIndex(file: file, count: 0)
    }
}
