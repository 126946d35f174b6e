/// A first-in, first-out queue in a ring of slots: taking from the front releases that element at
/// once and moves nothing; the ring doubles when full and keeps its slots when it empties (a
/// queue fills again much as it did before).
struct Fifo<Element>: Sequence {
    /// The ring: a power of two slots (or none), `count` of them filled from `head` on.
    private var slots: ContiguousArray<Element?> = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var first: Element? { count == 0 ? nil : slots[head] }
    /// Slots the ring has now (for tests of its storage).
    var capacity: Int { slots.count }

    mutating func append(_ element: Element) {
        if count == slots.count { grow() }
        slots[(head + count) & (slots.count - 1)] = element
        count += 1
    }

    mutating func removeFirst() { _ = popFirst() }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = slots[head].take()
        count -= 1
        head = count == 0 ? 0 : (head + 1) & (slots.count - 1)
        return element
    }

    /// Moves the elements, in order, to a ring twice as large (8 slots at first).
    private mutating func grow() {
        let size = Swift.max(8, slots.count * 2)
        var grown = ContiguousArray<Element?>()
        grown.reserveCapacity(size)
        for index in 0..<count { grown.append(slots[(head + index) & (slots.count - 1)].take()) }
        grown.append(contentsOf: repeatElement(nil, count: size - count))
        slots = grown
        head = 0
    }

    /// The elements from the front.
    func makeIterator() -> Iterator { Iterator(fifo: self) }

    struct Iterator: IteratorProtocol {
        let fifo: Fifo
        var index = 0

        mutating func next() -> Element? {
            guard index < fifo.count else { return nil }
            defer { index += 1 }
            return fifo.slots[(fifo.head + index) & (fifo.slots.count - 1)]
        }
    }
}
