/// Tier upgrades and add-ons: the needs (storage, seats, feature demand) met together by the
/// cheapest configuration, and the cheapest of the other kind as the alternative. Low adoption
/// allows no upgrade unless storage is over the limit.
struct UpsellSource: OfferSource {
    func propose(_ context: PlanningContext, into plan: inout AccountPlan) {
        let needs = Needs(signals: context.signals, policy: context.policy)
        guard !needs.isEmpty else { return }
        let allowUpgrade = !context.signals.has(.lowAdoption) || context.signals.has(.storageOverLimit)
        let all = context.planner.solutions(for: context.current, tier: context.tier, needs: needs, discount: context.account.discount,
                                            allowUpgrade: allowUpgrade)
        guard !all.isEmpty else { return context.suppress(nil, .noViableOffer, in: &plan) }
        for kind in [OfferKind.tierUpgrade, .addon] where context.blocked[kind] != nil && all.contains(where: { $0.kind == kind }) {
            context.suppress(kind, context.blocked[kind]!, in: &plan)
        }
        let allowed = all.filter { context.blocked[$0.kind] == nil }
        guard var primary = allowed.first else { return }
        // An experiment's treatment arm makes its kind the primary offer when that kind has a solution.
        if let assignment = context.assignment, assignment.arm == .treatment,
           let kind = OfferKind(rawValue: assignment.experiment.primary.rawValue),
           let chosen = allowed.first(where: { $0.kind == kind }) {
            primary = chosen
        }
        plan.offers.append(context.offer(primary, rank: 1, reasons: needs.reasons))
        if let alternative = allowed.first(where: { $0.kind != primary.kind }) {
            plan.offers.append(context.offer(alternative, rank: 2, reasons: needs.reasons))
        }
    }
}
