import Foundation

/// Runs `body` on the contents of every file named on the command line (a directory stands for the
/// files in it, hidden ones aside), so a fuzz target built without libFuzzer replays a corpus or one crashing input.
/// Returns how many inputs it ran; a path that cannot be read is an error.
public func replayArguments(_ body: ([UInt8]) -> Void) throws -> Int {
    var count = 0
    for path in CommandLine.arguments.dropFirst() {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ReplayError(path: path) }
        let files = isDirectory.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
            : [path]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { throw ReplayError(path: file) }
            body(Array(data))
            count += 1
        }
    }
    return count
}

/// A path given to `replayArguments` that is missing or unreadable.
public struct ReplayError: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "cannot read \(path)" }
}
