import TierPlanCore
import XCTest

/// Builds `SourceNode` trees without YAML: each line of `text` is `indent key: value` pairs are not
/// parsed here; tests build nodes directly.
final class CatalogParserTests: XCTestCase {
    typealias N = SourceNode

    func s(_ text: String, _ line: Int) -> N { .scalar(text, line: line) }
    func m(_ line: Int, _ entries: (String, N)...) -> N { .map(entries.map { (key: $0.0, value: $0.1) }, line: line) }
    func l(_ line: Int, _ items: N...) -> N { .list(items, line: line) }

    func validRoot(tier2Price: N? = nil, extraTierKey: (String, N)? = nil, addon: N? = nil, policy: N? = nil) -> N {
        var tier1: [(String, N)] = [("code", s("starter", 7)), ("price_monthly", s("2900", 7)), ("storage_gb", s("100", 7)),
                                     ("seats", s("5", 7)), ("features", l(7, s("reports", 7)))]
        if let extraTierKey { tier1.append(extraTierKey) }
        let tier2: [(String, N)] = [("code", s("team", 8)), ("price_monthly", tier2Price ?? s("7900", 8)), ("storage_gb", s("500", 8)),
                                     ("seats", s("20", 8)), ("features", l(8, s("reports", 8), s("sharing", 8)))]
        return .map([
            (key: "currency", value: s("USD", 1)),
            (key: "features", value: l(3, m(3, ("key", s("reports", 3))), m(4, ("key", s("sharing", 4))), m(5, ("key", s("automation", 5))))),
            (key: "tiers", value: l(7, .map(tier1.map { (key: $0.0, value: $0.1) }, line: 7), .map(tier2.map { (key: $0.0, value: $0.1) }, line: 8))),
            (key: "addons", value: l(10, addon ?? m(10, ("code", s("storage_100", 10)), ("kind", s("storage", 10)), ("storage_gb", s("100", 10)),
                                                  ("price_monthly", s("1000", 10)), ("available_on", l(10, s("starter", 10), s("team", 10)))),
                                   m(11, ("code", s("onboarding", 11)), ("kind", s("service", 11)), ("price_once", s("49900", 11))))),
            (key: "policy", value: policy ?? m(13)),
        ], line: 1)
    }

    func refused(_ root: N, file: String = "catalog.yaml") -> [InputError] {
        do {
            _ = try CatalogParser.parse(root, file: file)
            XCTFail("expected the catalog to be refused")
            return []
        } catch let errors as InputErrors {
            return errors.errors
        } catch {
            XCTFail("unexpected \(error)")
            return []
        }
    }

    func testValidCatalogKeepsRankOrderAndDefaults() throws {
        let catalog = try CatalogParser.parse(validRoot(), file: "c.yaml")
        XCTAssertEqual(catalog.tiers.map(\.code), ["starter", "team"])
        XCTAssertEqual(catalog.tiers.map(\.rank), [0, 1])
        XCTAssertEqual(catalog.tier("team")?.features, ["reports", "sharing"])
        XCTAssertEqual(catalog.addon("storage_100")?.availableOn, ["starter", "team"])
        XCTAssertNil(catalog.addon("onboarding")?.availableOn, "left out means every tier")
        XCTAssertEqual(catalog.addon("onboarding")?.priceOnce, 49900)
        XCTAssertEqual(catalog.policy, Policy())
    }

    func testUnknownKeyRefusedWithItsLine() {
        let errors = refused(validRoot(extraTierKey: ("colour", s("blue", 7))))
        XCTAssertEqual(errors.first?.line, 7)
        XCTAssertEqual(errors.first?.field, "colour")
        XCTAssertTrue(errors.first?.description.hasPrefix("catalog.yaml:7: field 'colour'") ?? false, errors.first?.description ?? "")
    }

    func testDuplicateTierCodeRefused() {
        var root = validRoot()
        if case .map(var entries, let line) = root {
            entries[2] = (key: "tiers", value: l(7, m(7, ("code", s("starter", 7)), ("price_monthly", s("1", 7)), ("storage_gb", s("1", 7)), ("seats", s("1", 7))),
                                                  m(8, ("code", s("starter", 8)), ("price_monthly", s("2", 8)), ("storage_gb", s("2", 8)), ("seats", s("2", 8)))))
            root = .map(entries, line: line)
        }
        let errors = refused(root)
        XCTAssertEqual(errors.first?.line, 8)
        XCTAssertEqual(errors.first?.value, "starter")
        XCTAssertTrue(errors.first?.reason.contains("duplicate") ?? false)
    }

    func testDuplicateFeatureAndAddonCodesRefused() {
        let addon = m(10, ("code", s("onboarding", 10)), ("kind", s("service", 10)))
        let errors = refused(validRoot(addon: addon))
        XCTAssertEqual(errors.map(\.line), [11])
        XCTAssertTrue(errors.first?.reason.contains("duplicate add-on") ?? false)
    }

    func testUnknownFeatureRefused() {
        let addon = m(10, ("code", s("sso", 10)), ("kind", s("feature", 10)), ("feature", s("sso", 10)), ("price_monthly", s("100", 10)))
        let errors = refused(validRoot(addon: addon))
        XCTAssertEqual(errors.first?.line, 10)
        XCTAssertEqual(errors.first?.field, "feature")
        XCTAssertEqual(errors.first?.value, "sso")
    }

