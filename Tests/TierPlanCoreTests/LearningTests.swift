import TierPlanCore
import XCTest

/// Pooled acceptance probabilities, experiments, calibration and decline codes, with hand-computed cases.
final class AcceptancePoolingTests: XCTestCase {
    var policy: Policy { Policy() }   // α 2, β 8, by segment, κ 20

    func testPoolingWithNoAndWithSomeOutcomesOfTheGroup() {
        // addon: agency 8 accepted / 12 declined, smb 2 / 18 → kind 10 / 30: p_k = (2 + 10) / (10 + 40) = 0.24.
        let model = AcceptanceModel(policy: policy, groupOutcomes: [
            .init(.addon, "agency"): (accepted: 8, declined: 12), .init(.addon, "smb"): (accepted: 2, declined: 18)])
        XCTAssertEqual(model.probability(.addon), 0.24, accuracy: 1e-12)
        // agency: (20 × 0.24 + 8) / (20 + 20) = 12.8 / 40 = 0.32.
        let agency = model.estimate(.addon, group: "agency")
        XCTAssertEqual(agency.probability, 0.32, accuracy: 1e-12)
        XCTAssertEqual(agency.kindProbability, 0.24, accuracy: 1e-12)
        XCTAssertEqual(agency.outcomes, 20)
        // smb: (4.8 + 2) / 40 = 0.17.
        XCTAssertEqual(model.estimate(.addon, group: "smb").probability, 0.17, accuracy: 1e-12)
        // A group without outcomes gets the kind's rate; a kind without outcomes the prior α / (α + β).
        XCTAssertEqual(model.estimate(.addon, group: "enterprise").probability, 0.24, accuracy: 1e-12)
        XCTAssertEqual(model.estimate(.addon, group: "enterprise").outcomes, 0)
        XCTAssertEqual(model.estimate(.tierUpgrade, group: "agency").probability, 0.2, accuracy: 1e-12)
    }

    func testManyOutcomesOutweighThePrior() {
        // 600 / 400 in one group, 0 / 10 in another: p_k = 602 / 1020 = 0.590196…;
        // big: (20 × 0.590196 + 600) / 1020 = 0.599808 (near its own 0.6); small: (11.8039 + 0) / 30 = 0.393464.
        let model = AcceptanceModel(policy: policy, groupOutcomes: [
            .init(.tierUpgrade, "big"): (accepted: 600, declined: 400), .init(.tierUpgrade, "small"): (accepted: 0, declined: 10)])
        let pk = 602.0 / 1020.0
        XCTAssertEqual(model.probability(.tierUpgrade), pk, accuracy: 1e-12)
        XCTAssertEqual(model.estimate(.tierUpgrade, group: "big").probability, (20 * pk + 600) / 1020, accuracy: 1e-12)
        XCTAssertEqual(model.estimate(.tierUpgrade, group: "big").probability, 0.5998, accuracy: 1e-4)
        XCTAssertEqual(model.estimate(.tierUpgrade, group: "small").probability, 20 * pk / 30, accuracy: 1e-12)
    }

