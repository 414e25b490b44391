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

/// What the account needs, from its flags.
public struct Needs: Sendable, Equatable {
    /// Storage capacity in bytes the new configuration must reach.
    public var storageBytes: Int64?
    /// Seats the new configuration must reach.
    public var seats: Int?
    /// Features it must include on top of those the account has.
    public var features: [String]
    public var reasons: [SignalFlag]

    public var isEmpty: Bool { storageBytes == nil && seats == nil && features.isEmpty }

    /// storage: max(used, used + slope × horizon) / target utilization; seats: ceil(active / target);
    /// features: every demanded feature.
    public init(signals: AccountSignals, policy: Policy) {
        var reasons: [SignalFlag] = []
        if signals.flags.contains(where: \.isStorage), let used = signals.storageUsedBytes {
            let projected = Double(used) + (signals.storageGrowthBytesPerDay ?? 0) * Double(policy.storageHorizonDays)
            storageBytes = Int64((max(Double(used), projected) / policy.storageTargetUtilization).rounded(.up))
            reasons += signals.flags.filter(\.isStorage)
        }
        if signals.has(.seatsNearLimit) {
            // The epsilon keeps 8 / 0.8 at 10 seats despite binary floating point.
            seats = Int((Double(signals.activeUsers) / policy.seatTargetUtilization - 1e-9).rounded(.up))
            reasons.append(.seatsNearLimit)
        }
        features = signals.demandedFeatures
        if !features.isEmpty { reasons.append(.featureDemand) }
        self.reasons = reasons
    }

    public init(storageBytes: Int64? = nil, seats: Int? = nil, features: [String] = [], reasons: [SignalFlag] = []) {
        self.storageBytes = storageBytes; self.seats = seats; self.features = features; self.reasons = reasons
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
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in accountID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Double(hash % 10_000) < percent * 100
    }
}

/// Turns an account's signals into priced offers: needs → every viable solution → primary and
/// alternative → adoption offer → guardrails → holdout → probability → rationale.
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

    public func plan(account: Account, signals: AccountSignals, history: OfferHistory = OfferHistory()) -> AccountPlan {
        var plan = AccountPlan()
        guard account.status == .active, let tier = catalog.tier(account.tier) else { return plan }
        let current = Configuration(tier: account.tier, addons: account.addons)
        let currentMRR = account.mrr(in: catalog)
        let heldOut = Holdout.isHeldOut(account.id, percent: policy.holdoutPercent)

        // Guardrails, per kind.
        var blocked: [OfferKind: SuppressionReason] = [:]
        for kind in OfferKind.allCases {
            if kind.isUpsell, let accepted = history.lastAcceptance, accepted <= asOf,
               asOf.days(since: accepted) <= policy.recentlyAcceptedDays {
                blocked[kind] = .recentlyAccepted
            } else if let until = history.snoozedUntil[kind], asOf < until {
                blocked[kind] = .snoozed
            } else if let refused = history.lastRefusal[kind], refused <= asOf, asOf.days(since: refused) <= policy.cooldownDays {
                blocked[kind] = .cooldown
            }
        }
        func offer(_ solution: PricedSolution, rank: Int, reasons: [SignalFlag], oneTime: MinorUnits = 0) -> PlannedOffer {
            let (add, remove) = Self.difference(from: current.addons, to: solution.configuration.addons)
            var offer = PlannedOffer(
                accountID: account.id, kind: solution.kind, rank: rank, fromTier: account.tier, toTier: solution.configuration.tier,
                add: add, remove: remove, currentMRR: currentMRR, newMRR: solution.newMRR, oneTime: oneTime,
                acceptanceProbability: acceptance.probability(solution.kind), reasons: reasons, rationale: "",
                target: solution.configuration.target, heldOut: heldOut)
            offer.rationale = Rationale.sentence(for: offer, signals: signals, solution: solution, catalog: catalog)
            return offer
        }

        // Upsell needs.
        let needs = Needs(signals: signals, policy: policy)
        if !needs.isEmpty {
            let lowAdoption = signals.has(.lowAdoption)
            let allowUpgrade = !lowAdoption || signals.has(.storageOverLimit)
            let all = solutions(for: current, tier: tier, needs: needs, discount: account.discount, allowUpgrade: allowUpgrade)
            if all.isEmpty {
                plan.suppressed.append(Suppression(accountID: account.id, kind: nil, reason: .noViableOffer))
            } else {
                for kind in [OfferKind.tierUpgrade, .addon] where blocked[kind] != nil && all.contains(where: { $0.kind == kind }) {
                    plan.suppressed.append(Suppression(accountID: account.id, kind: kind, reason: blocked[kind]!))
                }
                let allowed = all.filter { blocked[$0.kind] == nil }
                if let primary = allowed.first {
                    plan.offers.append(offer(primary, rank: 1, reasons: needs.reasons))
                    if let alternative = allowed.first(where: { $0.kind != primary.kind }) {
                        plan.offers.append(offer(alternative, rank: 2, reasons: needs.reasons))
                    }
                }
            }
        }

        // Low adoption: the cheapest service add-on available on the tier, sold once.
        if signals.has(.lowAdoption) {
            let services = catalog.addons.filter { $0.kind == .service && $0.isAvailable(on: tier.code) }
                .sorted { ($0.priceOnce, $0.code) < ($1.priceOnce, $1.code) }
            if let reason = blocked[.adoption] {
                plan.suppressed.append(Suppression(accountID: account.id, kind: .adoption, reason: reason))
            } else if let service = services.first {
                let solution = PricedSolution(configuration: Configuration(tier: tier.code, addons: current.addons + [AddonQuantity(addon: service.code, quantity: 1)]),
                                              kind: .adoption, tierRank: tier.rank, newMRR: currentMRR,
                                              storageLimitBytes: signals.storageLimitBytes, seatLimit: signals.seatLimit)
                var adoption = offer(solution, rank: plan.offers.isEmpty ? 1 : plan.offers.count + 1, reasons: [.lowAdoption], oneTime: service.priceOnce)
                adoption.target = "adoption|" + service.code
                adoption.rationale = Rationale.sentence(for: adoption, signals: signals, solution: solution, catalog: catalog)
                plan.offers.append(adoption)
            } else {
                plan.suppressed.append(Suppression(accountID: account.id, kind: .adoption, reason: .noViableOffer))
            }
        }
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

    /// Storage bytes, seats and features a configuration gives.
    public func limitsOf(_ configuration: Configuration) -> (storage: Int64, seats: Int, features: Set<String>) {
        guard let tier = catalog.tier(configuration.tier) else { return (0, 0, []) }
        var storage = Int64(tier.storageGB) * Int64(bytesPerGB), seats = tier.seats
        var features = Set(tier.features)
        for item in configuration.addons {
            guard let addon = catalog.addon(item.addon) else { continue }
            storage += Int64(addon.storageGB) * Int64(bytesPerGB) * Int64(item.quantity)
            seats += addon.seats * item.quantity
            if addon.kind == .feature, let feature = addon.feature { features.insert(feature) }
        }
        return (storage, seats, features)
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
