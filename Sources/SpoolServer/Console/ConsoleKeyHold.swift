/// A key held for a group after one of its jobs dead-lettered (SpoolJobs' `KeyHold`, under a
/// worker's `onDeadLetter: .holdKey`): the group parks the key's later jobs in the dead-letter
/// topic until a redrive of the hold replays them in order.
public struct ConsoleKeyHold: Sendable, Encodable, Equatable {
    /// GROUP/PARTITION:OFFSET, the dead job's place; the `hold` of its dead letters.
    public var id: String
    public var group: String
    public var key: String
    public var partition: Int32
    /// The job whose dead letter holds the key.
    public var deadJobId: String
    /// Milliseconds since the Unix epoch.
    public var heldAtMs: Int64

    public init(id: String, group: String, key: String, partition: Int32, deadJobId: String, heldAtMs: Int64) {
        self.id = id
        self.group = group
        self.key = key
        self.partition = partition
        self.deadJobId = deadJobId
        self.heldAtMs = heldAtMs
    }
}
