import Foundation

/// What an offer sells: a higher tier, add-ons on the same tier, or a one-time adoption service.
public enum OfferKind: String, Sendable, Codable, CaseIterable {
    case tierUpgrade = "tier_upgrade", addon, adoption

    /// Upsells raise MRR; adoption offers do not.
    public var isUpsell: Bool { self != .adoption }
}

/// Why the planner made no offer of some kind to an account.
public enum SuppressionReason: String, Sendable, Codable {
    case cooldown, snoozed, recentlyAccepted = "recently_accepted", noViableOffer = "no_viable_offer"
}

/// A tier and the add-ons held on it (quantities > 0, sorted by code).
public struct Configuration: Hashable, Sendable {
    public var tier: String
    public var addons: [AddonQuantity]

    public init(tier: String, addons: [AddonQuantity]) {
        self.tier = tier
        self.addons = addons.filter { $0.quantity > 0 }.sorted { $0.addon < $1.addon }
    }

    /// A canonical text used to recognise the same offer again: `team|seats_5:2;storage_100:1`.
    public var target: String {
        tier + "|" + addons.map { "\($0.addon):\($0.quantity)" }.joined(separator: ";")
    }
}

/// A configuration that meets every need, with its price.
public struct PricedSolution: Sendable, Equatable {
    public var configuration: Configuration
    public var kind: OfferKind
    public var tierRank: Int
    public var newMRR: MinorUnits
    public var storageLimitBytes: Int64
    public var seatLimit: Int
}

/// One offer the planner proposes, fully priced and explained.
public struct PlannedOffer: Sendable, Equatable {
    public var accountID: String
    public var kind: OfferKind
    public var rank: Int
    public var fromTier: String
    public var toTier: String
    public var add: [AddonQuantity]
    public var remove: [AddonQuantity]
    public var currentMRR: MinorUnits
    public var newMRR: MinorUnits
    public var oneTime: MinorUnits
    public var acceptanceProbability: Double
    public var reasons: [SignalFlag]
    public var rationale: String
    public var target: String
    public var heldOut: Bool

    public var deltaMRR: MinorUnits { newMRR - currentMRR }
    public var expectedDeltaMRR: Double { acceptanceProbability * Double(deltaMRR) }
}

/// An offer the planner would have made but a guardrail (or the lack of a solution) stopped.
public struct Suppression: Sendable, Equatable, Hashable {
    public var accountID: String
    public var kind: OfferKind?
    public var reason: SuppressionReason

    public init(accountID: String, kind: OfferKind?, reason: SuppressionReason) {
        self.accountID = accountID; self.kind = kind; self.reason = reason
    }
}

/// The planner's answer for one account.
public struct AccountPlan: Sendable, Equatable {
    public var offers: [PlannedOffer] = []
    public var suppressed: [Suppression] = []

    public init(offers: [PlannedOffer] = [], suppressed: [Suppression] = []) {
        self.offers = offers; self.suppressed = suppressed
    }
}

/// What past decisions on an account's offers say on as_of (decisions after as_of are not counted).
public struct OfferHistory: Sendable, Equatable {
    /// Last day an offer of each kind was rejected or declined.
    public var lastRefusal: [OfferKind: Day]
    /// Snoozes still running: kind → until.
    public var snoozedUntil: [OfferKind: Day]
    /// Last day any offer was accepted.
    public var lastAcceptance: Day?

    public init(lastRefusal: [OfferKind: Day] = [:], snoozedUntil: [OfferKind: Day] = [:], lastAcceptance: Day? = nil) {
        self.lastRefusal = lastRefusal; self.snoozedUntil = snoozedUntil; self.lastAcceptance = lastAcceptance
    }
}

/// Acceptance probability per kind: a Beta(α, β) prior updated by past outcomes.
public struct AcceptanceModel: Sendable, Equatable {
    public var alpha: Double
    public var beta: Double
    public var outcomes: [OfferKind: (accepted: Int, declined: Int)]

    public init(alpha: Double, beta: Double, outcomes: [OfferKind: (accepted: Int, declined: Int)] = [:]) {
        self.alpha = alpha; self.beta = beta; self.outcomes = outcomes
    }

