import TierPlanCore
import XCTest

/// The solver with bundles against brute force: on small random catalogs every configuration of
/// every tier is enumerated, and the solver's cheapest (per kind, and for a trial on any tier) must
/// cost exactly what the cheapest enumerated one costs, on the same tier when prices tie.
final class BundleSolverTests: XCTestCase {
    let features = ["f1", "f2", "f3", "f4"]

    /// A catalog of 2–3 tiers, a few single add-ons and 1–3 bundles of them, each bundle only on
    /// tiers where all its add-ons are available.
    func randomCatalog(_ rng: inout SplitMix64) -> Catalog {
        var tiers: [Tier] = [], price = 0, storage = 0, seats = 0
        var tierFeatures: [String] = []
        for rank in 0..<Int.random(in: 2...3, using: &rng) {
            price += Int.random(in: 1...6, using: &rng) * 1000
            storage += Int.random(in: 1...3, using: &rng) * 100
            seats += Int.random(in: 1...5, using: &rng)
            if tierFeatures.count < features.count, Bool.random(using: &rng) { tierFeatures.append(features[tierFeatures.count]) }
            tiers.append(Tier(code: "t\(rank)", name: "T\(rank)", rank: rank, priceMonthly: price, storageGB: storage, seats: seats, features: tierFeatures))
        }
        func availability() -> [String]? {
            guard Int.random(in: 0..<3, using: &rng) == 0 else { return nil }
            let some = tiers.map(\.code).filter { _ in Bool.random(using: &rng) }
            return some.isEmpty ? nil : some
        }
        var singles: [Addon] = []
        for i in 0..<Int.random(in: 0...2, using: &rng) {
            singles.append(Addon(code: "s\(i)", name: "s\(i)", kind: .storage, storageGB: Int.random(in: 1...3, using: &rng) * 100,
                                 priceMonthly: Int.random(in: 1...30, using: &rng) * 100, availableOn: availability()))
        }
        for i in 0..<Int.random(in: 0...1, using: &rng) {
            singles.append(Addon(code: "p\(i)", name: "p\(i)", kind: .seats, seats: Int.random(in: 2...5, using: &rng),
                                 priceMonthly: Int.random(in: 1...30, using: &rng) * 100, availableOn: availability()))
        }
        for i in 0..<Int.random(in: 1...2, using: &rng) {
            singles.append(Addon(code: "x\(i)", name: "x\(i)", kind: .feature, feature: features.randomElement(using: &rng)!,
                                 priceMonthly: Int.random(in: 1...30, using: &rng) * 100, availableOn: availability()))
        }
        var bundles: [Addon] = []
        for i in 0..<Int.random(in: 1...3, using: &rng) {
            let parts = singles.filter { _ in Bool.random(using: &rng) }
            guard !parts.isEmpty else { continue }
            let on = tiers.map(\.code).filter { tier in parts.allSatisfy { $0.isAvailable(on: tier) } && Int.random(in: 0..<4, using: &rng) > 0 }
            guard !on.isEmpty else { continue }
            let contents = parts.map { AddonQuantity(addon: $0.code, quantity: Int.random(in: 1...2, using: &rng)) }
            // Priced from half to a little over the sum of its parts, so that bundles win often.
            let partsPrice = zip(parts, contents).reduce(0) { $0 + $1.0.priceMonthly * $1.1.quantity }
            bundles.append(Addon(code: "b\(i)", name: "b\(i)", kind: .bundle, priceMonthly: partsPrice * Int.random(in: 50...110, using: &rng) / 100,
                                 availableOn: on.count == tiers.count && parts.allSatisfy { $0.availableOn == nil } ? nil : on,
                                 contents: contents))
        }
        return Catalog(currency: "USD", features: features.map { Feature(key: $0, name: $0) }, tiers: tiers, addons: singles + bundles)
    }

