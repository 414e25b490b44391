import Foundation
import Postgres
import TierPlanCore
import TierPlanStore

/// `tierplan demo`'s database work: a fresh `tierplan_demo` database on the embedded cluster, the
/// generated catalog, accounts with their history, usage, a past run with what customer success
/// and customers did with it, tonight's run, the forecast and its backtest. The command only tells.
public struct DemoScenario {
    /// What a step is doing, for the story (`progress` lines are rewritten in place).
    public enum Report { case step(String), progress(String), endProgress }

    public var accounts: Int
    public var seed: UInt64
    public var asOf: Day

    public init(accounts: Int, seed: UInt64, asOf: Day) { self.accounts = accounts; self.seed = seed; self.asOf = asOf }

    /// Everything the story and `--json` show.
    public struct Outcome {
        public var summary: DemoSummary
        public var result: PlanResult
        public var forecast: Forecast
        public var backtest: BacktestReport
        /// The story's last question: what if Team had 1,000 GB instead of 500 GB?
        public var whatIf: WhatIfReport
        public var currency: String
        public var url: String
    }

    public func run(_ report: @escaping (Report) -> Void = { _ in }) throws -> Outcome {
        let started = Date()
        let cluster = EmbeddedCluster.forCurrentDirectory()
        report(.step("starting the embedded PostgreSQL cluster at \(cluster.home)"))
        try cluster.up()
        let url = try Self.freshDatabase(cluster)
        let db = try Connection(url)
        try db.execute("SET TIME ZONE 'UTC'")
        try Schema.migrate(db)

        let data = DemoData(accounts: accounts, seed: seed, asOf: asOf)
        report(.step("catalog: 4 tiers, storage and seat packs, a feature add-on, the Growth pack bundle, onboarding (holdout \(Int(data.catalog.policy.holdoutPercent))%)"))
        _ = try CatalogStore.load(data.catalog, source: "tierplan demo", into: db)

        report(.step("accounts: \(accounts) over segments and owners, and \(DemoData.historyMonths) months of their history "
                     + "(\(data.timelines.count - accounts) more that churned on the way)"))
        var previous = data.historyStart
        _ = try AccountStore.upsert(data.accounts(on: previous), catalog: data.catalog, effective: previous, into: db)
        let days = data.changeDays
        for (i, day) in days.enumerated() {
            _ = try AccountStore.upsert(data.changes(after: previous, through: day), catalog: data.catalog, effective: day, into: db)
            previous = day
            report(.progress("  history: \(day.iso) (\(i + 1) of \(days.count) days with changes)"))
        }
        report(.endProgress)
        try OfferStore.backfill(db, data.pastOffers, command: "demo history")
        report(.step("offers of the past: \(data.pastOffers.count) made, decided and answered over those months"))

        report(.step("usage: \(DemoData.days) days of storage samples and feature events"))
        var ingest = UsageIngest()
        ingest.progress = { p in
            let rate = p.seconds > 0 ? Int(Double(p.lines) / p.seconds) : 0
            report(.progress("  \(p.phase): \(Rationale.grouped(p.lines)) events, \(Rationale.grouped(rate))/s"))
        }
        let usage = try ingest.run(events: "demo usage", into: db) { emit in try data.usage(emit) }
        report(.endProgress)
        report(.step("ingested \(Rationale.grouped(usage.new)) events in \(String(format: "%.1f", usage.seconds)) s"))

        report(.step("history: the job 45 days ago, and what customer success and customers did with its offers"))
        let history = try Self.makeHistory(db, data: data)

        report(.step("the nightly job for \(asOf.iso)"))
        let result = try PlanRun.execute(db, asOf: asOf, dryRun: false, command: "demo")
        let catalog = try CatalogStore.read(db)
        let forecast = try ForecastStore.forecast(db, ForecastRequest(asOf: asOf, months: 12), policy: catalog.policy)[0].forecast
        report(.step("backtest: the forecast made at each month end of the last year and a half, against what followed"))
        let backtest = try ForecastStore.backtest(db, Self.backtestRequest(data), policy: catalog.policy)
        let metrics = try MetricsStore.report(db, asOf: asOf, from: asOf.adding(days: -30), catalog: catalog)
        report(.step("what if Team had 1,000 GB instead of 500 GB? every account planned under both catalogs, nothing written"))
        let whatIf = try WhatIfStore.compare(db, proposed: Self.teamWithMoreStorage(catalog),
                                             WhatIfRequest(asOf: asOf, months: 12, existing: .keep, source: Self.whatIfName))
        let summary = try DemoSummary(db, result: result, forecast: forecast, backtest: backtest, metrics: metrics, asOf: asOf, url: url,
                                      history: history, events: usage.new, whatIf: whatIf, seconds: Date().timeIntervalSince(started))
        return Outcome(summary: summary, result: result, forecast: forecast, backtest: backtest, whatIf: whatIf, currency: catalog.currency, url: url)
    }

