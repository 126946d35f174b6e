import CSpool
import Glibc

/// The real socket, epoll and eventfd calls (epoll's packed struct stays in CSpool).
public struct LiveNetworkSystem: NetworkSystem {
    public init() {}

    public func listen(host: String, port: UInt16, backlog: Int32) throws -> Int32 {
        try retryingOnInterrupt("listen on \(host):\(port)") { spool_listen_tcp(host, port, backlog) }
    }

    public func accept(_ listener: Int32) throws -> Int32? {
        try unlessWouldBlock("accept") { spool_accept(listener) }
    }

    public func localPort(_ fd: Int32) throws -> UInt16 {
        UInt16(try retryingOnInterrupt("getsockname") { spool_local_port(fd) })
    }

    public func peerName(_ fd: Int32) -> String? {
        var name = [CChar](repeating: 0, count: 64)
        guard spool_peer_name(fd, &name, name.count) == 0 else { return nil }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func setNoDelay(_ fd: Int32) {
        // Only fails on a descriptor that is not a TCP socket; latency advice either way.
        _ = spool_set_nodelay(fd)
    }

    public func makePoller() throws -> Int32 {
        try retryingOnInterrupt("epoll_create") { spool_epoll_create() }
    }

    public func watch(_ poller: Int32, _ fd: Int32, for events: IOEvents) throws {
        _ = try retryingOnInterrupt("epoll_ctl add") { spool_epoll_control(poller, 0, fd, events.rawValue) }
    }

    public func rewatch(_ poller: Int32, _ fd: Int32, for events: IOEvents) throws {
        _ = try retryingOnInterrupt("epoll_ctl mod") { spool_epoll_control(poller, 1, fd, events.rawValue) }
    }

    public func unwatch(_ poller: Int32, _ fd: Int32) throws {
        _ = try retryingOnInterrupt("epoll_ctl del") { spool_epoll_control(poller, 2, fd, 0) }
    }

    public func wait(_ poller: Int32, into ready: inout ReadyDescriptors, timeoutMs: Int32) throws {
        // SPOOL_EVENT_* and IOEvents share their bits, so the masks pass through unchanged.
        let capacity = Int32(ready.capacity)
        let count = ready.descriptors.withUnsafeMutableBufferPointer { fds in
            ready.events.withUnsafeMutableBufferPointer { events in
                spool_epoll_wait(poller, fds.baseAddress, events.baseAddress, capacity, timeoutMs)
            }
        }
        if count < 0 {
            ready.count = 0
            let code = Glibc.errno
            if code == EINTR { return }
            throw SystemError(errno: code, operation: "epoll_wait")
        }
        ready.count = Int(count)
    }

    public func makeEventDescriptor() throws -> Int32 {
        try retryingOnInterrupt("eventfd") { spool_eventfd() }
    }

    public func makeWallClockTimer() throws -> Int32 {
        try retryingOnInterrupt("timerfd_create") { spool_wall_timer() }
    }

    public func setWallClockTimer(_ timer: Int32, atMs: Int64?) throws {
        _ = try retryingOnInterrupt("timerfd_settime") { spool_wall_timer_set(timer, atMs.map { max($0, 1) } ?? 0) }
    }

    public func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try unlessWouldBlock("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int? {
        // send with MSG_NOSIGNAL on sockets, so a peer gone does not raise SIGPIPE; write on the rest.
        try unlessWouldBlock("write") {
            let sent = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if sent < 0 && Glibc.errno == ENOTSOCK { return Glibc.write(fd, bytes.baseAddress, bytes.count) }
            return sent
        }
    }

    public func write(_ fd: Int32, gathering buffers: [UnsafeRawBufferPointer]) throws -> Int? {
        precondition(buffers.count <= gatherCountMax, "\(buffers.count) buffers for one gathering write")
        var vectors = buffers.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        return try vectors.withUnsafeMutableBufferPointer { vectors in
            // sendmsg with MSG_NOSIGNAL on sockets, as `write` does; writev on the rest.
            var message = msghdr()
            message.msg_iov = vectors.baseAddress
            message.msg_iovlen = vectors.count
            return try unlessWouldBlock("sendmsg") {
                let sent = Glibc.sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                if sent < 0 && Glibc.errno == ENOTSOCK { return Glibc.writev(fd, vectors.baseAddress, Int32(vectors.count)) }
                return sent
            }
        }
    }

    public func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    public func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already released.
        _ = Glibc.close(fd)
    }

    /// Runs a non-blocking call: nil for EAGAIN, retried on EINTR.
    private func unlessWouldBlock<T: FixedWidthInteger>(_ operation: String, _ call: () -> T) throws -> T? {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw SystemError(errno: code, operation: operation)
        }
    }
}
