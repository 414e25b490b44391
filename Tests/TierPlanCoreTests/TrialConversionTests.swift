import TierPlanCore
import XCTest

/// Trial right-sizing: the cheapest configuration on any tier that covers what the trial used.
final class TrialConversionTests: XCTestCase {
    /// Starter < Team < Business (adds Automation and SSO), with the sample's add-ons.
    let catalog: Catalog = {
        var c = sampleCatalog
        c.features.append(Feature(key: "sso", name: "SSO"))
        c.tiers.append(Tier(code: "business", name: "Business", rank: 2, priceMonthly: 19900, storageGB: 2000, seats: 50,
                            features: ["reports", "sharing", "automation", "sso"]))
        return c
    }()

    func plan(tier: String, used: Int64?, growth: Int64 = 0, users: Int, features: [String: Int], discount: Discount = .none,
              history: OfferHistory = OfferHistory()) -> AccountPlan {
        let a = account("trial", tier: tier, status: .trialing, created: "2026-10-10", discount: discount)
        var points: [(day: Int, bytes: Int64)] = []
        if let used { points = (0..<28).map { (day: $0, bytes: used - Int64(27 - $0) * growth) } }
        let s = Watcher.signals(for: a, usage: UsageSummary(storageUsedBytes: used, dailyMaxStorage: points, featureDays: features, activeUsers: users),
                                catalog: catalog, asOf: asOf)
        return Planner(catalog: catalog, asOf: asOf, acceptance: AcceptanceModel(alpha: 2, beta: 8)).plan(account: a, signals: s, history: history)
    }

    func testRightSizedOnWhatTheTrialUsed() {
        struct Case {
            let name: String, tier: String, used: Int64?, growth: Int64, users: Int, features: [String: Int]
            let to: String, add: [AddonQuantity], mrr: Int
        }
        let cases = [
            // 62 GB / 0.8 = 77.5 GB, 7 people / 0.8 → 9 seats, Sharing → Team, not the Business of the trial.
            Case(name: "down from business", tier: "business", used: 62 * GB, growth: 0, users: 7, features: ["reports": 20, "sharing": 12],
                 to: "team", add: [], mrr: 7900),
            // Sharing is only on Team and higher: up from the Starter trial.
            Case(name: "up from starter", tier: "starter", used: 10 * GB, growth: 0, users: 2, features: ["sharing": 5], to: "team", add: [], mrr: 7900),
            // Hardly used: the lowest tier, whatever the trial's.
            Case(name: "lowest tier", tier: "team", used: 1 * GB, growth: 0, users: 1, features: ["reports": 3], to: "starter", add: [], mrr: 2900),
            // 90 GB / 0.8 = 112.5 GB: Starter + 100 GB ($39) beats Team ($79).
            Case(name: "pack on starter", tier: "team", used: 90 * GB, growth: 0, users: 2, features: [:], to: "starter",
                 add: [AddonQuantity(addon: "storage_100", quantity: 1)], mrr: 3900),
            // Growing 1 GB a day: (50 + 90) / 0.8 = 175 GB → Starter + 100 GB.
            Case(name: "growth over the horizon", tier: "business", used: 50 * GB, growth: GB, users: 1, features: [:], to: "starter",
                 add: [AddonQuantity(addon: "storage_100", quantity: 1)], mrr: 3900),
            // 5 people → 7 seats: Starter (5) + 5 seats ($44) beats Team ($79).
            Case(name: "seats", tier: "team", used: nil, growth: 0, users: 5, features: [:], to: "starter",
                 add: [AddonQuantity(addon: "seats_5", quantity: 1)], mrr: 4400),
            // A feature used on one day only is not counted (Automation would need Team + add-on).
            Case(name: "one day is not use", tier: "business", used: nil, growth: 0, users: 0, features: ["automation": 1], to: "starter", add: [], mrr: 2900),
            // Automation on 2 days: Team + Automation ($99) beats Business ($199).
            Case(name: "feature add-on", tier: "business", used: nil, growth: 0, users: 3, features: ["automation": 2], to: "team",
                 add: [AddonQuantity(addon: "automation", quantity: 1)], mrr: 9900),
        ]
        for c in cases {
            let p = plan(tier: c.tier, used: c.used, growth: c.growth, users: c.users, features: c.features)
            XCTAssertEqual(p.offers.count, 1, c.name)
            guard let offer = p.offers.first else { continue }
            XCTAssertEqual(offer.kind, .trialConversion, c.name)
            XCTAssertEqual(offer.fromTier, c.tier, c.name)
            XCTAssertEqual(offer.toTier, c.to, c.name)
            XCTAssertEqual(offer.add, c.add, c.name)
            XCTAssertEqual(offer.currentMRR, 0, c.name)
            XCTAssertEqual(offer.newMRR, c.mrr, c.name)
            XCTAssertEqual(offer.deltaMRR, c.mrr, c.name)
            XCTAssertEqual(offer.rank, 1, c.name)
        }
    }

