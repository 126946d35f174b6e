import Glibc
import SpoolSystem
import Synchronization

/// A listening socket, accepted on by one event loop and closed by it once (the Kafka listener
/// and the HTTP one).
final class ListeningSocket: Sendable {
    /// The socket's number: the key of its epoll registration.
    let descriptor: Int32
    private let socket: Mutex<FileDescriptor?>
    private let network: any NetworkSystem

    init(_ socket: consuming FileDescriptor, network: any NetworkSystem) {
        descriptor = socket.rawValue
        self.socket = Mutex(consume socket)
        self.network = network
    }

    /// The next pending connection, nil when none is (or the socket is closed). A connection gone
    /// before it was accepted (ECONNABORTED, EPROTO) is passed over; running out of descriptors
    /// or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) throws, and the connection stays pending.
    func accept() throws -> FileDescriptor? {
        while true {
            do {
                return try socket.withLock { socket throws -> FileDescriptor? in
                    switch socket {
                    case let open?: try network.acceptConnection(on: open)
                    case nil: nil
                    }
                }
            } catch let error as SystemError where error.errno == ECONNABORTED || error.errno == EPROTO {
                continue
            }
        }
    }

    func close() { socket.withLock { $0.take()?.close() } }
}
