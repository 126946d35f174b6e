import Foundation
import Synchronization

/// Encodes an Encodable value as the bytes Foundation's `JSONEncoder` set up as `JSONJobCoding`
/// sets it up gives (sorted keys, ISO 8601 dates, every other strategy the default), more than
/// twice as fast: values are written straight into one byte buffer, and an object's members are
/// sorted once, when it is complete. What it cannot be sure to write as `JSONEncoder` would (a key
/// written twice, a container written to after a later one, a super encoder, a coding path read,
/// a number that is not finite, a document of nothing) makes it throw `JSONBytesNotHandled`; that,
/// an error of the value's own or the standard library's (a 128-bit integer) has `JSONJobCoding`
/// ask `JSONEncoder`, whose answer stands.
enum JSONBytesEncoding {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONBytesEncoder()
        try encoder.encodeRoot(value)
        return encoder.out
    }
}

/// Where `JSONBytesEncoding` may not give Foundation's bytes.
struct JSONBytesNotHandled: Error {}

/// The encoder of every value of one document. Each value being written, and each container
/// nested in another, is a frame on a stack; a container is a frame's depth and id, so a container
/// used after its frame was closed is noticed.
final class JSONBytesEncoder: Encoder {
    struct Frame {
        enum Kind { case pending, keyed, unkeyed, single, written }

        var kind: Kind
        let id: Int
        /// Where the value's bytes begin.
        let start: Int
        /// Where this frame's members begin in `members` (a keyed frame's).
        let memberBase: Int
        /// Elements written (an unkeyed frame's).
        var count = 0
        /// The value's name in a keyed parent, and where that member's key begins.
        let key: String?
        let keyStart: Int
    }

    /// A member of an object being written: its `"key":value` bytes, in the order written.
    struct Member {
        let key: String
        let start: Int
        let end: Int
    }

    /// The encoder's state, behind a pointer: the state of a class's stored properties is checked
    /// for exclusive access on every use, which costs more than most writes here.
    struct State {
        var out: [UInt8] = []
        var frames: [Frame] = []
        var members: [Member] = []
        var scratch: [UInt8] = []
        var nextID = 0
        /// The frame of the value whose `encode(to:)` runs, which `container(keyedBy:)` and the others open.
        var valueDepth = 0
        /// Set where something not handled happened in a call that cannot throw.
        var unhandled = false
    }

