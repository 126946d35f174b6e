/// Names of a segment's files: the base offset zero-padded to 20 digits, as Kafka names them.
enum SegmentFiles {
    static let logSuffix = ".log"
    static let offsetIndexSuffix = ".index"
    static let timeIndexSuffix = ".timeindex"
    static let digits = 20

    static func name(_ baseOffset: Int64) -> String {
        precondition(baseOffset >= 0, "negative base offset")
        let text = String(baseOffset)
        return String(repeating: "0", count: digits - text.count) + text
    }

    static func logPath(_ directory: String, _ baseOffset: Int64) -> String {
        directory + "/" + name(baseOffset) + logSuffix
    }

    static func offsetIndexPath(_ directory: String, _ baseOffset: Int64) -> String {
        directory + "/" + name(baseOffset) + offsetIndexSuffix
    }

    static func timeIndexPath(_ directory: String, _ baseOffset: Int64) -> String {
        directory + "/" + name(baseOffset) + timeIndexSuffix
    }

    /// The base offset of a file named `<20 digits><suffix>`, or nil for any other name.
    static func baseOffset(of fileName: String, suffix: String) -> Int64? {
        guard fileName.hasSuffix(suffix) else { return nil }
        let stem = fileName.dropLast(suffix.count)
        guard stem.count == digits, stem.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        return Int64(stem)
    }
}
