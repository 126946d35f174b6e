extension Duration {
    /// Whole milliseconds (rounded down), for request timeouts given in milliseconds.
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
    }
}
