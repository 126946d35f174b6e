#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a thread keeps between the documents it decodes: a tape that nothing holds any more. Each
/// thread its own (found through a pthread key, released when the thread ends), so nothing is shared and
/// nothing is locked; a decode does not suspend, so it stays on its thread throughout, and a
/// decode inside another (a type whose `init(from:)` decodes a payload of its own) takes the spare
/// tape out before it uses it and finds none, or puts one back.
///
/// Kept behind a pointer, not in a class: a class's stored properties are checked for exclusive
/// access on every use, which would cost more than what they save.
struct JSONTapeThreadState {
    var spareTape: JSONTape?

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { state in
            guard let state = UnsafeMutableRawPointer(state) else { return }
            let pointer = state.assumingMemoryBound(to: JSONTapeThreadState.self)
            pointer.deinitialize(count: 1)
            pointer.deallocate()
        }
        precondition(created == 0, "pthread_key_create failed")
        return key
    }()

    /// This thread's state, made on its first use.
    static var current: UnsafeMutablePointer<JSONTapeThreadState> {
        if let state = pthread_getspecific(key) { return state.assumingMemoryBound(to: JSONTapeThreadState.self) }
        let state = UnsafeMutablePointer<JSONTapeThreadState>.allocate(capacity: 1)
        state.initialize(to: JSONTapeThreadState(spareTape: nil))
        pthread_setspecific(key, state)
        return state
    }

    /// The thread's spare tape, which is then no longer there for another document.
    static func takeSpareTape() -> JSONTape? {
        let state = current
        guard let tape = state.pointee.spareTape else { return nil }
        state.pointee.spareTape = nil
        return tape
    }

    /// Keeps `tape` (held by nothing else) for the thread's next document, unless it has one.
    static func putSpareTape(_ tape: JSONTape) {
        let state = current
        if state.pointee.spareTape == nil { state.pointee.spareTape = tape }
    }
}
