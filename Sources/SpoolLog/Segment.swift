import SpoolFormat
import SpoolSystem

/// One segment of a partition: `<base>.log` with its `.index` and `.timeindex`.
///
/// Not thread-safe on its own: the owning `PartitionLog` mutates a segment only under its lock,
/// and the flusher only trims and syncs the files of segments that no longer take appends.
final class Segment: @unchecked Sendable {
    let baseOffset: Int64
    let directory: String
    let log: MappedFile
    /// Replaced (not edited) by a rebuild.
    var offsetIndex: OffsetIndex
    var timeIndex: TimeIndex
    /// Valid bytes in the log file.
    private(set) var size: Int = 0
    /// Offset after the last batch.
    private(set) var nextOffset: Int64
    /// Largest batch maxTimestamp seen (-1 when none).
    private(set) var maxTimestamp: Int64 = -1
    /// Base offset of the batch carrying `maxTimestamp`.
    private(set) var offsetOfMaxTimestamp: Int64
    /// The first batch's max timestamp (nil when it carried none, or the segment is empty).
    /// Roll by age (`segment.ms`) measures from it in the producers' clock, as Kafka does, so
    /// replayed old data does not roll on every batch.
    private(set) var firstBatchTimestamp: Int64?
    /// Wall-clock creation time, the roll clock for batches without timestamps.
    let createdMs: Int64
    /// Wall-clock time of the last append; retention by time falls back to it when batches carry no
    /// timestamps.
    private(set) var lastModifiedMs: Int64
    private var bytesSinceIndexEntry = 0
    /// Roll and a rebuild's index spacing follow it (an append's index spacing comes from the
    /// log's config, read under its lock); `PartitionLog.updateConfig` replaces the active
    /// segment's under the log's lock, so it is read only under that lock or during recovery. The mapping's capacity stays what it was when the segment was opened,
    /// unless the segment is still empty and a batch larger than it comes (`growForBatch`).
    var config: LogConfig
    /// Set by `open` when an index file had to be created: the segment cannot be trusted as is.
    var indexFileWasMissing = false
    /// Bytes of the mapping that reads touched since their pages were last released
    /// (PartitionLog+Residency.swift). Changed under the log's lock.
    var readSinceRelease: Range<Int>?
    /// Flushed bytes below this position have had their pages released. Changed under the log's lock.
    var flushedReleasedBelow = 0

    private init(
        baseOffset: Int64, directory: String, log: MappedFile, offsetIndex: OffsetIndex, timeIndex: TimeIndex,
        config: LogConfig, now: Int64
    ) {
        self.baseOffset = baseOffset
        self.directory = directory
        self.log = log
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.nextOffset = baseOffset
        self.offsetOfMaxTimestamp = baseOffset
        self.createdMs = now
        self.lastModifiedMs = now
        self.config = config
    }

    var isEmpty: Bool { size == 0 }
    var region: MappedRegion? { log.region }
    var logPath: String { SegmentFiles.logPath(directory, baseOffset) }

    /// Creates a new, empty active segment (its files truncated if they exist).
    static func create(directory: String, baseOffset: Int64, config: LogConfig, fileSystem: any FileSystem, now: Int64) throws -> Segment {
        let paths = [
            SegmentFiles.logPath(directory, baseOffset), SegmentFiles.offsetIndexPath(directory, baseOffset),
            SegmentFiles.timeIndexPath(directory, baseOffset),
        ]
        do {
            let log = try MappedFile(path: paths[0], create: true, writable: true, capacity: config.segmentBytes,
                                     step: config.preallocateBytes, fileSystem: fileSystem)
            let offsets = try makeIndex(OffsetEntry.self, path: paths[1], config: config, fileSystem: fileSystem)
            let times = try makeIndex(TimeEntry.self, path: paths[2], config: config, fileSystem: fileSystem)
            let segment = Segment(baseOffset: baseOffset, directory: directory, log: log, offsetIndex: offsets,
                                  timeIndex: times, config: config, now: now)
            try log.reserve(min(config.preallocateBytes, config.segmentBytes))
            return segment
        } catch {
            for path in paths { try? fileSystem.remove(path) }
            throw error
        }
    }

