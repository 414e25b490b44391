import Foundation

/// A UTC calendar day, counted from 1970-01-01.
public struct Day: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    public init(year: Int, month: Int, day: Int) {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        daysSinceEpoch = era * 146_097 + doe - 719_468
    }

    /// A calendar day written YYYY-MM-DD in the years tierplan accepts (`supportedYears`).
    public init?(iso text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == 45, bytes[7] == 45,
              let y = Self.number(bytes[0..<4]), let m = Self.number(bytes[5..<7]), let d = Self.number(bytes[8..<10]),
              Self.supportedYears.contains(y), (1...12).contains(m), d >= 1, d <= Self.daysIn(month: m, year: y) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Days given by users and files lie in these years: far enough from year 0 that every window,
    /// cohort and lookback before them is still a valid date, and far from the end of four digits.
    public static let supportedYears = 1900...2999

    /// How messages name a valid day.
    public static let format = "a date YYYY-MM-DD from 1900-01-01 to 2999-12-31"

    public var components: (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public var iso: String {
        let (y, m, d) = components
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    public var description: String { iso }

    public func adding(days: Int) -> Day { Day(daysSinceEpoch: daysSinceEpoch + days) }
    public func days(since other: Day) -> Int { daysSinceEpoch - other.daysSinceEpoch }

    /// The first instant of this day.
    public var start: Timestamp { Timestamp(microseconds: Int64(daysSinceEpoch) * 86_400_000_000) }

    public static func < (a: Day, b: Day) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for b in bytes {
            guard b >= 48 && b <= 57 else { return nil }
            value = value * 10 + Int(b - 48)
        }
        return value
    }
}

/// An instant in microseconds since 1970-01-01T00:00:00Z (PostgreSQL's precision).
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// Parses ISO 8601 / RFC 3339: `2026-10-01T06:00:00Z`, with optional fraction and `±HH:MM` offset;
    /// a space may stand for `T`. A plain `YYYY-MM-DD` means the start of that day (UTC).
    public init?(iso text: some StringProtocol) {
        let bytes = Array(text.utf8)
        if bytes.count == 10, let day = Day(iso: text) { self = day.start; return }
        guard bytes.count >= 20, let day = Day(iso: String(decoding: bytes[0..<10], as: UTF8.self)),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "t"),
              bytes[13] == 58, bytes[16] == 58,
              let h = Day.number(bytes[11..<13]), let mi = Day.number(bytes[14..<16]), let s = Day.number(bytes[17..<19]),
              h < 24, mi < 60, s < 60 else { return nil }
        var i = 19
        var micros: Int64 = 0
        if bytes[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[i] - 48) }
                digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        guard i < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard i + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[i] == UInt8(ascii: "+") ? 1 : -1
            let rest = bytes[(i + 1)...]
            guard rest.count == 5 || rest.count == 4 || rest.count == 2 else { return nil }
            let digits = Array(rest.filter { $0 != 58 })
            guard digits.count == 4 || digits.count == 2, rest.count != 4 || !rest.contains(58),
                  let oh = Day.number(digits[0..<2]) else { return nil }
            let om = digits.count == 4 ? (Day.number(digits[2..<4]) ?? 99) : 0
            guard oh <= 14, om < 60 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        default:
            return nil
        }
        let seconds = Int64(day.daysSinceEpoch) * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offsetSeconds)
        microseconds = seconds * 1_000_000 + micros
    }

    /// The current instant: the one place tierplan reads the clock. `TIERPLAN_NOW` (a date
    /// `YYYY-MM-DD`, midnight UTC, or an RFC 3339 timestamp) fixes it, so tests and replays can say
    /// what "now" is; otherwise the machine's clock.
    public static var now: Timestamp {
        if let fixed = ProcessInfo.processInfo.environment["TIERPLAN_NOW"], !fixed.isEmpty {
            if let day = Day(iso: fixed) { return day.start }
            if let instant = Timestamp(iso: fixed) { return instant }
            FileHandle.standardError.write(Data("error: TIERPLAN_NOW=\(fixed) is neither a date (YYYY-MM-DD) nor an RFC 3339 timestamp\n".utf8))
            exit(2)
        }
        return Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }

    /// The UTC day this instant falls on.
    public var day: Day {
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return Day(daysSinceEpoch: Int(days))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, which PostgreSQL reads back exactly.
    public var iso: String { withISOBytes { String(decoding: $0, as: UTF8.self) } }

    /// `iso`'s bytes, without making a string (the ingest writes millions of them).
    public func withISOBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let day = self.day
        let inDay = microseconds - Int64(day.daysSinceEpoch) * 86_400_000_000
        let secs = Int(inDay / 1_000_000), frac = Int(inDay % 1_000_000)
        let (y, m, d) = day.components
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 27) { bytes in
            func put(_ value: Int, _ at: Int, _ width: Int) {
                var v = value
                for i in stride(from: at + width - 1, through: at, by: -1) { bytes[i] = UInt8(48 + v % 10); v /= 10 }
            }
            let count = frac == 0 ? 20 : 27
            put(y, 0, 4); bytes[4] = 45; put(m, 5, 2); bytes[7] = 45; put(d, 8, 2); bytes[10] = 84
            put(secs / 3600, 11, 2); bytes[13] = 58; put(secs / 60 % 60, 14, 2); bytes[16] = 58; put(secs % 60, 17, 2)
            if frac != 0 { bytes[19] = 46; put(frac, 20, 6) }
            bytes[count - 1] = 90
            return try body(UnsafeBufferPointer(rebasing: bytes[0..<count]))
        }
    }

    public var description: String { iso }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
