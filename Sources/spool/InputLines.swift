import Glibc

/// Standard input as lines of bytes, split at each LF and nothing else: the LF is dropped, a CR
/// before it and bytes that are not UTF-8 stay. (`readLine` decoded lines as text, which replaced
/// invalid UTF-8 and stripped the CR of a CRLF, so binary values did not arrive as sent.) A last
/// line without its LF is a line; nothing after a final LF is not.
struct InputLines {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    private let descriptor: Int32
    private var buffer: [UInt8] = []
    /// Where the next line starts in `buffer`.
    private var start = 0
    /// How far past `start` holds no LF.
    private var scanned = 0
    private var atEnd = false

    init(descriptor: Int32 = STDIN_FILENO) {
        self.descriptor = descriptor
    }

    /// The next line, without its LF; nil at the end of the input.
    mutating func next() throws(ReadError) -> [UInt8]? {
        while true {
            if let newline = buffer[(start + scanned)...].firstIndex(of: 10) {
                defer { start = newline + 1; scanned = 0 }
                return Array(buffer[start..<newline])
            }
            scanned = buffer.count - start
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count; scanned = 0 }
                return Array(buffer[start...])
            }
            try fill()
        }
    }

    /// Reads more input after what is buffered, dropping the lines already taken.
    private mutating func fill() throws(ReadError) {
        buffer.removeFirst(start)
        start = 0
        let chunk = 64 << 10
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        var count: Int
        repeat {
            count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + old, chunk) }
        } while count < 0 && errno == EINTR
        buffer.removeLast(chunk - max(0, count))
        guard count >= 0 else { throw ReadError(description: "cannot read standard input: \(String(cString: strerror(errno)))") }
        if count == 0 { atEnd = true }
    }
}
