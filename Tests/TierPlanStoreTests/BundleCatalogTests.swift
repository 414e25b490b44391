import TierPlanCore
import TierPlanStore
import XCTest

/// Bundles in catalog YAML: parsed with their contents, and refused with the line, field and value
/// of each mistake, as every other catalog error.
final class BundleCatalogTests: XCTestCase {
    /// The contract's catalog with a bundle on line 16; `bundles` replaces that section.
    func yaml(bundles: String = "  - {code: growth, name: Growth pack, addons: {storage_100: 2, automation: 1}, price_monthly: 3500, available_on: [team]}") -> String {
        """
        currency: USD
        features:
          - {key: reports, name: Reports}
          - {key: sharing, name: Sharing}
          - {key: automation, name: Automation}
        tiers:
          - {code: starter, name: Starter, price_monthly: 2900, storage_gb: 100, seats: 5, features: [reports]}
          - {code: team, name: Team, price_monthly: 7900, storage_gb: 500, seats: 20, features: [reports, sharing]}
        addons:
          - {code: storage_100, name: Extra 100 GB, kind: storage, storage_gb: 100, price_monthly: 1000, available_on: [starter, team]}
          - {code: seats_5, name: 5 more seats, kind: seats, seats: 5, price_monthly: 1500}
          - {code: automation, name: Automation, kind: feature, feature: automation, price_monthly: 2000, available_on: [team]}
          - {code: onboarding, name: Guided onboarding, kind: service, price_once: 49900}
          - {code: storage_1000, name: Extra 1 TB, kind: storage, storage_gb: 1000, price_monthly: 6000, available_on: [starter]}
        bundles:
        \(bundles)
        """
    }

    func refused(_ bundles: String) -> [InputError] {
        do {
            _ = try CatalogFile.parse(yaml: yaml(bundles: bundles), file: "c.yaml")
            XCTFail("expected a refusal of \(bundles)")
        } catch let errors as InputErrors { return errors.errors } catch { XCTFail("unexpected \(error)") }
        return []
    }

    func testABundleIsAnAddonWithContents() throws {
        let catalog = try CatalogFile.parse(yaml: yaml(), file: "c.yaml")
        let growth = try XCTUnwrap(catalog.addon("growth"))
        XCTAssertEqual(growth.kind, .bundle)
        XCTAssertEqual(growth.name, "Growth pack")
        XCTAssertEqual(growth.priceMonthly, 3500)
        XCTAssertEqual(growth.availableOn, ["team"])
        XCTAssertEqual(growth.contents, [AddonQuantity(addon: "automation", quantity: 1), AddonQuantity(addon: "storage_100", quantity: 2)])
        XCTAssertEqual(catalog.provision(growth), Limits(storage: 200 * 1_000_000_000, seats: 0, features: ["automation"]))
        // Left out, available_on means every tier on which all its add-ons are.
        let everywhere = try CatalogFile.parse(yaml: yaml(bundles: "  - {code: crew, addons: {seats_5: 2}, price_monthly: 2500}"), file: "c.yaml")
        XCTAssertNil(everywhere.addon("crew")?.availableOn)
        XCTAssertEqual(everywhere.addon("crew")?.name, "crew")
        let restricted = try CatalogFile.parse(yaml: yaml(bundles: "  - {code: more, addons: {seats_5: 1, storage_100: 1}, price_monthly: 2000}"), file: "c.yaml")
        XCTAssertEqual(restricted.addon("more")?.availableOn, ["starter", "team"])
    }

    func testEachBundleMistakeIsNamedWithItsLineFieldAndValue() {
        struct Case { let bundles: String; let line: Int; let field: String?; let value: String?; let reason: String }
        let cases = [
            Case(bundles: "  - {code: g, addons: {seats_5: 1, nope: 2}, price_monthly: 100}", line: 16, field: "addons", value: "nope",
                 reason: "unknown add-on"),
            Case(bundles: "  - {code: g, addons: {seats_5: 1}, price_monthly: 100}\n  - {code: h, addons: {g: 1}, price_monthly: 100}",
                 line: 17, field: "addons", value: "g", reason: "a bundle cannot contain another bundle"),
            Case(bundles: "  - {code: g, addons: {onboarding: 1}, price_monthly: 100}", line: 16, field: "addons", value: "onboarding",
                 reason: "a service add-on is sold once and cannot be in a bundle"),
            Case(bundles: "  - {code: g, addons: {automation: 1}, price_monthly: 100, available_on: [team,\n      starter]}", line: 17,
                 field: "available_on", value: "starter", reason: "add-on 'automation' of this bundle is not available on tier 'starter'"),
            Case(bundles: "  - {code: g, addons: {automation: 1, storage_1000: 1}, price_monthly: 100}", line: 16, field: "available_on", value: nil,
                 reason: "no tier has every add-on of this bundle (automation on team; storage_1000 on starter)"),
            Case(bundles: "  - {code: g, addons: {seats_5: 1}, price_monthly: 100, available_on: [gold]}", line: 16, field: "available_on",
                 value: "gold", reason: "unknown tier"),
            Case(bundles: "  - {code: seats_5, addons: {seats_5: 1}, price_monthly: 100}", line: 16, field: "code", value: "seats_5",
                 reason: "code already used by an add-on (add-ons and bundles share codes)"),
            Case(bundles: "  - {code: g, addons: {seats_5: 1}, price_monthly: 100}\n  - {code: g, addons: {seats_5: 2}, price_monthly: 200}",
                 line: 17, field: "code", value: "g", reason: "duplicate bundle code"),
            Case(bundles: "  - {code: g, addons: {seats_5: 0}, price_monthly: 100}", line: 16, field: "addons.seats_5", value: "0",
                 reason: "a quantity in a bundle must be at least 1"),
            Case(bundles: "  - {code: g, addons: {seats_5: two}, price_monthly: 100}", line: 16, field: "addons.seats_5", value: "two",
                 reason: "must be a whole number (money is in minor units, e.g. 2900 for 29.00)"),
            Case(bundles: "  - {code: g, addons: {}, price_monthly: 100}", line: 16, field: "addons", value: nil, reason: "a bundle needs at least one add-on"),
            Case(bundles: "  - {code: g, addons: [seats_5], price_monthly: 100}", line: 16, field: "addons", value: nil,
                 reason: "expected a mapping of add-on codes to quantities, e.g. {storage_100: 2}"),
            Case(bundles: "  - {code: g, addons: {seats_5: 1}, price_monthly: -5}", line: 16, field: "price_monthly", value: "-5", reason: "must not be negative"),
            Case(bundles: "  - {code: g, addons: {seats_5: 1}}", line: 16, field: "price_monthly", value: nil, reason: "missing in a bundle"),
            Case(bundles: "  - {code: g, addons: {seats_5: 1}, price_monthly: 100, kind: bundle}", line: 16, field: "kind", value: nil,
                 reason: "unknown key in a bundle (allowed: addons, available_on, code, name, price_monthly)"),
        ]
        for c in cases {
            let errors = refused(c.bundles)
            XCTAssertEqual(errors.count, 1, "\(c.bundles): \(errors)")
            guard let error = errors.first else { continue }
            XCTAssertEqual(error.file, "c.yaml")
            XCTAssertEqual(error.line, c.line, c.bundles)
            XCTAssertEqual(error.field, c.field, c.bundles)
            XCTAssertEqual(error.value, c.value, c.bundles)
            XCTAssertEqual(error.reason, c.reason, c.bundles)
        }
    }
}
