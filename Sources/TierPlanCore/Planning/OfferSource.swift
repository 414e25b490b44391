/// One offer rule of the planner: what it proposes for an account, or why it does not. Adding an
/// offer kind is one source file (listed in `Planner.sources`) and one `OfferKind` case.
protocol OfferSource: Sendable {
    func propose(_ context: PlanningContext, into plan: inout AccountPlan)
    /// The account statuses it makes offers to (active, unless it says otherwise).
    func serves(_ status: AccountStatus) -> Bool
}

extension OfferSource {
    func serves(_ status: AccountStatus) -> Bool { status == .active }
}

/// What every source sees of one account (active or trialing) on as_of.
struct PlanningContext {
    let planner: Planner
    let account: Account
    let signals: AccountSignals
    let tier: Tier
    /// Kinds a guardrail stops, and why.
    let blocked: [OfferKind: SuppressionReason]
    let current: Configuration
    let currentMRR: MinorUnits
    let heldOut: Bool
    /// The account's experiment and arm (none when held out or without experiments).
    let assignment: (experiment: Experiment, arm: ExperimentArm)?

    init(planner: Planner, account: Account, signals: AccountSignals, tier: Tier, blocked: [OfferKind: SuppressionReason]) {
        self.planner = planner; self.account = account; self.signals = signals; self.tier = tier; self.blocked = blocked
        current = Configuration(tier: account.tier, addons: account.addons)
        currentMRR = account.mrr(in: planner.catalog)
        heldOut = Holdout.isHeldOut(account.id, percent: planner.catalog.policy.holdoutPercent)
        assignment = ExperimentArm.assignment(accountID: account.id, experiments: planner.catalog.policy.experiments, heldOut: heldOut)
    }

    var catalog: Catalog { planner.catalog }
    var policy: Policy { planner.catalog.policy }

    func suppress(_ kind: OfferKind?, _ reason: SuppressionReason, in plan: inout AccountPlan) {
        plan.suppressed.append(Suppression(accountID: account.id, kind: kind, reason: reason))
    }

    /// The offer of a solution: priced against today's configuration, with the learnt probability and its rationale.
    /// `currentMRR`: what the offer is priced against when not today's price (a trial's conversion: 0).
    func offer(_ solution: PricedSolution, rank: Int, reasons: [SignalFlag], oneTime: MinorUnits = 0, target: String? = nil,
               currentMRR: MinorUnits? = nil) -> PlannedOffer {
        let (add, remove) = Planner.difference(from: current.addons, to: solution.configuration.addons)
        let acceptance = planner.acceptance.estimate(solution.kind, group: planner.acceptance.group(of: account))
        var offer = PlannedOffer(
            accountID: account.id, kind: solution.kind, rank: rank, fromTier: account.tier, toTier: solution.configuration.tier,
            add: add, remove: remove, currentMRR: currentMRR ?? self.currentMRR, newMRR: solution.newMRR, oneTime: oneTime,
            acceptanceProbability: acceptance.probability, reasons: reasons, rationale: "",
            target: target ?? solution.configuration.target, heldOut: heldOut, kindProbability: acceptance.kindProbability)
        if solution.kind.isExpansion, let assignment {
            offer.experiment = assignment.experiment.name
            offer.arm = assignment.arm
        }
        offer.rationale = Rationale.sentence(for: offer, signals: signals, solution: solution, catalog: catalog)
            + " " + Rationale.acceptance(acceptance, catalog: catalog)
        return offer
    }
}

/// The guardrails per kind on as_of: an upsell accepted recently, a snooze still running, a refusal within the cooldown.
enum Guardrails {
    static func blocked(_ history: OfferHistory, asOf: Day, policy: Policy) -> [OfferKind: SuppressionReason] {
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
        return blocked
    }
}