    /// Every configuration of a tier: each add-on available on it (no services) in 0…bound, where
    /// the bound is what that add-on alone needs to cover the largest deficit the test asks for.
    func configurations(on tier: Tier, catalog: Catalog, maxStorage: Int64, maxSeats: Int) -> [Configuration] {
        let available = catalog.addons.filter { $0.kind != .service && $0.isAvailable(on: tier.code) }
        let bounds = available.map { addon -> Int in
            let gives = catalog.provision(addon)
            var bound = gives.features.isEmpty ? 0 : 1
            if gives.storage > 0 { bound = max(bound, Int((maxStorage + gives.storage - 1) / gives.storage)) }
            if gives.seats > 0 { bound = max(bound, (maxSeats + gives.seats - 1) / gives.seats) }
            return bound
        }
        var result: [Configuration] = []
        func walk(_ i: Int, _ chosen: [AddonQuantity]) {
            guard i < available.count else { return result.append(Configuration(tier: tier.code, addons: chosen)) }
            for q in 0...bounds[i] { walk(i + 1, q == 0 ? chosen : chosen + [AddonQuantity(addon: available[i].code, quantity: q)]) }
        }
        walk(0, [])
        return result
    }

    func meets(_ limits: Limits, storage: Int64, seats: Int, features: Set<String>) -> Bool {
        limits.storage >= storage && limits.seats >= seats && limits.features.isSuperset(of: features)
    }

    func testTheCheapestSolutionMatchesBruteForceOnRandomCatalogsWithBundles() {
        var rng = SplitMix64(seed: 17)
        var checked = 0, withBundle = 0
        for round in 0..<2000 {
            let catalog = randomCatalog(&rng)
            let tier = catalog.tiers[Int.random(in: 0..<(catalog.tiers.count - 1), using: &rng)]
            let discount = Discount(basisPoints: [0, 1000, 1250][Int.random(in: 0...2, using: &rng)])
            let current = Configuration(tier: tier.code, addons: [])
            let limits = catalog.limits(tier: tier.code, addons: [])
            let storageNeed: Int64? = Bool.random(using: &rng) ? limits.storage + Int64.random(in: 1...300, using: &rng) * GB : nil
            let seatNeed: Int? = Bool.random(using: &rng) ? limits.seats + Int.random(in: 1...6, using: &rng) : nil
            let featureNeed = features.filter { !limits.features.contains($0) && Int.random(in: 0..<3, using: &rng) == 0 }
            let needs = Needs(storageBytes: storageNeed, seats: seatNeed, features: featureNeed)
            guard !needs.isEmpty else { continue }
            let planner = Planner(catalog: catalog, asOf: asOf, acceptance: AcceptanceModel(alpha: 2, beta: 8))
            let solutions = planner.solutions(for: current, tier: tier, needs: needs, discount: discount, allowUpgrade: true)

            let storage = needs.storageBytes ?? limits.storage, seats = needs.seats ?? limits.seats
            let wanted = limits.features.union(featureNeed)
            func all(_ t: Tier) -> [Configuration] {
                configurations(on: t, catalog: catalog, maxStorage: max(0, storage - Int64(t.storageGB) * GB), maxSeats: max(0, seats - t.seats))
            }
            for kind in [OfferKind.addon, .tierUpgrade] {
                var best: (mrr: Int, rank: Int)?
                for t in catalog.tiers where kind == .addon ? t.rank == tier.rank : t.rank > tier.rank {
                    for c in all(t)
                    where meets(catalog.limits(tier: t.code, addons: c.addons), storage: storage, seats: seats, features: wanted) {
                        let mrr = Pricing.mrr(tier: t, addons: c.addons, catalog: catalog, discount: discount)
                        if best == nil || (mrr, t.rank) < (best!.mrr, best!.rank) { best = (mrr, t.rank) }
                    }
                }
                let found = solutions.first { $0.kind == kind }
                XCTAssertEqual(found?.newMRR, best?.mrr, "round \(round) \(kind): \(catalog.addons.map(\.code)) needs \(needs)")
                XCTAssertEqual(found?.tierRank, best?.rank, "round \(round) \(kind)")
                if let found {
                    let t = catalog.tier(found.configuration.tier)!
                    XCTAssertTrue(meets(catalog.limits(tier: t.code, addons: found.configuration.addons), storage: storage, seats: seats, features: wanted))
                    XCTAssertEqual(found.newMRR, Pricing.mrr(tier: t, addons: found.configuration.addons, catalog: catalog, discount: discount))
                    if found.configuration.addons.contains(where: { catalog.addon($0.addon)?.kind == .bundle }) { withBundle += 1 }
                    checked += 1
                }
            }
            if let primary = solutions.first {
                XCTAssertEqual(primary.newMRR, solutions.map(\.newMRR).min(), "the primary is the cheapest of all")
            }

            // A trial's conversion: the same requirement from nothing, on any tier.
            let requirement = Requirement(storageBytes: storage, seats: seats, features: Set(featureNeed))
            var bestAny: (mrr: Int, rank: Int)?
            for t in catalog.tiers {
                for c in all(t)
                where meets(catalog.limits(tier: t.code, addons: c.addons), storage: storage, seats: seats, features: Set(featureNeed)) {
                    let mrr = Pricing.mrr(tier: t, addons: c.addons, catalog: catalog, discount: discount)
                    if bestAny == nil || (mrr, t.rank) < (bestAny!.mrr, bestAny!.rank) { bestAny = (mrr, t.rank) }
                }
            }
            let trial = planner.cheapestOnAnyTier(meeting: requirement, discount: discount, kind: .trialConversion)
            XCTAssertEqual(trial?.newMRR, bestAny?.mrr, "round \(round) trial")
            XCTAssertEqual(trial?.tierRank, bestAny?.rank, "round \(round) trial")
            if let trial, trial.configuration.addons.contains(where: { catalog.addon($0.addon)?.kind == .bundle }) { withBundle += 1 }
        }
        XCTAssertGreaterThan(checked, 900, "enough solvable cases")
        XCTAssertGreaterThan(withBundle, 120, "bundles won often enough to test them")
    }

