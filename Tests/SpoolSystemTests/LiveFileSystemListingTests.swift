import Foundation
import SpoolSystem
import Testing

/// `LiveFileSystem.contents(ofDirectory:)` reads each entry's name in place, of any length.
@Suite struct LiveFileSystemListingTests {
    @Test func aDirectoryListsEveryNameOfEveryLengthAndNotItsDots() throws {
        let directory = NSTemporaryDirectory() + "spool-listing-" + UUID().uuidString
        let fileSystem = LiveFileSystem()
        try fileSystem.makeDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Names of 1 to 255 bytes (NAME_MAX), some not ASCII.
        var names: Set<String> = []
        for length in 1...255 {
            let name = length % 7 == 0 && length >= 2 ? String(repeating: "a", count: length - 2) + "é" : String(repeating: "n", count: length)
            names.insert(name)
            #expect(FileManager.default.createFile(atPath: directory + "/" + name, contents: nil))
        }
        #expect(Set(try fileSystem.contents(ofDirectory: directory)) == names)
        #expect(throws: (any Error).self) { try fileSystem.contents(ofDirectory: directory + "/missing") }
    }
}
