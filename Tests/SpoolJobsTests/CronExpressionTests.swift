import Foundation
import Testing
@testable import SpoolJobs

@Suite("Cron expressions")
struct CronExpressionTests {
    static let utc = TimeZone(identifier: "UTC")!

    /// A date from "yyyy-MM-dd HH:mm" read in `zone`.
    static func date(_ text: String, _ zone: TimeZone = utc) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: text)!
    }

    /// "yyyy-MM-dd HH:mm" of `date` in `zone`, with the zone's offset.
    static func text(_ date: Date?, _ zone: TimeZone = utc) -> String {
        guard let date else { return "nil" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm xxx"
        return formatter.string(from: date)
    }

    /// The next `count` ticks after `start`.
    static func ticks(_ expression: String, after start: String, count: Int, _ zone: TimeZone = utc) throws -> [String] {
        let cron = try CronExpression(expression)
        var at = date(start, zone)
        var result: [String] = []
        for _ in 0..<count {
            guard let next = cron.next(after: at, in: zone) else { break }
            result.append(text(next, zone))
            at = next
        }
        return result
    }

    @Test("fields take *, values, ranges, steps, lists and names")
    func parsesEveryForm() throws {
        let cron = try CronExpression("*/15 9-17/4 1,15 1 * ")
        #expect(cron.minutes == [0, 15, 30, 45])
        #expect(cron.hours == [9, 13, 17])
        #expect(cron.daysOfMonth == [1, 15])
        #expect(try CronExpression("5/20 * * * *").minutes == [5, 25, 45])
        #expect(try CronExpression("0 0 * JAN-MAR,dec *").months == [1, 2, 3, 12])
        #expect(try CronExpression("0 0 * * MON-FRI").daysOfWeek == [1, 2, 3, 4, 5])
        #expect(try CronExpression("0 0 * * 7").daysOfWeek == [0], "7 is Sunday")
        #expect(try CronExpression("0 0 * * 5-7").daysOfWeek == [0, 5, 6])
        #expect(try CronExpression("@hourly") == CronExpression("@hourly"))
        #expect(try CronExpression("@daily").hours == [0])
        #expect(try CronExpression("\t0  12 * *   SUN").hours == [12])
    }

    @Test("bad expressions name the field and the token")
    func errors() {
        let cases: [(String, String)] = [
            ("* * * *", "cron expression '* * * *': expected 5 fields (minute hour day-of-month month day-of-week), found 4"),
            ("* * * * * *", "found 6"),
            ("60 * * * *", "cron minute field: '60' is out of range 0-59"),
            ("* 24 * * *", "cron hour field: '24' is out of range 0-23"),
            ("* * 0 * *", "cron day-of-month field: '0' is out of range 1-31"),
            ("* * * 13 *", "cron month field: '13' is out of range 1-12"),
            ("* * * * 8", "cron day-of-week field: '8' is out of range 0-7"),
            ("*/0 * * * *", "cron minute field: '*/0' needs a whole step of 1 or more after '/'"),
            ("*/x * * * *", "cron minute field: '*/x' needs a whole step"),
            ("30-10 * * * *", "cron minute field: '30-10' is a range that runs backwards"),
            ("1,,2 * * * *", "cron minute field: '1,,2' has an empty list item"),
            ("* * * FOO *", "cron month field: 'FOO' is not a number or a name (JAN…DEC)"),
            ("* * * * MONDAY", "cron day-of-week field: 'MONDAY' is not a number or a name (SUN…SAT)"),
            ("a * * * *", "cron minute field: 'a' is not a number"),
            ("-5 * * * *", "cron minute field: '-5' is out of range 0-59"),
            ("1/2/3 * * * *", "cron minute field: '1/2/3' has more than one '/'"),
            ("0 0 30 2 *", "cron day-of-month field: '30' no month in '2' has that day"),
            ("@fortnightly", "unknown macro"),
        ]
        for (expression, message) in cases {
            #expect(throws: CronError.self, "\(expression)") { try CronExpression(expression) }
            do {
                _ = try CronExpression(expression)
            } catch {
                #expect(error.description.contains(message), "\(expression): \(error.description)")
            }
        }
        #expect(throws: CronError(field: .hour, token: "99", reason: "is out of range 0-23")) { try CronExpression("0 99 * * *") }
    }

    @Test("next ticks across hour, day, month and year ends")
    func nextTicks() throws {
        #expect(try Self.ticks("*/5 * * * *", after: "2026-12-31 23:52", count: 3) == [
            "2026-12-31 23:55 +00:00", "2027-01-01 00:00 +00:00", "2027-01-01 00:05 +00:00"])
        // A tick exactly at `after` is not the next one.
        #expect(try Self.ticks("0 12 * * *", after: "2026-04-30 12:00", count: 2) == ["2026-05-01 12:00 +00:00", "2026-05-02 12:00 +00:00"])
        #expect(try Self.ticks("0 0 31 * *", after: "2026-01-31 00:00", count: 3) == [
            "2026-03-31 00:00 +00:00", "2026-05-31 00:00 +00:00", "2026-07-31 00:00 +00:00"])
        #expect(try Self.ticks("15 10 * * MON-FRI", after: "2026-12-04 11:00", count: 2) == ["2026-12-07 10:15 +00:00", "2026-12-08 10:15 +00:00"])
    }

    @Test("February 29 comes only in leap years")
    func leapYears() throws {
        #expect(try Self.ticks("0 0 29 2 *", after: "2025-01-01 00:00", count: 3) == [
            "2028-02-29 00:00 +00:00", "2032-02-29 00:00 +00:00", "2036-02-29 00:00 +00:00"])
        #expect(try Self.ticks("0 0 28 2 *", after: "2028-02-27 00:00", count: 2) == [
            "2028-02-28 00:00 +00:00", "2029-02-28 00:00 +00:00"])
    }

    @Test("day of month and day of week: both restricted is OR, one a star is AND")
    func vixieDayRule() throws {
        // The 13th, and every Friday.
        #expect(try Self.ticks("0 0 13 * FRI", after: "2026-11-01 00:00", count: 4) == [
            "2026-11-06 00:00 +00:00", "2026-11-13 00:00 +00:00", "2026-11-20 00:00 +00:00", "2026-11-27 00:00 +00:00"])
        // A day-of-month field that starts with * counts as unrestricted: Fridays only.
        #expect(try Self.ticks("0 0 */1 * FRI", after: "2026-11-01 00:00", count: 2) == ["2026-11-06 00:00 +00:00", "2026-11-13 00:00 +00:00"])
    }

    @Test("across daylight-saving changes: the skipped hour does not fire, the repeated hour fires once unless the hour is *")
    func daylightSaving() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        #expect(try Self.ticks("30 2 * * *", after: "2026-03-07 03:00", count: 2, newYork) == [
            "2026-03-09 02:30 -04:00", "2026-03-10 02:30 -04:00"])
        #expect(try Self.ticks("0 9 * * *", after: "2026-03-07 10:00", count: 2, newYork) == ["2026-03-08 09:00 -04:00", "2026-03-09 09:00 -04:00"])
        // 2026-11-01: 02:00 EDT goes back to 01:00 EST.
        #expect(try Self.ticks("30 1 * * *", after: "2026-10-31 12:00", count: 2, newYork) == [
            "2026-11-01 01:30 -04:00", "2026-11-02 01:30 -05:00"])
        #expect(try Self.ticks("0,30 * * * *", after: "2026-11-01 00:45", count: 5, newYork) == [
            "2026-11-01 01:00 -04:00", "2026-11-01 01:30 -04:00", "2026-11-01 01:00 -05:00", "2026-11-01 01:30 -05:00", "2026-11-01 02:00 -05:00"])
        // The same instant is a different wall-clock tick in another zone.
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let cron = try CronExpression("0 8 * * *")
        let start = Self.date("2026-12-01 12:00")
        #expect(Self.text(cron.next(after: start, in: paris)) == "2026-12-02 07:00 +00:00")
        #expect(Self.text(cron.next(after: start, in: newYork)) == "2026-12-01 13:00 +00:00")
    }
}

