/// One forecast made in the past, for one horizon, next to what really happened.
public struct BacktestPoint: Sendable, Equatable {
    public var asOf: Day
    public var h: Int
    public var month: CalendarMonth
    public var model: ForecastModel
    public var arpuExpected: Double
    public var arpuP10: Double
    public var arpuP90: Double
    public var arpuActual: Double
    public var mrrExpected: Double
    public var mrrActual: Double

    public init(asOf: Day, h: Int, month: CalendarMonth, model: ForecastModel, arpuExpected: Double, arpuP10: Double, arpuP90: Double,
                arpuActual: Double, mrrExpected: Double, mrrActual: Double) {
        self.asOf = asOf; self.h = h; self.month = month; self.model = model; self.arpuExpected = arpuExpected
        self.arpuP10 = arpuP10; self.arpuP90 = arpuP90; self.arpuActual = arpuActual; self.mrrExpected = mrrExpected; self.mrrActual = mrrActual
    }
}

/// The error of a set of backtest points (one model, one horizon or all of them).
public struct BacktestScore: Sendable, Equatable {
    /// How many forecasts were scored (those with a positive actual ARPU and MRR).
    public var forecasts: Int
    /// Mean of |forecast − actual| / actual for ARPU and MRR; nil without a forecast.
    public var arpuMAPE: Double?
    public var mrrMAPE: Double?
    /// Mean of (forecast − actual) / actual for ARPU.
    public var arpuBias: Double?
    /// Share of actual ARPU inside [P10, P90].
    public var arpuCoverage: Double?
}

/// Replays the forecast at past month ends and scores it (contract: Backtest).
public enum Backtest {
    /// The as_of days: the last day of each month from `from`'s month to `to`'s month, kept when
    /// the last day of its `horizon`-th forecast month is on or before `latest` (the latest history date).
    public static func asOfDays(from: Day, to: Day, horizon: Int, latest: Day?) -> [Day] {
        guard let latest, from <= to else { return [] }
        var days: [Day] = []
        var month = CalendarMonth(containing: from)
        let last = CalendarMonth(containing: to)
        while month <= last {
            if month.adding(months: horizon).lastDay <= latest { days.append(month.lastDay) }
            month = month.adding(months: 1)
        }
        return days
    }

    public static func score(_ points: [BacktestPoint]) -> BacktestScore {
        let scored = points.filter { $0.arpuActual > 0 && $0.mrrActual > 0 }
        guard !scored.isEmpty else { return BacktestScore(forecasts: 0) }
        let n = Double(scored.count)
        return BacktestScore(
            forecasts: scored.count,
            arpuMAPE: scored.reduce(0) { $0 + abs($1.arpuExpected - $1.arpuActual) / $1.arpuActual } / n,
            mrrMAPE: scored.reduce(0) { $0 + abs($1.mrrExpected - $1.mrrActual) / $1.mrrActual } / n,
            arpuBias: scored.reduce(0) { $0 + ($1.arpuExpected - $1.arpuActual) / $1.arpuActual } / n,
            arpuCoverage: Double(scored.filter { $0.arpuP10 <= $0.arpuActual && $0.arpuActual <= $0.arpuP90 }.count) / n)
    }

    /// Per horizon 1…H, then over all horizons.
    public static func scores(_ points: [BacktestPoint], horizons: Int) -> (byHorizon: [BacktestScore], overall: BacktestScore) {
        ((1...max(horizons, 1)).map { h in score(points.filter { $0.h == h }) }, score(points))
    }
}