    static let whatIfName = "Team storage 500 → 1000 GB"

    /// The loaded catalog with Team's storage doubled to 1,000 GB: the demo's what-if.
    static func teamWithMoreStorage(_ catalog: Catalog) -> Catalog {
        var proposed = catalog
        for i in proposed.tiers.indices where proposed.tiers[i].code == "team" { proposed.tiers[i].storageGB = 1000 }
        return proposed
    }

    /// Every month end from the first with six lookback months of history, six months ahead.
    static func backtestRequest(_ data: DemoData) -> BacktestRequest {
        let first = CalendarMonth(containing: data.historyStart).adding(months: 6).lastDay
        return BacktestRequest(from: first, to: data.asOf, months: 6)
    }

    static func freshDatabase(_ cluster: EmbeddedCluster) throws -> String {
        let admin = try Connection("postgresql:///postgres?host=\(cluster.home)&port=\(cluster.port)&user=postgres")
        try admin.execute("DROP DATABASE IF EXISTS tierplan_demo WITH (FORCE)")
        try admin.execute("CREATE DATABASE tierplan_demo")
        return "postgresql:///tierplan_demo?host=\(cluster.home)&port=\(cluster.port)&user=postgres"
    }

    /// Plans 45 days before as_of and records decisions and outcomes on those offers, dated, so that
    /// acceptance probabilities are learnt and cooldowns, snoozes and recent acceptances show up.
    /// Customers answer in the last four weeks (inside `metrics`' default period), yes with the
    /// probability `DemoData.acceptanceRate` gives their segment, the offer's kind and its price.
    static func makeHistory(_ db: Connection, data: DemoData) throws -> [String: Int] {
        let then = data.asOf.adding(days: -45)
        _ = try PlanRun.execute(db, asOf: then, dryRun: false, command: "demo history")
        var rng = SplitMix64(seed: data.seed ^ 0x4849_5354)
        var counts: [String: Int] = [:]
        let offers = try db.query("""
            SELECT o.offer_id::text, o.account_id, o.kind, o.target, o.delta_mrr, a.segment, o.rank FROM offers o JOIN accounts a USING (account_id)
            WHERE o.status = $1 ORDER BY o.account_id, o.rank
            """, [OfferStatus.proposed.rawValue]).rows
        var realised: [Day: [Account]] = [:]
        let reasons = ["budget frozen until next quarter", "champion left the company", "already evaluating a competitor", "not a priority now"]
        for row in offers {
            let id: String = try row.decode(0), account: String = try row.decode(1), target: String = try row.decode(3)
            let delta: Int = try row.decode(4), segment: String = try row.decode(5), rank: Int = try row.decode(6)
            let kind = OfferKind(rawValue: try row.decode(2)) ?? .addon
            let x = rng.nextUnit()
            // An earlier acceptance may have expired this one.
            guard try OfferStore.get(db, id: id)?.status == .proposed else { continue }
            func decide(_ d: OfferDecision, _ by: String, _ reason: String?, _ day: Int) throws {
                try OfferStore.decide(db, offerID: id, decision: d, by: by, reason: reason, at: data.asOf.adding(days: day).start)
            }
            let reviewer = DemoData.owners[Int(rng.nextUnit() * Double(DemoData.owners.count))]
            // Customer success mostly works the primary offer: an experiment on which kind is primary shows.
            if x < (rank == 1 ? 0.30 : 0.10) {
                try decide(.approve, reviewer, nil, -44)
                let answered = -28 + Int(rng.nextUnit() * 24)
                if rng.nextUnit() < DemoData.acceptanceRate(segment: segment, kind: kind, deltaMRR: delta) {
                    try decide(.accept, reviewer, "signed the order form", answered)
                    counts["accepted", default: 0] += 1
                    if rng.nextUnit() < 0.7, let current = try AccountStore.account(db, id: account)?.account {
                        realised[data.asOf.adding(days: answered + 1), default: []].append(Self.applying(target: target, to: current))
                    }
                } else {
                    try decide(.decline(reasonCode: DemoData.declineReason(deltaMRR: delta, &rng)), reviewer, nil, answered)
                    counts["declined", default: 0] += 1
                }
            } else if x < 0.42 {
                try decide(.reject(reason: reasons[Int(rng.nextUnit() * Double(reasons.count))]), reviewer, nil, -43)
                counts["rejected", default: 0] += 1
            } else if x < 0.50 {
                try decide(.snooze(until: data.asOf.adding(days: 7)), reviewer, "call back after the renewal", -42)
                counts["snoozed", default: 0] += 1
            }
        }
        for (day, accounts) in realised.sorted(by: { $0.key < $1.key }) {
            _ = try AccountStore.upsert(accounts, catalog: data.catalog, effective: day, into: db)
            counts["realised", default: 0] += accounts.count
        }
        return counts
    }

