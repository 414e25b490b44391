import Foundation

/// What an offer sells: a higher tier, add-ons on the same tier, a one-time adoption service, or
/// the paid configuration a trialing account should convert to.
public enum OfferKind: String, Sendable, Codable, CaseIterable {
    case tierUpgrade = "tier_upgrade", addon, adoption, trialConversion = "trial_conversion"

    /// Upsells raise MRR (a trial's conversion too); adoption offers do not.
    public var isUpsell: Bool { self != .adoption }
    /// Expansion of a paying account's MRR: what experiments choose between, the forecast's uplift
    /// and realised expansion count (a trial's conversion is new MRR, which the history model covers).
    public var isExpansion: Bool { self == .tierUpgrade || self == .addon }
    /// The kind in words, for sentences: "tier upgrade".
    public var words: String { String(rawValue.map { $0 == "_" ? " " : $0 }) }
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

    /// Add-on units held (bundles count one each).
    public var units: Int { addons.reduce(0) { $0 + $1.quantity } }

    /// A canonical text used to recognise the same offer again: `team|seats_5:2;storage_100:1`.
    public var target: String {
        tier + "|" + addons.map { "\($0.addon):\($0.quantity)" }.joined(separator: ";")
    }
}

/// What a configuration must reach: storage bytes, seats, and features.
public struct Requirement: Sendable, Equatable {
    public var storageBytes: Int64
    public var seats: Int
    public var features: Set<String>
    public init(storageBytes: Int64, seats: Int, features: Set<String>) {
        self.storageBytes = storageBytes; self.seats = seats; self.features = features
    }
}

/// What one tier can be sold with: the cheapest feature add-on per feature, the storage and seat
/// packs and the bundles available on it, with what one of each gives.
struct TierOffering: Sendable {
    struct Bundle: Sendable {
        var code: String
        var price: MinorUnits
        var storage: Int64
        var seats: Int64
        var features: Set<String>
    }
    let tier: Tier
    let featureAddons: [String: Addon]
    let storagePacks: [(code: String, unit: Int64, price: MinorUnits)]
    let seatPacks: [(code: String, unit: Int64, price: MinorUnits)]
    let bundles: [Bundle]
    let price: [String: MinorUnits]

