/// The bytes one connection has read, cut into requests as they complete.
///
/// A request's head is parsed once, when it is whole, and kept while its body arrives: from then
/// on a read only counts the bytes buffered. Parsing the head again on every read let a client
/// that trickles a large body behind 16 KiB of headers make each body byte cost a whole head
/// parse, and a few hundred such clients starve the HTTP loop. Likewise a head that has not
/// ended is not searched again from its start for the blank line that ends it, only from the
/// bytes that came since (and the three before them).
struct HTTPRequestReader {
    /// What the bytes read so far hold.
    enum Next: Equatable {
        /// Not a whole request yet, and nothing new to act on.
        case incomplete
        /// A head just completed whose body is still coming (told once per request).
        case head(HTTPRequest)
        /// A whole request, taken out of the buffer.
        case request(HTTPRequest)
    }

    let limits: HTTPParser.Limits
    /// Bytes read and not yet taken as a request.
    private(set) var buffered: [UInt8] = []
    /// Request heads parsed so far (tests: each head is parsed once).
    private(set) var headParses = 0
    /// Bytes looked at for the blank line that ends a head (tests).
    private(set) var headBytesSearched = 0
    /// The head at the start of `buffered`, once whole, while its body arrives.
    private var head: HTTPParser.Head?
    /// Bytes at the start of `buffered` searched for the end of a head without finding it.
    private var searched = 0

    init(limits: HTTPParser.Limits) {
        self.limits = limits
    }

    mutating func append(_ bytes: ArraySlice<UInt8>) { buffered.append(contentsOf: bytes) }

    /// Drops what is buffered (a request refused before its body arrived).
    mutating func removeAll() {
        buffered.removeAll()
        head = nil
        searched = 0
    }

    /// The next request, if the buffer holds it whole.
    mutating func next() throws(HTTPParser.Failure) -> Next {
        let current: HTTPParser.Head
        if let head {
            current = head
        } else {
            // A CRLFCRLF may straddle what was searched and what came since.
            let from = max(0, searched - 3)
            headBytesSearched += max(0, min(buffered.count, limits.headerBytesMax + 4) - from)
            guard let parsed = try HTTPParser.parseHead(buffered[...], limits: limits, searchFrom: from) else {
                searched = buffered.count
                return .incomplete
            }
            headParses += 1
            current = parsed
        }
        let end = current.headBytes + current.bodyBytes
        guard buffered.count >= end else {
            defer { head = current }
            return head == nil ? .head(current.request) : .incomplete
        }
        var request = current.request
        request.body = Array(buffered[current.headBytes..<end])
        buffered.removeFirst(end)
        head = nil
        searched = 0
        return .request(request)
    }
}
