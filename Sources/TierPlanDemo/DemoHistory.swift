import Foundation
import TierPlanCore

/// How the demo's accounts lived through the 24 months before as_of: monthly upgrades and
/// downgrades (more in smaller segments), churn that differs by segment and rises in December and
/// January, seasonal sign-ups, each month's own factor on sign-ups, upgrades and churn, and the
/// offers behind a few of the upgrades.
extension DemoData {
    /// Months of account history the demo generates before the month of as_of.
    public static let historyMonths = 24

    /// The first day of the history.
    public var historyStart: Day { CalendarMonth(containing: asOf).adding(months: -Self.historyMonths).firstDay }

    static func upgradeRate(_ segment: String) -> Double { segment == "smb" ? 0.03 : segment == "mid" ? 0.025 : 0.012 }

    /// Business months differ: a month's factor on sign-ups, upgrades or churn, 0.7 to 1.3, the same for every account.
    static func shock(_ kind: UInt64, _ month: CalendarMonth, seed: UInt64) -> Double {
        var rng = SplitMix64(seed: seed ^ (kind << 56) ^ UInt64(month.year * 12 + month.month))
        return 0.7 + 0.6 * rng.nextUnit()
    }
    static let downgradeRate = 0.003
    static func churnRate(_ segment: String, _ month: CalendarMonth) -> Double {
        let base = segment == "smb" ? 0.028 : segment == "mid" ? 0.013 : 0.005
        return base * (month.month == 12 || month.month == 1 ? 1.3 : 1)
    }
    /// Share of upgrades that follow an accepted offer: before tierplan went live (its first run is
    /// 45 days before as_of) customer success made few offers by hand; most expansion was self-serve.
    static let offerShareOfUpgrades = 0.05
    /// Offers turned down per account and month (80 % declined by the customer, 20 % rejected by
    /// customer success), set so that the segment's accepted share of outcomes is its acceptance rate.
    static func monthlyTurnedDownOffers(_ segment: String) -> Double {
        let accepted = upgradeRate(segment) * offerShareOfUpgrades, rate = segmentAcceptance(segment)
        return accepted * (1 - rate) / rate / 0.8
    }

    /// One account's states over time: each is valid from its day until the next one.
    public struct Timeline: Sendable {
        public var states: [(from: Day, account: Account)]

        public func account(on day: Day) -> Account? {
            guard let first = states.first, day >= first.from else { return nil }
            return states.last { $0.from <= day }?.account
        }
    }

