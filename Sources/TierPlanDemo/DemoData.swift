import Foundation
import TierPlanCore

/// A realistic generated SaaS data set for `tierplan demo`: the catalog, accounts with distinct
/// behaviours, 24 months of their history with the offers of the past, and 90 days of usage.
/// The same seed gives the same data.
public struct DemoData: Sendable {
    /// How an account behaves, so the planner has something of every kind to find.
    public enum Behaviour: String, CaseIterable, Sendable {
        case growing, flat, overLimit = "over_limit", seatsCrowding = "seats_crowding", featureDemand = "feature_demand"
        case lowAdoption = "low_adoption", trial, pastDue = "past_due", churned, returned
    }

    /// One account's generated profile.
    public struct Profile: Sendable {
        public var account: Account
        public var behaviour: Behaviour
        var storageStart: Double      // bytes at the first day
        var storageGrowth: Double     // bytes per day
        var users: Int
        var features: [(key: String, dailyProbability: Double)]
        /// The configuration it signed up with, and each later change (upgrades and downgrades).
        var entry: Configuration
        var changes: [(day: Day, config: Configuration, upgrade: Bool)]
    }

    public let asOf: Day
    public let seed: UInt64
    public let catalog: Catalog
    public let profiles: [Profile]
    /// Every account's states over the history (the profiles', then those that churned earlier).
    public let timelines: [Timeline]
    /// Offers made, decided and answered before the last three months.
    public let pastOffers: [PastOffer]
    public static let days = 90

