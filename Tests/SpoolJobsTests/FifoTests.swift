import Testing
@testable import SpoolJobs

@Suite struct FifoTests {
    final class Box {
        let value: Int
        init(_ value: Int) { self.value = value }
    }

    @Test func keepsOrderAcrossWrapsAndGrowth() {
        var fifo = Fifo<Int>()
        var expected: [Int] = []
        var next = 0
        // Uneven appends and removals, so the front wraps around the ring before it grows.
        for round in 0..<200 {
            for _ in 0..<(round % 7 + 1) {
                fifo.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<(round % 5) where !expected.isEmpty {
                #expect(fifo.popFirst() == expected.removeFirst())
            }
            #expect(fifo.count == expected.count)
            #expect(Array(fifo) == expected)
            #expect(fifo.first == expected.first)
        }
        while let value = fifo.popFirst() { #expect(value == expected.removeFirst()) }
        #expect(expected.isEmpty && fifo.isEmpty && fifo.popFirst() == nil)
    }

    @Test func releasesAnElementWhenItIsTaken() {
        var fifo = Fifo<Box>()
        weak var taken: Box?
        do {
            let box = Box(1)
            taken = box
            fifo.append(box)
            fifo.append(Box(2))
        }
        #expect(taken != nil)
        fifo.removeFirst()
        #expect(taken == nil)
        #expect(fifo.first?.value == 2)
    }

    @Test func keepsItsRingWhenEmptyAndGrowsByDoubling() {
        var fifo = Fifo<Int>()
        #expect(fifo.capacity == 0)
        for value in 0..<9 { fifo.append(value) }
        #expect(fifo.capacity == 16)
        while fifo.popFirst() != nil {}
        #expect(fifo.capacity == 16 && fifo.isEmpty)
        for value in 0..<16 { fifo.append(value) }
        #expect(fifo.capacity == 16 && Array(fifo) == Array(0..<16))
    }
}