    /// The timelines of the profiles and of the accounts that churned before the last 90 days, and
    /// the offers of the past, from the same seed.
    static func history(profiles: [Profile], catalog: Catalog, asOf: Day, seed: UInt64) -> (timelines: [Timeline], offers: [PastOffer]) {
        var rng = SplitMix64(seed: seed ^ 0x4849_5354_4f52_5900)
        let asOfMonth = CalendarMonth(containing: asOf)
        var timelines: [Timeline] = []
        var offers: [PastOffer] = []
        let reviewers = owners

        func mrr(_ c: Configuration, _ a: Account) -> MinorUnits {
            var x = a; x.tier = c.tier; x.addons = c.addons
            return x.mrr(in: catalog)
        }
        func dayIn(_ month: CalendarMonth, after earliest: Day) -> Day? {
            let day = month.firstDay.adding(days: Int(rng.nextUnit() * 28))
            return day > earliest ? day : nil
        }

        var aliveBySegment: [CalendarMonth: [String: [Account]]] = [:]
        for p in profiles {
            let final = p.account
            let created = final.createdAt.day
            var open = final
            open.status = p.behaviour == .pastDue ? .pastDue : (p.behaviour == .trial ? .trialing : .active)
            open.canceledAt = nil
            for back in 1...Self.historyMonths where p.behaviour != .trial {
                let month = asOfMonth.adding(months: -back)
                if month.lastDay >= created { aliveBySegment[month, default: [:]][final.segment, default: []].append(final) }
            }
            var states: [(from: Day, account: Account)] = []
            var first = open; first.tier = p.entry.tier; first.addons = p.entry.addons
            states.append((created, first))
            var previous = p.entry
            for change in p.changes {
                var a = open; a.tier = change.config.tier; a.addons = change.config.addons
                states.append((change.day, a))
                if change.upgrade, rng.nextUnit() < Self.offerShareOfUpgrades {
                    let lag = [3, 6, 9, 12, 16, 21, 28, 40][Int(rng.nextUnit() * 8)]
                    let madeOn = max(change.day.adding(days: -lag), created)
                    let reviewer = reviewers[Int(rng.nextUnit() * Double(reviewers.count))]
                    offers.append(PastOffer(
                        accountID: final.id, asOf: madeOn, kind: previous.tier == change.config.tier ? .addon : .tierUpgrade,
                        from: previous, to: change.config, currentMRR: mrr(previous, final), newMRR: mrr(change.config, final),
                        probability: 0.2 + rng.nextUnit() * 0.15, rationale: "Growing past its plan (demo history).",
                        events: [PastOffer.Event(day: min(madeOn.adding(days: 2), change.day), status: .approved, actor: reviewer, reason: nil),
                                 PastOffer.Event(day: change.day, status: .accepted, actor: reviewer, reason: "signed the order form")]))
                }
                previous = change.config
            }
            // Offers that customers turned down, on the configuration they had then.
            for back in 3...Self.historyMonths where p.behaviour != .trial {
                let month = asOfMonth.adding(months: -back)
                guard rng.nextUnit() < Self.monthlyTurnedDownOffers(final.segment), let day = dayIn(month, after: created.adding(days: 30)),
                      let state = states.last(where: { $0.from <= day })?.account else { continue }
                let from = Configuration(tier: state.tier, addons: state.addons)
                guard let to = higher(from, catalog: catalog, highestTier: catalog.tiers.count - 1, &rng) else { continue }
                let reviewer = reviewers[Int(rng.nextUnit() * Double(reviewers.count))]
                let declined = rng.nextUnit() < 0.8
                let code = declineReason(deltaMRR: mrr(to, final) - mrr(from, final), &rng)
                offers.append(PastOffer(
                    accountID: final.id, asOf: day, kind: from.tier == to.tier ? .addon : .tierUpgrade, from: from, to: to,
                    currentMRR: mrr(from, final), newMRR: mrr(to, final), probability: 0.2 + rng.nextUnit() * 0.15,
                    rationale: "Close to its limits (demo history).",
                    events: declined
                        ? [PastOffer.Event(day: day.adding(days: 2), status: .approved, actor: reviewer, reason: nil),
                           PastOffer.Event(day: day.adding(days: 9 + Int(rng.nextUnit() * 20)), status: .declined, actor: reviewer, reason: nil, reasonCode: code)]
                        : [PastOffer.Event(day: day.adding(days: 3), status: .rejected, actor: reviewer, reason: "not a good moment for this customer")]))
            }
            // The last 90 days: churned accounts cancel, returned ones cancel and come back after two weeks.
            if let canceled = final.canceledAt?.day, p.behaviour == .churned || p.behaviour == .returned {
                var gone = states.last!.account
                gone.status = .canceled; gone.canceledAt = final.canceledAt
                states.append((canceled, gone))
                if p.behaviour == .returned {
                    var back = gone; back.status = final.status
                    states.append((canceled.adding(days: 14), back))
                }
            }
            timelines.append(Timeline(states: states))
        }

        // Accounts that churned on the way, most of them in their first year: each month as many as the
        // segment's churn rate says of every account alive then, those that churn later included (the
        // profiles that churned in the last 90 days stand for part of the last three months).
        var ghost = 0
        var ghostsCreated: [String: [Day]] = [:]
        for back in 1...Self.historyMonths {
            let month = asOfMonth.adding(months: -back)
            for (segment, alive) in (aliveBySegment[month] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let later = ghostsCreated[segment, default: []].filter { $0 < month.firstDay }.count
                let rate = Self.churnRate(segment, month) * Self.shock(2, month, seed: seed) * (back <= 3 ? 0.6 : 1)
                let expected = rate * Double(alive.count + later) / (1 - rate)
                let count = Int(expected) + (rng.nextUnit() < expected - Double(Int(expected)) ? 1 : 0)
                for _ in 0..<count {
                    ghost += 1
                    var a = alive[Int(rng.nextUnit() * Double(alive.count))]
                    let canceled = month.firstDay.adding(days: Int(rng.nextUnit() * 28))
                    a.id = String(format: "acct-c%05d", ghost)
                    a.name = companyName(&rng)
                    a.createdAt = canceled.adding(days: -min(1_500, 30 + Int(-log(max(rng.nextUnit(), 1e-9)) * 240))).start
                    a.status = .active; a.canceledAt = nil
                    ghostsCreated[segment, default: []].append(a.createdAt.day)
                    var gone = a
                    gone.status = .canceled; gone.canceledAt = canceled.start
                    timelines.append(Timeline(states: [(a.createdAt.day, a), (canceled, gone)]))
                }
            }
        }
        return (timelines, offers)
    }

