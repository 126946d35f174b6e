/// Builds indented Swift source line by line.
struct SwiftWriter {
    private(set) var text = ""
    private var depth = 0

    mutating func line(_ content: String = "") {
        text += content.isEmpty ? "\n" : String(repeating: "    ", count: depth) + content + "\n"
    }

    /// A line that opens a block; the lines after it are indented.
    mutating func open(_ content: String) {
        line(content)
        depth += 1
    }

    /// A line that closes a block.
    mutating func close(_ content: String) {
        dedent()
        line(content)
    }

    mutating func dedent() { depth = max(0, depth - 1) }
}
