import Glibc
import SpoolSimulation
import SpoolSystem
import Testing

/// The simulated disk itself: what a power cut keeps and what it may lose.
@Suite struct SimulatedFileSystemTests {
    static let clock: @Sendable () -> Int64 = { 1_700_000_000_000 }

    func disk() throws -> SimulatedFileSystem {
        let disk = SimulatedFileSystem(fileBytesMax: 1 << 20, clock: Self.clock)
        try disk.makeDirectory("/d")
        try disk.syncDirectory("/")
        return disk
    }

    func write(_ disk: SimulatedFileSystem, _ path: String, _ bytes: [UInt8], at offset: Int = 0, sync: Bool) throws {
        let fd = try disk.open(path, [.readWrite, .create], permissions: 0o644)
        defer { disk.close(fd) }
        try bytes.withUnsafeBytes { try disk.writeAll(fd, $0, at: offset) }
        if sync { try disk.dataSync(fd) }
    }

    /// Cuts with seeds 0..<count, the images of every cut.
    func cuts(_ disk: SimulatedFileSystem, count: Int = 64) -> [CrashImage] {
        (0..<UInt64(count)).map { seed in
            var random = SimulationRandom(seed: seed)
            return disk.powerCut(&random)
        }
    }

    @Test func syncedDataSurvivesEveryCut() throws {
        let disk = try disk()
        try write(disk, "/d/f", Array(repeating: 7, count: 10_000), sync: true)
        try disk.syncDirectory("/d")
        for image in cuts(disk) { #expect(image.bytes("/d/f") == Array(repeating: 7, count: 10_000)) }
    }

    @Test func unsyncedDataIsLostByAtLeastOneCutAndKeptByAnother() throws {
        let disk = try disk()
        try write(disk, "/d/f", Array(repeating: 1, count: 4096), sync: true)
        try disk.syncDirectory("/d")
        try write(disk, "/d/f", Array(repeating: 2, count: 4096), sync: false)
        let images = cuts(disk).map { $0.bytes("/d/f") }
        #expect(images.contains(Array(repeating: 1, count: 4096)))
        #expect(images.contains(Array(repeating: 2, count: 4096)))
        // Only old, new or a mix by sector: never a byte that was not written.
        for bytes in images { #expect(bytes?.allSatisfy { $0 == 1 || $0 == 2 } == true) }
    }

    @Test func unsyncedGrowthMayLeaveTheOldSizeOrZeros() throws {
        let disk = try disk()
        try write(disk, "/d/f", [9, 9, 9], sync: true)
        try disk.syncDirectory("/d")
        try write(disk, "/d/f", [8, 8], at: 3, sync: false)
        let images = Set(cuts(disk).compactMap { $0.bytes("/d/f") })
        #expect(images.isSubset(of: [[9, 9, 9], [9, 9, 9, 8, 8], [9, 9, 9, 0, 0]]))
        #expect(images.contains([9, 9, 9]) && images.contains([9, 9, 9, 8, 8]))
    }

    @Test func pagesTearAtSectorBoundaries() throws {
        let disk = try disk()
        try write(disk, "/d/f", Array(repeating: 0xAA, count: 4096), sync: true)
        try disk.syncDirectory("/d")
        try write(disk, "/d/f", Array(repeating: 0xBB, count: 4096), sync: false)
        var torn = 0
        for image in cuts(disk, count: 200) {
            guard let bytes = image.bytes("/d/f") else { continue }
            for sector in stride(from: 0, to: 4096, by: 512) {
                let values = Set(bytes[sector..<(sector + 512)])
                #expect(values.count == 1, "a sector is written whole or not at all")
            }
            let sectors = Set(stride(from: 0, to: 4096, by: 512).map { bytes[$0] })
            if sectors.count == 2 { torn += 1 }
        }
        #expect(torn > 0, "some cuts tear the page")
    }

    @Test func aNewNameIsDurableOnlyAfterItsDirectorySync() throws {
        let disk = try disk()
        try write(disk, "/d/f", [1, 2, 3], sync: true)
        let before = cuts(disk).map { $0.files.keys.contains("/d/f") }
        #expect(before.contains(false), "without a directory sync a cut may lose the name")
        try disk.syncDirectory("/d")
        for image in cuts(disk) { #expect(image.bytes("/d/f") == [1, 2, 3]) }
    }

    @Test func aRenameIsDurableOnlyAfterTheDirectorySync() throws {
        let disk = try disk()
        try write(disk, "/d/old", [1], sync: true)
        try disk.syncDirectory("/d")
        try disk.rename("/d/old", to: "/d/new")
        let names = cuts(disk).map { Set($0.files.keys) }
        // A rename is atomic: one name or the other, never both or neither.
        for set in names { #expect(set == ["/d/old"] || set == ["/d/new"]) }
        #expect(names.contains(["/d/old"]))
        try disk.syncDirectory("/d")
        for image in cuts(disk) { #expect(Set(image.files.keys) == ["/d/new"]) }
    }

    @Test func aCutKeepsAPrefixOfThePendingOperations() throws {
        let disk = try disk()
        for index in 0..<5 { try write(disk, "/d/f\(index)", [UInt8(index)], sync: true) }
        for image in cuts(disk) {
            let kept = (0..<5).filter { image.files.keys.contains("/d/f\($0)") }
            #expect(kept == Array(0..<kept.count), "f\(kept.count) kept only with every file created before it")
            #expect(image.pendingOperations == 5 && image.pendingOperationsKept == kept.count)
        }
    }

    @Test func mappedStoresAreUnsyncedUntilTheFileIsSynced() throws {
        let disk = try disk()
        let fd = try disk.open("/d/m", [.readWrite, .create], permissions: 0o644)
        defer { disk.close(fd) }
        try disk.allocate(fd, offset: 0, length: 8192)
        try disk.dataSync(fd)
        try disk.syncDirectory("/d")
        let address = try disk.map(fd, length: 1 << 16, writable: true)
        defer { disk.unmap(address, length: 1 << 16) }
        address.storeBytes(of: 0x5A, toByteOffset: 100, as: UInt8.self)
        // The mapping and pread see the same bytes.
        var read: UInt8 = 0
        _ = try withUnsafeMutableBytes(of: &read) { try disk.pread(fd, into: $0, at: 100) }
        #expect(read == 0x5A)
        let before = cuts(disk).compactMap { $0.bytes("/d/m")?[100] }
        #expect(Set(before) == [0, 0x5A], "an unsynced store through the mapping may or may not survive")
        try disk.dataSync(fd)
        for image in cuts(disk) { #expect(image.bytes("/d/m")?[100] == 0x5A) }
    }

    @Test func theSameSeedGivesTheSameImage() throws {
        let disk = try disk()
        for index in 0..<4 {
            try write(disk, "/d/f\(index)", Array(repeating: UInt8(index + 1), count: 9000), sync: index % 2 == 0)
        }
        var first = SimulationRandom(seed: 42)
        var second = SimulationRandom(seed: 42)
        let one = disk.powerCut(&first)
        let two = disk.powerCut(&second)
        #expect(one.files == two.files && one.directories == two.directories)
        let others = (0..<UInt64(16)).map { seed in
            var random = SimulationRandom(seed: seed)
            return disk.powerCut(&random).files
        }
        #expect(others.contains { $0 != one.files }, "other seeds choose differently")
    }

    @Test func anArmedCutFreezesTheImageAtItsOperation() throws {
        let disk = try disk()
        disk.armPowerCut(atOperation: 3, seed: 1)
        let fd = try disk.open("/d/f", [.readWrite, .create], permissions: 0o644)  // 1
        try [UInt8](repeating: 4, count: 10).withUnsafeBytes { _ = try disk.pwrite(fd, $0, at: 0) }  // 2
        #expect(!disk.hasCut)
        try disk.dataSync(fd)  // 3: the cut happens before it
        try disk.syncDirectory("/d")
        disk.close(fd)
        let image = try #require(disk.cutImage)
        #expect(image.bytes("/d/f") == nil || image.bytes("/d/f")?.count ?? 0 <= 10)
        #expect(image.pendingOperations == 1, "the creation was still pending at the cut")
        // The world goes on: the file is there and synced for the disk, but not for the image.
        var random = SimulationRandom(seed: 2)
        #expect(disk.powerCut(&random).bytes("/d/f") == [UInt8](repeating: 4, count: 10))
    }

    @Test func aRestartFromAnImageHasEverythingDurable() throws {
        let disk = try disk()
        try write(disk, "/d/f", [1, 2, 3], sync: true)
        try disk.syncDirectory("/d")
        var random = SimulationRandom(seed: 5)
        let restarted = SimulatedFileSystem(image: disk.powerCut(&random), fileBytesMax: 1 << 20, clock: Self.clock)
        #expect(try restarted.readFile("/d/f") == [1, 2, 3])
        for seed in UInt64(0)..<8 {
            var again = SimulationRandom(seed: seed)
            #expect(restarted.powerCut(&again).bytes("/d/f") == [1, 2, 3])
        }
    }

    @Test func failsAsTheSystemCallsWould() throws {
        let disk = try disk()
        func errno(_ body: () throws -> Void) -> Int32? {
            do { try body() } catch let error as SystemError { return error.errno } catch { return nil }
            return nil
        }
        #expect(errno { _ = try disk.open("/d/missing", [.readOnly], permissions: 0) } == ENOENT)
        #expect(errno { _ = try disk.open("/nowhere/f", [.readWrite, .create], permissions: 0o644) } == ENOENT)
        try write(disk, "/d/f", [1], sync: false)
        #expect(errno { _ = try disk.open("/d/f", [.readWrite, .create, .exclusive], permissions: 0o644) } == EEXIST)
        #expect(errno { _ = try disk.open("/d/f/g", [.readWrite, .create], permissions: 0o644) } == ENOTDIR)
        #expect(errno { _ = try disk.open("/d/f", [.directory], permissions: 0) } == ENOTDIR)
        #expect(errno { try disk.removeDirectory("/d") } == ENOTEMPTY)
        #expect(errno { try disk.remove("/d") } == EISDIR)
        #expect(errno { try disk.dataSync(99) } == EBADF)
        let reader = try disk.open("/d/f", [.readOnly], permissions: 0)
        defer { disk.close(reader) }
        #expect(errno { try [UInt8(1)].withUnsafeBytes { _ = try disk.pwrite(reader, $0, at: 0) } } == EBADF)
        #expect(errno { _ = try disk.map(reader, length: 4096, writable: true) } == EACCES)
        disk.close(reader)
        #expect(errno { _ = try disk.size(reader) } == EBADF)
    }

    @Test func appendsLocksAndIdentities() throws {
        let disk = try disk()
        let fd = try disk.open("/d/a", [.readWrite, .create, .append], permissions: 0o644)
        defer { disk.close(fd) }
        try [UInt8]([1, 2]).withUnsafeBytes { _ = try disk.write(fd, $0) }
        try [UInt8]([3]).withUnsafeBytes { _ = try disk.pwrite(fd, $0, at: 10) }
        try [UInt8]([4]).withUnsafeBytes { _ = try disk.write(fd, $0) }
        #expect(try disk.readFile("/d/a") == [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4], "an append goes to the end")

        let other = try disk.open("/d/a", [.readWrite], permissions: 0)
        defer { disk.close(other) }
        #expect(try disk.lock(fd, wait: false))
        #expect(try !disk.lock(other, wait: false), "the lock is per open file")
        disk.unlock(fd)
        #expect(try disk.lock(other, wait: false))
        disk.close(other)
        #expect(try disk.lock(fd, wait: false), "closing releases the lock")

        let identity = try disk.identity(fd)
        #expect(try disk.identity(atPath: "/d/a") == identity)
        try write(disk, "/d/b", [9], sync: false)
        try disk.rename("/d/b", to: "/d/a")
        #expect(try disk.identity(atPath: "/d/a") != identity, "a name renamed over is another file")
        #expect(try disk.identity(fd) == identity)
    }
}