    func testPriorStrengthAndNoGrouping() {
        var p = policy
        p.acceptance.priorStrength = 5
        let outcomes: [AcceptanceModel.Key: (accepted: Int, declined: Int)] = [.init(.addon, "agency"): (accepted: 8, declined: 12)]
        // p_k = 10 / 30 = 1/3; κ 5: (5/3 + 8) / 25 = 0.386667.
        XCTAssertEqual(AcceptanceModel(policy: p, groupOutcomes: outcomes).estimate(.addon, group: "agency").probability, (5.0 / 3 + 8) / 25, accuracy: 1e-12)
        p.acceptance.by = .none
        let flat = AcceptanceModel(policy: p, groupOutcomes: outcomes)
        XCTAssertNil(flat.group(of: account()))
        XCTAssertEqual(flat.estimate(.addon, group: nil).probability, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(flat.estimate(.addon, group: nil).outcomes, 20)
    }

    func testTheOfferSaysWhereItsProbabilityComesFrom() {
        var a = account()
        a.segment = "agency"
        let model = AcceptanceModel(policy: policy, groupOutcomes: [.init(.addon, "agency"): (accepted: 8, declined: 12)])
        // p_k = 10 / 30; agency: (20/3 + 8) / 40 = 0.366667.
        let planner = Planner(catalog: sampleCatalog, asOf: asOf, acceptance: model)
        let s = Watcher.signals(for: a, usage: UsageSummary(storageUsedBytes: 85 * GB, dailyMaxStorage: (0..<28).map { ($0, 85 * GB) },
                                                             featureDays: ["reports": 10], activeUsers: 0), catalog: sampleCatalog, asOf: asOf)
        let offers = planner.plan(account: a, signals: s).offers
        XCTAssertEqual(offers[0].kind, .addon)
        XCTAssertEqual(offers[0].acceptanceProbability, (20.0 / 3 + 8) / 40, accuracy: 1e-12)
        XCTAssertEqual(offers[0].kindProbability, 1.0 / 3, accuracy: 1e-12)
        XCTAssertTrue(offers[0].rationale.hasSuffix("Acceptance 0.37 from 20 outcomes of addon offers to agency accounts."), offers[0].rationale)
        XCTAssertTrue(offers[1].rationale.hasSuffix("Acceptance 0.20 from 0 outcomes of tier upgrade offers to agency accounts (so far the rate of all tier upgrade offers)."),
                      offers[1].rationale)
        var byTier = policy
        byTier.acceptance.by = .tier
        let tierModel = AcceptanceModel(policy: byTier, groupOutcomes: [.init(.addon, "starter"): (accepted: 1, declined: 0)])
        XCTAssertEqual(Rationale.acceptance(tierModel.estimate(.addon, group: "starter"), catalog: sampleCatalog),
                       "Acceptance 0.31 from 1 outcome of addon offers to accounts on Starter.")   // p_k 3/11; (20 × 3/11 + 1) / 21
    }
}

final class ExperimentTests: XCTestCase {
    let experiment = Experiment(name: "addon_first", share: 0.5, primary: .addon)

    func testAssignmentIsStableProportionalAndSkipsTheHoldout() {
        let ids = (0..<10_000).map { "acct-\($0)" }
        let arms = ids.map { ExperimentArm.assignment(accountID: $0, experiments: [experiment], heldOut: false)?.arm }
        XCTAssertEqual(arms, ids.map { ExperimentArm.assignment(accountID: $0, experiments: [experiment], heldOut: false)?.arm })
        XCTAssertEqual(Double(arms.filter { $0 == .treatment }.count) / 10_000, 0.5, accuracy: 0.02)
        XCTAssertTrue(arms.allSatisfy { $0 != nil })
        XCTAssertNil(ExperimentArm.assignment(accountID: "acct-1", experiments: [experiment], heldOut: true))
        XCTAssertNil(ExperimentArm.assignment(accountID: "acct-1", experiments: [], heldOut: false))
        // A 20 % share; another name splits the same accounts differently.
        let small = Experiment(name: "upgrade_first", share: 0.2, primary: .tierUpgrade)
        let smallArms = ids.map { ExperimentArm.assignment(accountID: $0, experiments: [small], heldOut: false)!.arm }
        XCTAssertEqual(Double(smallArms.filter { $0 == .treatment }.count) / 10_000, 0.2, accuracy: 0.02)
        // Two experiments: each account in exactly one, about half in each.
        let both = ids.map { ExperimentArm.assignment(accountID: $0, experiments: [experiment, small], heldOut: false)!.experiment.name }
        XCTAssertEqual(Double(both.filter { $0 == "addon_first" }.count) / 10_000, 0.5, accuracy: 0.02)
    }