    /// Opens an existing segment. `writable` maps the log for appends (capacity segment.bytes);
    /// otherwise it is mapped read-only at its size. Missing index files are created empty.
    static func open(directory: String, baseOffset: Int64, writable: Bool, config: LogConfig, fileSystem: any FileSystem, now: Int64) throws -> Segment {
        let log = try MappedFile(path: SegmentFiles.logPath(directory, baseOffset), create: false, writable: writable,
                                 capacity: config.segmentBytes, step: config.preallocateBytes, fileSystem: fileSystem)
        var missing = false
        func openIndex<E: IndexEntry>(_ type: E.Type, _ path: String) throws -> SparseIndex<E> {
            guard fileSystem.exists(path) else {
                missing = true
                return try makeIndex(type, path: path, config: config, fileSystem: fileSystem)
            }
            let file = try MappedFile(path: path, create: false, writable: writable, capacity: indexCapacity(type, config),
                                      step: 64 << 10, fileSystem: fileSystem)
            return SparseIndex(file: file, count: file.allocated % E.size == 0 ? file.allocated / E.size : 0)
        }
        let segment = Segment(
            baseOffset: baseOffset, directory: directory, log: log,
            offsetIndex: try openIndex(OffsetEntry.self, SegmentFiles.offsetIndexPath(directory, baseOffset)),
            timeIndex: try openIndex(TimeEntry.self, SegmentFiles.timeIndexPath(directory, baseOffset)),
            config: config, now: log.modificationTimeMs() ?? now)
        segment.indexFileWasMissing = missing
        return segment
    }

    private static func indexCapacity<E: IndexEntry>(_ type: E.Type, _ config: LogConfig) -> Int {
        config.indexBytesMax / E.size * E.size
    }

    private static func makeIndex<E: IndexEntry>(_ type: E.Type, path: String, config: LogConfig, fileSystem: any FileSystem) throws -> SparseIndex<E> {
        let file = try MappedFile(path: path, create: true, writable: true, capacity: indexCapacity(type, config),
                                  step: 64 << 10, fileSystem: fileSystem)
        return SparseIndex(file: file, count: 0)
    }
}

// MARK: - Appending

extension Segment {
    /// Whether a batch of `bytes` bytes spanning `offsetDelta` offsets must go to a new segment.
    func shouldRoll(batchBytes: Int, lastOffsetDelta: Int32, maxTimestamp: Int64, now: Int64) -> Bool {
        guard !isEmpty else { return false }
        // A segment mapped before `segment.bytes` grew cannot pass its mapping.
        if size + batchBytes > min(config.segmentBytes, log.capacity) { return true }
        if let segmentMs = config.segmentMs {
            // Producers' timestamps: one before the first (as far as Int64.min) is no age, not
            // an overflow (the first is never negative, so the difference fits otherwise).
            let age = firstBatchTimestamp.map { maxTimestamp >= $0 ? maxTimestamp - $0 : 0 } ?? (now - createdMs)
            if age >= segmentMs { return true }
        }
        if offsetIndex.count + 1 >= offsetIndex.capacity || timeIndex.count + 1 >= timeIndex.capacity { return true }
        // Index entries hold offsets relative to the base in 32 bits.
        return nextOffset + Int64(lastOffsetDelta) - baseOffset > Int64(Int32.max)
    }

    /// Maps an empty segment again when a batch larger than its mapping comes: a `segment.bytes`
    /// that grew after the segment was made raises the batch limit at once, yet an empty segment
    /// never rolls, and a batch checked against a larger `segment.bytes` than the one a new
    /// segment was made under must fit it too. Mapped at `segmentBytes` (the current config's),
    /// or the batch's size if larger. Called under the log's lock and its append lock, so neither
    /// a reader nor a writer holds the old mapping.
    func growForBatch(batchBytes bytes: Int, segmentBytes: Int) throws {
        precondition(isEmpty, "only an empty segment is mapped again")
        guard bytes > log.capacity else { return }
        try log.remap(capacity: max(segmentBytes, bytes))
    }