    /// The contract's example: growth = 2 × Extra 100 GB + Automation for $35 on Team, where singly
    /// they cost $40: an account on Team that needs 200 GB more and Automation gets the bundle.
    func testABundleCheaperThanItsPartsIsChosenAndKeptWhenTheTierIncludesItsFeature() throws {
        var catalog = sampleCatalog
        catalog.addons.append(Addon(code: "growth", name: "Growth pack", kind: .bundle, priceMonthly: 3500, availableOn: ["team"],
                                    contents: [AddonQuantity(addon: "storage_100", quantity: 2), AddonQuantity(addon: "automation", quantity: 1)]))
        XCTAssertEqual(catalog.limits(tier: "team", addons: [AddonQuantity(addon: "growth", quantity: 1)]),
                       Limits(storage: 700 * GB, seats: 20, features: ["reports", "sharing", "automation"]))
        let planner = Planner(catalog: catalog, asOf: asOf, acceptance: AcceptanceModel(alpha: 2, beta: 8))
        let team = catalog.tier("team")!
        let both = planner.solutions(for: Configuration(tier: "team", addons: []), tier: team,
                                     needs: Needs(storageBytes: 650 * GB, features: ["automation"]), discount: .none, allowUpgrade: false)
        XCTAssertEqual(both.first?.configuration.addons, [AddonQuantity(addon: "growth", quantity: 1)])
        XCTAssertEqual(both.first?.newMRR, 7900 + 3500)
        // Storage alone: two packs ($20) are cheaper than the bundle ($35).
        let storageOnly = planner.solutions(for: Configuration(tier: "team", addons: []), tier: team,
                                            needs: Needs(storageBytes: 650 * GB), discount: .none, allowUpgrade: false)
        XCTAssertEqual(storageOnly.first?.configuration.addons, [AddonQuantity(addon: "storage_100", quantity: 2)])
        // An account holding the bundle keeps its storage when it grows: the bundle stays (its
        // Automation is included nowhere else) and a pack is added.
        let holder = Configuration(tier: "team", addons: [AddonQuantity(addon: "growth", quantity: 1)])
        let grown = planner.solutions(for: holder, tier: team, needs: Needs(storageBytes: 780 * GB), discount: .none, allowUpgrade: false)
        XCTAssertEqual(grown.first?.configuration.addons, [AddonQuantity(addon: "growth", quantity: 1), AddonQuantity(addon: "storage_100", quantity: 1)])
        XCTAssertEqual(Pricing.mrr(tier: team, addons: holder.addons, catalog: catalog, discount: Discount(basisPoints: 1000)), 10260)
    }
}
