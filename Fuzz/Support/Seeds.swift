import Foundation

/// Writes `seeds` as files `<name>.bin` into `directory` (created if missing): the starting corpus
/// of a fuzz target, written by the target itself so that it always matches the current encoders.
public func writeSeeds(_ seeds: [(name: String, frame: [UInt8])], to directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for seed in seeds {
        let path = "\(directory)/\(seed.name).bin"
        guard FileManager.default.createFile(atPath: path, contents: Data(seed.frame)) else { throw ReplayError(path: path) }
    }
}
