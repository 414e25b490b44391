/// Low adoption: enablement instead of an upsell — the cheapest service add-on available on the
/// tier, sold once, the monthly price unchanged.
struct AdoptionSource: OfferSource {
    func propose(_ context: PlanningContext, into plan: inout AccountPlan) {
        guard context.signals.has(.lowAdoption) else { return }
        if let reason = context.blocked[.adoption] { return context.suppress(.adoption, reason, in: &plan) }
        let services = context.catalog.addons.filter { $0.kind == .service && $0.isAvailable(on: context.tier.code) }
            .sorted { ($0.priceOnce, $0.code) < ($1.priceOnce, $1.code) }
        guard let service = services.first else { return context.suppress(.adoption, .noViableOffer, in: &plan) }
        let solution = PricedSolution(
            configuration: Configuration(tier: context.tier.code, addons: context.current.addons + [AddonQuantity(addon: service.code, quantity: 1)]),
            kind: .adoption, tierRank: context.tier.rank, newMRR: context.currentMRR,
            storageLimitBytes: context.signals.storageLimitBytes, seatLimit: context.signals.seatLimit)
        plan.offers.append(context.offer(solution, rank: plan.offers.count + 1, reasons: [.lowAdoption], oneTime: service.priceOnce,
                                         target: "adoption|" + service.code))
    }
}