    /// Whether the next batch gets index entries under an `index.interval.bytes` of
    /// `intervalBytes`. An append decides it once, from the config it read under the log's lock,
    /// and hands the answer to `reserve` and then to `commit`: `updateConfig` may change the
    /// interval while the batch is written, and a commit that indexed where its reservation had
    /// allocated no room would store through the index's mapping past the file's end (SIGBUS).
    func needsIndexEntry(intervalBytes: Int) -> Bool { bytesSinceIndexEntry > intervalBytes }

    /// Whether `reserve(batchBytes:indexed:)` would allocate disk blocks for the log or its indexes.
    func reserveMustAllocate(batchBytes bytes: Int, indexed: Bool) -> Bool {
        log.mustAllocate(size + bytes) || (indexed && (offsetIndex.mustAllocateForOne || timeIndex.mustAllocateForOne))
    }

    /// Allocates disk space for a batch of `bytes` and, when `indexed`, its index entries. Throws
    /// (ENOSPC on a full disk) without changing anything visible.
    func reserve(batchBytes bytes: Int, indexed: Bool) throws {
        try log.reserve(size + bytes)
        if indexed {
            try offsetIndex.reserveOne()
            try timeIndex.reserveOne()
        }
    }

    /// Batches below this size are copied through the mapping; larger ones are written with pwrite.
    /// Writing through a shared mapping makes every flush write-protect the dirtied pages again
    /// (a TLB shootdown to every core running the process), which costs more than a pwrite for a
    /// large batch, while for small ones one page's cost is shared by dozens of batches and a
    /// memcpy beats two syscalls. Measured with spool-bench log: pwrite alone took 256-record
    /// batches from 289 to 852-942 MB/s durable, and 1-record batches from 1.33 M to 0.33 M/s.
    static let mappedWriteBytesMax = 4096

    /// Writes a validated batch at `position` (the end, which `reserve` made room past) with
    /// `offset` as its base offset, changing nothing else: `commit` then takes it in. Called
    /// outside the log's state lock (under its append lock), so readers and the flusher do not wait
    /// for the copy; they never look past `size`. Throws (EIO, pwrite only): a failed write leaves
    /// bytes past the end, which the next append overwrites and recovery never reads.
    func write(_ batch: UnsafeRawBufferPointer, offset: Int64, at position: Int) throws {
        precondition(batch.count >= RecordBatchLayout.headerSize, "not a batch")
        if batch.count < Self.mappedWriteBytesMax, let region = log.region {
            region.write(batch, at: position)
            region.withUnsafeMutableBytes(position..<(position + batch.count)) { RecordBatchView.setBaseOffset(offset, in: $0) }
        } else {
            // The 8 bytes of the offset, then the rest of the batch as it came: no copy.
            try withUnsafeBytes(of: offset.bigEndian) { try log.write($0, at: position) }
            try log.write(UnsafeRawBufferPointer(rebasing: batch[RecordBatchLayout.batchLength...]), at: position + RecordBatchLayout.batchLength)
        }
    }

    /// Takes in a batch of `bytes` that `write` put at the end: indexes it (with entries when
    /// `indexed`, as `reserve` was told) and moves the end past it.
    func commit(batchBytes bytes: Int, offset: Int64, header: RecordBatchHeader, indexed: Bool, now: Int64) {
        precondition(offset == nextOffset, "appends must be contiguous")
        if isEmpty, header.maxTimestamp >= 0 { firstBatchTimestamp = header.maxTimestamp }
        index(batchAt: size, offset: offset, size: bytes, maxTimestamp: header.maxTimestamp, indexed: indexed)
        nextOffset = offset + Int64(header.lastOffsetDelta) + 1
        lastModifiedMs = now
    }