    func testTheTreatmentChangesThePrimaryOfferOnly() throws {
        // 85 GB of 100 on starter: the add-on (3,900) is cheapest, the upgrade to team (7,900) the alternative.
        var catalog = sampleCatalog
        catalog.policy.experiments = [Experiment(name: "upgrade_first", share: 0.5, primary: .tierUpgrade)]
        let planner = Planner(catalog: catalog, asOf: asOf, acceptance: AcceptanceModel(alpha: 2, beta: 8))
        func offers(_ id: String) -> [PlannedOffer] {
            let a = account(id)
            let s = Watcher.signals(for: a, usage: UsageSummary(storageUsedBytes: 85 * GB, dailyMaxStorage: (0..<28).map { ($0, 85 * GB) },
                                                                 featureDays: ["reports": 10], activeUsers: 0), catalog: catalog, asOf: asOf)
            return planner.plan(account: a, signals: s).offers
        }
        let ids = (0..<40).map { "acct-\($0)" }
        let treated = try XCTUnwrap(ids.first { ExperimentArm.assignment(accountID: $0, experiments: catalog.policy.experiments, heldOut: false)?.arm == .treatment })
        let control = try XCTUnwrap(ids.first { ExperimentArm.assignment(accountID: $0, experiments: catalog.policy.experiments, heldOut: false)?.arm == .control })
        XCTAssertEqual(offers(treated).map(\.kind), [.tierUpgrade, .addon])
        XCTAssertEqual(offers(treated).map(\.rank), [1, 2])
        XCTAssertEqual(offers(treated).map(\.arm), [.treatment, .treatment])
        XCTAssertEqual(offers(treated).map(\.experiment), ["upgrade_first", "upgrade_first"])
        XCTAssertEqual(offers(control).map(\.kind), [.addon, .tierUpgrade])
        XCTAssertEqual(offers(control).map(\.arm), [.control, .control])
        // Held-out accounts take part in no experiment.
        catalog.policy.holdoutPercent = 100
        let held = Planner(catalog: catalog, asOf: asOf, acceptance: AcceptanceModel(alpha: 2, beta: 8))
        let a = account(treated)
        let s = Watcher.signals(for: a, usage: UsageSummary(storageUsedBytes: 85 * GB, dailyMaxStorage: (0..<28).map { ($0, 85 * GB) },
                                                             featureDays: ["reports": 10], activeUsers: 0), catalog: catalog, asOf: asOf)
        let heldOffers = held.plan(account: a, signals: s).offers
        XCTAssertEqual(heldOffers.map(\.kind), [.addon, .tierUpgrade])
        XCTAssertTrue(heldOffers.allSatisfy { $0.arm == nil && $0.experiment == nil && $0.heldOut })
    }

