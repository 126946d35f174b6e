/// Kafka's `uuid` type (topic ids, directory ids): 16 bytes, written as two big-endian 64-bit
/// halves. The all-zero value is Kafka's `Uuid.ZERO_UUID`, meaning "none".
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The zero UUID: no topic id.
    public static let zero = KafkaUUID(high: 0, low: 0)

    /// Kafka's text form: URL-safe base64 of the 16 bytes, without padding.
    public var description: String {
        var raw: [UInt8] = []
        withUnsafeBytes(of: high.bigEndian) { raw.append(contentsOf: $0) }
        withUnsafeBytes(of: low.bigEndian) { raw.append(contentsOf: $0) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var text = ""
        var index = 0
        while index < raw.count {
            let chunk = raw[index..<min(index + 3, raw.count)]
            var value = 0
            for byte in chunk { value = value << 8 | Int(byte) }
            value <<= 8 * (3 - chunk.count)
            for slot in 0...chunk.count { text.append(alphabet[(value >> (18 - 6 * slot)) & 0x3F]) }
            index += 3
        }
        return text
    }
}
