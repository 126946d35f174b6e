import SpoolFormat
import SpoolSystem

/// Opening a partition directory: find the segments, trust what the checkpoint covers, scan and
/// repair the rest. Kafka's `LogLoader` plays the same part.
enum LogRecovery {
    struct Result {
        var segments: [Segment]
        /// The first segment's base, or the start `deleteRecords` recorded if that is further
        /// (never past the end: a start recorded beyond what survived means nothing is left).
        var logStartOffset: Int64
        var report: RecoveryReport
    }

    static func run(directory: String, config: LogConfig, fileSystem: any FileSystem, now: Int64) throws -> Result {
        try fileSystem.makeDirectories(directory)
        let bases = try tidyDirectory(directory, fileSystem: fileSystem)
        let checkpoint = RecoveryCheckpoint.read(directory: directory, fileSystem: fileSystem)
        var report = RecoveryReport()
        report.cleanShutdown = checkpoint?.cleanShutdown ?? false
        report.recoveryPoint = checkpoint?.point
        report.previousRunRelaxedFsync = checkpoint?.relaxedFsync ?? false

        guard !bases.isEmpty else {
            let base = checkpoint?.point.offset ?? 0
            let segment = try Segment.create(directory: directory, baseOffset: base, config: config, fileSystem: fileSystem, now: now)
            try segment.log.sync()
            try fileSystem.syncDirectory(directory)
            report.isNew = true
            report.logStartOffset = base
            report.logEndOffset = base
            try writeCheckpoint(segment, config: config, directory: directory, fileSystem: fileSystem, crashedRelaxed: report.crashedRelaxed)
            return Result(segments: [segment], logStartOffset: base, report: report)
        }

        // Segments before `trustedBelow` were trimmed and synced before the checkpoint was written.
        let trustedBelow: Int64 = checkpoint.map { $0.cleanShutdown ? Int64.max : $0.point.segmentBase } ?? Int64.min
        var segments: [Segment] = []
        for (index, base) in bases.enumerated() {
            let isLast = index == bases.count - 1
            let expected = segments.last?.nextOffset
            if let expected, base != expected {
                try cut(after: segments.last, remaining: Array(bases[index...]), reason: "segment \(base) does not follow offset \(expected)",
                        directory: directory, config: config, fileSystem: fileSystem, report: &report)
                break
            }
            if base < trustedBelow {
                let segment = try Segment.open(directory: directory, baseOffset: base, writable: isLast, config: config,
                                               fileSystem: fileSystem, now: now)
                // A trusted load reads a few batch headers: without this advice each fault would
                // read megabytes around it from a cold disk.
                segment.adviseAccess(0..<segment.log.capacity, .random)
                let trusted = segment.loadTrusted()
                segment.releasePages(0..<segment.log.allocated)
                segment.adviseAccess(0..<segment.log.capacity, .normal)
                if trusted {
                    if !isLast { segment.releaseDescriptors() }
                    segments.append(segment)
                    continue
                }
            }
            // Scan this one: past the recovery point, or trusted but inconsistent.
            let segment = try Segment.open(directory: directory, baseOffset: base, writable: true, config: config,
                                           fileSystem: fileSystem, now: now)
            // Batches before the checkpointed position were flushed before it was written: walk them
            // without CRC checks. Everything after it is verified.
            var verifyFrom = 0
            if let checkpoint, !checkpoint.cleanShutdown, base == checkpoint.point.segmentBase {
                verifyFrom = checkpoint.point.position
            }
            // Before `verifyFrom` the scan reads batch headers only (see `loadTrusted`); after it,
            // whole batches, where the default readahead helps.
            segment.adviseAccess(0..<verifyFrom, .random)
            let outcome = try segment.rebuild(verifyFrom: verifyFrom)
            report.segmentsScanned += 1
            report.batchesScanned += outcome.batches
            report.bytesScanned += outcome.bytes
            report.indexesRebuilt.append(base)
            segments.append(segment)
            // A segment sealed by a roll is trimmed by the flusher, after appends have gone on in
            // the next one: a process that died in between leaves it ending in its preallocated
            // zeros, with the next segment starting where its batches end. Nothing is torn there,
            // and the segments after it hold good batches: it is trimmed below, and the scan goes on.
            let untrimmedSeal = outcome.stop != nil && !isLast && bases[index + 1] == segment.nextOffset
                && segment.nonZeroBytes(after: segment.size) == 0
            if let stop = outcome.stop, !untrimmedSeal {
                let garbage = segment.nonZeroBytes(after: segment.size)
                if garbage > 0 {
                    report.truncation = RecoveryReport.Truncation(
                        offset: segment.nextOffset, segmentBase: base, position: stop.position, bytesCut: garbage, reason: stop.reason)
                }
                try cut(after: segment, remaining: Array(bases[(index + 1)...]), reason: stop.reason, directory: directory,
                        config: config, fileSystem: fileSystem, report: &report)
            }
            // Trim the file to its valid length (dropping a cut tail or unused preallocation) and make
            // what was kept durable: a killed process can leave valid data that was never flushed.
            try segment.trimAndSync()
            // The scan touched every page it checked: keep them out of the resident set.
            segment.releasePages(0..<segment.size)
            segment.adviseAccess(0..<segment.log.capacity, .normal)
            if outcome.stop != nil && !untrimmedSeal { break }
            if !isLast { segment.releaseDescriptors() }
        }
        if let last = segments.last, !last.log.isWritable || !last.holdsDescriptors {
            // A segment opened read-only, or given up its descriptors as a sealed one, became the
            // last one after a cut: reopen it for appends.
            let reopened = try Segment.open(directory: directory, baseOffset: last.baseOffset, writable: true, config: config,
                                            fileSystem: fileSystem, now: now)
            guard reopened.loadTrusted() else {
                throw LogError.corruptBatch(offset: last.baseOffset, reason: "segment changed while the log was being opened")
            }
            segments[segments.count - 1] = reopened
        }
        guard let active = segments.last else { preconditionFailure("recovery kept no segment") }
        try fileSystem.syncDirectory(directory)
        let recordedStart = try LogStartCheckpoint.read(directory: directory, fileSystem: fileSystem)?.offset ?? 0
        let start = min(max(segments[0].baseOffset, recordedStart), active.nextOffset)
        report.logStartOffset = start
        report.logEndOffset = active.nextOffset
        try writeCheckpoint(active, config: config, directory: directory, fileSystem: fileSystem, crashedRelaxed: report.crashedRelaxed)
        return Result(segments: segments, logStartOffset: start, report: report)
    }

