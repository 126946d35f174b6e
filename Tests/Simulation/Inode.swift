/// A simulated file or directory. A file keeps two copies of its bytes: what reads see
/// (`visible`, which mappings point into) and what is on the disk (`durable`); an fdatasync
/// copies the pages that differ. A directory keeps the names reads see; which of them are on the
/// disk is the business of `Namespace`.
///
/// Not thread-safe: reached only under `SimulatedFileSystem`'s lock.
final class Inode {
    let number: UInt64
    let isDirectory: Bool
    /// Files only.
    let visible: FileStorage?
    let durable: FileStorage?
    var size = 0
    var durableSize = 0
    var modificationTimeMs: Int64
    /// Directories only: the names reads see.
    var entries: [String: Inode] = [:]
    /// The descriptor holding the file's advisory lock (flock), if one does.
    var lockHolder: Int32?

    init(number: UInt64, directory: Bool, capacity: Int, now: Int64) {
        self.number = number
        self.isDirectory = directory
        self.visible = directory ? nil : FileStorage(capacity: capacity)
        self.durable = directory ? nil : FileStorage(capacity: capacity)
        self.modificationTimeMs = now
    }

    /// Bytes up to the end of the last page either copy reaches.
    var span: Int {
        let bytes = max(size, durableSize)
        return (bytes + FileStorage.pageBytes - 1) / FileStorage.pageBytes * FileStorage.pageBytes
    }

    /// The pages where what reads see is not what is on the disk, by their first byte.
    func unsyncedPages() -> [Int] {
        guard let visible, let durable else { return [] }
        return stride(from: 0, to: span, by: FileStorage.pageBytes).filter { page in
            !visible.equals(durable, page..<(page + FileStorage.pageBytes))
        }
    }

    /// fdatasync: the contents and the size become durable. Returns whether any byte changed.
    @discardableResult
    func makeDurable() -> Bool {
        guard let visible, let durable else { return false }
        let pages = unsyncedPages()
        for page in pages { durable.copy(from: visible, page..<(page + FileStorage.pageBytes)) }
        let changed = !pages.isEmpty || durableSize != size
        durableSize = size
        return changed
    }

    /// Sets the visible size, zeroing what a shrink cut off so that growing again reads zeros.
    func resize(to length: Int) {
        guard let visible else { return }
        if length < size { visible.zero(length..<size) }
        size = length
    }
}
