/// A bad command line: main.swift prints it on one line and exits 64 (EX_USAGE).
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A benchmark that ran but found something wrong (the log read back other than what was
/// written, a flush failed): main.swift prints it and exits 1.
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