    init(tier: Tier, catalog: Catalog) {
        self.tier = tier
        let available = catalog.addons.filter { $0.isAvailable(on: tier.code) }.sorted { $0.code < $1.code }
        var featureAddons: [String: Addon] = [:]
        for addon in available where addon.kind == .feature {
            guard let feature = addon.feature else { continue }
            if let other = featureAddons[feature], (other.priceMonthly, other.code) <= (addon.priceMonthly, addon.code) { continue }
            featureAddons[feature] = addon
        }
        self.featureAddons = featureAddons
        storagePacks = available.filter { $0.kind == .storage }.map { ($0.code, Int64($0.storageGB) * Int64(bytesPerGB), $0.priceMonthly) }
        seatPacks = available.filter { $0.kind == .seats }.map { ($0.code, Int64($0.seats), $0.priceMonthly) }
        bundles = available.filter { $0.kind == .bundle }.map { addon in
            let gives = catalog.provision(addon)
            return Bundle(code: addon.code, price: addon.priceMonthly, storage: gives.storage, seats: Int64(gives.seats), features: gives.features)
        }
        price = Dictionary(uniqueKeysWithValues: available.map { ($0.code, $0.priceMonthly) })
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
    /// p_k, the kind-level probability alone (kept for calibration against the grouped one).
    public var kindProbability: Double = 0
    /// The experiment this offer's account takes part in, and its arm (upsells only).
    public var experiment: String? = nil
    public var arm: ExperimentArm? = nil

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

/// Acceptance probability per kind and group (contract: Acceptance by segment): the kind's rate
/// p_k = (α + accepted) / (α + β + accepted + declined) over its outcomes, pooled partially with
/// the group's own outcomes: p = (κ p_k + accepted_g) / (κ + accepted_g + declined_g).
public struct AcceptanceModel: Sendable, Equatable {
    /// Outcomes of one kind of offer to one group of accounts.
    public struct Key: Hashable, Sendable {
        public var kind: OfferKind
        public var group: String
        public init(_ kind: OfferKind, _ group: String) { self.kind = kind; self.group = group }
    }

    public var alpha: Double
    public var beta: Double
    public var outcomes: [OfferKind: (accepted: Int, declined: Int)]
    public var grouping: AcceptancePolicy.Grouping
    public var priorStrength: Double
    public var groupOutcomes: [Key: (accepted: Int, declined: Int)]

    public init(alpha: Double, beta: Double, outcomes: [OfferKind: (accepted: Int, declined: Int)] = [:],
                grouping: AcceptancePolicy.Grouping = .none, priorStrength: Double = 20, groupOutcomes: [Key: (accepted: Int, declined: Int)] = [:]) {
        self.alpha = alpha; self.beta = beta; self.outcomes = outcomes
        self.grouping = grouping; self.priorStrength = priorStrength; self.groupOutcomes = groupOutcomes
    }

    /// The model of a policy from outcomes counted per kind and group; the kind's totals are their sums.
    public init(policy: Policy, groupOutcomes: [Key: (accepted: Int, declined: Int)]) {
        var perKind: [OfferKind: (accepted: Int, declined: Int)] = [:]
        for (key, tally) in groupOutcomes {
            let sum = perKind[key.kind] ?? (0, 0)
            perKind[key.kind] = (sum.accepted + tally.accepted, sum.declined + tally.declined)
        }
        self.init(alpha: policy.acceptanceAlpha, beta: policy.acceptanceBeta, outcomes: perKind,
                  grouping: policy.acceptance.by, priorStrength: policy.acceptance.priorStrength,
                  groupOutcomes: policy.acceptance.by == .none ? [:] : groupOutcomes)
    }

    /// p_k: (α + accepted) / (α + β + accepted + declined) over every outcome of the kind.
    public func probability(_ kind: OfferKind) -> Double {
        let o = outcomes[kind] ?? (0, 0)
        return (alpha + Double(o.accepted)) / (alpha + beta + Double(o.accepted + o.declined))
    }

    /// The group an account's outcomes are counted in: its segment or its tier; nil without grouping.
    public func group(of account: Account) -> String? {
        switch grouping {
        case .segment: return account.segment
        case .tier: return account.tier
        case .none: return nil
        }
    }

    /// The probability for an offer of `kind` to an account of `group` (nil: the kind's rate alone).
    public func estimate(_ kind: OfferKind, group: String?) -> AcceptanceEstimate {
        let pk = probability(kind)
        guard let group else {
            let o = outcomes[kind] ?? (0, 0)
            return AcceptanceEstimate(kind: kind, grouping: .none, group: nil, outcomes: o.accepted + o.declined, probability: pk, kindProbability: pk)
        }
        let o = groupOutcomes[Key(kind, group)] ?? (0, 0)
        let p = (priorStrength * pk + Double(o.accepted)) / (priorStrength + Double(o.accepted + o.declined))
        return AcceptanceEstimate(kind: kind, grouping: grouping, group: group, outcomes: o.accepted + o.declined, probability: p, kindProbability: pk)
    }

    public static func == (a: AcceptanceModel, b: AcceptanceModel) -> Bool {
        func same(_ x: (accepted: Int, declined: Int)?, _ y: (accepted: Int, declined: Int)?) -> Bool {
            x?.accepted == y?.accepted && x?.declined == y?.declined
        }
        return a.alpha == b.alpha && a.beta == b.beta && a.grouping == b.grouping && a.priorStrength == b.priorStrength
            && OfferKind.allCases.allSatisfy { same(a.outcomes[$0], b.outcomes[$0]) }
            && Set(a.groupOutcomes.keys) == Set(b.groupOutcomes.keys) && a.groupOutcomes.keys.allSatisfy { same(a.groupOutcomes[$0], b.groupOutcomes[$0]) }
    }
}

/// One offer's acceptance probability and where it comes from (said in its rationale).
public struct AcceptanceEstimate: Sendable, Equatable {
    public var kind: OfferKind
    public var grouping: AcceptancePolicy.Grouping
    /// The account's segment or tier; nil when the kind's rate is used alone.
    public var group: String?
    /// Outcomes of this kind in the group (or of the kind, without a group).
    public var outcomes: Int
    public var probability: Double
    /// p_k, the kind-level rate the group's is pooled towards (for calibration against it).
    public var kindProbability: Double
}

/// Experiments (contract: experiments): which accounts are in which arm, stably.
public enum ExperimentArm: String, Sendable, Codable, CaseIterable {
    case treatment, control

    /// The experiment and arm of an account: none without experiments or for a held-out account;
    /// with several experiments each account takes part in one, chosen stably from its id, so that
    /// their treatments never mix; in it, treatment when the hash of name and id falls in `share`.
    public static func assignment(accountID: String, experiments: [Experiment], heldOut: Bool) -> (experiment: Experiment, arm: ExperimentArm)? {
        guard !heldOut, !experiments.isEmpty else { return nil }
        let experiment = experiments.count == 1 ? experiments[0]
            : experiments[Int(StableHash.fnv1a("experiments|" + accountID) % UInt64(experiments.count))]
        let bucket = Double(StableHash.fnv1a(experiment.name + "|" + accountID) % 10_000) / 10_000
        return (experiment, bucket < experiment.share ? .treatment : .control)
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

    /// What each tier can be sold with, in catalog order (built once per planner).
    let offerings: [TierOffering]

    public init(catalog: Catalog, asOf: Day, acceptance: AcceptanceModel) {
        self.catalog = catalog
        self.asOf = asOf
        self.acceptance = acceptance
        self.offerings = catalog.tiers.map { TierOffering(tier: $0, catalog: catalog) }
    }

    var policy: Policy { catalog.policy }

    /// The offer rules, in the order they add to a plan (each in its own file under Planning/).
    static let sources: [any OfferSource] = [UpsellSource(), AdoptionSource(), TrialConversionSource()]

    public func plan(account: Account, signals: AccountSignals, history: OfferHistory = OfferHistory()) -> AccountPlan {
        var plan = AccountPlan()
        guard account.status == .active || account.status == .trialing, let tier = catalog.tier(account.tier) else { return plan }
        let context = PlanningContext(planner: self, account: account, signals: signals, tier: tier,
                                      blocked: Guardrails.blocked(history, asOf: asOf, policy: policy))
        for source in Self.sources where source.serves(account.status) { source.propose(context, into: &plan) }
        return plan
    }

    /// Every configuration on the current tier or a higher one that meets the needs without lowering
    /// the storage or seat limit or losing a feature, cheapest first (ties: the lower tier).
    public func solutions(for current: Configuration, tier currentTier: Tier, needs: Needs, discount: Discount, allowUpgrade: Bool) -> [PricedSolution] {
        let limits = limitsOf(current)
        // A flagged need always asks for more than today's limit: at exactly the near-limit edge
        // (used / 0.8 = limit) the formula alone would be met by the current configuration.
        let requirement = Requirement(
            storageBytes: needs.storageBytes.map { max($0, limits.storage + 1) } ?? limits.storage,
            seats: needs.seats.map { max($0, limits.seats + 1) } ?? limits.seats,
            features: limits.features.union(needs.features))
        var result: [PricedSolution] = []
        for offering in offerings where offering.tier.rank >= currentTier.rank && (allowUpgrade || offering.tier.rank == currentTier.rank) {
            guard let solution = cheapest(on: offering, meeting: requirement, discount: discount, kind: offering.tier.rank == currentTier.rank ? .addon : .tierUpgrade),
                  solution.configuration != current else { continue }
            let newLimits = limitsOf(solution.configuration)
            // Guaranteed by construction; kept as a check on the invariant.
            guard newLimits.storage >= limits.storage, newLimits.seats >= limits.seats, newLimits.features.isSuperset(of: limits.features) else { continue }
            result.append(solution)
        }
        return result.sorted(by: Self.cheaperFirst)
    }

    /// The cheapest configuration on any tier that meets the requirement (ties: the lower tier), for
    /// an account that holds nothing yet (a trial's conversion).
    public func cheapestOnAnyTier(meeting requirement: Requirement, discount: Discount, kind: OfferKind) -> PricedSolution? {
        offerings.compactMap { cheapest(on: $0, meeting: requirement, discount: discount, kind: kind) }.min(by: Self.cheaperFirst)
    }

    /// Price, then tier rank, then fewer units, then the canonical target: the one order of solutions.
    static func cheaperFirst(_ a: PricedSolution, _ b: PricedSolution) -> Bool {
        (a.newMRR, a.tierRank, a.configuration.units, a.configuration.target) < (b.newMRR, b.tierRank, b.configuration.units, b.configuration.target)
    }

    /// The cheapest add-ons on one tier that reach the required storage, seats and features, or nil.
    /// Bundles are tried in every useful quantity (up to the quantity that alone covers what they
    /// provide, pruned by the best price so far); what they leave is bought as single add-ons: the
    /// cheapest feature add-on per missing feature and the cheapest cover of storage and of seats,
    /// which are independent of each other once the bundles are chosen.
    func cheapest(on offering: TierOffering, meeting requirement: Requirement, discount: Discount, kind: OfferKind) -> PricedSolution? {
        let tier = offering.tier
        let storageDeficit = requirement.storageBytes - Int64(tier.storageGB) * Int64(bytesPerGB)
        let seatDeficit = Int64(requirement.seats - tier.seats)
        let missing = requirement.features.subtracting(tier.features)
        var best: (gross: MinorUnits, units: Int, target: String, addons: [AddonQuantity])?

        func complete(_ bundles: [AddonQuantity], gross: MinorUnits, storage: Int64, seats: Int64, features: Set<String>) {
            var addons = bundles, total = gross
            for feature in missing.subtracting(features).sorted() {
                guard let addon = offering.featureAddons[feature] else { return }
                addons.append(AddonQuantity(addon: addon.code, quantity: 1)); total += addon.priceMonthly
            }
            guard let storagePacks = Self.cheapestCover(deficit: storageDeficit - storage, packs: offering.storagePacks),
                  let seatPacks = Self.cheapestCover(deficit: seatDeficit - seats, packs: offering.seatPacks) else { return }
            for item in storagePacks + seatPacks {
                // A price past Int is no solution (only absurd needs or prices get there).
                let (cost, o1) = offering.price[item.addon]!.multipliedReportingOverflow(by: item.quantity)
                let (sum, o2) = total.addingReportingOverflow(cost)
                guard !o1, !o2 else { return }
                total = sum
            }
            let configuration = Configuration(tier: tier.code, addons: addons + storagePacks + seatPacks)
            let candidate = (total, configuration.units, configuration.target, configuration.addons)
            if best == nil || (candidate.0, candidate.1, candidate.2) < (best!.gross, best!.units, best!.target) { best = candidate }
        }
        func search(_ index: Int, _ chosen: [AddonQuantity], gross: MinorUnits, storage: Int64, seats: Int64, features: Set<String>) {
            if let best, gross > best.gross { return }
            guard index < offering.bundles.count else {
                return complete(chosen, gross: gross, storage: storage, seats: seats, features: features)
            }
            let bundle = offering.bundles[index]
            var useful = bundle.features.isDisjoint(with: missing.subtracting(features)) ? 0 : 1
            if bundle.storage > 0, storageDeficit > storage { useful = max(useful, Int((storageDeficit - storage + bundle.storage - 1) / bundle.storage)) }
            if bundle.seats > 0, seatDeficit > seats { useful = max(useful, Int((seatDeficit - seats + bundle.seats - 1) / bundle.seats)) }
            for quantity in 0...useful {
                // Prices are never negative: once one more bundle costs more than the best, so do all after it.
                let (price, o1) = bundle.price.multipliedReportingOverflow(by: quantity)
                let (total, o2) = gross.addingReportingOverflow(price)
                if o1 || o2 { break }
                if let best, total > best.gross { break }
                search(index + 1, quantity == 0 ? chosen : chosen + [AddonQuantity(addon: bundle.code, quantity: quantity)],
                       gross: total, storage: storage + bundle.storage * Int64(quantity),
                       seats: seats + bundle.seats * Int64(quantity), features: quantity == 0 ? features : features.union(bundle.features))
            }
        }
        search(0, [], gross: tier.priceMonthly, storage: 0, seats: 0, features: [])
        guard let best else { return nil }
        let configuration = Configuration(tier: tier.code, addons: best.addons)
        let limits = limitsOf(configuration)
        return PricedSolution(configuration: configuration, kind: kind, tierRank: tier.rank,
                              newMRR: discount.apply(to: best.gross), storageLimitBytes: limits.storage, seatLimit: limits.seats)
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
                let (price, o1) = pack.price.multipliedReportingOverflow(by: needed)
                let (total, o2) = cost.addingReportingOverflow(price)
                guard !o1, !o2 else { return }   // past Int: no cover
                let totalUnits = units + needed
                if best == nil || (total, totalUnits) < (best!.cost, best!.units) { best = (total, totalUnits, quantities + [needed]) }
                return
            }
            for quantity in 0...needed {
                let (price, o1) = pack.price.multipliedReportingOverflow(by: quantity)
                let (total, o2) = cost.addingReportingOverflow(price)
                if o1 || o2 { break }
                if let best, total > best.cost { break }   // prices are never negative: more of this pack only costs more
                search(index + 1, remaining: remaining - Int64(quantity) * pack.unit, cost: total,
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
