/// Keeping the log's mappings out of the process's resident memory.
///
/// Every page of a shared file mapping that the process touches counts in its resident set
/// (`RssFile`) until it is unmapped, even though the kernel may drop it from the page cache at any
/// time. A consumer reading a 10 GB log through the mappings would leave the broker "using" 10 GB,
/// which is what operators, container limits and OOM killers look at. So pages are released
/// (MADV_DONTNEED) once they have served their purpose: they stay in the page cache, and a reader
/// that comes back maps them again with a minor fault.
extension LogState {
    /// Bytes served by reads after which the pages of earlier reads are released: a bound on what
    /// one partition's readers keep resident beyond the slices being sent.
    static let readBytesBeforeRelease = 1 << 20
    /// Flushed bytes of the active segment after which their pages are released.
    static let flushedBytesBeforeRelease = 1 << 20

    /// Notes a read of `range` of `segment`'s mapping. Every `readBytesBeforeRelease` bytes, the
    /// pages earlier reads touched are released, except those of this read, which is about to be
    /// sent. Releasing pages another reader's slice still points at only costs it minor faults.
    mutating func recordRead(_ range: Range<Int>, of segment: Segment) {
        guard !range.isEmpty else { return }
        readBytesSinceRelease += range.count
        if readBytesSinceRelease >= Self.readBytesBeforeRelease {
            for touched in segmentsReadSinceRelease {
                guard let span = touched.readSinceRelease else { continue }
                if touched === segment {
                    touched.releasePages(span.lowerBound..<max(span.lowerBound, range.lowerBound))
                    touched.releasePages(min(max(range.upperBound, span.lowerBound), span.upperBound)..<span.upperBound)
                } else {
                    touched.releasePages(span)
                }
                touched.readSinceRelease = nil
            }
            segmentsReadSinceRelease.removeAll(keepingCapacity: true)
            readBytesSinceRelease = range.count
        }
        if let span = segment.readSinceRelease {
            segment.readSinceRelease = min(span.lowerBound, range.lowerBound)..<max(span.upperBound, range.upperBound)
        } else {
            segment.readSinceRelease = range
            segmentsReadSinceRelease.append(segment)
        }
    }

    /// Stops tracking reads of segments taken out of the log: holding them here would keep their
    /// mappings, and with them the blocks of their deleted files, until the next release; there is
    /// nothing to release in a mapping that is about to go.
    mutating func forgetReads(of removed: [Segment]) {
        guard !removed.isEmpty else { return }
        segmentsReadSinceRelease.removeAll { touched in removed.contains { $0 === touched } }
        for segment in removed { segment.readSinceRelease = nil }
    }

    /// After a flush: small batches are copied in through the mapping, so their pages are mapped
    /// too. Sealed segments are released whole; the active one below the flushed position, every
    /// `flushedBytesBeforeRelease` bytes (appends never write below it again).
    mutating func releaseFlushedPages(sealed: [Segment], durable: LogPosition) {
        for segment in sealed { segment.releasePages(0..<segment.size) }
        let active = self.active
        guard durable.segmentBase == active.baseOffset,
              durable.position - active.flushedReleasedBelow >= Self.flushedBytesBeforeRelease else { return }
        active.releasePages(active.flushedReleasedBelow..<durable.position)
        active.flushedReleasedBelow = durable.position
    }
}
