/// FindCoordinator (10), versions 0-2: Spool is every group's coordinator.
public struct FindCoordinatorRequest: Sendable {
    public var key: String
    public var keyType: Int8

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        key = try reader.readString()
        keyType = version >= 1 ? try reader.readInt8() : 0
    }
}

public struct FindCoordinatorResponse: Sendable {
    public var errorCode: Int16; public var nodeId: Int32; public var host: String; public var port: Int32
    public init(errorCode: Int16, nodeId: Int32, host: String, port: Int32) { self.errorCode = errorCode; self.nodeId = nodeId; self.host = host; self.port = port }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 1 { writer.writeInt32(0) }
        writer.writeInt16(errorCode)
        if version >= 1 { writer.writeNullableString(nil) }
        writer.writeInt32(nodeId)
        writer.writeString(host)
        writer.writeInt32(port)
    }
}
