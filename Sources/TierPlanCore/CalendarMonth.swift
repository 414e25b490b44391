/// A calendar month (UTC), the unit of the forecast, its lookback and the backtest.
public struct CalendarMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    /// 1…12.
    public let month: Int

    public init(year: Int, month: Int) {
        let index = year * 12 + (month - 1)
        self.year = index >= 0 ? index / 12 : (index - 11) / 12
        self.month = index - self.year * 12 + 1
    }

    /// The month a day falls in.
    public init(containing day: Day) {
        let (y, m, _) = day.components
        self.init(year: y, month: m)
    }

    /// Parses `YYYY-MM`.
    public init?(iso text: some StringProtocol) {
        guard let day = Day(iso: text + "-01") else { return nil }
        self.init(containing: day)
    }

    public var firstDay: Day { Day(year: year, month: month, day: 1) }
    public var lastDay: Day { Day(year: year, month: month, day: Day.daysIn(month: month, year: year)) }

    public func adding(months: Int) -> CalendarMonth { CalendarMonth(year: year, month: month + months) }

    /// Whole months from `other` to this one (this − other).
    public func months(since other: CalendarMonth) -> Int { (year * 12 + month) - (other.year * 12 + other.month) }

    /// `YYYY-MM`.
    public var iso: String { "\(pad(year, 4))-\(pad(month, 2))" }
    public var description: String { iso }

    public static func < (a: CalendarMonth, b: CalendarMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }
}