    /// The account as it is once it took an offer (`target` is `tier|addon:qty;…`; adoption offers change nothing).
    static func applying(target: String, to account: Account) -> Account {
        guard !target.hasPrefix("adoption|") else { return account }
        let parts = target.split(separator: "|", omittingEmptySubsequences: false)
        var changed = account
        changed.tier = String(parts[0])
        changed.addons = parts.count > 1 ? parts[1].split(separator: ";").compactMap { item in
            let kv = item.split(separator: ":")
            guard kv.count == 2, let q = Int(kv[1]) else { return nil }
            return AddonQuantity(addon: String(kv[0]), quantity: q)
        } : []
        return changed
    }
}

/// What `tierplan demo --json` prints (and its tests read).
public struct DemoSummary: Encodable {
    public var databaseURL: String
    public var accounts: Int
    public var accountsByStatus: [String: Int]
    public var events: Int
    public var history: [String: Int]
    public var offersByKind: [String: Int]
    public var heldOut: Int
    public var suppressedByReason: [String: Int]
    public var forecast: ForecastReport
    public var backtest: BacktestReport
    /// `metrics` for as_of over the last 30 days: what the offers earned and taught (calibration, declines, experiments).
    public var metrics: MetricsReport
    /// `whatif` of Team with 1,000 GB instead of 500 GB against the demo catalog.
    public var whatif: WhatIfReport
    /// A checksum of the generated accounts and usage: the same seed gives the same value.
    public var dataFingerprint: String
    public var seconds: Double

    init(_ db: Connection, result: PlanResult, forecast: Forecast, backtest: BacktestReport, metrics: MetricsReport, asOf: Day, url: String,
         history: [String: Int], events: Int, whatIf: WhatIfReport, seconds: Double) throws {
        self.backtest = backtest
        self.whatif = whatIf
        self.metrics = metrics
        databaseURL = url
        accountsByStatus = [:]
        for row in try db.query("SELECT status, count(*) FROM accounts GROUP BY status").rows { accountsByStatus[try row.decode(0)] = try row.decode(1) }
        accounts = accountsByStatus.values.reduce(0, +)
        self.events = events
        self.history = history
        offersByKind = [:]
        for offer in result.offers where offer.status == .proposed { offersByKind[offer.kind.rawValue, default: 0] += 1 }
        heldOut = result.offers.filter { $0.status == .heldOut }.count
        suppressedByReason = [:]
        for s in result.suppressed { suppressedByReason[s.reason, default: 0] += 1 }
        self.forecast = ForecastReport(forecast, asOf: asOf, currency: "USD")
        dataFingerprint = try db.query("""
            SELECT md5(
                (SELECT string_agg(account_id || name || tier_code || status || mrr || segment || owner, ',' ORDER BY account_id) FROM accounts)
                || (SELECT count(*) || ':' || coalesce(sum(bytes), 0) FROM storage_samples)
                || (SELECT count(*) || ':' || coalesce(sum(hashtext(account_id || id || user_id || feature_key || at::text || count)::bigint), 0) FROM feature_events))
            """).first!.decode(0)
        self.seconds = (seconds * 10).rounded() / 10
    }
}
