import Foundation
import Postgres
import TierPlanCore

/// What a forecast is asked for (`tierplan forecast`, the page and the API).
public struct ForecastRequest: Sendable {
    public var asOf: Day
    public var months: Int
    public var model: ForecastModel
    public var lookback: Int
    public var churn: Double?
    public var by: ForecastGrouping?

    public init(asOf: Day, months: Int, model: ForecastModel = .history, lookback: Int = 6, churn: Double? = nil, by: ForecastGrouping? = nil) {
        self.asOf = asOf; self.months = months; self.model = model; self.lookback = lookback; self.churn = churn; self.by = by
    }
}

/// What the forecast and the backtest read, in two scans (every account's history and every upsell
/// offer's events); every point-in-time question is then answered in Core (contract: Point in time).
struct ForecastHistory {
    var accounts: [AccountTimeline]
    var offers: [OfferTimeline]
    var span: (first: Day, latest: Day)?

    /// `withOffers: false` reads the account history alone (for questions no offer changes, such as churn).
    init(_ db: Connection, withOffers: Bool = true) throws {
        (accounts, offers) = withOffers ? try Self.read(db) : (try HistoryStore.timelines(db), [])
        span = AccountHistory.span(accounts)
    }

    /// The two scans at once, on two connections that share one snapshot (the second imports the
    /// first one's): the server reads the offers while this process decodes the history. Inside a
    /// caller's transaction, one after the other on its connection.
    static func read(_ db: Connection) throws -> ([AccountTimeline], [OfferTimeline]) {
        guard !db.inTransaction, let other = try? Connection(db.conninfo) else {
            return (try HistoryStore.timelines(db), try HistoryStore.expansionOfferTimelines(db))
        }
        try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { _ = try? db.execute("COMMIT") }
        let snapshot: String = try db.query("SELECT pg_export_snapshot()").first!.decode(0)
        // SET TRANSACTION SNAPSHOT takes no parameter: the id comes from the server and is checked.
        guard !snapshot.isEmpty, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw PostgresError(code: .protocolViolation, message: "unexpected snapshot id '\(snapshot)'")
        }
        try other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try other.execute("SET TRANSACTION SNAPSHOT '\(snapshot)'")
        let offers = ReadResult<[OfferTimeline]>(), reader = HandOver(other), done = DispatchGroup()
        DispatchQueue.global().async(group: done) {
            offers.value = Result { try HistoryStore.expansionOfferTimelines(reader.connection) }
            _ = try? reader.connection.execute("COMMIT")
        }
        defer { done.wait() }
        let accounts = try HistoryStore.timelines(db)
        done.wait()
        return (accounts, try offers.value!.get())
    }

    /// The open offers on as_of per group (the account's group that day; "" without grouping).
    func openOffers(on day: Day, by grouping: ForecastGrouping?) -> [String: [ForecastOffer]] {
        let open = OfferTimeline.open(offers, on: day)
        guard let grouping else { return open.isEmpty ? [:] : ["": open.keys.sorted().map { open[$0]!.offer }] }
        var result: [String: [ForecastOffer]] = [:]
        for timeline in accounts {
            guard let offer = open[timeline.accountID] else { continue }
            result[timeline.state(on: day).map(grouping.key) ?? "", default: []].append(offer.offer)
        }
        return result
    }

    /// The acceptance lags known on a day (accepted on or before it).
    func lags(knownOn day: Day) -> [Int] {
        offers.compactMap { offer in offer.acceptedOn.flatMap { $0 <= day ? offer.acceptanceLag : nil } }
    }

    /// Per account, the days an upsell offer of it was accepted.
    var acceptedUpsells: [String: [Day]] {
        offers.reduce(into: [:]) { result, offer in if let day = offer.acceptedOn { result[offer.accountID, default: []].append(day) } }
    }

    func movements(months: [CalendarMonth], by grouping: ForecastGrouping?) -> [String: [MonthMovements]] {
        AccountHistory.movements(accounts, months: months, by: grouping, acceptedUpsells: acceptedUpsells)
    }
}