    func testUnknownTierInAvailableOnRefused() {
        let addon = m(10, ("code", s("storage_100", 10)), ("kind", s("storage", 10)), ("storage_gb", s("100", 10)),
                      ("available_on", l(10, s("gold", 10))))
        let errors = refused(validRoot(addon: addon))
        XCTAssertEqual(errors.first?.line, 10)
        XCTAssertEqual(errors.first?.value, "gold")
        XCTAssertTrue(errors.first?.reason.contains("unknown tier") ?? false)
    }

    func testNegativePriceRefused() {
        let errors = refused(validRoot(tier2Price: s("-7900", 8)))
        XCTAssertEqual(errors.first?.line, 8)
        XCTAssertEqual(errors.first?.field, "price_monthly")
        XCTAssertEqual(errors.first?.value, "-7900")
        XCTAssertTrue(errors.first?.reason.contains("negative") ?? false)
        // Reported once: the add-on on line 10 that names 'team' is not wrong too.
        XCTAssertEqual(errors.count, 1, "\(errors)")
    }

    func testTierListedTwiceInAvailableOnRefused() {
        let addon = m(10, ("code", s("storage_100", 10)), ("kind", s("storage", 10)), ("storage_gb", s("100", 10)),
                      ("price_monthly", s("1000", 10)), ("available_on", l(10, s("team", 10), s("team", 11))))
        let errors = refused(validRoot(addon: addon))
        XCTAssertEqual(errors.map(\.line), [11])
        XCTAssertEqual(errors.first?.reason, "tier listed twice")
    }

    func testFractionalPriceRefused() {
        let errors = refused(validRoot(tier2Price: s("79.00", 8)))
        XCTAssertTrue(errors.first?.reason.contains("minor units") ?? false)
    }

    func testPolicyOverridesAndUnknownPolicyKey() throws {
        let catalog = try CatalogParser.parse(validRoot(policy: m(13, ("cooldown_days", s("30", 14)), ("holdout_percent", s("10", 15)),
                                                                   ("monthly_churn", s("0.02", 16)))), file: "c.yaml")
        XCTAssertEqual(catalog.policy.cooldownDays, 30)
        XCTAssertEqual(catalog.policy.holdoutPercent, 10)
        XCTAssertEqual(catalog.policy.monthlyChurn, 0.02)
        let errors = refused(validRoot(policy: m(13, ("cooldown", s("30", 14)))))
        XCTAssertEqual(errors.first?.line, 14)
        XCTAssertTrue(errors.first?.reason.contains("unknown policy key") ?? false)
        XCTAssertEqual(refused(validRoot(policy: m(13, ("storage_near_limit", s("1.5", 14))))).first?.line, 14)
        XCTAssertEqual(refused(validRoot(policy: m(13, ("cooldown_days", s("2.5", 14))))).first?.reason, "must be a whole number")
        XCTAssertEqual(Policy().grossMargin, 0.8)
        XCTAssertEqual(try CatalogParser.parse(validRoot(policy: m(13, ("gross_margin", s("0.7", 14)))), file: "c.yaml").policy.grossMargin, 0.7)
        XCTAssertEqual(refused(validRoot(policy: m(13, ("gross_margin", s("1.2", 14))))).first?.reason, "must be between 0 and 1")
    }

    func testAcceptanceGroupingAndExperiments() throws {
        XCTAssertEqual(Policy().acceptance, AcceptancePolicy(by: .segment, priorStrength: 20))
        let policy = try CatalogParser.parse(validRoot(policy: m(13,
            ("acceptance", m(14, ("by", s("tier", 14)), ("prior_strength", s("5", 14)))),
            ("experiments", .list([m(15, ("name", s("addon_first", 15)), ("share", s("0.3", 15)), ("primary", s("addon", 15))),
                                   m(16, ("name", s("plain", 16)))], line: 15)))), file: "c.yaml").policy
        XCTAssertEqual(policy.acceptance, AcceptancePolicy(by: .tier, priorStrength: 5))
        XCTAssertEqual(policy.experiments, [Experiment(name: "addon_first", share: 0.3, primary: .addon),
                                            Experiment(name: "plain", share: 0.5, primary: .cheapest)])
        func refusal(_ policy: SourceNode) -> InputError? { refused(validRoot(policy: policy)).first }
        let by = refusal(m(13, ("acceptance", m(14, ("by", s("country", 14))))))
        XCTAssertEqual(by?.line, 14); XCTAssertEqual(by?.field, "acceptance.by"); XCTAssertEqual(by?.value, "country")
        XCTAssertEqual(refusal(m(13, ("acceptance", m(14, ("prior_strength", s("0", 14))))))?.reason, "must be a number > 0")
        let share = refusal(m(13, ("experiments", .list([m(15, ("name", s("x", 15)), ("share", s("1.5", 15)))], line: 15))))
        XCTAssertEqual(share?.line, 15); XCTAssertEqual(share?.field, "experiments.share"); XCTAssertEqual(share?.value, "1.5")
        XCTAssertEqual(refusal(m(13, ("experiments", .list([m(15, ("name", s("x", 15)), ("primary", s("bundle", 15)))], line: 15))))?.field,
                       "experiments.primary")
        XCTAssertEqual(refusal(m(13, ("experiments", .list([m(15, ("name", s("x", 15))), m(16, ("name", s("x", 16)))], line: 15))))?.line, 16)
        XCTAssertEqual(refusal(m(13, ("experiments", .list([m(15, ("share", s("0.5", 15)))], line: 15))))?.field, "name")
    }

    func testMissingRequiredFieldRefused() {
        let addon = m(10, ("code", s("seats_5", 10)), ("kind", s("seats", 10)))
        let errors = refused(validRoot(addon: addon))
        XCTAssertEqual(errors.first?.line, 10)
        XCTAssertEqual(errors.first?.field, "seats")
    }
}
