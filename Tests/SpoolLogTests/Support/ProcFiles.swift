import Glibc

/// The text of a /proc file such as /proc/self/maps. They report a size of 0, so this reads until
/// end of file rather than trust it. nil when the file cannot be opened.
func procFileText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        text += chunk[..<count]
    }
    return String(decoding: text, as: UTF8.self)
}
