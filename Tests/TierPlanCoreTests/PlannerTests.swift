import TierPlanCore
import XCTest

final class PlannerTests: XCTestCase {
    let model = AcceptanceModel(alpha: 2, beta: 8)

    func planner(_ catalog: Catalog = sampleCatalog, acceptance: AcceptanceModel? = nil) -> Planner {
        Planner(catalog: catalog, asOf: asOf, acceptance: acceptance ?? model)
    }

    func signals(_ a: Account, used: Int64? = nil, growthPerDay: Int64 = 0, users: Int = 0, features: [String: Int] = [:]) -> AccountSignals {
        var points: [(day: Int, bytes: Int64)] = []
        if let used { points = (0..<28).map { (day: $0, bytes: used - Int64(27 - $0) * growthPerDay) } }
        var days = features
        if days.isEmpty { for f in sampleCatalog.tier(a.tier)!.features { days[f] = 10 } }   // adopted by default
        return Watcher.signals(for: a, usage: UsageSummary(storageUsedBytes: used, dailyMaxStorage: points, featureDays: days, activeUsers: users),
                               catalog: sampleCatalog, asOf: asOf)
    }

    func testSeatRequirementRounding() {
        let policy = Policy()
        func seats(_ users: Int) -> Int? {
            Needs(signals: signals(account(tier: "team"), users: users), policy: policy).seats
        }
        XCTAssertEqual(seats(18), 23)   // 18 / 0.8 = 22.5 → 23
        XCTAssertEqual(seats(20), 25)   // exactly 25, not 26 from floating point
        XCTAssertEqual(seats(24), 30)
        XCTAssertNil(seats(10))
    }

    func testStorageRequirementUsesGrowthOverTheHorizon() {
        let s = signals(account(), used: 85 * GB, growthPerDay: GB)
        // max(85, 85 + 1 × 90) / 0.8 = 218.75 GB
        XCTAssertEqual(Needs(signals: s, policy: Policy()).storageBytes, 218_750_000_000)
        let flat = signals(account(), used: 85 * GB)
        XCTAssertEqual(Needs(signals: flat, policy: Policy()).storageBytes, 106_250_000_000)
        let shrinking = signals(account(), used: 90 * GB, growthPerDay: -GB)
        XCTAssertEqual(Needs(signals: shrinking, policy: Policy()).storageBytes, 112_500_000_000, "never below used / 0.8")
    }

    func testExactlyAtTheNearLimitEdgeStillAsksForMoreStorage() {
        // 80 of 100 GB, flat: 80 / 0.8 = 100 GB is today's limit, yet the account is flagged;
        // the cheapest way to more room is one storage pack, with the tier upgrade as alternative.
        let a = account()
        let plan = planner().plan(account: a, signals: signals(a, used: 80 * GB))
        XCTAssertEqual(plan.offers.map(\.kind), [.addon, .tierUpgrade])
        XCTAssertEqual(plan.offers.first?.add, [AddonQuantity(addon: "storage_100", quantity: 1)])
        XCTAssertEqual(plan.offers.first?.newMRR, 3900)
    }

    func testCheapestSolutionIsPrimaryAndOtherKindIsAlternative() throws {
        // 85 GB used, flat: needs 106.25 GB → starter + 1 × storage_100 = 3900; team = 7900.
        let a = account()
        let plan = planner().plan(account: a, signals: signals(a, used: 85 * GB))
        XCTAssertEqual(plan.offers.count, 2)
        let primary = plan.offers[0], alternative = plan.offers[1]
        XCTAssertEqual(primary.kind, .addon)
        XCTAssertEqual(primary.rank, 1)
        XCTAssertEqual(primary.add, [AddonQuantity(addon: "storage_100", quantity: 1)])
        XCTAssertEqual(primary.newMRR, 3900)
        XCTAssertEqual(primary.deltaMRR, 1000)
        XCTAssertEqual(alternative.kind, .tierUpgrade)
        XCTAssertEqual(alternative.toTier, "team")
        XCTAssertEqual(alternative.newMRR, 7900)
        XCTAssertEqual(alternative.rank, 2)
        XCTAssertEqual(primary.reasons, [.storageNearLimit])
        XCTAssertEqual(primary.acceptanceProbability, 0.2)
        XCTAssertEqual(primary.expectedDeltaMRR, 200)
        XCTAssertTrue(primary.rationale.contains("Storage at 85% of 100 GB"), primary.rationale)
        XCTAssertTrue(primary.rationale.contains("$29.00 → $39.00 a month (+$10.00)"), primary.rationale)
    }