    /// The one place index entries are made, for appends and rebuilds alike, so a rebuilt index is
    /// identical to the one written by appends. `indexed`: room for the entries was reserved.
    private func index(batchAt position: Int, offset: Int64, size batchSize: Int, maxTimestamp batchMaxTimestamp: Int64, indexed: Bool) {
        if batchMaxTimestamp > maxTimestamp {
            maxTimestamp = batchMaxTimestamp
            offsetOfMaxTimestamp = offset
        }
        if indexed {
            offsetIndex.append(OffsetEntry(relativeOffset: UInt32(offset - baseOffset), position: UInt32(position)))
            if maxTimestamp > (timeIndex.last?.timestamp ?? -1) {
                timeIndex.append(TimeEntry(timestamp: maxTimestamp, relativeOffset: UInt32(offsetOfMaxTimestamp - baseOffset)))
            }
            bytesSinceIndexEntry = 0
        }
        bytesSinceIndexEntry += batchSize
        size = position + batchSize
    }

    /// Called under the log's lock when the segment stops taking appends: records its final max
    /// timestamp in the time index so a reopened log knows it without scanning. After
    /// `reserveForFinishAppends` it does no file work.
    func finishAppends() throws {
        guard needsFinalTimeEntry else { return }
        try timeIndex.reserveOne()
        timeIndex.append(TimeEntry(timestamp: maxTimestamp, relativeOffset: UInt32(offsetOfMaxTimestamp - baseOffset)))
    }

    /// Allocates the room `finishAppends` needs, so that it can run under the log's state lock
    /// without file work (the caller holds the append lock, so nothing appends meanwhile).
    func reserveForFinishAppends() throws {
        if needsFinalTimeEntry { try timeIndex.reserveOne() }
    }

    private var needsFinalTimeEntry: Bool { maxTimestamp > (timeIndex.last?.timestamp ?? -1) && !timeIndex.isFull }

    /// Cuts the files to their valid length and makes them durable (after a roll, on close).
    func trimAndSync() throws {
        try log.truncate(to: size)
        try offsetIndex.trimFile()
        try timeIndex.trimFile()
        try log.sync()
        try offsetIndex.file.sync()
        try timeIndex.file.sync()
    }

    /// Closes the three files' descriptors once the segment is sealed, trimmed and synced: reads
    /// go on through the mappings, and a partition holds descriptors for its active segment only.
    func releaseDescriptors() {
        log.releaseDescriptor()
        offsetIndex.file.releaseDescriptor()
        timeIndex.file.releaseDescriptor()
    }

    /// Whether any of the three files still holds a descriptor.
    var holdsDescriptors: Bool { log.holdsDescriptor || offsetIndex.file.holdsDescriptor || timeIndex.file.holdsDescriptor }

    /// Stops counting the pages of `range` of the log's mapping in the process's resident memory.
    func releasePages(_ range: Range<Int>) {
        guard let region = log.region else { return }
        region.releasePages(range.clamped(to: 0..<region.length))
    }

    /// Tells the kernel how `range` of the log's mapping will be read.
    func adviseAccess(_ range: Range<Int>, _ pattern: AccessPattern) {
        guard let region = log.region else { return }
        region.adviseAccess(range.clamped(to: 0..<region.length), pattern)
    }

    /// Removes the segment's files (its mapping lives on while readers hold slices of it).
    /// Removes the log file, then its indexes (recovery drops an index without a log); a file
    /// already gone counts as removed. Throws at the first other failure.
    func deleteFilesInOrder(fileSystem: any FileSystem) throws {
        for path in [logPath, SegmentFiles.offsetIndexPath(directory, baseOffset), SegmentFiles.timeIndexPath(directory, baseOffset)] {
            do {
                try fileSystem.remove(path)
            } catch let error as SystemError where error.isNotFound {
                continue
            }
        }
    }
}

// MARK: - Reading

