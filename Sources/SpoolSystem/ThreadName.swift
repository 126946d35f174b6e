import CSpool

/// Names the calling thread, as `top -H` and `/proc/PID/task/*/comm` show it: the first 15 ASCII
/// characters of `name`, as many as Linux keeps. A new thread otherwise keeps the name of the one
/// that started it.
public func nameCurrentThread(_ name: String) {
    let kept = String(String.UnicodeScalarView(name.unicodeScalars.filter(\.isASCII).prefix(15)))
    _ = spool_set_thread_name(kept)
}
