import SpoolFormat

/// Smaller versions of a retry or dead-letter record that its topic refused as too large, each
/// step keeping more of what a person inspecting it needs: first the error texts cut to
/// `errorCharactersMax`, then (for a dead letter) the payload left out, its size in
/// `spool-value-dropped`; the payload stays in the job's topic at the origin headers' place.
enum JobRecordShrinking {
    static let errorCharactersMax = 200

    /// The next smaller version of `record`; nil when nothing more can be taken out.
    static func smaller(_ record: OutgoingRecord, mayDropValue: Bool) -> OutgoingRecord? {
        let texts: Set<String> = [SpoolHeaders.error, SpoolHeaders.lastError]
        var shrunk = record
        shrunk.headers = record.headers.map { header in
            guard texts.contains(header.key), let value = header.value else { return header }
            let text = String(decoding: value, as: UTF8.self)
            return text.count > errorCharactersMax ? RecordHeader(header.key, String(text.prefix(errorCharactersMax))) : header
        }
        if shrunk != record { return shrunk }
        guard mayDropValue, let value = record.value else { return nil }
        shrunk.value = nil
        shrunk.headers.append(RecordHeader(SpoolHeaders.valueDropped, String(value.count)))
        return shrunk
    }
}