    func testTiesGoToTheLowerTier() {
        // A catalog where 5 storage packs on starter cost exactly the team price.
        var catalog = sampleCatalog
        catalog.addons[0].priceMonthly = 1000
        catalog.tiers[1].priceMonthly = 2900 + 5 * 1000
        let a = account()
        // Needs 500 GB: starter + 4 packs = 6900 vs team 7900; make it need exactly 5 packs: used 480 GB → 600 GB.
        let s = signals(a, used: 480 * GB)
        let solutions = planner(catalog).solutions(for: Configuration(tier: "starter", addons: []), tier: catalog.tiers[0],
                                                   needs: Needs(signals: s, policy: catalog.policy), discount: .none, allowUpgrade: true)
        XCTAssertEqual(solutions.first?.newMRR, 7900)
        XCTAssertEqual(solutions.first?.configuration.tier, "starter", "tie: the lower tier wins")
        XCTAssertEqual(solutions.first?.configuration.addons, [AddonQuantity(addon: "storage_100", quantity: 5)])
    }

    func testPricingAppliesTheDiscountWithHalfUpRounding() {
        let a = account(discount: Discount(percentText: "12.5")!)
        let plan = planner().plan(account: a, signals: signals(a, used: 85 * GB))
        XCTAssertEqual(plan.offers[0].currentMRR, 2538)   // 2900 × 0.875 = 2537.5 → 2538
        XCTAssertEqual(plan.offers[0].newMRR, 3413)       // 3900 × 0.875 = 3412.5 → 3413
        XCTAssertEqual(plan.offers[0].deltaMRR, 875)
    }

    func testFeatureAddonDroppedWhenTheTargetTierIncludesIt() {
        // On team with automation add-on; seats crowd: business includes automation, so the add-on goes.
        var catalog = sampleCatalog
        catalog.tiers.append(Tier(code: "business", name: "Business", rank: 2, priceMonthly: 12_000, storageGB: 2000, seats: 50,
                                  features: ["reports", "sharing", "automation"]))
        catalog.addons[1].availableOn = ["starter"]   // no seat packs on team: only the upgrade solves it
        let a = account(tier: "team", addons: [AddonQuantity(addon: "automation", quantity: 1)])
        let s = Watcher.signals(for: a, usage: UsageSummary(featureDays: ["reports": 9, "sharing": 9, "automation": 9], activeUsers: 19),
                                catalog: catalog, asOf: asOf)
        let plan = planner(catalog).plan(account: a, signals: s)
        XCTAssertEqual(plan.offers.count, 1)
        XCTAssertEqual(plan.offers[0].toTier, "business")
        XCTAssertEqual(plan.offers[0].remove, [AddonQuantity(addon: "automation", quantity: 1)])
        XCTAssertEqual(plan.offers[0].add, [])
        XCTAssertEqual(plan.offers[0].currentMRR, 9900)
        XCTAssertEqual(plan.offers[0].newMRR, 12_000)
    }

    func testDemandForAFeatureAddon() {
        let a = account(tier: "team")
        let s = signals(a, features: ["reports": 9, "sharing": 9, "automation": 4])
        let plan = planner().plan(account: a, signals: s)
        XCTAssertEqual(plan.offers.map(\.kind), [.addon])
        XCTAssertEqual(plan.offers[0].add, [AddonQuantity(addon: "automation", quantity: 1)])
        XCTAssertEqual(plan.offers[0].reasons, [.featureDemand])
    }