    func testTheRationaleNamesWhatWasUsedAndWhatTheTrialTierAddsOrLacks() {
        let down = plan(tier: "business", used: 62 * GB, users: 7, features: ["reports": 20, "sharing": 12]).offers[0].rationale
        XCTAssertTrue(down.hasPrefix("In the last 28 days your team stored 62 GB, had 7 people active and used Reports (20 days) and Sharing (12 days): "
                                     + "Team at $79.00 a month covers that; Business adds Automation and SSO you did not use."), down)
        XCTAssertTrue(down.contains("Acceptance 0.20 from 0 outcomes of trial conversion offers"), down)
        let up = plan(tier: "starter", used: 10 * GB, users: 2, features: ["sharing": 5]).offers[0].rationale
        XCTAssertTrue(up.contains("Team at $79.00 a month covers that; Starter, the tier of the trial, lacks Sharing."), up)
        let pack = plan(tier: "starter", used: 90 * GB, users: 1, features: [:]).offers[0].rationale
        XCTAssertTrue(pack.hasPrefix("In the last 28 days your team stored 90 GB, had 1 person active and used no feature on 2 days or more: "
                                     + "Starter with Extra 100 GB at $39.00 a month covers that."), pack)
    }

    func testDiscountProbabilityAndGuardrails() {
        let discounted = plan(tier: "team", used: nil, users: 1, features: [:], discount: Discount(basisPoints: 1000)).offers[0]
        XCTAssertEqual(discounted.newMRR, 2610)
        XCTAssertEqual(discounted.deltaMRR, 2610)
        // Its own probability: outcomes of other kinds do not move it.
        let model = AcceptanceModel(alpha: 2, beta: 8, outcomes: [.addon: (accepted: 30, declined: 0), .trialConversion: (accepted: 5, declined: 0)])
        let a = account("trial", tier: "team", status: .trialing, created: "2026-10-10")
        let s = Watcher.signals(for: a, usage: UsageSummary(activeUsers: 1), catalog: catalog, asOf: asOf)
        let offer = Planner(catalog: catalog, asOf: asOf, acceptance: model).plan(account: a, signals: s).offers[0]
        XCTAssertEqual(offer.acceptanceProbability, 7.0 / 15.0, accuracy: 1e-12)   // (2 + 5) / (2 + 8 + 5)
        // A declined conversion cools down, a snooze waits.
        let declined = plan(tier: "team", used: nil, users: 1, features: [:], history: OfferHistory(lastRefusal: [.trialConversion: asOf.adding(days: -10)]))
        XCTAssertEqual(declined.offers, [])
        XCTAssertEqual(declined.suppressed, [Suppression(accountID: "trial", kind: .trialConversion, reason: .cooldown)])
        let snoozed = plan(tier: "team", used: nil, users: 1, features: [:], history: OfferHistory(snoozedUntil: [.trialConversion: asOf.adding(days: 3)]))
        XCTAssertEqual(snoozed.suppressed.map(\.reason), [.snoozed])
        // A refusal of an upsell kind does not stop the conversion.
        XCTAssertEqual(plan(tier: "team", used: nil, users: 1, features: [:], history: OfferHistory(lastRefusal: [.addon: asOf])).offers.count, 1)
    }
}
