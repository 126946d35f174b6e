import Foundation
import SpoolWire

extension KafkaUUID {
    /// A topic id as Kafka's protocol carries it, from the UUID string the broker stores; the zero
    /// UUID when the text is not a UUID.
    init(topicId text: String) {
        guard let uuid = UUID(uuidString: text) else {
            self = .zero
            return
        }
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        self.init(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The UUID string the broker stores for this topic id.
    var topicIdString: String {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: high.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: low.bigEndian) { bytes.append(contentsOf: $0) }
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString
    }
}
