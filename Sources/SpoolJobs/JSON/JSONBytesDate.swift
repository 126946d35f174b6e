import Foundation

extension JSONBytesEncoder {
    /// Foundation's ISO 8601 text of `date`: whole seconds (rounded down) in UTC, as
    /// "2026-12-02T04:12:00Z". Written by hand for the years 1970 to 9999; where the second a date
    /// falls in depends on how its fraction is rounded (within a millisecond's rounding of a whole
    /// second), and outside those years, Foundation's formatter writes it.
    func writeDate(_ date: Date) {
        let reference = date.timeIntervalSinceReferenceDate
        let offset = 978_307_200.0
        let seconds = (reference + offset).rounded(.down)
        guard seconds >= 0, seconds < 253_402_300_800, reference.rounded(.down) + offset == seconds,
              ((reference * 1000).rounded(.down) / 1000).rounded(.down) + offset == seconds else {
            writeString(Date.ISO8601FormatStyle().format(date))
            return
        }
        let total = Int(seconds)
        let (year, month, day) = CivilDate.date(daysSince1970: total / 86_400)
        let time = total % 86_400
        out.append(UInt8(ascii: "\""))
        writeDigits(year, 4)
        out.append(UInt8(ascii: "-"))
        writeDigits(month, 2)
        out.append(UInt8(ascii: "-"))
        writeDigits(day, 2)
        out.append(UInt8(ascii: "T"))
        writeDigits(time / 3600, 2)
        out.append(UInt8(ascii: ":"))
        writeDigits(time / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        writeDigits(time % 60, 2)
        out.append(contentsOf: "Z\"".utf8)
    }

    /// `value` (not negative) in `count` decimal digits, zero-padded.
    private func writeDigits(_ value: Int, _ count: Int) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
