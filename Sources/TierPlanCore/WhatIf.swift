/// How a what-if counts what existing accounts pay (its paying MRR and the forecast's start): `keep`
/// (what they pay today) or `reprice` (their price under the other catalog, with their discount).
/// Offers are priced within each catalog either way.
public enum ExistingPricing: String, Sendable, CaseIterable, Codable {
    case keep, reprice
}

/// Offers of one kind in a plan: how many, their Δ MRR and their expected Δ MRR.
public struct OfferTally: Sendable, Equatable, Encodable {
    public var count = 0
    public var deltaMRR: MinorUnits = 0
    public var expectedDeltaMRR: Double = 0

    public init(count: Int = 0, deltaMRR: MinorUnits = 0, expectedDeltaMRR: Double = 0) {
        self.count = count; self.deltaMRR = deltaMRR; self.expectedDeltaMRR = expectedDeltaMRR
    }

    mutating func add(_ offer: PlannedOffer) {
        count += 1; deltaMRR += offer.deltaMRR; expectedDeltaMRR += offer.expectedDeltaMRR
    }
}

/// An account's leading offer under one catalog: its primary (rank 1) offer, held-out offers aside.
public struct WhatIfOffer: Sendable, Equatable, Encodable {
    public var kind: OfferKind
    public var toTier: String
    public var add: [AddonQuantity]
    public var newMRR: MinorUnits
    public var deltaMRR: MinorUnits
    public var expectedDeltaMRR: Double

    /// Rounded as printed (2 decimals).
    init(_ offer: PlannedOffer) {
        kind = offer.kind; toTier = offer.toTier; add = offer.add; newMRR = offer.newMRR
        deltaMRR = offer.deltaMRR; expectedDeltaMRR = rounded(offer.expectedDeltaMRR, 2)
    }

    /// What the offer sells: its kind, target tier and add-ons.
    var sells: String { kind.rawValue + "|" + toTier + "|" + add.map { "\($0.addon):\($0.quantity)" }.joined(separator: ";") }
}

/// An account whose leading offer differs between the two catalogs.
public struct WhatIfChange: Sendable, Equatable, Encodable {
    public var accountID: String
    public var current: WhatIfOffer?
    public var whatif: WhatIfOffer?
    /// Expected Δ MRR of the leading offer under the other catalog minus under the loaded one (0 without one).
    public var changeExpectedDeltaMRR: Double

    enum CodingKeys: String, CodingKey { case accountID, current, whatif, changeExpectedDeltaMRR }
    /// As synthesized, except that a side without an offer is `null`, not left out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(accountID, forKey: .accountID)
        try c.encode(current, forKey: .current)
        try c.encode(whatif, forKey: .whatif)
        try c.encode(changeExpectedDeltaMRR, forKey: .changeExpectedDeltaMRR)
    }
}

/// A watched account the other catalog cannot price: its tier or an add-on it holds is missing
/// there, or that add-on is not sold on its tier there.
public struct UnmappedAccount: Sendable, Equatable, Encodable {
    public var accountID: String
    public var tier: String
    public var status: AccountStatus
    /// What is missing, in words: `tier team`, `add-on storage_100`, `add-on automation on tier team`.
    public var missing: [String]
}

/// One catalog's column of a what-if.
public struct WhatIfSide: Sendable, Equatable, Encodable {
    public var payingAccounts: Int
    /// Paying MRR on as_of: what accounts pay, or (`reprice`, the other catalog) their price under it.
    public var mrr: MinorUnits
    public var arpu: Double
    /// Offers of the dry-run plan per kind (every kind listed), held-out offers aside.
    public var offers: [String: OfferTally]
    /// All kinds together.
    public var total: OfferTally
    public var accountsWithOffers: Int
    public var heldOut: Int
    public var forecast: WhatIfForecast?
}

/// The history-model forecast's month N under one catalog: MRR and ARPU with their bands.
public struct WhatIfForecast: Sendable, Equatable, Encodable {
    public var month: String
    public var model: String
    public var fallback: String?
    /// Expansion offers of the dry-run plan counted in the uplift (one per account) and Σ p × Δ.
    public var openOffers: Int
    public var expectedDeltaMRR: Double
    public var activeAccounts: Double
    public var mrrBaseline: Double
    public var upliftExpected: Double
    public var mrrExpected: Double
    public var arpuExpected: Double
    public var mrrP10: Double, mrrP90: Double, arpuP10: Double, arpuP90: Double

