import TierPlanCore
import XCTest

let sampleCatalog = Catalog(
    currency: "USD",
    features: [Feature(key: "reports", name: "Reports"), Feature(key: "sharing", name: "Sharing"), Feature(key: "automation", name: "Automation")],
    tiers: [
        Tier(code: "starter", name: "Starter", rank: 0, priceMonthly: 2900, storageGB: 100, seats: 5, features: ["reports"]),
        Tier(code: "team", name: "Team", rank: 1, priceMonthly: 7900, storageGB: 500, seats: 20, features: ["reports", "sharing"]),
    ],
    addons: [
        Addon(code: "storage_100", name: "Extra 100 GB", kind: .storage, storageGB: 100, priceMonthly: 1000, availableOn: ["starter", "team"]),
        Addon(code: "seats_5", name: "5 more seats", kind: .seats, seats: 5, priceMonthly: 1500),
        Addon(code: "automation", name: "Automation", kind: .feature, feature: "automation", priceMonthly: 2000, availableOn: ["team"]),
        Addon(code: "onboarding", name: "Guided onboarding", kind: .service, priceOnce: 49900),
    ])

final class AccountsCSVTests: XCTestCase {
    let header = "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner,canceled_at\n"

    func parse(_ rows: String) throws -> [Account] {
        try AccountsCSV.parse(header + rows, file: "accounts.csv", catalog: sampleCatalog)
    }

    func refused(_ rows: String) -> [InputError] {
        do { _ = try parse(rows); XCTFail("expected refusal"); return [] }
        catch let e as InputErrors { return e.errors } catch { XCTFail("\(error)"); return [] }
    }

    func testMRRWithDiscountRoundsHalfUp() throws {
        // (7900 + 1000×2 + 1500) × 0.875 = 9975
        let accounts = try parse("acme,\"Acme, Inc.\",team,active,2025-01-01,storage_100:2;seats_5:1,12.5,smb,alice,\n")
        XCTAssertEqual(accounts.first?.name, "Acme, Inc.")
        XCTAssertEqual(accounts.first?.mrr(in: sampleCatalog), 9975)
        // 2900 × 0.9 = 2610 exactly; 2900 × (1 − 0.0333) = 2803.43 → 2803; 2900 × 0.995 = 2885.5 → 2886
        XCTAssertEqual(try parse("a,A,starter,active,2025-01-01,,10,,,\n").first?.mrr(in: sampleCatalog), 2610)
        XCTAssertEqual(try parse("a,A,starter,active,2025-01-01,,3.33,,,\n").first?.mrr(in: sampleCatalog), 2803)
        XCTAssertEqual(try parse("a,A,starter,active,2025-01-01,,0.5,,,\n").first?.mrr(in: sampleCatalog), 2886)
        XCTAssertEqual(try parse("a,A,starter,active,2025-01-01,,100,,,\n").first?.mrr(in: sampleCatalog), 0)
        XCTAssertEqual(try parse("a,A,starter,active,2025-01-01,,,,,\n").first?.mrr(in: sampleCatalog), 2900)
    }

    func testDiscountRoundingTable() {
        let cases: [(amount: Int, percent: String, expected: Int)] = [
            (1, "50", 1),        // 0.5 → 1
            (3, "50", 2),        // 1.5 → 2
            (5, "10", 5),        // 4.5 → 5
            (999, "33.33", 666), // 666.0333 → 666
            (2900, "0", 2900),
            (2900, ".5", 2886),     // 2885.5 → 2886: a leading dot is a percentage too
            (2900, "12.500", 2538), // trailing zeros beyond two decimals are fine: 2537.5 → 2538
        ]
        for c in cases {
            XCTAssertEqual(Discount(percentText: c.percent)?.apply(to: c.amount), c.expected, "\(c)")
        }
        XCTAssertNil(Discount(percentText: "101"))
        XCTAssertNil(Discount(percentText: "-5"))
        XCTAssertNil(Discount(percentText: "1.234"))
        XCTAssertNil(Discount(percentText: "ten"))
        XCTAssertNil(Discount(percentText: "."))
        XCTAssertNil(Discount(percentText: "99999999999999999999"))
    }

    func testBadStatusRefusedWithLineAndField() {
        let errors = refused("acme,Acme,starter,active,2025-01-01,,0,smb,alice,\nglobex,Globex,team,paused,2025-01-01,,0,smb,bob,\n")
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors.first?.line, 3)
        XCTAssertEqual(errors.first?.field, "status")
        XCTAssertEqual(errors.first?.value, "paused")
        XCTAssertEqual(errors.first?.description.hasPrefix("accounts.csv:3: field 'status' value 'paused'"), true)
    }

    func testOtherBadRowsRefused() {
        XCTAssertEqual(refused("a,A,gold,active,2025-01-01,,0,,,\n").first?.field, "tier")
        XCTAssertEqual(refused("a,A,starter,active,yesterday,,0,,,\n").first?.field, "created_at")
        XCTAssertEqual(refused("a,A,starter,active,2025-01-01,automation:1,0,,,\n").first?.reason, "add-on is not available on tier starter")
        XCTAssertEqual(refused("a,A,starter,active,2025-01-01,seats_5:0,0,,,\n").first?.field, "addons")
        XCTAssertEqual(refused("a,A,starter,active,2025-01-01,nope:1,0,,,\n").first?.reason, "unknown add-on")
        XCTAssertEqual(refused("a,A,starter,active,2025-01-01,,0,,,\na,A,starter,active,2025-01-01,,0,,,\n").first?.line, 3)
        XCTAssertEqual(refused("a,A,starter\n").first?.reason, "expected 10 fields, found 3")
    }

    func testHeaderWithoutCanceledAtAccepted() throws {
        let text = "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner\na,A,starter,canceled,2025-01-01,,0,smb,x\n"
        let accounts = try AccountsCSV.parse(text, file: "a.csv", catalog: sampleCatalog)
        XCTAssertEqual(accounts.first?.status, .canceled)
        XCTAssertNil(accounts.first?.canceledAt)
    }
}