    private let state: UnsafeMutablePointer<State>
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The state of an encoder that finished, its buffers emptied but kept, for the next one (the
    /// address, 0 when none): most documents then allocate only their output.
    private static let spare = Mutex<UInt>(0)

    init() {
        if let reused = UnsafeMutablePointer<State>(bitPattern: Self.spare.withLock { spare in
            defer { spare = 0 }
            return spare
        }) {
            state = reused
        } else {
            state = .allocate(capacity: 1)
            state.initialize(to: State())
        }
        out.reserveCapacity(256)
    }

    deinit {
        state.pointee.out = []
        state.pointee.frames.removeAll(keepingCapacity: true)
        state.pointee.members.removeAll(keepingCapacity: true)
        state.pointee.scratch.removeAll(keepingCapacity: true)
        (state.pointee.nextID, state.pointee.valueDepth, state.pointee.unhandled) = (0, 0, false)
        // Kept unless another is, or its buffers grew large.
        let address = UInt(bitPattern: state)
        let kept = state.pointee.scratch.capacity <= 65_536 && state.pointee.members.capacity <= 4096 && state.pointee.frames.capacity <= 1024
            && Self.spare.withLock { spare in
            guard spare == 0 else { return false }
            spare = address
            return true
        }
        if !kept {
            state.deinitialize(count: 1)
            state.deallocate()
        }
    }

    var out: [UInt8] {
        unsafeAddress { UnsafePointer(state.pointer(to: \.out)!) }
        unsafeMutableAddress { state.pointer(to: \.out)! }
    }

    var frames: [Frame] {
        unsafeAddress { UnsafePointer(state.pointer(to: \.frames)!) }
        unsafeMutableAddress { state.pointer(to: \.frames)! }
    }

    private var members: [Member] {
        unsafeAddress { UnsafePointer(state.pointer(to: \.members)!) }
        unsafeMutableAddress { state.pointer(to: \.members)! }
    }

    private var scratch: [UInt8] {
        unsafeAddress { UnsafePointer(state.pointer(to: \.scratch)!) }
        unsafeMutableAddress { state.pointer(to: \.scratch)! }
    }

    private var nextID: Int {
        get { state.pointee.nextID }
        set { state.pointee.nextID = newValue }
    }

    private var valueDepth: Int {
        get { state.pointee.valueDepth }
        set { state.pointee.valueDepth = newValue }
    }

    var unhandled: Bool {
        get { state.pointee.unhandled }
        set { state.pointee.unhandled = newValue }
    }

    /// Not handled: Foundation's paths have quirks of their own (a value in a nested container
    /// does not have the container's key in its path), and a value that reads its path may write
    /// what it finds. So a value that asks is written by Foundation.
    var codingPath: [any CodingKey] {
        unhandled = true
        return []
    }

    func encodeRoot<T: Encodable>(_ value: T) throws {
        try encodeValue(value, key: nil, keyStart: 0)
        if unhandled || !frames.isEmpty { throw JSONBytesNotHandled() }
    }

    // MARK: Frames

    /// Opens a frame for a value about to be written; returns its depth and id.
    func open(_ kind: Frame.Kind, key: String?, keyStart: Int) -> (depth: Int, id: Int) {
        nextID += 1
        frames.append(Frame(kind: kind, id: nextID, start: out.count, memberBase: members.count, key: key, keyStart: keyStart))
        if kind == .unkeyed { out.append(UInt8(ascii: "[")) }
        return (frames.count - 1, nextID)
    }

    /// Writes the key of a member of the keyed frame at `depth`; returns where the key begins.
    func beginMember(_ depth: Int, _ id: Int, _ key: String) throws -> Int {
        try reach(depth, id)
        let start = out.count
        writeString(key)
        out.append(UInt8(ascii: ":"))
        return start
    }

    /// Records the member whose key begins at `start` and whose value ends here.
    func endMember(_ key: String, _ start: Int) { members.append(Member(key: key, start: start, end: out.count)) }

    /// Writes the separator before the next element of the unkeyed frame at `depth`.
    func beginElement(_ depth: Int, _ id: Int) throws {
        try reach(depth, id)
        let index = frames[depth].count
        if index > 0 { out.append(UInt8(ascii: ",")) }
        frames[depth].count += 1
    }

    /// The number of elements of the unkeyed frame at `depth`, if open.
    func elementCount(_ depth: Int, _ id: Int) -> Int { depth >= 0 && depth < frames.count && frames[depth].id == id ? frames[depth].count : 0 }

    /// Makes the frame at `depth` the innermost by closing the ones nested in it (containers left
    /// behind); throws if it was itself closed.
    func reach(_ depth: Int, _ id: Int) throws {
        guard depth >= 0, depth < frames.count, frames[depth].id == id else { throw notHandled() }
        while frames.count > depth + 1 { try closeInnermost() }
    }

    func notHandled() -> JSONBytesNotHandled {
        unhandled = true
        return JSONBytesNotHandled()
    }

    /// Finishes the innermost frame's value, and records it as a member of its keyed parent.
    func closeInnermost() throws {
        let frame = frames.removeLast()
        switch frame.kind {
        case .pending, .single:
            // Nothing written: Foundation writes an empty object, or refuses a document of nothing.
            guard !frames.isEmpty else { throw notHandled() }
            out.append(contentsOf: "{}".utf8)
        case .written: break
        case .unkeyed: out.append(UInt8(ascii: "]"))
        case .keyed: try writeObject(frame)
        }
        if let key = frame.key { endMember(key, frame.keyStart) }
    }

    /// Rewrites a keyed frame's members, written in any order, as an object with sorted keys
    /// (by their UTF-8 bytes, as Foundation sorts them).
    private func writeObject(_ frame: Frame) throws {
        let own = frame.memberBase..<members.count
        members[own].sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        // A key written twice: Foundation keeps the last value (and merges nested containers).
        // Keys are the same to it when equal as Strings, canonically equivalent ("e\u{301}" and
        // "\u{E9}", the Kelvin sign and "K"), which byte order need not put side by side when one
        // is not ASCII: then every key is checked against every other.
        for at in own.dropFirst() where members[at - 1].key == members[at].key { throw notHandled() }
        if members[own].contains(where: { $0.key.utf8.contains { $0 >= 0x80 } }) {
            var seen = Set<String>()
            for at in own where !seen.insert(members[at].key).inserted { throw notHandled() }
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: out[frame.start...])
        out.removeSubrange(frame.start...)
        out.append(UInt8(ascii: "{"))
        for at in own {
            if at != own.lowerBound { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: scratch[(members[at].start - frame.start)..<(members[at].end - frame.start)])
        }
        out.append(UInt8(ascii: "}"))
        members.removeSubrange(own)
    }

    // MARK: Values

    /// Writes `value`, named `key` (whose text begins at `keyStart`) in a keyed parent: primitives and Foundation's special types directly, anything
    /// else through its `encode(to:)` in a frame of its own.
    func encodeValue<T: Encodable>(_ value: T, key: String?, keyStart: Int) throws {
        if try writePrimitive(value) {
            if let key { endMember(key, keyStart) }
            return
        }
        let (depth, id) = open(.pending, key: key, keyStart: keyStart)
        let outer = valueDepth
        valueDepth = depth
        defer { valueDepth = outer }
        try value.encode(to: self)
        try reach(depth, id)
        try closeInnermost()
    }

    /// Writes `value` if it is of a type written without a frame.
    private func writePrimitive<T: Encodable>(_ value: T) throws -> Bool {
        if T.self == String.self { writeString(value as! String) }
        else if T.self == Int.self { writeInteger(value as! Int) }
        else if T.self == Bool.self { writeBool(value as! Bool) }
        else if T.self == Double.self { try writeFloat(value as! Double) }
        else if T.self == Int64.self { writeInteger(value as! Int64) }
        else if T.self == Date.self { writeDate(value as! Date) }
        else if T.self == Data.self { writeString((value as! Data).base64EncodedString()) }
        else if T.self == URL.self { writeString((value as! URL).absoluteString) }
        else if T.self == Decimal.self { out.append(contentsOf: (value as! Decimal).description.utf8) }
        else { return false }
        return true
    }

    // MARK: Encoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(JSONBytesKeyedContainer<Key>(encoder: self, frame: claim(valueDepth, as: .keyed)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONBytesUnkeyedContainer(encoder: self, frame: claim(valueDepth, as: .unkeyed))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        _ = claim(valueDepth, as: .single)
        return self
    }

