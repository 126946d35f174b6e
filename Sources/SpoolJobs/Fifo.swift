/// A first-in, first-out queue over an array and a head index: taking from the front moves the
/// index, and the array drops its taken front in bulk (at once when the queue empties, and when
/// more than half of it and over 256 elements are taken), so each element is moved at most once.
struct Fifo<Element> {
    private(set) var items: [Element] = []
    private(set) var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }
    var first: Element? { isEmpty ? nil : items[head] }
    /// The elements from the front.
    var all: ArraySlice<Element> { items[head...] }

    mutating func append(_ element: Element) { items.append(element) }

    mutating func removeFirst() {
        head += 1
        if head == items.count {
            removeAll()
        } else if head > 256, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }

    mutating func popFirst() -> Element? {
        guard let element = first else { return nil }
        removeFirst()
        return element
    }

    /// Empties the queue and keeps its storage.
    mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
        head = 0
    }
}