@Suite("Cron next ticks against a minute-by-minute search")
struct CronSearchTests {
    /// Whether a whole minute matches, read on the wall clock of `calendar`'s zone, with the
    /// repeated-hour rule: a wall time seen an hour earlier does not fire again unless the hour is *.
    static func matches(_ cron: CronExpression, _ time: Date, _ calendar: Calendar) -> Bool {
        let local = calendar.dateComponents([.month, .day, .hour, .minute, .weekday], from: time)
        guard cron.matchesDay(day: local.day!, month: local.month!, weekday: local.weekday! - 1),
              cron.hours.contains(local.hour!), cron.minutes.contains(local.minute!) else { return false }
        if cron.hours.count == 24 { return true }
        let earlier = calendar.dateComponents([.day, .hour, .minute], from: time.addingTimeInterval(-3_600))
        let offsetChanged = calendar.timeZone.secondsFromGMT(for: time) != calendar.timeZone.secondsFromGMT(for: time.addingTimeInterval(-3_600))
        return !(offsetChanged && earlier.day == local.day && earlier.hour == local.hour && earlier.minute == local.minute)
    }

    static func field(_ random: inout SystemRandomNumberGenerator, _ range: ClosedRange<Int>, dense: Bool) -> String {
        switch Int.random(in: 0..<(dense ? 6 : 5), using: &random) {
        case 0: return "*"
        case 1: return String(Int.random(in: range, using: &random))
        case 2:
            let low = Int.random(in: range, using: &random)
            return "\(low)-\(Int.random(in: low...range.upperBound, using: &random))"
        case 3: return "*/\(Int.random(in: 1...max(1, range.upperBound / 2), using: &random))"
        case 4: return (0..<3).map { _ in String(Int.random(in: range, using: &random)) }.joined(separator: ",")
        default: return "*"
        }
    }

