import TierPlanCore
import XCTest

/// Inputs that crashed (trapped) a parser, or what the parser let through, under the fuzzers in
/// Fuzz/ or their review; each now gives an InputError with the file and line.
final class ParserFuzzRegressionTests: XCTestCase {
    let header = "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner,canceled_at\n"

    func accountErrors(_ rows: String) -> [InputError] {
        do {
            _ = try AccountsCSV.parse(header + rows, file: "accounts.csv", catalog: sampleCatalog)
            XCTFail("expected a refusal")
        } catch let errors as InputErrors { return errors.errors } catch { XCTFail("unexpected \(error)") }
        return []
    }

    /// Not a crash, found reading the parser for its fuzzer (no fuzzer check catches leniency): `\u+041` was read as "A" and `\u-000` as
    /// NUL, since `UInt32(_:radix:)` takes a sign. A \u escape is exactly four hex digits.
    func testUnicodeEscapeIsFourHexDigits() {
        let parser = UsageLineParser(file: "u.ndjson", format: .ndjson)
        for escape in ["\\u+041", "\\u-000", "\\u 041", "\\u00g1"] {
            let line = #"{"type":"storage","id":"s-"# + escape + #"","account":"a","at":"2026-10-01","bytes":1}"#
            guard case .failure(let error) = parser.parse(line, number: 7) else { XCTFail(line); continue }
            XCTAssertEqual(error.description, "u.ndjson:7: malformed JSON: bad \\u escape")
        }
        let line = #"{"type":"storage","id":"s-\u00E9\u00e9\uD83D\uDE00","account":"a","at":"2026-10-01","bytes":1}"#
        guard case .success(.storage(let id, _, _, _)) = parser.parse(line, number: 1) else { return XCTFail(line) }
        XCTAssertEqual(id, "s-éé😀")
    }

    /// `whole * 100` overflowed on a discount of 92233720368547758 % or more (it was checked after).
    func testHugeDiscountIsAnErrorNotAnOverflow() {
        XCTAssertNil(Discount(percentText: "92233720368547758"))
        XCTAssertNil(Discount(percentText: "9223372036854775807.5"))
        XCTAssertNil(Discount(percentText: "101"))
        XCTAssertEqual(Discount(percentText: "100")?.basisPoints, 10_000)
        let errors = accountErrors("a,A,starter,active,2025-01-01,,92233720368547758,,,\n")
        XCTAssertEqual(errors.map(\.line), [2])
        XCTAssertEqual(errors.first?.field, "discount_pct")
    }

    /// An add-on quantity near Int.max parsed, then `mrr(in:)` (run by `accounts import`) trapped on
    /// price × quantity.
    func testHugeAddonQuantityIsAnErrorNotAnOverflow() {
        let errors = accountErrors("a,A,starter,active,2025-01-01,storage_100:9223372036854775807,0,,,\n"
                                   + "b,B,team,active,2025-01-01,storage_100:1000001,0,,,\n")
        XCTAssertEqual(errors.map(\.line), [2, 3])
        XCTAssertEqual(errors.map(\.field), ["addons", "addons"])
        XCTAssertEqual(errors.first?.description,
                       "accounts.csv:2: field 'addons' value 'storage_100:9223372036854775807': each add-on is code:quantity with a quantity from 1 to 1000000")
        // The largest quantity still prices.
        let account = try? AccountsCSV.parse(header + "a,A,team,active,2025-01-01,storage_100:1000000;seats_5:1000000,99.99,,,\n",
                                             file: "accounts.csv", catalog: sampleCatalog).first
        // (7900 + 1000 × 10^6 + 1500 × 10^6) × 0.0001 = 250000.79 → 250001
        XCTAssertEqual(account?.mrr(in: sampleCatalog), 250_001)
    }

    /// Prices that the catalog accepts but whose sum with quantities would overflow are refused at the row.
    func testAccountWhosePriceOverflowsIsRefused() {
        var catalog = sampleCatalog
        catalog.addons = catalog.addons.map { addon in
            var addon = addon
            if addon.code == "storage_100" { addon.priceMonthly = CatalogParser.maxPrice }
            return addon
        }
        XCTAssertTrue(catalog.fits(tier: catalog.tiers[1], addons: [AddonQuantity(addon: "storage_100", quantity: 900)]))
        XCTAssertFalse(catalog.fits(tier: catalog.tiers[1], addons: [AddonQuantity(addon: "storage_100", quantity: 1_000)]))
        XCTAssertThrowsError(try AccountsCSV.parse(header + "a,A,team,active,2025-01-01,storage_100:1000000,0,,,\n",
                                                   file: "accounts.csv", catalog: catalog)) { error in
            let errors = (error as? InputErrors)?.errors ?? []
            XCTAssertEqual(errors.map(\.line), [2])
            XCTAssertEqual(errors.first?.reason, "these add-ons add up to a price, storage or seats too large to compute")
        }
    }
}
