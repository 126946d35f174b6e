import Glibc

/// One line per event on standard error, for operators.
public enum ServerLog {
    public static func info(_ message: String) {
        let line = "spool: " + message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

extension ServerLog {
    public static func listening(host: String, port: UInt16, data: String, fsync: some CustomStringConvertible, topics: Int) {
        info("listening on \(host):\(port) (Kafka protocol; data \(data), fsync \(fsync), \(topics) topics)")
    }

    public static func stopping() { info("stopping: closing connections, flushing partitions") }
    public static func stopped() { info("stopped; every acknowledged record is on disk") }
}
