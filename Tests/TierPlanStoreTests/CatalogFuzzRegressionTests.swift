import TestSupport
import TierPlanCore
import TierPlanStore
import XCTest

/// Catalog inputs found by the fuzzer in Fuzz/ (make fuzz): each crashed `CatalogFile.parse` or
/// got an error on a line the file does not have; each now gives InputErrors with a real line.
final class CatalogFuzzRegressionTests: XCTestCase {
    func errors(_ yaml: String) -> [InputError] {
        do {
            _ = try CatalogFile.parse(yaml: yaml, file: "c.yaml")
            XCTFail("expected a refusal")
        } catch let errors as InputErrors { return errors.errors } catch { XCTFail("unexpected \(error)") }
        return []
    }

    /// libyaml reports an error at the end of the input on the line after the last one (line 3 here).
    func testErrorAtTheEndOfTheInputNamesTheLastLine() {
        let found = errors("#ur%Y,  rrency: USD\ntiers: [{co price_mUSnA")
        XCTAssertEqual(found.map(\.line), [2])
        XCTAssertEqual(found.first?.reason, "not valid YAML: did not find expected ',' or '}'")
        XCTAssertEqual(errors("tiers: [\n").map(\.line), [1])
        XCTAssertEqual(errors("tiers: [\r\n\r\n").map(\.line), [2])
    }

    /// An empty value at the end of the input (`? key` with no value, `key:` on the last line) was
    /// named on line 2 of a one-line file.
    func testEmptyValueAtTheEndNamesTheLastLine() {
        let found = errors(String(decoding: [0x3F, 0x20, 0xDD, 0x2D] as [UInt8], as: UTF8.self))   // "? \u{FFFD}-"
        // The unknown key, and the missing currency and tiers of the mapping: all on line 1.
        XCTAssertEqual(found.map(\.line), [1, 1, 1])
        XCTAssertEqual(found.first?.field, "\u{FFFD}-")
        let tiers = errors("currency: USD\ntiers:")
        XCTAssertEqual(tiers.map(\.line), [2])
        XCTAssertEqual(tiers.first?.reason, "at least one tier is required")
    }

    /// `cooldown_days: 99999999999999999999991e3` trapped in Int(Double) (crash found by the fuzzer).
    func testHugeWholeNumberPolicySettingIsAnError() {
        let crash = """
            %YAML 1.1
            ---
            currency: "US\\u0044"
            tiers: !!seq
              - {? code H ahly: 0x10, storage_gb: 1_000, seats: -1,tures: ~}
            policy: {cooldown_days: 99999999999999999999991e3, monthljy_churn: .nan}
            ...

            """
        let found = errors(crash)
        XCTAssertTrue(found.allSatisfy { (1...7).contains($0.line) }, "\(found)")
        XCTAssertTrue(found.contains { $0.line == 6 && $0.field == "cooldown_days" && $0.reason == "must be at most 100000 days" }, "\(found)")

        let minimal = "currency: USD\ntiers: [{code: a, price_monthly: 1, storage_gb: 1, seats: 1}]\npolicy: {min_growth_days: 1e300}\n"
        XCTAssertEqual(errors(minimal).map(\.description), ["c.yaml:3: field 'min_growth_days' value '1e300': must be at most 100000 days"])
        XCTAssertNoThrow(try CatalogFile.parse(yaml: minimal.replacingOccurrences(of: "1e300", with: "100000"), file: "c.yaml"))
    }

    /// Amounts that parse as Int but overflow prices (× quantities × 10,000) or bytes (GB × 10^9) later.
    func testHugeAmountsAreErrors() {
        let yaml = """
            currency: USD
            tiers:
              - {code: a, price_monthly: 9223372036854775807, storage_gb: 1, seats: 1}
              - {code: b, price_monthly: 1, storage_gb: 10000000000, seats: 1}
              - {code: c, price_monthly: 1, storage_gb: 1, seats: 1000000001}
            addons:
              - {code: x, kind: service, price_once: 1000000000001}

            """
        XCTAssertEqual(errors(yaml).map(\.description), [
            "c.yaml:3: field 'price_monthly' value '9223372036854775807': must be at most 1000000000000",
            "c.yaml:4: field 'storage_gb' value '10000000000': must be at most 1000000",
            "c.yaml:5: field 'seats' value '1000000001': must be at most 1000000000",
            "c.yaml:7: field 'price_once' value '1000000000001': must be at most 1000000000000",
        ])
    }
}