    public init(_ forecast: Forecast) {
        let last = forecast.months.last
        func r(_ value: Double) -> Double { rounded(value, 2) }
        month = last?.month ?? ""
        model = forecast.model.rawValue
        fallback = forecast.fallback
        openOffers = forecast.openOffers
        expectedDeltaMRR = r(forecast.expectedDeltaMRR)
        activeAccounts = r(last?.activeAccounts ?? Double(forecast.payingAccounts))
        mrrBaseline = r(last?.mrrBaseline ?? Double(forecast.mrr))
        upliftExpected = r(last?.upliftExpected ?? 0)
        mrrExpected = r(last?.mrrExpected ?? Double(forecast.mrr))
        arpuExpected = r(last?.arpuExpected ?? forecast.arpu)
        mrrP10 = r(last?.mrrP10 ?? mrrExpected); mrrP90 = r(last?.mrrP90 ?? mrrExpected)
        arpuP10 = r(last?.arpuP10 ?? arpuExpected); arpuP90 = r(last?.arpuP90 ?? arpuExpected)
    }
}

/// What changes from the loaded catalog to the other one (other minus loaded).
public struct WhatIfDifference: Sendable, Equatable, Encodable {
    public var mrr: MinorUnits
    public var arpu: Double
    public var offers: Int
    public var deltaMRR: MinorUnits
    public var expectedDeltaMRR: Double
    public var mrrExpected: Double?
    public var arpuExpected: Double?
}

/// `tierplan whatif`'s answer: the loaded catalog and another side by side.
public struct WhatIfReport: Sendable, Equatable, Encodable {
    public var asOf: String
    public var months: Int
    public var existing: ExistingPricing
    public var currency: String
    /// Where the other catalog came from (a file name, or "pasted" on the page).
    public var catalog: String
    public var accountsScanned: Int
    public var current: WhatIfSide
    public var whatif: WhatIfSide
    public var difference: WhatIfDifference
    /// The accounts whose leading offer changes most, by |Δ expected|, at most `WhatIf.topChanges`.
    public var changes: [WhatIfChange]
    /// How many accounts' leading offer changed in all.
    public var changedAccounts: Int
    public var unmapped: [UnmappedAccount]
}

/// A pricing what-if (contract: What if): every watched account signalled and planned under the
/// loaded catalog and under another one, with the same usage, history, guardrails and policy, and
/// tallied side by side. Pure: the store feeds it accounts and reads the forecast.
public struct WhatIf: Sendable {
    public static let topChanges = 20

    public let current: Planner
    public let proposed: Planner
    public let existing: ExistingPricing

    /// Per side (0: loaded, 1: other): offers per kind, accounts with offers, held-out offers, and
    /// the expansion offer per account the forecast counts.
    private var tallies: [[OfferKind: OfferTally]] = [[:], [:]]
    private var withOffers = [0, 0], heldOut = [0, 0]
    private var forecastOffers: [[ForecastOffer]] = [[], []]
    private var changes: [WhatIfChange] = []
    private var unmapped: [UnmappedAccount] = []
    /// Σ over paying accounts the other catalog can price of (price there − what they pay).
    private var repricing: MinorUnits = 0
    public private(set) var accountsScanned = 0

    /// `proposed`'s policy is replaced by `current`'s: a what-if compares products and prices, with
    /// the same guardrails, holdout, experiments and acceptance model on both sides.
    public init(current: Catalog, proposed: Catalog, asOf: Day, acceptance: AcceptanceModel, existing: ExistingPricing) {
        var proposed = proposed
        proposed.policy = current.policy
        self.current = Planner(catalog: current, asOf: asOf, acceptance: acceptance)
        self.proposed = Planner(catalog: proposed, asOf: asOf, acceptance: acceptance)
        self.existing = existing
    }

    /// What `catalog` lacks to price this account as it is (an unpriceable configuration too: prices
    /// that add up past what can be computed, which the accounts file would have refused).
    public static func missing(_ account: Account, in catalog: Catalog) -> [String] {
        var missing: [String] = []
        let tier = catalog.tier(account.tier)
        if tier == nil { missing.append("tier \(account.tier)") }
        for item in account.addons.sorted(by: { $0.addon < $1.addon }) {
            guard let addon = catalog.addon(item.addon) else { missing.append("add-on \(item.addon)"); continue }
            if tier != nil, !addon.isAvailable(on: account.tier) {
                missing.append("add-on \(item.addon) on tier \(account.tier)")
            }
        }
        if missing.isEmpty, let tier, !catalog.fits(tier: tier, addons: account.addons) {
            missing.append("a price, storage or seats too large to compute")
        }
        return missing
    }