    public static let owners = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]

    /// The demo catalog: four tiers, storage and seat packs, a feature add-on, a bundle of storage
    /// and automation for Team, and onboarding.
    public static func catalog(holdoutPercent: Double = 10) -> Catalog {
        var policy = Policy()
        policy.holdoutPercent = holdoutPercent
        // Half the accounts with offers get the tier upgrade first when an add-on would also do: does
        // the bigger step convert less, and does it still earn more per account?
        policy.experiments = [Experiment(name: "upgrade_first", share: 0.5, primary: .tierUpgrade)]
        return Catalog(
            currency: "USD",
            features: [Feature(key: "reports", name: "Reports"), Feature(key: "sharing", name: "Sharing"),
                       Feature(key: "automation", name: "Automation"), Feature(key: "sso", name: "Single sign-on")],
            tiers: [
                Tier(code: "starter", name: "Starter", rank: 0, priceMonthly: 2900, storageGB: 100, seats: 5, features: ["reports"]),
                Tier(code: "team", name: "Team", rank: 1, priceMonthly: 7900, storageGB: 500, seats: 20, features: ["reports", "sharing"]),
                Tier(code: "business", name: "Business", rank: 2, priceMonthly: 19900, storageGB: 2000, seats: 50,
                     features: ["reports", "sharing", "automation"]),
                Tier(code: "enterprise", name: "Enterprise", rank: 3, priceMonthly: 49900, storageGB: 10000, seats: 200,
                     features: ["reports", "sharing", "automation", "sso"]),
            ],
            addons: [
                Addon(code: "storage_100", name: "Extra 100 GB", kind: .storage, storageGB: 100, priceMonthly: 1000, availableOn: ["starter", "team"]),
                Addon(code: "storage_1000", name: "Extra 1 TB", kind: .storage, storageGB: 1000, priceMonthly: 6000, availableOn: ["team", "business", "enterprise"]),
                Addon(code: "seats_5", name: "5 more seats", kind: .seats, seats: 5, priceMonthly: 1500),
                Addon(code: "automation", name: "Automation", kind: .feature, feature: "automation", priceMonthly: 2000, availableOn: ["team"]),
                Addon(code: "onboarding", name: "Guided onboarding", kind: .service, priceOnce: 49900),
                // $35 for what costs $40 singly (2 × 100 GB and Automation), on Team.
                Addon(code: "growth", name: "Growth pack", kind: .bundle, priceMonthly: 3500, availableOn: ["team"],
                      contents: [AddonQuantity(addon: "storage_100", quantity: 2), AddonQuantity(addon: "automation", quantity: 1)]),
            ],
            policy: policy)
    }

    /// How likely a customer of the segment says yes to an offer raising MRR by `deltaMRR`: smaller
    /// companies buy more readily, and every offer less readily the more it costs. The demo's outcomes
    /// follow this, so a model that learns per segment is better calibrated than one per kind.
    /// Enablement (onboarding sold once) is bought half as readily.
    public static func acceptanceRate(segment: String, kind: OfferKind, deltaMRR: Int) -> Double {
        let base = segmentAcceptance(segment) * (kind == .adoption ? 0.5 : 1)
        let price = deltaMRR <= 3_000 ? 1.25 : deltaMRR <= 12_000 ? 1.0 : 0.7
        return min(0.95, base * price)
    }

    static func segmentAcceptance(_ segment: String) -> Double { segment == "smb" ? 0.5 : segment == "mid" ? 0.2 : 0.05 }

    /// Why a customer declined: dear offers mostly on price or budget.
    static func declineReason(deltaMRR: Int, _ rng: inout SplitMix64) -> DeclineReason {
        let x = rng.nextUnit()
        let weights: [(DeclineReason, Double)] = deltaMRR > 12_000
            ? [(.price, 0.35), (.budget, 0.25), (.timing, 0.15), (.noNeed, 0.1), (.competitor, 0.1), (.other, 0.05)]
            : [(.price, 0.15), (.budget, 0.15), (.timing, 0.3), (.noNeed, 0.2), (.competitor, 0.1), (.other, 0.1)]
        var sum = 0.0
        for (code, weight) in weights {
            sum += weight
            if x < sum { return code }
        }
        return .other
    }

    public init(accounts count: Int, seed: UInt64, asOf: Day) {
        self.asOf = asOf
        self.seed = seed
        let catalog = Self.catalog()
        self.catalog = catalog
        var rng = SplitMix64(seed: seed)
        var profiles: [Profile] = []
        profiles.reserveCapacity(count)
        let behaviours: [(Behaviour, Double)] = [(.growing, 15), (.flat, 28), (.overLimit, 5), (.seatsCrowding, 10), (.featureDemand, 10),
                                                 (.lowAdoption, 10), (.trial, 7), (.pastDue, 5), (.churned, 2.5), (.returned, 1.5)]
        for i in 0..<count {
            let behaviour = Self.pick(behaviours, &rng)
            var tierIndex = Self.pick([(0, 45.0), (1, 30), (2, 18), (3, 7)], &rng)
            // Crowding where seats are few; feature demand where a higher tier exists.
            let highestTier = behaviour == .seatsCrowding ? 1 : behaviour == .featureDemand ? 2 : 3
            tierIndex = min(tierIndex, highestTier)
            var tier = catalog.tiers[tierIndex]
            var addons: [AddonQuantity] = []
            if tierIndex <= 1, rng.nextUnit() < 0.15 { addons.append(AddonQuantity(addon: "storage_100", quantity: 1 + Int(rng.nextUnit() * 2))) }
            // Half of the Team accounts with Automation bought it in the Growth pack.
            if tierIndex == 1, rng.nextUnit() < 0.1 { addons.append(AddonQuantity(addon: i % 2 == 0 ? "growth" : "automation", quantity: 1)) }
            if rng.nextUnit() < 0.08 { addons.append(AddonQuantity(addon: "seats_5", quantity: 1)) }
            let segment = ["smb", tierIndex == 0 ? "smb" : "mid", "mid", "enterprise"][tierIndex == 1 ? (rng.nextUnit() < 0.5 ? 0 : 1) : min(tierIndex + 1, 3)]
            let ageDays: Int
            switch behaviour {
            case .trial: ageDays = 3 + Int(rng.nextUnit() * 20)
            case .lowAdoption: ageDays = 60 + Int(rng.nextUnit() * 500)
            // Sign-ups are seasonal: busier in the first quarter, quieter in July and August.
            default: ageDays = Self.seasonalAge(asOf: asOf, seed: seed, &rng)
            }
            let status: AccountStatus
            switch behaviour {
            case .trial: status = .trialing
            case .pastDue: status = .pastDue
            case .churned: status = .canceled
            default: status = .active
            }
            let discount = rng.nextUnit() < 0.2 ? Discount(basisPoints: [500, 1000, 1250, 1500, 2000][Int(rng.nextUnit() * 5)]) : .none
            let id = String(format: "acct-%05d", i + 1)
            // What it signed up with, and how it grew (or shrank) since, month by month.
            let entry = Configuration(tier: tier.code, addons: addons)
            let canceledDaysAgo = behaviour == .churned || behaviour == .returned ? 25 + Int(rng.nextUnit() * 50) : nil
            var evolution = SplitMix64(seed: seed ^ 0x4556_4f4c_5645_0000 ^ UInt64(i))
            let changes = Self.evolve(entry, catalog: catalog, segment: segment, created: asOf.adding(days: -ageDays),
                                      until: asOf.adding(days: -(canceledDaysAgo ?? 0)), highestTier: highestTier,
                                      grows: behaviour != .trial && behaviour != .lowAdoption, seed: seed, &evolution)
            if let last = changes.last?.config {
                tierIndex = catalog.tiers.firstIndex { $0.code == last.tier } ?? tierIndex
                tier = catalog.tiers[tierIndex]
                addons = last.addons
            }
            let account = Account(
                id: id, name: Self.companyName(&rng) + (i % 97 == 0 ? " & Co. <Ltd>" : ""), tier: tier.code, status: status,
                createdAt: asOf.adding(days: -ageDays).start, addons: addons, discount: discount, segment: segment,
                owner: Self.owners[Int(rng.nextUnit() * Double(Self.owners.count))],
                canceledAt: canceledDaysAgo.map { asOf.adding(days: -$0).start })
            let limits = catalog.limits(tier: tier.code, addons: addons)
            let limit = Double(limits.storage)
            let n = Double(Self.days - 1)
            var start: Double, growth: Double
            switch behaviour {
            case .growing:
                let end = 0.78 + rng.nextUnit() * 0.17
                start = limit * (end - 0.25 - rng.nextUnit() * 0.1)
                growth = (limit * end - start) / n
            case .overLimit:
                let end = 1.02 + rng.nextUnit() * 0.15
                start = limit * (end - 0.2)
                growth = (limit * end - start) / n
            default:
                start = limit * (0.1 + rng.nextUnit() * 0.45)
                growth = limit * (rng.nextUnit() * 0.001 - 0.0003)
            }
            let seats = limits.seats
            let users: Int
            switch behaviour {
            case .seatsCrowding: users = max(1, Int((Double(seats) * (0.92 + rng.nextUnit() * 0.08)).rounded(.up)))
            case .lowAdoption: users = 1 + Int(rng.nextUnit() * 2)
            default: users = max(1, min(25, Int(Double(seats) * (0.25 + rng.nextUnit() * 0.4))))
            }
            var features: [(String, Double)] = []
            let included = tier.features + limits.features.subtracting(tier.features).sorted()
            switch behaviour {
            case .lowAdoption:
                for key in included { features.append((key, 0.04)) }
            case .seatsCrowding:
                // Every user must show up in the window: busy accounts use each feature most days.
                for key in included { features.append((key, 0.9)) }
            default:
                for key in included { features.append((key, 0.25 + rng.nextUnit() * 0.45)) }
            }
            if behaviour == .featureDemand {
                let wanted = catalog.tiers[tierIndex + 1].features.first { !included.contains($0) } ?? "sso"
                features.append((wanted, 0.08 + rng.nextUnit() * 0.1))
            }
            profiles.append(Profile(account: account, behaviour: behaviour, storageStart: start, storageGrowth: growth, users: users,
                                    features: features, entry: entry, changes: changes))
        }
        self.profiles = profiles
        (timelines, pastOffers) = Self.history(profiles: profiles, catalog: catalog, asOf: asOf, seed: seed)
    }

    /// The accounts as they were on `day` (those created by then).
    public func accounts(on day: Day) -> [Account] {
        timelines.compactMap { $0.account(on: day) }
    }

    /// The accounts whose state begins on a day in (after, day]: what an import dated `day` must carry.
    public func changes(after: Day, through day: Day) -> [Account] {
        timelines.compactMap { t in t.states.last { $0.from > after && $0.from <= day }?.account }
    }

    /// Every day after the history's start on which some account changed, ascending.
    public var changeDays: [Day] {
        let start = historyStart
        return Set(timelines.flatMap { $0.states.map(\.from) }.filter { $0 > start && $0 <= asOf }).sorted()
    }

    /// The usage events: one storage sample a day per account, and on each day each feature the
    /// account uses is used by one or two of its users. Canceled accounts stop when they cancel.
    public func usage(_ emit: (UsageEvent) throws -> Void) throws {
        var rng = SplitMix64(seed: seed ^ 0x5553_4147_4500_0000)
        let first = asOf.adding(days: -(Self.days - 1))
        var counter = 0
        for p in profiles {
            let id = p.account.id
            for d in 0..<Self.days {
                let day = first.adding(days: d)
                if day < p.account.createdAt.day { continue }
                if p.behaviour == .churned, let canceled = p.account.canceledAt?.day, day >= canceled { break }
                let bytes = max(0, Int64(p.storageStart + p.storageGrowth * Double(d) + (rng.nextUnit() - 0.5) * 2e8))
                try emit(.storage(id: "s-\(d)", account: id, at: Timestamp(microseconds: day.start.microseconds + 5 * 3_600_000_000), bytes: bytes))
                for (feature, probability) in p.features where rng.nextUnit() < probability {
                    for _ in 0..<(rng.nextUnit() < 0.3 ? 2 : 1) {
                        counter += 1
                        let minute = Int64(rng.nextUnit() * 600) + 8 * 60
                        try emit(.feature(id: "f-\(counter)", account: id, user: "u\(Int(rng.nextUnit() * Double(p.users)))", feature: feature,
                                          at: Timestamp(microseconds: day.start.microseconds + minute * 60_000_000),
                                          count: 1 + Int64(rng.nextUnit() * 3)))
                    }
                }
            }
        }
    }

    /// Days since sign-up, 5 to 2,000 (a mature base), fewer the older (survivors of their cohort),
    /// January–March getting 1.2× the sign-ups and July–August 0.8×, times the month's own factor.
    static func seasonalAge(asOf: Day, seed: UInt64, _ rng: inout SplitMix64) -> Int {
        while true {
            let age = 5 + Int(rng.nextUnit() * 1_995)
            let month = CalendarMonth(containing: asOf.adding(days: -age))
            // Older sign-ups are fewer today: the others of their cohort churned on the way.
            let survival = exp(-Double(age) / 1_400)
            let weight = (month.month <= 3 ? 1.2 : (month.month == 7 || month.month == 8 ? 0.8 : 1.0)) * shock(0, month, seed: seed) * survival
            if rng.nextUnit() * 1.6 < weight { return age }
        }
    }

    static func pick<T>(_ weighted: [(T, Double)], _ rng: inout SplitMix64) -> T {
        let total = weighted.reduce(0) { $0 + $1.1 }
        var x = rng.nextUnit() * total
        for (value, weight) in weighted {
            if x < weight { return value }
            x -= weight
        }
        return weighted.last!.0
    }

    static let prefixes = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wonka", "Stark", "Wayne", "Tyrell",
                           "Cyberdyne", "Soylent", "Aperture", "Black Mesa", "Oscorp", "Gringotts", "Monarch", "Nakatomi", "Dunder", "Pied Piper"]
    static let suffixes = ["Labs", "Systems", "Analytics", "Foods", "Logistics", "Studio", "Health", "Energy", "Media", "Partners"]

    static func companyName(_ rng: inout SplitMix64) -> String {
        "\(prefixes[Int(rng.nextUnit() * Double(prefixes.count))]) \(suffixes[Int(rng.nextUnit() * Double(suffixes.count))])"
    }
}