    /// Deletes every segment in `remaining` (they follow a cut) and records the bytes they held.
    private static func cut(
        after kept: Segment?, remaining: [Int64], reason: String, directory: String, config: LogConfig,
        fileSystem: any FileSystem, report: inout RecoveryReport
    ) throws {
        guard !remaining.isEmpty else { return }
        var bytes = 0
        // Newest first, so a crash part-way leaves a log that still ends in a consistent prefix.
        for base in remaining.reversed() {
            let path = SegmentFiles.logPath(directory, base)
            bytes += dataBytes(of: path, fileSystem: fileSystem)
            for file in [path, SegmentFiles.offsetIndexPath(directory, base), SegmentFiles.timeIndexPath(directory, base)] {
                try? fileSystem.remove(file)
            }
            report.segmentsDeleted.append(base)
        }
        report.segmentsDeleted.reverse()
        if report.truncation == nil, let kept {
            report.truncation = RecoveryReport.Truncation(
                offset: kept.nextOffset, segmentBase: kept.baseOffset, position: kept.size, bytesCut: bytes, reason: reason)
        } else {
            report.truncation?.bytesCut += bytes
        }
    }

    /// Lists the segments, oldest first, after removing leftovers: temporary files and index files
    /// whose log is gone (a crash part-way through deleting a segment leaves those).
    private static func tidyDirectory(_ directory: String, fileSystem: any FileSystem) throws -> [Int64] {
        let names = try fileSystem.contents(ofDirectory: directory)
        let bases = Set(names.compactMap { SegmentFiles.baseOffset(of: $0, suffix: SegmentFiles.logSuffix) })
        for name in names {
            let orphan = [SegmentFiles.offsetIndexSuffix, SegmentFiles.timeIndexSuffix].contains { suffix in
                SegmentFiles.baseOffset(of: name, suffix: suffix).map { !bases.contains($0) } ?? false
            }
            if orphan || name.hasSuffix(".tmp") { try? fileSystem.remove(directory + "/" + name) }
        }
        return bases.sorted()
    }

    /// Bytes of a file up to its last non-zero byte, as `Segment.nonZeroBytes` counts them: the
    /// zeros of preallocated space are not data a cut throws away. 0 for a file that cannot be read.
    private static func dataBytes(of path: String, fileSystem: any FileSystem) -> Int {
        guard let fd = try? fileSystem.open(path, [.readOnly], permissions: 0) else { return 0 }
        defer { fileSystem.close(fd) }
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var position = 0
        var last = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { (try? fileSystem.pread(fd, into: $0, at: position)) ?? 0 }
            guard count > 0 else { return last }
            if let index = chunk[..<count].lastIndex(where: { $0 != 0 }) { last = position + index + 1 }
            position += count
        }
    }

    /// Everything kept is durable now; a new checkpoint at the end, marked unclean until `close`,
    /// and with the fsync policy this run of the log uses, which stays fixed until it closes, or
    /// relaxed still when the run before crashed under a relaxed one (`crashedRelaxed`): until
    /// this run's first flush writes its own checkpoint, whoever acts on that crash (the broker's
    /// clamp of committed offsets) must still see it if this run dies first, or fails to open.
    private static func writeCheckpoint(_ active: Segment, config: LogConfig, directory: String, fileSystem: any FileSystem,
                                        crashedRelaxed: Bool) throws {
        let point = LogPosition(offset: active.nextOffset, segmentBase: active.baseOffset, position: active.size)
        try RecoveryCheckpoint(point: point, cleanShutdown: false, relaxedFsync: config.fsync != .always || crashedRelaxed)
            .write(directory: directory, fileSystem: fileSystem)
    }
}
