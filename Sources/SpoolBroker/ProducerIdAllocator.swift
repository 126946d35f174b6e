import SpoolSystem
import Synchronization

/// Hands out producer ids for InitProducerId that are never reused, even across restarts: ids are
/// reserved in blocks, and the end of the current block is written (atomically) to
/// `DATA/producer-ids` before any id from it is handed out.
final class ProducerIdAllocator: Sendable {
    private struct Block {
        var next: Int64
        var end: Int64
    }

    static let blockSize: Int64 = 1000
    private let path: String
    private let fileSystem: any FileSystem
    private let block: Mutex<Block>

    init(dataDirectory: String, fileSystem: any FileSystem) throws {
        path = dataDirectory + "/producer-ids"
        self.fileSystem = fileSystem
        var start: Int64 = 0
        if let bytes = try? fileSystem.readFile(path, limit: 4096) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let value = Int64(text), value >= 0 else {
                throw BrokerError.invalidConfig("\(path) does not hold a producer id: '\(text.prefix(40))'")
            }
            start = value
        }
        block = Mutex(Block(next: start, end: start))
    }

    /// A fresh producer id.
    func allocate() throws -> Int64 {
        try block.withLock { block in
            if block.next == block.end {
                let end = block.end + Self.blockSize
                try fileSystem.writeAtomically(path, Array("\(end)\n".utf8))
                block.end = end
            }
            defer { block.next += 1 }
            return block.next
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

extension Set where Element == Character {
    fileprivate static var whitespacesAndNewlines: Set<Character> { [" ", "\n", "\t", "\r"] }
}
