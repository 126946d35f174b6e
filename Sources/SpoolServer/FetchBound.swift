import SpoolWire

/// The most bytes a request's response may carry, read from the frame before the request is
/// decoded: a Fetch's max_bytes (responses to other requests are small). A connection keeps that
/// much room for the response while the request is in flight, so that pipelined fetches a client
/// does not read cannot pile up more response bytes than the connection may hold.
enum FetchBound {
    /// Fetch's API key.
    static let fetchKey: Int16 = 1
    /// Fetch versions before 3 have no max_bytes; Kafka then answers up to the partitions' limits.
    static let firstVersionWithMaxBytes: Int16 = 3
    /// The first version with a flexible header (tagged fields after the client id).
    static let firstFlexibleVersion: Int16 = 12
    /// The first version without replica_id in the body.
    static let firstVersionWithoutReplicaId: Int16 = 15

    /// max_bytes of a Fetch request frame (without its size prefix); nil for any other request or
    /// a frame too short to say (the router refuses those).
    static func responseBytesMax(_ frame: [UInt8]) -> Int? {
        var reader = WireReader(frame)
        do {
            guard try reader.readInt16() == fetchKey else { return nil }
            let version = try reader.readInt16()
            guard version >= firstVersionWithMaxBytes else { return nil }
            _ = try reader.readInt32()  // correlation id
            _ = try reader.readNullableString()  // client id
            if version >= firstFlexibleVersion { try reader.skipTaggedFields() }
            if version < firstVersionWithoutReplicaId { _ = try reader.readInt32() }
            _ = try reader.readInt32()  // max_wait_ms
            _ = try reader.readInt32()  // min_bytes
            return Int(max(0, try reader.readInt32()))
        } catch {
            return nil
        }
    }
}