    func testNeverLosesAFeatureOrLowersALimit() {
        // Starter with 3 storage packs (400 GB) and seat crowding: team has 500 GB, so packs can go, but not below 400.
        let a = account(addons: [AddonQuantity(addon: "storage_100", quantity: 3)])
        let s = signals(a, used: 100 * GB, users: 5, features: ["reports": 9])
        let plan = planner().plan(account: a, signals: s)
        for offer in plan.offers {
            let limits = planner().limitsOf(Configuration(tier: offer.toTier, addons: applying(offer, to: a.addons)))
            XCTAssertGreaterThanOrEqual(limits.storage, 400 * GB)
            XCTAssertGreaterThanOrEqual(limits.seats, 7)
            XCTAssertTrue(limits.features.contains("reports"))
        }
        XCTAssertEqual(plan.offers.first?.kind, .addon, "starter + 1 seat pack (7400) beats team (7900)")
    }

    func applying(_ offer: PlannedOffer, to addons: [AddonQuantity]) -> [AddonQuantity] {
        var q: [String: Int] = [:]
        for a in addons { q[a.addon, default: 0] += a.quantity }
        for a in offer.add { q[a.addon, default: 0] += a.quantity }
        for a in offer.remove { q[a.addon, default: 0] -= a.quantity }
        return q.map { AddonQuantity(addon: $0.key, quantity: $0.value) }
    }

    func testNoViableOffer() {
        // Demand for a feature nobody sells on any tier.
        var catalog = sampleCatalog
        catalog.features.append(Feature(key: "sso", name: "SSO"))
        let a = account(tier: "team")
        let s = Watcher.signals(for: a, usage: UsageSummary(featureDays: ["reports": 9, "sharing": 9, "sso": 9]), catalog: catalog, asOf: asOf)
        let plan = planner(catalog).plan(account: a, signals: s)
        XCTAssertEqual(plan.offers, [])
        XCTAssertEqual(plan.suppressed, [Suppression(accountID: "acme", kind: nil, reason: .noViableOffer)])
    }

    func testLowAdoptionGetsOnboardingAndNoUpgradeUnlessOverTheLimit() {
        let a = account(tier: "team")
        // Uses nothing much, storage near the limit: addon offers only (storage pack), plus onboarding.
        let near = signals(a, used: 450 * GB, features: ["reports": 1])
        XCTAssertTrue(near.has(.lowAdoption))
        let plan = planner().plan(account: a, signals: near)
        XCTAssertEqual(plan.offers.map(\.kind), [.addon, .adoption])
        let adoption = plan.offers[1]
        XCTAssertEqual(adoption.add, [AddonQuantity(addon: "onboarding", quantity: 1)])
        XCTAssertEqual(adoption.oneTime, 49_900)
        XCTAssertEqual(adoption.deltaMRR, 0)
        XCTAssertEqual(adoption.reasons, [.lowAdoption])
        // Over the limit: the upgrade is allowed again.
        let over = signals(a, used: 520 * GB, features: ["reports": 1])
        XCTAssertTrue(planner().plan(account: a, signals: over).offers.contains { $0.kind == .tierUpgrade } == false,
                      "sample catalog has no tier above team")
        let starter = account()
        let overStarter = signals(starter, used: 120 * GB, features: ["reports": 1])
        XCTAssertTrue(overStarter.has(.lowAdoption))
        XCTAssertTrue(planner().plan(account: starter, signals: overStarter).offers.contains { $0.kind == .tierUpgrade })
        let nearStarter = signals(starter, used: 85 * GB, features: ["reports": 1])
        XCTAssertFalse(planner().plan(account: starter, signals: nearStarter).offers.contains { $0.kind == .tierUpgrade })
        // Only adoption when nothing else is needed.
        XCTAssertEqual(planner().plan(account: a, signals: signals(a, features: ["reports": 1])).offers.map(\.kind), [.adoption])
    }

    func testOnlyActiveAccountsGetUpsellsAndOnlyTrialsAConversion() {
        for status in [AccountStatus.pastDue, .canceled] {
            let a = account(status: status)
            XCTAssertEqual(planner().plan(account: a, signals: signals(a, used: 99 * GB)), AccountPlan(), status.rawValue)
        }
        let trial = account(status: .trialing)
        XCTAssertEqual(planner().plan(account: trial, signals: signals(trial, used: 99 * GB)).offers.map(\.kind), [.trialConversion])
        let active = account()
        XCTAssertFalse(planner().plan(account: active, signals: signals(active, used: 99 * GB)).offers.contains { $0.kind == .trialConversion })
    }

