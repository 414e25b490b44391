import Foundation
import TestSupport
import TierPlanCore
import TierPlanStore
import XCTest

/// Seeded property test of the catalog path (YAML text → Yams → CatalogFile.sourceNode →
/// CatalogParser), the catalog fuzzer of Fuzz/ in miniature: mutated catalogs and random bytes
/// never crash it, and give a catalog or InputErrors that each name the file and one of its lines.
final class CatalogPropertyTests: XCTestCase {
    static let block = """
        currency: EUR
        features:
          - key: reports
          - key: sso
            name: "Single sign-on"
        tiers:
          - code: free
            price_monthly: 0
            storage_gb: 1
            seats: 1
          - code: pro
            price_monthly: 4900
            storage_gb: 1000
            seats: 25
            features: [reports, sso]
        addons:
          - {code: seats_10, kind: seats, seats: 10, price_monthly: 2500, available_on: [pro]}
          - {code: sso, kind: feature, feature: sso, price_monthly: 1000}
        policy:
          min_growth_days: 14
          holdout_percent: 10
          acceptance: {by: tier, prior_strength: 20}
          experiments:
            - {name: addon_first, share: 0.5, primary: addon}

        """

    func testMutatedCatalogsNeverCrashAndErrorsNameALine() throws {
        let example = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/catalog.yaml"), encoding: .utf8)
        let seeds = [example, Self.block].map { Array($0.utf8) }
        for seed in seeds { XCTAssertNoThrow(try CatalogFile.parse(yaml: String(decoding: seed, as: UTF8.self), file: "c.yaml")) }
        var mutator = ParserMutator(rng: PropertyRNG(seed: 0xCA7A_1060))
        var accepted = 0, refused = 0
        for i in 0..<1_000 {
            let bytes = i % 20 == 0 ? mutator.noise(maxLength: 200) : mutator.mutate(seeds[i % seeds.count])
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let catalog = try CatalogFile.parse(yaml: text, file: "c.yaml")
                accepted += 1
                XCTAssertFalse(catalog.tiers.isEmpty)
                let all = catalog.addons.filter { $0.kind != .service }.map { AddonQuantity(addon: $0.code, quantity: 1) }
                for tier in catalog.tiers {
                    XCTAssertGreaterThanOrEqual(Pricing.mrr(tier: tier, addons: all, catalog: catalog, discount: Discount(basisPoints: 9_999)), 0)
                    _ = catalog.limits(tier: tier.code, addons: all)
                }
            } catch let errors as InputErrors {
                refused += 1
                XCTAssertFalse(errors.errors.isEmpty)
                for error in errors.errors {
                    XCTAssertEqual(error.file, "c.yaml")
                    XCTAssert((1...lastLine(of: text)).contains(error.line), "\(error) in \(text.debugDescription)")
                }
            } catch {
                XCTFail("unexpected \(error)")
            }
        }
        XCTAssertGreaterThan(accepted, 20)
        XCTAssertGreaterThan(refused, 500)
    }
}