    /// The frame at `depth`, made a container of `kind` (a keyed one may be asked for again, and
    /// gets the same members); (-1, -1), which every use refuses, where that cannot be.
    private func claim(_ depth: Int, as kind: Frame.Kind) -> (depth: Int, id: Int) {
        guard depth < frames.count, (try? reach(depth, frames[depth].id)) != nil else {
            unhandled = true
            return (-1, -1)
        }
        switch (frames[depth].kind, kind) {
        case (.pending, _): frames[depth].kind = kind
        case (.keyed, .keyed): break
        default:
            unhandled = true
            return (-1, -1)
        }
        if kind == .unkeyed { out.append(UInt8(ascii: "[")) }
        return (depth, frames[depth].id)
    }
}

extension JSONBytesEncoder: SingleValueEncodingContainer {
    /// Checks that this value's single value container may write its one value.
    private func single() throws {
        let depth = valueDepth
        guard depth < frames.count, frames[depth].kind == .single else { throw notHandled() }
        try reach(depth, frames[depth].id)
        frames[depth].kind = .written
    }

    func encodeNil() throws { try single(); writeNull() }
    func encode(_ value: Bool) throws { try single(); writeBool(value) }
    func encode(_ value: String) throws { try single(); writeString(value) }
    func encode(_ value: Double) throws { try single(); try writeFloat(value) }
    func encode(_ value: Float) throws { try single(); try writeFloat(value) }
    func encode(_ value: Int) throws { try single(); writeInteger(value) }
    func encode(_ value: Int8) throws { try single(); writeInteger(value) }
    func encode(_ value: Int16) throws { try single(); writeInteger(value) }
    func encode(_ value: Int32) throws { try single(); writeInteger(value) }
    func encode(_ value: Int64) throws { try single(); writeInteger(value) }
    func encode(_ value: UInt) throws { try single(); writeInteger(value) }
    func encode(_ value: UInt8) throws { try single(); writeInteger(value) }
    func encode(_ value: UInt16) throws { try single(); writeInteger(value) }
    func encode(_ value: UInt32) throws { try single(); writeInteger(value) }
    func encode(_ value: UInt64) throws { try single(); writeInteger(value) }

    func encode<T: Encodable>(_ value: T) throws {
        try single()
        try encodeValue(value, key: nil, keyStart: 0)
    }
}

extension JSONBytesEncoder {
    /// Not handled (Foundation writes what a super encoder encodes only once the container's
    /// value is complete): marks the document, and returns an encoder whose output is dropped.
    func superEncoder() -> any Encoder {
        unhandled = true
        return self
    }
}