/// A connection handed to one other thread, which alone uses it from then on.
private struct HandOver: @unchecked Sendable {
    let connection: Connection
    init(_ connection: Connection) { self.connection = connection }
}

/// What the other thread read, written once before the group it runs in is left.
private final class ReadResult<T>: @unchecked Sendable {
    var value: Result<T, Error>?
}

/// The forecast and the backtest over `ForecastHistory`.
public enum ForecastStore {
    /// The projection, overall (group "") or per tier or segment.
    public static func forecast(_ db: Connection, _ request: ForecastRequest, policy: Policy) throws -> [(group: String, forecast: Forecast)] {
        try forecast(ForecastHistory(db), request, policy: policy)
    }

    /// The projection over a history already read. `start`, for a what-if (no grouping), replaces the
    /// paying MRR on as_of and the open offers by what another catalog would make of them.
    static func forecast(_ history: ForecastHistory, _ request: ForecastRequest, policy: Policy,
                         start: (mrr: MinorUnits, offers: [ForecastOffer])? = nil) -> [(group: String, forecast: Forecast)] {
        let asOf = request.asOf
        let lookback = request.model == .history ? usableLookback(asOf: asOf, months: request.lookback, span: history.span) : []
        let movements = lookback.isEmpty ? [:] : history.movements(months: lookback, by: request.by)
        var paying = AccountHistory.paying(history.accounts, on: [asOf], by: request.by)[asOf] ?? [:]
        var offers = history.openOffers(on: asOf, by: request.by)
        if let start {
            precondition(request.by == nil, "a what-if's start is for the whole forecast, not per group")
            paying[""] = (paying[""]?.accounts ?? 0, start.mrr)
            offers = ["": start.offers]
        }
        let lags = history.lags(knownOn: asOf)
        let flatChurn = self.flatChurn(history, asOf: asOf, override: request.churn ?? policy.monthlyChurn,
                                       payingAccounts: paying.values.reduce(0) { $0 + $1.accounts })
        let keys = Set(paying.keys).union(offers.keys).union(movements.keys).sorted()
        return (keys.isEmpty ? [""] : keys).map { key in
            let input = HistoryForecastInput(
                payingAccounts: paying[key]?.accounts ?? 0, mrr: paying[key]?.mrr ?? 0,
                history: lookback.isEmpty ? [] : movements[key] ?? lookback.map(MonthMovements.init),
                churnOverride: request.churn ?? policy.monthlyChurn, offers: offers[key] ?? [], lags: lags, lookbackMonths: request.lookback)
            return (key, project(input, model: request.model, asOf: asOf, months: request.months, flatChurn: flatChurn))
        }
    }

    static func project(_ input: HistoryForecastInput, model: ForecastModel, asOf: Day, months: Int, flatChurn: Double) -> Forecast {
        switch model {
        case .history:
            return HistoryForecaster.project(input, asOf: asOf, months: months, flatChurn: flatChurn)
        case .flat:
            return Forecaster.project(ForecastInput(payingAccounts: input.payingAccounts, mrr: input.mrr, monthlyChurn: flatChurn, offers: input.offers),
                                      asOf: asOf, months: months)
        }
    }

    /// The L calendar months before the month of as_of whose first day the history covers.
    static func usableLookback(asOf: Day, months: Int, span: (first: Day, latest: Day)?) -> [CalendarMonth] {
        guard let span, months > 0 else { return [] }
        let month = CalendarMonth(containing: asOf)
        return (1...months).reversed().map { month.adding(months: -$0) }.filter { $0.firstDay >= span.first }
    }

    /// The flat model's churn: the override, else accounts canceled in the 90 days to as_of ÷ N0 ÷ 3.
    static func flatChurn(_ history: ForecastHistory, asOf: Day, override: Double?, payingAccounts: Int) -> Double {
        if let override { return override }
        return Forecaster.derivedChurn(canceledIn90Days: AccountHistory.canceled(history.accounts, from: asOf.adding(days: -89), through: asOf),
                                       payingAccounts: payingAccounts)
    }
}

