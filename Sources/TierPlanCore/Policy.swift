/// The tunable numbers of the watcher, the planner and the forecast, with the contract's defaults.
/// Each can be overridden under `policy:` in the catalog by its snake_case key.
public struct Policy: Sendable, Equatable, Codable {
    /// Days with samples needed for a storage growth slope.
    public var minGrowthDays: Int = 7
    /// Distinct days of use in the window for an included feature to count as adopted.
    public var adoptionMinDays: Int = 3
    /// Distinct days of use in the window for a non-included feature to count as demanded.
    public var demandMinDays: Int = 2
    /// Utilization at which storage is near its limit.
    public var storageNearLimit: Double = 0.8
    /// Days to full at or under which storage is filling.
    public var storageFillingDays: Double = 30
    /// Seat utilization at which seats are near their limit.
    public var seatsNearLimit: Double = 0.9
    /// Adoption ratio under which adoption is low.
    public var lowAdoptionRatio: Double = 0.4
    /// Minimum account age in days on as_of for the low-adoption flag.
    public var minAccountAgeDays: Int = 28
    /// Days of growth the storage need plans ahead for.
    public var storageHorizonDays: Int = 90
    /// Utilization the storage need aims at after the change.
    public var storageTargetUtilization: Double = 0.8
    /// Utilization the seat need aims at after the change.
    public var seatTargetUtilization: Double = 0.8
    /// Days after a rejection or decline before the same kind may be offered again.
    public var cooldownDays: Int = 60
    /// Days after an acceptance during which no upsell is offered.
    public var recentlyAcceptedDays: Int = 60
    /// Percent of accounts held out of offers, chosen stably by account id.
    public var holdoutPercent: Double = 0
    /// Beta prior of the acceptance probability.
    public var acceptanceAlpha: Double = 2
    public var acceptanceBeta: Double = 8
    /// Monthly churn for the forecast; nil means derived from cancellations.
    public var monthlyChurn: Double?
    /// Gross margin of revenue, for the lifetime value (`metrics` `cltv`).
    public var grossMargin: Double = 0.8
    /// Days raw usage events are kept for (`tierplan usage prune`); the rollups planning reads are
    /// kept for good. Ingest is idempotent for events within this many days of the prune's as_of.
    public var rawRetentionDays: Int = 400
    /// How the acceptance probability is pooled per group (`policy.acceptance`).
    public var acceptance = AcceptancePolicy()
    /// Experiments on which kind is the primary offer (`policy.experiments`).
    public var experiments: [Experiment] = []
    /// The utilization thresholds of the usage alerts (`policy.alerts`).
    public var alerts = AlertPolicy()
    /// How often a webhook delivery is tried (`policy.webhooks`).
    public var webhooks = WebhookRetryPolicy()

    public init() {}

    /// Every overridable key, with how to set it. The order is the documentation order.
    public static let keys: [(key: String, isInteger: Bool, set: @Sendable (inout Policy, Double) -> Void)] = [
        ("min_growth_days", true, { $0.minGrowthDays = Int($1) }),
        ("adoption_min_days", true, { $0.adoptionMinDays = Int($1) }),
        ("demand_min_days", true, { $0.demandMinDays = Int($1) }),
        ("storage_near_limit", false, { $0.storageNearLimit = $1 }),
        ("storage_filling_days", false, { $0.storageFillingDays = $1 }),
        ("seats_near_limit", false, { $0.seatsNearLimit = $1 }),
        ("low_adoption_ratio", false, { $0.lowAdoptionRatio = $1 }),
        ("min_account_age_days", true, { $0.minAccountAgeDays = Int($1) }),
        ("storage_horizon_days", true, { $0.storageHorizonDays = Int($1) }),
        ("storage_target_utilization", false, { $0.storageTargetUtilization = $1 }),
        ("seat_target_utilization", false, { $0.seatTargetUtilization = $1 }),
        ("cooldown_days", true, { $0.cooldownDays = Int($1) }),
        ("recently_accepted_days", true, { $0.recentlyAcceptedDays = Int($1) }),
        ("holdout_percent", false, { $0.holdoutPercent = $1 }),
        ("acceptance_alpha", false, { $0.acceptanceAlpha = $1 }),
        ("acceptance_beta", false, { $0.acceptanceBeta = $1 }),
        ("monthly_churn", false, { $0.monthlyChurn = $1 }),
        ("gross_margin", false, { $0.grossMargin = $1 }),
        ("raw_retention_days", true, { $0.rawRetentionDays = Int($1) }),
    ]
}

/// Which accounts share an acceptance rate, and how much the kind's rate weighs against the group's
/// own outcomes (contract: Acceptance by segment): `acceptance: {by: segment, prior_strength: 20}`.
public struct AcceptancePolicy: Sendable, Equatable, Codable {
    /// The grouping of accounts: by segment, by tier, or none (one rate per kind).
    public enum Grouping: String, Sendable, Codable, CaseIterable { case segment, tier, none }
    public var by: Grouping = .segment
    /// κ: how many outcomes the kind-level rate counts as inside each group.
    public var priorStrength: Double = 20

    public init(by: Grouping = .segment, priorStrength: Double = 20) { self.by = by; self.priorStrength = priorStrength }
}

/// An experiment on the primary offer (contract: experiments): `share` of the accounts with offers,
/// chosen stably from the name and account id, get `primary` as their primary kind when both exist.
public struct Experiment: Sendable, Equatable, Codable {
    /// The kind the treatment arm makes primary; `cheapest` is the planner's own choice.
    public enum Primary: String, Sendable, Codable, CaseIterable { case cheapest, addon, tierUpgrade = "tier_upgrade" }
    public var name: String
    public var share: Double
    public var primary: Primary

    public init(name: String, share: Double = 0.5, primary: Primary = .cheapest) { self.name = name; self.share = share; self.primary = primary }
}