    func testProbabilityTreatmentBetterExactly() {
        // Beta(2, 1) against Beta(1, 1): ∫ 2x · x dx = 2/3.
        XCTAssertEqual(BetaComparison.probabilityGreater(a: 2, b: 1, c: 1, d: 1), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(BetaComparison.probabilityGreater(a: 1, b: 1, c: 1, d: 1), 0.5, accuracy: 1e-12)
        // 3 of 4 accepted against 1 of 4: Beta(4, 2) against Beta(2, 4) = 113/126 (by the sum in fractions).
        XCTAssertEqual(BetaComparison.probabilityGreater(a: 4, b: 2, c: 2, d: 4), 113.0 / 126, accuracy: 1e-12)
        // Equal counts are a coin toss; swapping the arms gives the complement.
        XCTAssertEqual(BetaComparison.probabilityGreater(a: 31, b: 51, c: 31, d: 51), 0.5, accuracy: 1e-9)
        let p = BetaComparison.probabilityGreater(a: 31, b: 51, c: 21, d: 61)
        XCTAssertEqual(p + BetaComparison.probabilityGreater(a: 21, b: 61, c: 31, d: 51), 1, accuracy: 1e-9)
        XCTAssertEqual(p, 0.95489, accuracy: 1e-5)
        let result = ExperimentResult(
            name: "addon_first",
            control: ExperimentArmResult(arm: .control, offers: 6, accounts: 4, accepted: 1, declined: 3, acceptedDeltaMRR: 1000),
            treatment: ExperimentArmResult(arm: .treatment, offers: 5, accounts: 5, accepted: 3, declined: 1, acceptedDeltaMRR: 4500))
        XCTAssertEqual(result.probabilityTreatmentBetter, 113.0 / 126, accuracy: 1e-12)
        XCTAssertEqual(result.treatment.conversion, 0.75)
        XCTAssertEqual(result.control.realisedDeltaMRRPerAccount, 250)
        XCTAssertEqual(result.treatment.realisedDeltaMRRPerAccount, 900)
        XCTAssertNil(ExperimentArmResult(arm: .control, offers: 2, accounts: 2, accepted: 0, declined: 0, acceptedDeltaMRR: 0).conversion)
    }
}

final class CalibrationTests: XCTestCase {
    func testBrierScoreAndBinsByHand() {
        func o(_ p: Double, _ accepted: Bool, kind: Double = 0.2) -> Calibration.Outcome { .init(predicted: p, kindPredicted: kind, accepted: accepted) }
        let c = Calibration([o(0.05, false), o(0.15, true), o(0.35, false), o(0.35, true), o(0.95, true)])
        // (0.0025 + 0.7225 + 0.1225 + 0.4225 + 0.0025) / 5 = 0.2545; per kind 0.2 each: (0.04 + 0.64 + 0.04 + 0.64 + 0.64) / 5 = 0.4.
        XCTAssertEqual(c.outcomes, 5)
        XCTAssertEqual(c.brier!, 0.2545, accuracy: 1e-12)
        XCTAssertEqual(c.brierPerKind!, 0.4, accuracy: 1e-12)
        XCTAssertEqual(c.bins.count, 10)
        XCTAssertEqual(c.bins.map(\.count), [1, 1, 0, 2, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(c.bins[3].meanPredicted!, 0.35, accuracy: 1e-12)
        XCTAssertEqual(c.bins[3].observed, 0.5)
        XCTAssertEqual(c.bins[1].observed, 1)
        XCTAssertNil(c.bins[2].meanPredicted)
        XCTAssertNil(c.bins[2].observed)
        XCTAssertEqual(c.bins[9].from, 0.9)
        XCTAssertEqual(c.bins[9].to, 1.0)
        let empty = Calibration([])
        XCTAssertNil(empty.brier)
        XCTAssertEqual(empty.bins.count, 10)
    }

    func testBinEdges() {
        XCTAssertEqual(Calibration.bin(of: 0), 0)
        XCTAssertEqual(Calibration.bin(of: 0.0999), 0)
        XCTAssertEqual(Calibration.bin(of: 0.1), 1)
        XCTAssertEqual(Calibration.bin(of: 0.3), 3)
        XCTAssertEqual(Calibration.bin(of: 0.1 + 0.2), 3)      // 0.30000000000000004
        XCTAssertEqual(Calibration.bin(of: 0.7), 7)
        XCTAssertEqual(Calibration.bin(of: 0.9), 9)
        XCTAssertEqual(Calibration.bin(of: 1), 9)             // [0.9, 1] includes 1
    }
}

final class DeclineReasonTests: XCTestCase {
    func testOutcomesNeedAKnownCodeToDecline() {
        XCTAssertEqual(OfferDecision.outcome("accepted", reasonCode: nil), .success(.accept))
        XCTAssertEqual(OfferDecision.outcome("declined", reasonCode: "no_need"), .success(.decline(reasonCode: .noNeed)))
        XCTAssertEqual(OfferDecision.outcome("declined", reasonCode: " price "), .success(.decline(reasonCode: .price)))
        XCTAssertEqual(OfferDecision.outcome("declined", reasonCode: nil), .failure(.reasonCodeMissing))
        XCTAssertEqual(OfferDecision.outcome("declined", reasonCode: ""), .failure(.reasonCodeMissing))
        XCTAssertEqual(OfferDecision.outcome("declined", reasonCode: "cheap"), .failure(.reasonCodeUnknown("cheap")))
        XCTAssertEqual(OfferDecision.outcome("maybe", reasonCode: nil), .failure(.unknown))
        XCTAssertEqual(DeclineReason.list, "price|budget|timing|no_need|competitor|other")
        XCTAssertEqual(OfferDecision.decline(reasonCode: .timing).reasonCode, .timing)
        XCTAssertNil(OfferDecision.accept.reasonCode)
    }

    func testDeclinesPerCode() {
        let tallies = DeclineTally.byReason([(.price, 1000), (.price, 2500), (.competitor, 700)])
        XCTAssertEqual(tallies.map(\.reasonCode), DeclineReason.allCases)
        XCTAssertEqual(tallies[0], DeclineTally(reasonCode: .price, count: 2, deltaMRR: 3500))
        XCTAssertEqual(tallies.first { $0.reasonCode == .competitor }?.count, 1)
        XCTAssertEqual(tallies.first { $0.reasonCode == .budget }, DeclineTally(reasonCode: .budget, count: 0, deltaMRR: 0))
    }
}
