import Foundation

/// A standard five-field cron expression: minute, hour, day of month, month, day of week.
///
/// ```swift
/// let everyFiveMinutes = try CronExpression("*/5 * * * *")
/// let weekdayMornings = try CronExpression("30 8 * * MON-FRI")
/// let next = weekdayMornings.next(after: Date(), in: TimeZone(identifier: "Europe/Paris")!)
/// ```
///
/// Each field is `*`, a value, a range `a-b`, any of those with a step (`*/15`, `0-30/10`,
/// `5/20` meaning `5-59/20`), or a comma-separated list of them. Months may be written `JAN`…`DEC`
/// and days of the week `SUN`…`SAT` (0 or 7 is Sunday). `@yearly`, `@monthly`, `@weekly`, `@daily`
/// and `@hourly` stand for their usual expressions.
///
/// Days follow Vixie cron: when both the day of month and the day of week are restricted (neither
/// starts with `*`), a day matches when either does (`0 0 1 * MON` runs on the 1st and on every
/// Monday); otherwise both must.
///
/// Times are wall-clock times in the schedule's time zone. Across daylight-saving changes: a time
/// that does not exist that day (the skipped hour in spring) does not fire that day; a time that
/// occurs twice (the repeated hour in autumn) fires once, at its first occurrence — except when the
/// hour field is `*`, where each real minute that matches fires, so `*/5 * * * *` keeps its pace.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written.
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 (Sunday) to 6.
    let daysOfWeek: Set<Int>
    let daysOfMonthRestricted: Bool
    let daysOfWeekRestricted: Bool

    /// Years `next(after:)` looks ahead before it decides an expression never matches (`0 0 29 2
    /// 1` with its OR rule matches soon; `0 0 30 2 *` never does).
    static let searchYearsMax = 8

    public var description: String { text }

    /// Parses `text`; throws `CronError` naming the field and the token that is wrong.
    public init(_ text: String) throws(CronError) {
        self.text = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        if expanded.hasPrefix("@") { throw CronError(field: nil, token: trimmed, reason: "unknown macro (use @yearly, @monthly, @weekly, @daily or @hourly)") }
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError(field: nil, token: text, reason: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        minutes = try CronField.minute.parse(fields[0])
        hours = try CronField.hour.parse(fields[1])
        daysOfMonth = try CronField.dayOfMonth.parse(fields[2])
        months = try CronField.month.parse(fields[3])
        daysOfWeek = Set(try CronField.dayOfWeek.parse(fields[4]).map { $0 % 7 })
        daysOfMonthRestricted = !fields[2].hasPrefix("*")
        daysOfWeekRestricted = !fields[4].hasPrefix("*")
        if daysOfMonthRestricted && !daysOfWeekRestricted,
           let smallest = daysOfMonth.min(), !months.contains(where: { Self.longestMonthDays[$0 - 1] >= smallest }) {
            throw CronError(field: .dayOfMonth, token: fields[2], reason: "no month in '\(fields[3])' has that day")
        }
    }

    static let macros = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                         "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
    static let longestMonthDays = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    /// Whether the local day (1-based day of month, month, weekday 0-6 from Sunday) matches.
    func matchesDay(day: Int, month: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let byMonthDay = daysOfMonth.contains(day), byWeekday = daysOfWeek.contains(weekday)
        if daysOfMonthRestricted && daysOfWeekRestricted { return byMonthDay || byWeekday }
        return byMonthDay && byWeekday
    }

    /// The first tick strictly after `date`, in `timeZone`'s wall-clock time; nil when none
    /// comes within `searchYearsMax` years (`init` already refuses a day no chosen month has).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // The next whole minute after `date`.
        var time = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(Double(Self.searchYearsMax) * 366 * 86_400)
        while time <= limit {
            let local = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: time)
            guard let month = local.month, let day = local.day, let hour = local.hour, let minute = local.minute,
                  let weekday = local.weekday else { return nil }
            if !matchesDay(day: day, month: month, weekday: weekday - 1) {
                // To the start of the next local day (a calendar step: days are not all 24 h long).
                guard let next = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: time)) else { return nil }
                time = next
                continue
            }
            let startOfMinute = time
            if !hours.contains(hour) {
                time = startOfMinute.addingTimeInterval(Double(60 - minute) * 60)
                continue
            }
            guard let nextMinute = minutes.filter({ $0 >= minute }).min() else {
                time = startOfMinute.addingTimeInterval(Double(60 - minute) * 60)
                continue
            }
            if nextMinute > minute {
                time = startOfMinute.addingTimeInterval(Double(nextMinute - minute) * 60)
                continue
            }
            if hours.count < 24 && isRepeatedWallTime(time, calendar: calendar) {
                time = time.addingTimeInterval(60)
                continue
            }
            return time
        }
        return nil
    }

    /// Whether the same wall-clock time already happened earlier the same day (the repeated hour
    /// when clocks go back).
    private func isRepeatedWallTime(_ time: Date, calendar: Calendar) -> Bool {
        let offset = calendar.timeZone.secondsFromGMT(for: time)
        let hourEarlier = time.addingTimeInterval(-3_600)
        guard calendar.timeZone.secondsFromGMT(for: hourEarlier) != offset else { return false }
        let now = calendar.dateComponents([.day, .hour, .minute], from: time)
        let before = calendar.dateComponents([.day, .hour, .minute], from: hourEarlier)
        return now == before
    }
}