/// Lifetime value per account on as_of, overall and per tier and segment (contract: Revenue metrics, `cltv`).
public struct LifetimeValues: Sendable {
    public var overall: Double?
    public var byTier: [String: Double?]
    public var bySegment: [String: Double?]
    public var grossMargin: Double
    /// The overall monthly logo churn used (the history model's, lookback 6); nil when no lookback month is usable.
    public var monthlyChurn: Double?
}

extension ForecastStore {
    /// ARPU × gross margin / c of every group, c the history model's logo churn over the 6 lookback months
    /// (the policy's `monthly_churn` when set, as in the forecast). One read of the history serves all groups.
    static func lifetimeValues(_ db: Connection, asOf: Day, policy: Policy) throws -> LifetimeValues {
        // Churn and ARPU need no offer: the offers-and-events scan (the largest part of the forecast's read) is skipped.
        let history = try ForecastHistory(db, withOffers: false)
        let lookback = usableLookback(asOf: asOf, months: 6, span: history.span)
        func values(by grouping: ForecastGrouping?) -> [String: (value: Double?, churn: Double?)] {
            let paying = AccountHistory.paying(history.accounts, on: [asOf], by: grouping)[asOf] ?? [:]
            let movements = lookback.isEmpty ? [:] : history.movements(months: lookback, by: grouping)
            return paying.reduce(into: [:]) { result, group in
                guard group.value.accounts > 0, !lookback.isEmpty else { result[group.key] = (nil, nil); return }
                let churn = ForecastRates.pooled(movements[group.key] ?? lookback.map(MonthMovements.init))
                    .overridingChurn(policy.monthlyChurn).logoChurn
                let arpu = Double(group.value.mrr) / Double(group.value.accounts)
                result[group.key] = (LifetimeValue.perAccount(arpu: arpu, grossMargin: policy.grossMargin, monthlyChurn: churn), churn)
            }
        }
        let overall = values(by: nil)[""]
        return LifetimeValues(overall: overall?.value ?? nil, byTier: values(by: .tier).mapValues(\.value),
                              bySegment: values(by: .segment).mapValues(\.value), grossMargin: policy.grossMargin,
                              monthlyChurn: overall?.churn ?? nil)
    }
}

/// The forecast as the contract's JSON (`forecast --json`, the API, the demo).
public struct ForecastReport: Encodable, Sendable {
    public struct Month: Encodable, Sendable {
        var month: String
        var activeAccounts, mrrBaseline, arpuBaseline, upliftExpected, mrrExpected, arpuExpected: Double
        var arpuP10, arpuP50, arpuP90, mrrP10, mrrP50, mrrP90: Double
        enum CodingKeys: String, CodingKey {
            case month, activeAccounts, mrrBaseline, arpuBaseline
            case upliftExpected, mrrExpected, arpuExpected
            case arpuP10, arpuP50, arpuP90, mrrP10, mrrP50, mrrP90
        }
        init(_ m: ForecastMonth) {
            month = m.month
            activeAccounts = rounded(m.activeAccounts, 2); mrrBaseline = rounded(m.mrrBaseline, 2); arpuBaseline = rounded(m.arpuBaseline, 2)
            upliftExpected = rounded(m.upliftExpected, 2); mrrExpected = rounded(m.mrrExpected, 2); arpuExpected = rounded(m.arpuExpected, 2)
            arpuP10 = rounded(m.arpuP10, 2); arpuP50 = rounded(m.arpuP50, 2); arpuP90 = rounded(m.arpuP90, 2)
            mrrP10 = rounded(m.mrrP10, 2); mrrP50 = rounded(m.mrrP50, 2); mrrP90 = rounded(m.mrrP90, 2)
        }
    }