    @Test("random expressions tick where a minute-by-minute search finds them, in UTC and across New York's DST changes")
    func agreesWithSearch() throws {
        var random = SystemRandomNumberGenerator()
        let zones = try [#require(TimeZone(identifier: "UTC")), #require(TimeZone(identifier: "America/New_York"))]
        let starts = ["2026-03-07 22:10", "2026-10-31 23:40", "2028-02-27 12:00", "2026-12-30 20:05"]
        var compared = 0
        for round in 0..<120 {
            // Minutes and hours from the generator; the day fields mostly *, so ticks come within the search.
            let text = [Self.field(&random, 0...59, dense: true), Self.field(&random, 0...23, dense: true),
                        round % 4 == 0 ? Self.field(&random, 1...31, dense: false) : "*", "*",
                        round % 5 == 0 ? Self.field(&random, 0...6, dense: false) : "*"].joined(separator: " ")
            let cron = try CronExpression(text)
            let zone = zones[round % zones.count]
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            var at = CronExpressionTests.date(starts[round % starts.count], zone)
            for _ in 0..<3 {
                var searched: Date?
                var minute = at.addingTimeInterval(60)
                for _ in 0..<(4 * 24 * 60) {
                    if Self.matches(cron, minute, calendar) { searched = minute; break }
                    minute = minute.addingTimeInterval(60)
                }
                guard let searched else { break }
                let next = cron.next(after: at, in: zone)
                #expect(next == searched, "\(text) in \(zone.identifier) after \(CronExpressionTests.text(at, zone))")
                if next != searched { return }
                compared += 1
                at = searched
            }
        }
        #expect(compared > 200, "most expressions tick within the search")
    }
}
