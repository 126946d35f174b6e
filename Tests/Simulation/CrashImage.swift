/// What a disk holds after a power cut: directories and files by absolute path. A new
/// `SimulatedFileSystem(image:)` restarts from it with everything durable.
public struct CrashImage: Sendable {
    /// One file: its size and the pages that are not all zeros, by their first byte.
    public struct File: Sendable, Equatable {
        public var size: Int
        public var pages: [Int: [UInt8]]
        public var modificationTimeMs: Int64

        /// The whole contents.
        public func bytes() -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: size)
            for (start, page) in pages {
                bytes.replaceSubrange(start..<(start + page.count), with: page)
            }
            return bytes
        }
    }

    /// Every directory, root ("/") included.
    public var directories: Set<String> = ["/"]
    public var files: [String: File] = [:]
    /// How many metadata operations were still pending at the cut, and how many of them (a
    /// prefix, in order) the image keeps.
    public var pendingOperations = 0
    public var pendingOperationsKept = 0
    /// Pages that were not synced at the cut, and of them how many came back torn (some sectors
    /// old, some new).
    public var unsyncedPages = 0
    public var tornPages = 0

    public init() {}

    /// The contents of the file at `path` (absolute, as `SimulatedFileSystem` spells it), if the
    /// image holds one.
    public func bytes(_ path: String) -> [UInt8]? { files[SimulatedPath(path).text]?.bytes() }
}

/// A path cut into its names, "." and empty names left out; relative paths start at the root
/// (the simulated process has no working directory of its own).
struct SimulatedPath {
    var components: [String]

    init(_ path: String) {
        components = path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    init(components: [String]) { self.components = components }

    var text: String { "/" + components.joined(separator: "/") }
    var parent: SimulatedPath { SimulatedPath(components: Array(components.dropLast())) }
    var name: String? { components.last }
}
