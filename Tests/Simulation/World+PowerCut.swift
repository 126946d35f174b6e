import Glibc

/// How a power cut treats one page that was not synced.
enum PageFate: CaseIterable {
    /// The disk never got the new bytes.
    case old
    /// Writeback had written the page before the power went.
    case new
    /// Some of its 512-byte sectors were written, the others not.
    case torn
}

extension World {
    /// Sectors are what a disk writes atomically; a page is torn at their edges.
    static let sectorBytes = 512

    /// The disk as a restart would find it if the power went now: the durable names plus a random
    /// prefix of the pending metadata operations; for every file reachable through them, the
    /// durable bytes with each unsynced page old, new or torn, and the durable size or the one
    /// reads see.
    func crashImage(_ random: inout SimulationRandom) -> CrashImage {
        var image = CrashImage()
        image.pendingOperations = namespace.pending.count
        image.pendingOperationsKept = Int.random(in: 0...namespace.pending.count, using: &random)
        let names = namespace.afterCut(keeping: image.pendingOperationsKept)
        var seen: [UInt64: CrashImage.File] = [:]
        var stack: [(Inode, String)] = [(root, "")]
        while let (directory, path) = stack.popLast() {
            image.directories.insert(path.isEmpty ? "/" : path)
            // Sorted, so that the random choices fall the same way in every run of a seed.
            for (name, inode) in (names[directory.number] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let child = path + "/" + name
                if inode.isDirectory {
                    stack.append((inode, child))
                } else {
                    if seen[inode.number] == nil { seen[inode.number] = crashFile(inode, &random, &image) }
                    image.files[child] = seen[inode.number]
                }
            }
        }
        return image
    }

    private func crashFile(_ inode: Inode, _ random: inout SimulationRandom, _ image: inout CrashImage) -> CrashImage.File {
        guard let visible = inode.visible, let durable = inode.durable else { preconditionFailure("a directory has no bytes") }
        let size = Bool.random(using: &random) ? inode.size : inode.durableSize
        let unsynced = Set(inode.unsyncedPages())
        var pages: [Int: [UInt8]] = [:]
        for page in stride(from: 0, to: size, by: FileStorage.pageBytes) {
            let range = page..<min(page + FileStorage.pageBytes, size)
            // Most pages of a preallocated file are zeros on both sides: skip them without copying.
            if !unsynced.contains(page) && durable.isZero(range) { continue }
            var bytes = durable.bytes(range)
            if unsynced.contains(page) {
                image.unsyncedPages += 1
                switch PageFate.allCases.randomElement(using: &random) ?? .old {
                case .old: break
                case .new: bytes = visible.bytes(range)
                case .torn:
                    image.tornPages += 1
                    let fresh = visible.bytes(range)
                    for sector in stride(from: 0, to: bytes.count, by: Self.sectorBytes) where Bool.random(using: &random) {
                        let end = min(sector + Self.sectorBytes, bytes.count)
                        bytes.replaceSubrange(sector..<end, with: fresh[sector..<end])
                    }
                }
            }
            pages[page] = bytes
        }
        return CrashImage.File(size: size, pages: pages, modificationTimeMs: inode.modificationTimeMs)
    }

    /// Fills an empty disk with `image`, everything durable.
    mutating func restore(_ image: CrashImage) {
        precondition(root.entries.isEmpty, "restore onto an empty disk")
        var directories: [String: Inode] = ["/": root]
        func directory(_ path: SimulatedPath) -> Inode {
            if let known = directories[path.text] { return known }
            let parent = directory(path.parent)
            let made = makeInode(directory: true, now: 0)
            parent.entries[path.name ?? ""] = made
            directories[path.text] = made
            return made
        }
        for path in image.directories { _ = directory(SimulatedPath(path)) }
        for (path, file) in image.files {
            let location = SimulatedPath(path)
            let inode = makeInode(directory: false, now: file.modificationTimeMs)
            for (start, page) in file.pages {
                page.withUnsafeBytes { raw in
                    guard let source = raw.baseAddress, let visible = inode.visible else { return }
                    memcpy(visible.base + start, source, raw.count)
                }
            }
            inode.size = file.size
            inode.makeDurable()
            directory(location.parent).entries[location.name ?? ""] = inode
        }
        for (number, inode) in directories.values.map({ ($0.number, $0) }) {
            namespace.durable[number] = inode.entries
        }
    }
}