    func testCooldownAtDay60And61() {
        let a = account()
        let s = signals(a, used: 85 * GB)
        let day60 = OfferHistory(lastRefusal: [.addon: asOf.adding(days: -60)])
        let plan60 = planner().plan(account: a, signals: s, history: day60)
        XCTAssertEqual(plan60.offers.map(\.kind), [.tierUpgrade], "addon cools down; the other kind is still offered")
        XCTAssertEqual(plan60.offers.first?.rank, 1)
        XCTAssertEqual(plan60.suppressed, [Suppression(accountID: "acme", kind: .addon, reason: .cooldown)])
        let day61 = OfferHistory(lastRefusal: [.addon: asOf.adding(days: -61)])
        XCTAssertEqual(planner().plan(account: a, signals: s, history: day61).offers.map(\.kind), [.addon, .tierUpgrade])
        let future = OfferHistory(lastRefusal: [.addon: asOf.adding(days: 1)])
        XCTAssertEqual(planner().plan(account: a, signals: s, history: future).offers.map(\.kind), [.addon, .tierUpgrade],
                       "a decision after as_of is not counted")
    }

    func testSnoozeBeforeAndAfterItsDate() {
        let a = account()
        let s = signals(a, used: 85 * GB)
        let before = planner().plan(account: a, signals: s, history: OfferHistory(snoozedUntil: [.addon: asOf.adding(days: 1)]))
        XCTAssertEqual(before.suppressed, [Suppression(accountID: "acme", kind: .addon, reason: .snoozed)])
        let on = planner().plan(account: a, signals: s, history: OfferHistory(snoozedUntil: [.addon: asOf]))
        XCTAssertEqual(on.suppressed, [])
        XCTAssertEqual(on.offers.map(\.kind), [.addon, .tierUpgrade])
    }

    func testRecentlyAcceptedBlocksUpsellsButNotOnboarding() {
        let a = account()
        let s = signals(a, used: 85 * GB, features: ["reports": 1])
        let plan = planner().plan(account: a, signals: s, history: OfferHistory(lastAcceptance: asOf.adding(days: -10)))
        XCTAssertEqual(plan.offers.map(\.kind), [.adoption])
        XCTAssertEqual(Set(plan.suppressed.map(\.reason)), [.recentlyAccepted])
        let later = planner().plan(account: a, signals: s, history: OfferHistory(lastAcceptance: asOf.adding(days: -61)))
        XCTAssertEqual(later.offers.map(\.kind), [.addon, .adoption])
    }

    func testProbabilityAfterOutcomes() {
        XCTAssertEqual(model.probability(.addon), 0.2)
        let learnt = AcceptanceModel(alpha: 2, beta: 8, outcomes: [.addon: (accepted: 3, declined: 7), .tierUpgrade: (accepted: 0, declined: 10)])
        XCTAssertEqual(learnt.probability(.addon), 0.25)        // (2 + 3) / (2 + 8 + 10)
        XCTAssertEqual(learnt.probability(.tierUpgrade), 0.1)   // 2 / 20
        XCTAssertEqual(learnt.probability(.adoption), 0.2)
        let a = account()
        let offer = planner(acceptance: learnt).plan(account: a, signals: signals(a, used: 85 * GB)).offers[0]
        XCTAssertEqual(offer.acceptanceProbability, 0.25)
        XCTAssertEqual(offer.expectedDeltaMRR, 250)
    }