    /// One lookback month of the `history` array.
    public struct HistoryMonth: Encodable, Sendable {
        var month: String
        var startAccounts, startMRR, churned, churnedMRR, new, newMRR, expansion, offerExpansion, organicExpansion, contraction: Int
        var endAccounts, endMRR: Int
        enum CodingKeys: String, CodingKey {
            case month, startAccounts, startMRR, churned, churnedMRR, new
            case newMRR, expansion, offerExpansion, organicExpansion
            case contraction, endAccounts, endMRR
        }
        init(_ m: MonthMovements) {
            month = m.month.iso; startAccounts = m.startAccounts; startMRR = m.startMRR; churned = m.churned; churnedMRR = m.churnedMRR
            new = m.new; newMRR = m.newMRR; expansion = m.expansion; offerExpansion = m.offerExpansion
            organicExpansion = m.organicExpansion; contraction = m.contraction; endAccounts = m.endAccounts; endMRR = m.endMRR
        }
    }

    public struct Rates: Encodable, Sendable {
        var logoChurn, mrrChurn, contraction, organicExpansion, newAccounts, newMRR: Double
        enum CodingKeys: String, CodingKey {
            case logoChurn, mrrChurn, contraction, organicExpansion
            case newAccounts, newMRR
        }
        init(_ r: ForecastRates) {
            logoChurn = rounded(r.logoChurn, 6); mrrChurn = rounded(r.mrrChurn, 6); contraction = rounded(r.contraction, 6)
            organicExpansion = rounded(r.organicExpansion, 6); newAccounts = rounded(r.newAccounts, 2); newMRR = rounded(r.newMRR, 2)
        }
    }

    var group: String?
    var asOf: String
    var currency: String
    var model: String
    var fallback: String?
    var lookbackMonths: Int?
    var payingAccounts: Int
    var mrr: Int
    var arpu: Double
    var monthlyChurn: Double
    var openOffers: Int
    var expectedDeltaMRR: Double
    var quantiles: String
    var rates: Rates?
    var history: [HistoryMonth]?
    var months: [Month]

    enum CodingKeys: String, CodingKey {
        case group, asOf, currency, model, fallback, lookbackMonths, payingAccounts, mrr, arpu
        case monthlyChurn, openOffers, expectedDeltaMRR, quantiles, rates, history, months
    }

    public init(_ f: Forecast, asOf: Day, currency: String, group: String? = nil) {
        self.group = group
        self.asOf = asOf.iso; self.currency = currency; model = f.model.rawValue; fallback = f.fallback; lookbackMonths = f.lookbackMonths
        payingAccounts = f.payingAccounts; mrr = f.mrr; arpu = rounded(f.arpu, 2)
        monthlyChurn = rounded(f.monthlyChurn, 6); openOffers = f.openOffers
        expectedDeltaMRR = rounded(f.expectedDeltaMRR, 2)
        quantiles = f.quantiles
        rates = f.rates.map(Rates.init)
        history = f.model == .history ? f.history.map(HistoryMonth.init) : nil
        months = f.months.map(Month.init)
    }
}

/// `forecast --by tier|segment --json`: the same projection per group.
public struct GroupedForecastReport: Encodable, Sendable {
    var asOf: String
    var currency: String
    var by: String
    /// The churn every group uses (given, configured or the flat model's); null when each group
    /// learnt its own (history model): read it per group.
    var monthlyChurn: Double?
    var groups: [ForecastReport]
    enum CodingKeys: String, CodingKey { case asOf, currency, by, monthlyChurn, groups }

    public init(asOf: String, currency: String, by: String, forecasts: [(group: String, forecast: Forecast)]) {
        self.asOf = asOf; self.currency = currency; self.by = by
        let churns = Set(forecasts.map(\.forecast.monthlyChurn))
        monthlyChurn = churns.count == 1 ? churns.first.map { rounded($0, 6) } : nil
        groups = forecasts.map { ForecastReport($0.forecast, asOf: Day(iso: asOf)!, currency: currency, group: $0.group) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(asOf, forKey: .asOf); try c.encode(currency, forKey: .currency); try c.encode(by, forKey: .by)
        try c.encode(monthlyChurn, forKey: .monthlyChurn)
        try c.encode(groups, forKey: .groups)
    }
}

/// The forecast's months as CSV, one row each, with the contract's column names.
public enum ForecastCSV {
    public static let columns = ["month", "active_accounts", "mrr_baseline", "arpu_baseline", "uplift_expected", "mrr_expected", "arpu_expected",
                                 "arpu_p10", "arpu_p50", "arpu_p90", "mrr_p10", "mrr_p50", "mrr_p90"]