    /// (α + accepted) / (α + β + accepted + declined).
    public func probability(_ kind: OfferKind) -> Double {
        let o = outcomes[kind] ?? (0, 0)
        return (alpha + Double(o.accepted)) / (alpha + beta + Double(o.accepted + o.declined))
    }

    public static func == (a: AcceptanceModel, b: AcceptanceModel) -> Bool {
        a.alpha == b.alpha && a.beta == b.beta && OfferKind.allCases.allSatisfy {
            a.outcomes[$0]?.accepted == b.outcomes[$0]?.accepted && a.outcomes[$0]?.declined == b.outcomes[$0]?.declined
        }
    }
}

/// Holdout: a stable share of accounts, chosen from the account id, whose offers are only recorded.
public enum Holdout {
    /// FNV-1a of the id, in buckets of 0.01 %: the same id always lands in the same bucket.
    public static func isHeldOut(_ accountID: String, percent: Double) -> Bool {
        guard percent > 0 else { return false }
        return Double(StableHash.fnv1a(accountID) % 10_000) < percent * 100
    }
}

/// A hash that is the same in every process and on every machine (unlike `Hasher`).
public enum StableHash {
    /// 64-bit FNV-1a of the UTF-8 bytes.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

/// Turns an account's signals into priced offers: each offer source (upsell: needs → every viable
/// solution → primary and alternative; adoption) within the guardrails, with holdout, probability
/// and rationale.
public struct Planner: Sendable {
    public let catalog: Catalog
    public let asOf: Day
    public let acceptance: AcceptanceModel

    public init(catalog: Catalog, asOf: Day, acceptance: AcceptanceModel) {
        self.catalog = catalog
        self.asOf = asOf
        self.acceptance = acceptance
    }

    var policy: Policy { catalog.policy }

    /// The offer rules, in the order they add to a plan (each in its own file under Planning/).
    static let sources: [any OfferSource] = [UpsellSource(), AdoptionSource()]

    public func plan(account: Account, signals: AccountSignals, history: OfferHistory = OfferHistory()) -> AccountPlan {
        var plan = AccountPlan()
        guard account.status == .active, let tier = catalog.tier(account.tier) else { return plan }
        let context = PlanningContext(planner: self, account: account, signals: signals, tier: tier,
                                      blocked: Guardrails.blocked(history, asOf: asOf, policy: policy))
        for source in Self.sources { source.propose(context, into: &plan) }
        return plan
    }

    /// Every configuration on the current tier or a higher one that meets the needs without lowering
    /// the storage or seat limit or losing a feature, cheapest first (ties: the lower tier).
    public func solutions(for current: Configuration, tier currentTier: Tier, needs: Needs, discount: Discount, allowUpgrade: Bool) -> [PricedSolution] {
        let limits = limitsOf(current)
        // A flagged need always asks for more than today's limit: at exactly the near-limit edge
        // (used / 0.8 = limit) the formula alone would be met by the current configuration.
        let requiredStorage = needs.storageBytes.map { max($0, limits.storage + 1) } ?? limits.storage
        let requiredSeats = needs.seats.map { max($0, limits.seats + 1) } ?? limits.seats
        let requiredFeatures = limits.features.union(needs.features)
        var result: [PricedSolution] = []
        for tier in catalog.tiers where tier.rank >= currentTier.rank && (allowUpgrade || tier.rank == currentTier.rank) {
            var addons: [AddonQuantity] = []
            // Features the tier lacks come from feature add-ons available on it (the cheapest per feature).
            var viable = true
            for feature in requiredFeatures.subtracting(tier.features).sorted() {
                let options = catalog.addons.filter { $0.kind == .feature && $0.feature == feature && $0.isAvailable(on: tier.code) }
                guard let cheapest = options.min(by: { ($0.priceMonthly, $0.code) < ($1.priceMonthly, $1.code) }) else { viable = false; break }
                addons.append(AddonQuantity(addon: cheapest.code, quantity: 1))
            }
            guard viable else { continue }
            let storagePacks = catalog.addons.filter { $0.kind == .storage && $0.isAvailable(on: tier.code) }
            guard let storage = Self.cheapestCover(deficit: requiredStorage - Int64(tier.storageGB) * Int64(bytesPerGB),
                                                   packs: storagePacks.map { ($0.code, Int64($0.storageGB) * Int64(bytesPerGB), $0.priceMonthly) })
            else { continue }
            let seatPacks = catalog.addons.filter { $0.kind == .seats && $0.isAvailable(on: tier.code) }
            guard let seats = Self.cheapestCover(deficit: Int64(requiredSeats - tier.seats),
                                                 packs: seatPacks.map { ($0.code, Int64($0.seats), $0.priceMonthly) })
            else { continue }
            addons += storage + seats
            let configuration = Configuration(tier: tier.code, addons: addons)
            guard configuration != current else { continue }
            let newLimits = limitsOf(configuration)
            // Guaranteed by construction; kept as a check on the invariant.
            guard newLimits.storage >= limits.storage, newLimits.seats >= limits.seats, newLimits.features.isSuperset(of: limits.features) else { continue }
            result.append(PricedSolution(
                configuration: configuration, kind: tier.rank == currentTier.rank ? .addon : .tierUpgrade, tierRank: tier.rank,
                newMRR: Pricing.mrr(tier: tier, addons: configuration.addons, catalog: catalog, discount: discount),
                storageLimitBytes: newLimits.storage, seatLimit: newLimits.seats))
        }
        return result.sorted {
            ($0.newMRR, $0.tierRank, $0.configuration.addons.reduce(0) { $0 + $1.quantity }, $0.configuration.target)
                < ($1.newMRR, $1.tierRank, $1.configuration.addons.reduce(0) { $0 + $1.quantity }, $1.configuration.target)
        }
    }

