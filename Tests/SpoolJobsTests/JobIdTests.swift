import Foundation
import Testing
@testable import SpoolJobs

// Serialized: the fork test re-keys every source in the process, which the key test must not see.
@Suite(.serialized) struct JobIdTests {
    static func expectVersion4(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let parsed = UUID(uuidString: id)
        #expect(parsed != nil && parsed?.uuidString == id, "\(id)", sourceLocation: sourceLocation)
        let characters = Array(id)
        #expect(characters.count == 36 && characters[14] == "4", "version 4: \(id)", sourceLocation: sourceLocation)
        #expect(characters.count == 36 && "89AB".contains(characters[19]), "RFC 4122 variant: \(id)", sourceLocation: sourceLocation)
    }

    @Test func generatedIdsAreVersion4UUIDsAndDistinct() {
        let ids = (0..<10_000).map { _ in JobQueue.randomUUID() }
        #expect(Set(ids).count == ids.count)
        for id in ids { Self.expectVersion4(id) }
    }

    @Test("ids drawn by several tasks at once are all distinct")
    func concurrentIdsAreDistinct() async {
        let source = JobIds(key: (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max)))
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<40_000).map { _ in source.next() } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 320_000)
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(1_000) { Self.expectVersion4(id) }
    }

    @Test("ids depend on the key: the same key gives the same ids, another key others")
    func idsFollowTheKey() {
        let first = JobIds(key: (1, 2)), again = JobIds(key: (1, 2)), other = JobIds(key: (1, 3))
        let ids = (0..<100).map { _ in first.next() }
        #expect(ids == (0..<100).map { _ in again.next() })
        #expect(Set(ids).isDisjoint(with: (0..<100).map { _ in other.next() }))
        // Every hex digit varies from id to id, but the version's, and the variant's over its 4 values.
        let digits = ids.map { Array($0.replacingOccurrences(of: "-", with: "")) }
        for position in 0..<32 where position != 12 && position != 16 {
            #expect(Set(digits.map { $0[position] }).count > 8, "digit \(position)")
        }
        #expect(Set(digits.map { $0[16] }) == ["8", "9", "A", "B"])
    }

    @Test("after a fork a source draws a new key: the child's ids are not the ones its parent draws next")
    func aForkedChildDrawsANewKey() {
        let child = JobIds(key: (1, 2)), parent = JobIds(key: (1, 2))
        #expect(child.next() == parent.next())
        // What `fork()` runs in the child (the parent, here, is a copy that did not fork).
        JobIds.childAfterFork()
        let unforked = JobIds(key: (1, 2))
        _ = unforked.next()
        let parentNext = (0..<100).map { _ in unforked.next() }
        let childNext = (0..<100).map { _ in child.next() }
        #expect(Set(childNext).isDisjoint(with: parentNext))
        for id in childNext.prefix(10) { Self.expectVersion4(id) }
    }

    @Test("SipHash-2-4 gives the reference output")
    func sipHashReference() {
        // The reference implementation's key 00 01 ... 0f, message 00 01 ... 07.
        let hash = SipHash24(key: (0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908))
        #expect(hash.hash(0x0706_0504_0302_0100) == 0x93F5_F579_9A93_2462)
    }
}