    func testAbsurdAmountsNeverTrap() {
        // Discounts on amounts near the top of Int: exact, from a 128-bit product.
        // 4,611,686,018,427,387,903 × 0.9 = 4,150,517,416,584,649,112.7
        XCTAssertEqual(Discount(basisPoints: 1000).apply(to: Int.max / 2), 4_150_517_416_584_649_113)
        XCTAssertEqual(Discount(basisPoints: 1250).apply(to: 8), 7)            // 7.0 exactly
        XCTAssertEqual(Discount(basisPoints: 5000).apply(to: 3), 2)            // 1.5 rounds half up
        XCTAssertEqual(Discount.none.apply(to: Int.max), Int.max)
        // A storage sample at the top of Int64: the need is capped, and the plan is made without a trap.
        let s = signals(account(), used: Int64.max)
        XCTAssertEqual(Needs(signals: s, policy: Policy()).storageBytes, 1 << 60, "about an exabyte")
        let plan = planner().plan(account: account(), signals: s)
        XCTAssertTrue(plan.offers.allSatisfy { $0.deltaMRR > 0 }, "\(plan)")
    }

    func testHoldoutIsStableAndProportional() {
        let ids = (0..<10_000).map { "acct-\($0)" }
        let held = ids.filter { Holdout.isHeldOut($0, percent: 10) }
        XCTAssertEqual(Double(held.count) / 10_000, 0.1, accuracy: 0.015)
        XCTAssertEqual(held, ids.filter { Holdout.isHeldOut($0, percent: 10) })
        XCTAssertTrue(ids.allSatisfy { !Holdout.isHeldOut($0, percent: 0) })
        XCTAssertTrue(ids.allSatisfy { Holdout.isHeldOut($0, percent: 100) })
        var catalog = sampleCatalog
        catalog.policy.holdoutPercent = 100
        let a = account()
        XCTAssertTrue(planner(catalog).plan(account: a, signals: signals(a, used: 85 * GB)).offers.allSatisfy(\.heldOut))
    }

    func testReconciliationKeepsRefreshesReplacesAndExpires() {
        let a = account()
        let plan = planner().plan(account: a, signals: signals(a, used: 85 * GB))
        let addon = plan.offers[0], upgrade = plan.offers[1]
        let existing = [
            ExistingOffer(id: "1", accountID: "acme", kind: .addon, target: addon.target, status: .proposed),
            ExistingOffer(id: "2", accountID: "acme", kind: .tierUpgrade, target: "team|old", status: .proposed),
            ExistingOffer(id: "3", accountID: "globex", kind: .addon, target: "x", status: .proposed),
            ExistingOffer(id: "4", accountID: "globex", kind: .tierUpgrade, target: "y", status: .approved),
        ]
        let r = Reconciliation.reconcile(planned: plan.offers, existing: existing)
        XCTAssertEqual(r.refreshes.map(\.id), ["1"])
        XCTAssertEqual(r.inserts, [upgrade])
        XCTAssertEqual(Set(r.expirations.map(\.id)), ["2", "3"])
        // An approved offer with another target is kept as it is; nothing new of that kind.
        let approved = [ExistingOffer(id: "5", accountID: "acme", kind: .tierUpgrade, target: "team|old", status: .approved)]
        let kept = Reconciliation.reconcile(planned: [upgrade], existing: approved)
        XCTAssertEqual(kept.inserts, [])
        XCTAssertEqual(kept.keptApproved.map(\.id), ["5"])
        XCTAssertEqual(kept.expirations, [])
    }

    func testOfferLifeTransitions() throws {
        XCTAssertEqual(try OfferLife.next(from: .proposed, .approve), .approved)
        XCTAssertEqual(try OfferLife.next(from: .proposed, .reject(reason: "no budget")), .rejected)
        XCTAssertEqual(try OfferLife.next(from: .proposed, .snooze(until: asOf)), .snoozed)
        XCTAssertEqual(try OfferLife.next(from: .snoozed, .unsnooze), .proposed)
        XCTAssertEqual(try OfferLife.next(from: .approved, .accept), .accepted)
        XCTAssertEqual(try OfferLife.next(from: .approved, .decline(reasonCode: .price)), .declined)
        XCTAssertEqual(try OfferLife.next(from: .approved, .expire), .expired)
        for (status, decision) in [(OfferStatus.approved, OfferDecision.approve), (.rejected, .approve), (.proposed, .accept),
                                   (.accepted, .decline(reasonCode: .price)), (.expired, .approve), (.heldOut, .approve), (.snoozed, .approve)] {
            XCTAssertThrowsError(try OfferLife.next(from: status, decision), "\(status) \(decision)")
        }
    }
}