    /// Storage bytes, seats and features a configuration gives (`Catalog.limits`).
    public func limitsOf(_ configuration: Configuration) -> Limits {
        catalog.limits(tier: configuration.tier, addons: configuration.addons)
    }

    /// The cheapest quantities of packs whose units sum to at least `deficit` (empty when nothing is
    /// missing, nil when no pack can cover it). Ties: fewer units, then the order of the codes.
    static func cheapestCover(deficit: Int64, packs: [(code: String, unit: Int64, price: MinorUnits)]) -> [AddonQuantity]? {
        guard deficit > 0 else { return [] }
        let usable = packs.filter { $0.unit > 0 }.sorted { $0.code < $1.code }
        guard !usable.isEmpty else { return nil }
        var best: (cost: Int, units: Int, quantities: [Int])?
        func search(_ index: Int, remaining: Int64, cost: Int, units: Int, quantities: [Int]) {
            if let best, cost > best.cost { return }
            let pack = usable[index]
            let needed = remaining > 0 ? Int((remaining + pack.unit - 1) / pack.unit) : 0
            if index == usable.count - 1 {
                let total = cost + needed * pack.price, totalUnits = units + needed
                if best == nil || (total, totalUnits) < (best!.cost, best!.units) { best = (total, totalUnits, quantities + [needed]) }
                return
            }
            for quantity in 0...needed {
                search(index + 1, remaining: remaining - Int64(quantity) * pack.unit, cost: cost + quantity * pack.price,
                       units: units + quantity, quantities: quantities + [quantity])
            }
        }
        search(0, remaining: deficit, cost: 0, units: 0, quantities: [])
        guard let best else { return nil }
        return zip(usable, best.quantities).compactMap { $1 > 0 ? AddonQuantity(addon: $0.code, quantity: $1) : nil }
    }

    /// Add-on quantities to add and to remove to go from one configuration to another.
    static func difference(from old: [AddonQuantity], to new: [AddonQuantity]) -> (add: [AddonQuantity], remove: [AddonQuantity]) {
        var before: [String: Int] = [:], after: [String: Int] = [:]
        for item in old { before[item.addon, default: 0] += item.quantity }
        for item in new { after[item.addon, default: 0] += item.quantity }
        var add: [AddonQuantity] = [], remove: [AddonQuantity] = []
        for code in Set(before.keys).union(after.keys).sorted() {
            let delta = (after[code] ?? 0) - (before[code] ?? 0)
            if delta > 0 { add.append(AddonQuantity(addon: code, quantity: delta)) }
            if delta < 0 { remove.append(AddonQuantity(addon: code, quantity: -delta)) }
        }
        return (add, remove)
    }
}