    /// One watched account (its state on as_of, usage and offer history); `paid`: its MRR on as_of.
    public mutating func add(_ account: Account, usage: UsageSummary, history: OfferHistory, paid: MinorUnits) {
        accountsScanned += 1
        let asOf = current.asOf
        let before = current.plan(account: account, signals: Watcher.signals(for: account, usage: usage, catalog: current.catalog, asOf: asOf),
                                  history: history)
        let lacking = Self.missing(account, in: proposed.catalog)
        var after = AccountPlan()
        if lacking.isEmpty {
            after = proposed.plan(account: account, signals: Watcher.signals(for: account, usage: usage, catalog: proposed.catalog, asOf: asOf),
                                  history: history)
            if existing == .reprice, account.status.isPaying { repricing += account.mrr(in: proposed.catalog) - paid }
        } else {
            unmapped.append(UnmappedAccount(accountID: account.id, tier: account.tier, status: account.status, missing: lacking))
        }
        let leading = [tally(before, side: 0), tally(after, side: 1)]
        let change = (leading[1]?.expectedDeltaMRR ?? 0) - (leading[0]?.expectedDeltaMRR ?? 0)
        // Unmapped accounts are listed as such, not as changes: FILE was never asked about them.
        if lacking.isEmpty, leading[0]?.sells != leading[1]?.sells || abs(change) > 1e-9 {
            changes.append(WhatIfChange(accountID: account.id, current: leading[0], whatif: leading[1], changeExpectedDeltaMRR: rounded(change, 2)))
        }
    }

    /// Counts a plan's offers on a side; returns the account's leading offer.
    private mutating func tally(_ plan: AccountPlan, side: Int) -> WhatIfOffer? {
        let shown = plan.offers.filter { !$0.heldOut }
        heldOut[side] += plan.offers.count - shown.count
        if !shown.isEmpty { withOffers[side] += 1 }
        for offer in shown { tallies[side][offer.kind, default: OfferTally()].add(offer) }
        // The forecast's uplift: expansion offers, one per account, the largest expected delta.
        if let best = Self.leading(shown.filter { $0.kind.isExpansion }) {
            forecastOffers[side].append(ForecastOffer(probability: best.acceptanceProbability, deltaMRR: best.deltaMRR))
        }
        return shown.min { ($0.rank, $0.kind.rawValue) < ($1.rank, $1.kind.rawValue) }.map(WhatIfOffer.init)
    }

    static func leading(_ offers: [PlannedOffer]) -> PlannedOffer? {
        offers.min { ($1.expectedDeltaMRR, $0.rank) < ($0.expectedDeltaMRR, $1.rank) }
    }

    /// The expansion offers each side's forecast counts (0: loaded catalog, 1: the other).
    public func forecastOffers(side: Int) -> [ForecastOffer] { forecastOffers[side] }

    /// Paying MRR on as_of under the other catalog, from what accounts pay (`mrr`).
    public func proposedMRR(paying mrr: MinorUnits) -> MinorUnits { existing == .reprice ? mrr + repricing : mrr }

    /// The report: `paying`/`mrr` are the paying accounts and what they pay on as_of; the forecasts
    /// are month N of each side's history-model projection.
    public func report(asOf: Day, months: Int, currency: String, catalog: String, paying: Int, mrr: MinorUnits,
                       forecasts: (current: Forecast?, whatif: Forecast?)) -> WhatIfReport {
        func side(_ index: Int, mrr: MinorUnits, forecast: Forecast?) -> WhatIfSide {
            var offers: [String: OfferTally] = [:], total = OfferTally()
            for kind in OfferKind.allCases {
                var t = tallies[index][kind] ?? OfferTally()
                total.count += t.count; total.deltaMRR += t.deltaMRR; total.expectedDeltaMRR += t.expectedDeltaMRR
                t.expectedDeltaMRR = rounded(t.expectedDeltaMRR, 2)
                offers[kind.rawValue] = t
            }
            total.expectedDeltaMRR = rounded(total.expectedDeltaMRR, 2)
            return WhatIfSide(payingAccounts: paying, mrr: mrr, arpu: paying > 0 ? rounded(Double(mrr) / Double(paying), 2) : 0, offers: offers, total: total,
                              accountsWithOffers: withOffers[index], heldOut: heldOut[index], forecast: forecast.map(WhatIfForecast.init))
        }
        let a = side(0, mrr: mrr, forecast: forecasts.current), b = side(1, mrr: proposedMRR(paying: mrr), forecast: forecasts.whatif)
        func minus(_ x: Double, _ y: Double) -> Double { rounded(x - y, 2) }
        let difference = WhatIfDifference(
            mrr: b.mrr - a.mrr, arpu: minus(b.arpu, a.arpu), offers: b.total.count - a.total.count, deltaMRR: b.total.deltaMRR - a.total.deltaMRR,
            expectedDeltaMRR: minus(b.total.expectedDeltaMRR, a.total.expectedDeltaMRR),
            mrrExpected: a.forecast.flatMap { x in b.forecast.map { minus($0.mrrExpected, x.mrrExpected) } },
            arpuExpected: a.forecast.flatMap { x in b.forecast.map { minus($0.arpuExpected, x.arpuExpected) } })
        let top = changes.sorted { (abs($0.changeExpectedDeltaMRR), $1.accountID) > (abs($1.changeExpectedDeltaMRR), $0.accountID) }
        return WhatIfReport(asOf: asOf.iso, months: months, existing: existing, currency: currency, catalog: catalog,
                            accountsScanned: accountsScanned, current: a, whatif: b, difference: difference,
                            changes: Array(top.prefix(Self.topChanges)), changedAccounts: changes.count,
                            unmapped: unmapped.sorted { $0.accountID < $1.accountID })
    }
}

