import Foundation
import Postgres
import TierPlanCore

/// What `tierplan whatif` and the what-if page ask for.
public struct WhatIfRequest: Sendable {
    public var asOf: Day
    public var months: Int
    public var existing: ExistingPricing
    /// Where the other catalog came from, for the report (a file name, or "pasted").
    public var source: String

    public init(asOf: Day, months: Int = 12, existing: ExistingPricing = .keep, source: String) {
        self.asOf = asOf; self.months = months; self.existing = existing; self.source = source
    }
}

/// The what-if's reads (contract: What if): the signals query, the offer histories and the account
/// history, in one read-only snapshot; every account is planned under both catalogs in Swift.
/// Nothing is written, not even a temporary table.
public enum WhatIfStore {
    public static func compare(_ db: Connection, proposed: Catalog, _ request: WhatIfRequest,
                               progress: (Int) -> Void = { _ in }) throws -> WhatIfReport {
        try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { _ = try? db.execute("ROLLBACK") }
        let asOf = request.asOf
        let current = try CatalogStore.read(db)
        guard proposed.currency == current.currency else {
            throw StoreError.refused("\(request.source): currency \(proposed.currency) is not the loaded catalog's \(current.currency); "
                                     + "MRR and prices cannot be compared across currencies")
        }
        let history = try ForecastHistory(db)
        let states = history.accounts.reduce(into: [String: AccountTimeline.State]()) { $0[$1.accountID] = $1.state(on: asOf) }
        let histories = try OfferStore.histories(db, asOf: asOf)
        var whatIf = WhatIf(current: current, proposed: proposed, asOf: asOf,
                            acceptance: try OfferStore.acceptanceModel(db, asOf: asOf, policy: current.policy), existing: request.existing)
        try SignalsStore.forEachBatch(db, asOf: asOf) { batch in
            for (account, usage) in batch {
                whatIf.add(account, usage: usage, history: histories[account.id] ?? OfferHistory(),
                           paid: states[account.id]?.mrr ?? account.mrr(in: current))
            }
            progress(whatIf.accountsScanned)
        }

        // Month N of the history model under each catalog, as `forecast` makes it (the same lookback,
        // rates and lags), from each side's paying MRR and the expansion offers of its dry-run plan.
        let paying = AccountHistory.paying(history.accounts, on: [asOf])[asOf]?[""] ?? (0, 0)
        let forecast = ForecastRequest(asOf: asOf, months: request.months)
        func projection(side: Int, mrr: MinorUnits) -> Forecast {
            ForecastStore.forecast(history, forecast, policy: current.policy, start: (mrr, whatIf.forecastOffers(side: side)))[0].forecast
        }
        return whatIf.report(asOf: asOf, months: request.months, currency: current.currency, catalog: request.source,
                             paying: paying.accounts, mrr: paying.mrr,
                             forecasts: (projection(side: 0, mrr: paying.mrr), projection(side: 1, mrr: whatIf.proposedMRR(paying: paying.mrr))))
    }
}