/// A cron expression that cannot be parsed: which field, which token, and why.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nil when the expression as a whole is wrong (the number of fields, a macro).
    public var field: CronField?
    public var token: String
    public var reason: String

    public var description: String {
        if let field { return "cron \(field.name) field: '\(token)' \(reason)" }
        return "cron expression '\(token)': \(reason)"
    }
}

/// The five fields of a cron expression and the values each takes.
public enum CronField: Sendable, Equatable {
    case minute, hour, dayOfMonth, month, dayOfWeek

    public var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    var names: [String] {
        switch self {
        case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        default: []
        }
    }

    /// The values a field's text selects.
    func parse(_ text: String) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw CronError(field: self, token: text, reason: "has an empty list item") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else { throw CronError(field: self, token: item, reason: "has more than one '/'") }
            var step = 1
            if parts.count == 2 {
                guard let parsed = Int(parts[1]), parsed > 0 else {
                    throw CronError(field: self, token: item, reason: "needs a whole step of 1 or more after '/'")
                }
                guard parsed <= range.upperBound else { throw CronError(field: self, token: item, reason: "has a step larger than the field's range") }
                step = parsed
            }
            let bounds: ClosedRange<Int>
            if parts[0] == "*" {
                bounds = range
            } else if let dash = parts[0].firstIndex(of: "-"), dash != parts[0].startIndex {
                let low = try value(String(parts[0][..<dash]), in: item)
                let high = try value(String(parts[0][parts[0].index(after: dash)...]), in: item)
                guard low <= high else { throw CronError(field: self, token: item, reason: "is a range that runs backwards") }
                bounds = low...high
            } else {
                let single = try value(parts[0], in: item)
                // `5/20` is `5-59/20`, as in Vixie cron.
                bounds = parts.count == 2 ? single...range.upperBound : single...single
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private func value(_ text: String, in item: String) throws(CronError) -> Int {
        if let index = names.firstIndex(of: text.uppercased()) { return index + (self == .month ? 1 : 0) }
        guard !text.isEmpty, text.allSatisfy(\.isASCII), let number = Int(text) else {
            let hint = names.isEmpty ? "a number" : "a number or a name (\(names[0])…\(names[names.count - 1]))"
            throw CronError(field: self, token: item, reason: "is not \(hint)")
        }
        guard range.contains(number) else {
            throw CronError(field: self, token: item, reason: "is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return number
    }
}