extension Segment {
    /// Byte position of the batch holding `target`, scanning from the nearest index entry, among
    /// the batches below `limit`. nil when no batch below `limit` holds `target` or a later offset.
    func position(of target: Int64, limit: Int) -> Int? {
        guard let region = log.region else { return nil }
        var position = 0
        if target > baseOffset, let entry = offsetIndex.lastEntry(atMost: target - baseOffset) {
            position = Int(entry.position)
        }
        while let batch = BatchBounds.read(region, at: position, limit: limit) {
            if batch.nextOffset > target { return position }
            position += batch.size
        }
        return nil
    }

    /// The batch with the largest max timestamp below `limit` (its base offset, and that
    /// timestamp; the first of equals), read batch by batch: for a segment whose largest
    /// timestamp is in a batch not yet visible.
    func maxTimestamp(below limit: Int) -> (offset: Int64, timestamp: Int64)? {
        guard let region = log.region else { return nil }
        var best: (offset: Int64, timestamp: Int64)?
        var position = 0
        while let batch = BatchBounds.read(region, at: position, limit: limit) {
            if batch.maxTimestamp > best?.timestamp ?? -1 { best = (batch.baseOffset, batch.maxTimestamp) }
            position += batch.size
        }
        return best
    }

    /// Byte position of the first batch whose max timestamp is ≥ `timestamp`, below `limit`.
    func position(ofTimestamp timestamp: Int64, limit: Int) -> Int? {
        guard let region = log.region else { return nil }
        var position = 0
        if let entry = timeIndex.lastEntry(atMost: timestamp, strictly: true),
           let start = offsetIndex.lastEntry(atMost: Int64(entry.relativeOffset)) {
            position = Int(start.position)
        }
        while let batch = BatchBounds.read(region, at: position, limit: limit) {
            if batch.maxTimestamp >= timestamp { return position }
            position += batch.size
        }
        return nil
    }
}

// MARK: - State restored by recovery (Segment+Recovery.swift)

extension Segment {
    func resetForScan() {
        size = 0
        firstBatchTimestamp = nil
        nextOffset = baseOffset
        maxTimestamp = -1
        offsetOfMaxTimestamp = baseOffset
        bytesSinceIndexEntry = 0
    }

    /// Recovery runs before the log exists, so the segment's config cannot change under it.
    func needsIndexEntryForScan() -> Bool { needsIndexEntry(intervalBytes: config.indexIntervalBytes) }

    /// Takes a batch found by a rebuild scan as if it had just been appended (with index entries
    /// when `indexed`, which `needsIndexEntryForScan` decided and room was reserved for).
    func indexScanned(position: Int, batch: BatchBounds, indexed: Bool) {
        if position == 0, batch.maxTimestamp >= 0 { firstBatchTimestamp = batch.maxTimestamp }
        index(batchAt: position, offset: batch.baseOffset, size: batch.size, maxTimestamp: batch.maxTimestamp, indexed: indexed)
        nextOffset = batch.nextOffset
    }

    /// A trusted walk starts at the batch of the last index entry, right after that entry was made.
    func setScanStart(offset: Int64, position: Int) {
        nextOffset = offset
        size = position
        bytesSinceIndexEntry = 0
    }

    /// Takes a batch from a trusted walk (its index entries exist already).
    func advanceTrusted(position: Int, batch: BatchBounds) {
        if batch.maxTimestamp > maxTimestamp {
            maxTimestamp = batch.maxTimestamp
            offsetOfMaxTimestamp = batch.baseOffset
        }
        bytesSinceIndexEntry += batch.size
        size = position + batch.size
        nextOffset = batch.nextOffset
    }

    /// After a trusted walk: the roll clock starts at the first batch's timestamp, as it did when
    /// the segment was written.
    func restoreRollTimestamp() {
        if let region = log.region, let first = BatchBounds.read(region, at: 0, limit: size), first.maxTimestamp >= 0 {
            firstBatchTimestamp = first.maxTimestamp
        }
    }

    func adoptMaxTimestamp(_ timestamp: Int64, offset: Int64) {
        if timestamp > maxTimestamp {
            maxTimestamp = timestamp
            offsetOfMaxTimestamp = offset
        }
    }
}