    /// Month by month from the month after `created` to `until`: an upgrade (a tier up, or one more
    /// pack) at the segment's rate, a downgrade at `downgradeRate`; each on a day of its month.
    static func evolve(_ entry: Configuration, catalog: Catalog, segment: String, created: Day, until: Day, highestTier: Int, grows: Bool,
                       seed: UInt64, _ rng: inout SplitMix64) -> [(day: Day, config: Configuration, upgrade: Bool)] {
        guard grows else { return [] }
        var changes: [(day: Day, config: Configuration, upgrade: Bool)] = []
        var config = entry
        var month = CalendarMonth(containing: created).adding(months: 1)
        while month.firstDay < until {
            let x = rng.nextUnit()
            let day = month.firstDay.adding(days: Int(rng.nextUnit() * 28))
            if day < until {
                let up = upgradeRate(segment) * shock(1, month, seed: seed)
                if x < up, let higher = higher(config, catalog: catalog, highestTier: highestTier, &rng) {
                    changes.append((day, higher, true)); config = higher
                } else if x >= up, x < up + downgradeRate, let down = lower(config, catalog: catalog, &rng) {
                    changes.append((day, down, false)); config = down
                }
            }
            month = month.adding(months: 1)
        }
        return changes
    }

    static let packs = ["storage_100", "storage_1000", "seats_5"]

    /// A tier up (keeping the add-ons it still offers), else one more pack that the tier offers.
    static func higher(_ c: Configuration, catalog: Catalog, highestTier: Int, _ rng: inout SplitMix64) -> Configuration? {
        let rank = catalog.tiers.firstIndex { $0.code == c.tier } ?? 0
        if rank < highestTier, rng.nextUnit() < 0.6 {
            let tier = catalog.tiers[rank + 1].code
            return Configuration(tier: tier, addons: c.addons.filter { catalog.addon($0.addon)?.isAvailable(on: tier) ?? false })
        }
        let offered = packs.filter { catalog.addon($0)?.isAvailable(on: c.tier) ?? false }
        guard !offered.isEmpty else { return nil }
        let pack = offered[Int(rng.nextUnit() * Double(offered.count))]
        let quantity = (c.addons.first { $0.addon == pack }?.quantity ?? 0) + 1
        return Configuration(tier: c.tier, addons: c.addons.filter { $0.addon != pack } + [AddonQuantity(addon: pack, quantity: quantity)])
    }

    /// One pack fewer, else a tier down (keeping the add-ons it offers).
    static func lower(_ c: Configuration, catalog: Catalog, _ rng: inout SplitMix64) -> Configuration? {
        if let pack = c.addons.first(where: { packs.contains($0.addon) }), rng.nextUnit() < 0.5 {
            return Configuration(tier: c.tier, addons: c.addons.map { $0.addon == pack.addon ? AddonQuantity(addon: $0.addon, quantity: $0.quantity - 1) : $0 })
        }
        let rank = catalog.tiers.firstIndex { $0.code == c.tier } ?? 0
        guard rank > 0 else { return nil }
        let tier = catalog.tiers[rank - 1].code
        return Configuration(tier: tier, addons: c.addons.filter { catalog.addon($0.addon)?.isAvailable(on: tier) ?? false })
    }

}