    public static func text(_ forecasts: [(group: String, forecast: Forecast)], grouped: Bool) -> String {
        var lines = [(grouped ? ["group"] : []) + columns]
        for (group, forecast) in forecasts {
            for m in forecast.months {
                let values = [m.activeAccounts, m.mrrBaseline, m.arpuBaseline, m.upliftExpected, m.mrrExpected, m.arpuExpected,
                              m.arpuP10, m.arpuP50, m.arpuP90, m.mrrP10, m.mrrP50, m.mrrP90]
                    .map { String(format: "%.2f", $0) }
                lines.append((grouped ? [CSVField.quoted(group)] : []) + [m.month] + values)
            }
        }
        return lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
public enum CSVField {
    public static func quoted(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

/// What a backtest is asked for (`tierplan forecast backtest`, the page and the API).
public struct BacktestRequest: Sendable {
    public var from: Day
    public var to: Day
    public var months: Int
    public var models: [ForecastModel]
    public var lookback: Int

    public init(from: Day, to: Day, months: Int, models: [ForecastModel] = ForecastModel.allCases, lookback: Int = 6) {
        self.from = from; self.to = to; self.months = months; self.models = models; self.lookback = lookback
    }
}

extension ForecastStore {
    /// Replays the forecast at the end of each month from `from`'s month to `to`'s, each with what
    /// was known on its as_of, against the paying accounts and MRR that followed (contract: Backtest).
    /// Everything comes from one read of the history (`ForecastHistory`), whatever the number of as_of days.
    public static func backtest(_ db: Connection, _ request: BacktestRequest, policy: Policy,
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> BacktestReport {
        let history = try ForecastHistory(db)
        let asOfs = Backtest.asOfDays(from: request.from, to: request.to, horizon: request.months, latest: history.span?.latest)
        var points: [BacktestPoint] = []
        if let firstAsOf = asOfs.first, let lastAsOf = asOfs.last {
            // Every month some as_of looks back on, measured once.
            let firstMonth = CalendarMonth(containing: firstAsOf).adding(months: -request.lookback)
            let needed = (0..<CalendarMonth(containing: lastAsOf).months(since: firstMonth)).map { firstMonth.adding(months: $0) }
                .filter { month in history.span.map { month.firstDay >= $0.first } ?? false }
            let movements = history.movements(months: needed, by: nil)[""] ?? []
            var days = Set(asOfs)
            for asOf in asOfs { for h in 1...request.months { days.insert(CalendarMonth(containing: asOf).adding(months: h).lastDay) } }
            let paying = AccountHistory.paying(history.accounts, on: days.sorted())
            let churnOverride = policy.monthlyChurn
            for (index, asOf) in asOfs.enumerated() {
                progress(index, asOfs.count)
                let now = paying[asOf]?[""] ?? (0, 0)
                let usable = Set(usableLookback(asOf: asOf, months: request.lookback, span: history.span))
                let input = HistoryForecastInput(
                    payingAccounts: now.accounts, mrr: now.mrr, history: movements.filter { usable.contains($0.month) },
                    churnOverride: churnOverride, offers: history.openOffers(on: asOf, by: nil)[""] ?? [],
                    lags: history.lags(knownOn: asOf), lookbackMonths: request.lookback)
                let flatChurn = self.flatChurn(history, asOf: asOf, override: churnOverride, payingAccounts: now.accounts)
                for model in request.models {
                    let forecast = project(input, model: model, asOf: asOf, months: request.months, flatChurn: flatChurn)
                    for (i, m) in forecast.months.enumerated() {
                        let month = CalendarMonth(containing: asOf).adding(months: i + 1)
                        let actual = paying[month.lastDay]?[""] ?? (0, 0)
                        points.append(BacktestPoint(
                            asOf: asOf, h: i + 1, month: month, model: model, arpuExpected: m.arpuExpected, arpuP10: m.arpuP10,
                            arpuP90: m.arpuP90, arpuActual: actual.accounts > 0 ? Double(actual.mrr) / Double(actual.accounts) : 0,
                            mrrExpected: m.mrrExpected, mrrActual: Double(actual.mrr)))
                    }
                }
            }
            progress(asOfs.count, asOfs.count)
        }
        return BacktestReport(request: request, asOfs: asOfs, latest: history.span?.latest, points: points)
    }
}

/// The backtest as the contract's JSON, and its CSV.
public struct BacktestReport: Encodable, Sendable {
    public struct Score: Encodable, Sendable {
        public var h: Int?
        public var forecasts: Int
        public var arpuMAPE, mrrMAPE, arpuBias, arpuCoverage: Double?
        enum CodingKeys: String, CodingKey {
            case h, forecasts, arpuMAPE, mrrMAPE, arpuBias, arpuCoverage
        }
        init(_ s: BacktestScore, h: Int?) {
            self.h = h; forecasts = s.forecasts
            arpuMAPE = s.arpuMAPE.map { rounded($0, 4) }; mrrMAPE = s.mrrMAPE.map { rounded($0, 4) }
            arpuBias = s.arpuBias.map { rounded($0, 4) }; arpuCoverage = s.arpuCoverage.map { rounded($0, 4) }
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(h, forKey: .h)
            try c.encode(forecasts, forKey: .forecasts)
            try c.encode(arpuMAPE, forKey: .arpuMAPE); try c.encode(mrrMAPE, forKey: .mrrMAPE)
            try c.encode(arpuBias, forKey: .arpuBias); try c.encode(arpuCoverage, forKey: .arpuCoverage)
        }
    }
    public struct ModelScores: Encodable, Sendable {
        public var model: String
        public var horizons: [Score]
        public var overall: Score
    }
    public struct Point: Encodable, Sendable {
        var asOf: String, h: Int, month: String, model: String
        var arpuExpected, arpuP10, arpuP90, arpuActual, mrrExpected, mrrActual: Double
        enum CodingKeys: String, CodingKey {
            case asOf, h, month, model, arpuExpected, arpuP10, arpuP90
            case arpuActual, mrrExpected, mrrActual
        }
        init(_ p: BacktestPoint) {
            asOf = p.asOf.iso; h = p.h; month = p.month.iso; model = p.model.rawValue
            arpuExpected = rounded(p.arpuExpected, 2); arpuP10 = rounded(p.arpuP10, 2); arpuP90 = rounded(p.arpuP90, 2)
            arpuActual = rounded(p.arpuActual, 2); mrrExpected = rounded(p.mrrExpected, 2); mrrActual = rounded(p.mrrActual, 2)
        }
    }

    public var from: String
    public var to: String
    public var months: Int
    public var asOfDays: [String]
    public var latestHistoryDate: String?
    public var models: [ModelScores]
    public var points: [Point]
    /// The scored points, for charts.
    public let raw: [BacktestPoint]

    enum CodingKeys: String, CodingKey {
        case from, to, months, asOfDays, latestHistoryDate, models, points
    }

    init(request: BacktestRequest, asOfs: [Day], latest: Day?, points: [BacktestPoint]) {
        from = request.from.iso; to = request.to.iso; months = request.months
        asOfDays = asOfs.map(\.iso); latestHistoryDate = latest?.iso
        models = request.models.map { model in
            let scores = Backtest.scores(points.filter { $0.model == model }, horizons: request.months)
            return ModelScores(model: model.rawValue, horizons: scores.byHorizon.enumerated().map { Score($0.element, h: $0.offset + 1) },
                               overall: Score(scores.overall, h: nil))
        }
        self.points = points.map(Point.init)
        raw = points
    }

    /// One row per model and horizon, then the model's overall row (h = all).
    public var csv: String {
        var lines = ["model,h,forecasts,arpu_mape,mrr_mape,arpu_bias,arpu_coverage"]
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "" }
        for m in models {
            for s in m.horizons + [m.overall] {
                lines.append([m.model, s.h.map(String.init) ?? "all", String(s.forecasts), f(s.arpuMAPE), f(s.mrrMAPE), f(s.arpuBias), f(s.arpuCoverage)]
                    .joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