/// One line of the side-by-side comparison as people read it: the CLI's table and the page's.
public struct WhatIfRow: Sendable, Equatable {
    public var label: String, current: String, whatif: String, change: String
    public init(label: String, current: String, whatif: String, change: String) {
        self.label = label; self.current = current; self.whatif = whatif; self.change = change
    }
}

extension WhatIfReport {
    /// The comparison in words and money: paying accounts, MRR and ARPU on as_of, per offer kind that
    /// either side makes the count, Σ Δ and Σ expected Δ, then the forecast's month N.
    public var rows: [WhatIfRow] {
        let c = currency
        func money(_ x: Double) -> String { Rationale.money(Int(x.rounded()), c) }
        func signed(_ x: Double) -> String { x.rounded() > 0 ? "+" + money(x) : money(x) }
        func count(_ n: Int) -> String { Rationale.grouped(n) }
        func signedCount(_ n: Int) -> String { n > 0 ? "+" + count(n) : count(n) }
        func row(_ label: String, _ a: String, _ b: String, _ change: String) -> WhatIfRow {
            WhatIfRow(label: label, current: a, whatif: b, change: change)
        }
        var rows = [
            row("Paying accounts", count(current.payingAccounts), count(whatif.payingAccounts), ""),
            row("MRR on \(asOf)", money(Double(current.mrr)), money(Double(whatif.mrr)), signed(Double(difference.mrr))),
            row("ARPU on \(asOf)", money(current.arpu), money(whatif.arpu), signed(difference.arpu)),
        ]
        for kind in OfferKind.allCases {
            let a = current.offers[kind.rawValue] ?? OfferTally(), b = whatif.offers[kind.rawValue] ?? OfferTally()
            guard a.count + b.count > 0 else { continue }
            rows.append(row("\(kind.rawValue) offers", count(a.count), count(b.count), signedCount(b.count - a.count)))
            rows.append(row("\(kind.rawValue): Σ Δ MRR", money(Double(a.deltaMRR)), money(Double(b.deltaMRR)), signed(Double(b.deltaMRR - a.deltaMRR))))
            rows.append(row("\(kind.rawValue): Σ expected Δ MRR", money(a.expectedDeltaMRR), money(b.expectedDeltaMRR),
                            signed(b.expectedDeltaMRR - a.expectedDeltaMRR)))
        }
        rows.append(row("All offers", count(current.total.count), count(whatif.total.count), signedCount(difference.offers)))
        rows.append(row("All offers: Σ expected Δ MRR", money(current.total.expectedDeltaMRR), money(whatif.total.expectedDeltaMRR),
                        signed(difference.expectedDeltaMRR)))
        if let a = current.forecast, let b = whatif.forecast {
            let model = a.fallback.map { " (\(a.model), \($0))" } ?? ""
            rows.append(row("MRR expected \(a.month)\(model)", money(a.mrrExpected), money(b.mrrExpected), signed(b.mrrExpected - a.mrrExpected)))
            rows.append(row("ARPU expected \(a.month)", money(a.arpuExpected), money(b.arpuExpected), signed(b.arpuExpected - a.arpuExpected)))
            rows.append(row("ARPU P10–P90 \(a.month)", "\(money(a.arpuP10))–\(money(a.arpuP90))", "\(money(b.arpuP10))–\(money(b.arpuP90))", ""))
        }
        return rows
    }
}

extension WhatIfOffer {
    /// `tier_upgrade → business + storage_100 × 2, +$120.00/month (expected $46.79)`; nil reads "no offer".
    public static func summary(_ offer: WhatIfOffer?, currency: String) -> String {
        guard let offer else { return "no offer" }
        let items = offer.add.map { "\($0.addon) × \($0.quantity)" }.joined(separator: ", ")
        return "\(offer.kind.rawValue) → \(offer.toTier)\(items.isEmpty ? "" : " + " + items), "
            + "\(offer.deltaMRR > 0 ? "+" : "")\(Rationale.money(offer.deltaMRR, currency))/month "
            + "(expected \(Rationale.money(Int(offer.expectedDeltaMRR.rounded()), currency)))"
    }
}
