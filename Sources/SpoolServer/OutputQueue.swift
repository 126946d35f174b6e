import SpoolSystem
import SpoolWire

/// A connection's response frames waiting for its socket, as the frames' pieces. They go out with
/// gathering writes of up to `gatherCountMax` pieces, so a fetch's record bytes reach the socket
/// from the segment's mapping with no copy in user space, and several small responses answered
/// together take one system call.
struct OutputQueue {
    private var pieces: [ResponseFrame.Piece] = []
    /// The first piece not wholly written.
    private var head = 0
    /// Bytes of `pieces[head]` already written.
    private var headWritten = 0
    /// Bytes queued and not yet written.
    private(set) var count = 0
    /// Bytes ever queued, and ever written: a frame queued when `queuedTotal` reached N is
    /// written once `writtenTotal` reaches N.
    private(set) var queuedTotal = 0
    private(set) var writtenTotal = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ frame: ResponseFrame) {
        pieces.append(contentsOf: frame.pieces)
        count += frame.count
        queuedTotal += frame.count
    }

    /// Offers the queued bytes to `write` (a gathering write: the count it took, nil when it took
    /// none) until it takes less than it was offered or the queue is empty. Returns the bytes
    /// written.
    mutating func write(_ write: ([UnsafeRawBufferPointer]) throws -> Int?) rethrows -> Int {
        var written = 0
        while !isEmpty {
            var buffers: [UnsafeRawBufferPointer] = []
            buffers.reserveCapacity(min(gatherCountMax, pieces.count - head))
            let (offered, took) = try gather(from: head, skipping: headWritten, into: &buffers) { buffers in
                (buffers.reduce(0) { $0 + $1.count }, try write(buffers) ?? 0)
            }
            consume(took)
            written += took
            if took < offered { break }
        }
        return written
    }

    /// Drops the pieces (and their references to mappings and frames) once all are written.
    private mutating func consume(_ bytes: Int) {
        var left = bytes
        count -= bytes
        writtenTotal += bytes
        while left > 0 {
            let remaining = pieces[head].count - headWritten
            if left < remaining {
                headWritten += left
                return
            }
            left -= remaining
            head += 1
            headWritten = 0
        }
        if head == pieces.count {
            pieces.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= pieces.count {
            pieces.removeFirst(head)
            head = 0
        }
    }

    /// Calls `body` with the pieces from `index` on (the first less `skip` bytes), up to
    /// `gatherCountMax` of them, each pointer valid for the call: the pieces' storage is held open
    /// by nesting, one level per piece.
    private func gather<R>(from index: Int, skipping skip: Int, into buffers: inout [UnsafeRawBufferPointer],
                           _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
        guard index < pieces.count, buffers.count < gatherCountMax else { return try body(buffers) }
        return try pieces[index].withUnsafeBytes { raw in
            buffers.append(UnsafeRawBufferPointer(rebasing: raw[skip...]))
            return try gather(from: index + 1, skipping: 0, into: &buffers, body)
        }
    }
}
