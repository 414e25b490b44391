/// A trialing account's conversion: the cheapest configuration on any tier (lower, same or higher
/// than the trial's) that covers what the trial really used — storage at the target utilization
/// after the horizon, seats for its active users, every feature used on enough days — priced from
/// nothing (`current_mrr` 0).
struct TrialConversionSource: OfferSource {
    func serves(_ status: AccountStatus) -> Bool { status == .trialing }

    func propose(_ context: PlanningContext, into plan: inout AccountPlan) {
        let requirement = Self.requirement(context.signals, policy: context.policy)
        if let reason = context.blocked[.trialConversion] { return context.suppress(.trialConversion, reason, in: &plan) }
        guard let solution = context.planner.cheapestOnAnyTier(meeting: requirement, discount: context.account.discount, kind: .trialConversion)
        else { return context.suppress(.trialConversion, .noViableOffer, in: &plan) }
        plan.offers.append(context.offer(solution, rank: 1, reasons: context.signals.flags, currentMRR: 0))
    }

    /// What the trial used: storage ≥ max(used, used + slope × horizon) / target (0 without samples),
    /// seats ≥ ceil(active users / target), and the features used on at least `demand_min_days` days.
    static func requirement(_ signals: AccountSignals, policy: Policy) -> Requirement {
        Requirement(
            storageBytes: signals.storageUsedBytes.map { StorageNeed.capacity(used: $0, slope: signals.storageGrowthBytesPerDay, policy: policy) } ?? 0,
            seats: SeatNeed.seats(activeUsers: signals.activeUsers, policy: policy),
            features: Set(usedFeatures(signals, policy: policy)))
    }

    /// Features used on at least `demand_min_days` days of the window, sorted.
    static func usedFeatures(_ signals: AccountSignals, policy: Policy) -> [String] {
        signals.featureDays.filter { $0.value >= policy.demandMinDays }.keys.sorted()
    }
}
