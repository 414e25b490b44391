import TierPlanCore
import XCTest

/// The what-if on plain values: keep against reprice, what the other catalog lacks, and which
/// accounts' offers change (numbers worked by hand from `sampleCatalog`).
final class WhatIfTests: XCTestCase {
    let acceptance = AcceptanceModel(alpha: 2, beta: 8)   // p = 0.2 for every kind

    /// A Team account at 560 GB of its 500 GB that uses both its features: over the limit, so it needs
    /// max(560, 560) / 0.8 = 700 GB: Team + 2 × storage_100 (add-on), nothing higher in `sampleCatalog`.
    let crowded = account("crowded", tier: "team")
    let crowdedUsage = UsageSummary(storageUsedBytes: 560 * GB, dailyMaxStorage: (0..<28).map { (day: $0, bytes: 560 * GB) },
                                    featureDays: ["reports": 9, "sharing": 9], activeUsers: 3)
    /// A Starter account with one storage pack and a 10 % discount that is fine where it is.
    let small = account("small", addons: [AddonQuantity(addon: "storage_100", quantity: 1)], discount: Discount(basisPoints: 1000))
    let smallUsage = UsageSummary(storageUsedBytes: 20 * GB, dailyMaxStorage: (0..<28).map { (day: $0, bytes: 20 * GB) },
                                  featureDays: ["reports": 9], activeUsers: 2)

    func compare(_ proposed: Catalog, _ existing: ExistingPricing) -> WhatIfReport {
        var whatIf = WhatIf(current: sampleCatalog, proposed: proposed, asOf: asOf, acceptance: acceptance, existing: existing)
        whatIf.add(crowded, usage: crowdedUsage, history: OfferHistory(), paid: 7900)
        whatIf.add(small, usage: smallUsage, history: OfferHistory(), paid: 3510)
        return whatIf.report(asOf: asOf, months: 3, currency: "USD", catalog: "file.yaml", paying: 2, mrr: 11410, forecasts: (nil, nil))
    }

    func with(_ catalog: Catalog, tier code: String, _ change: (inout Tier) -> Void) -> Catalog {
        var catalog = catalog
        for i in catalog.tiers.indices where catalog.tiers[i].code == code { change(&catalog.tiers[i]) }
        return catalog
    }

    func testTheSameCatalogChangesNothing() {
        let r = compare(sampleCatalog, .keep)
        XCTAssertEqual(r.current, r.whatif)
        XCTAssertEqual([r.difference.mrr, r.difference.offers, r.difference.deltaMRR], [0, 0, 0])
        XCTAssertEqual([r.difference.arpu, r.difference.expectedDeltaMRR], [0, 0])
        XCTAssertEqual(r.changes, [])
        XCTAssertEqual(r.unmapped, [])
        XCTAssertEqual(r.current.offers["addon"], OfferTally(count: 1, deltaMRR: 2000, expectedDeltaMRR: 400))
        XCTAssertEqual(r.current.mrr, 11410)
        XCTAssertEqual(r.current.arpu, 5705)
    }

    func testMoreStorageOnTeamRemovesTheCrowdedAccountsNeed() {
        let r = compare(with(sampleCatalog, tier: "team") { $0.storageGB = 1000 }, .keep)
        XCTAssertEqual(r.whatif.total.count, 0)
        XCTAssertEqual(r.difference.offers, -1)
        XCTAssertEqual(r.difference.expectedDeltaMRR, -400, accuracy: 1e-9)
        XCTAssertEqual(r.changes.map(\.accountID), ["crowded"])
        XCTAssertEqual(r.changes[0].current?.kind, .addon)
        XCTAssertEqual(r.changes[0].current?.add, [AddonQuantity(addon: "storage_100", quantity: 2)])
        XCTAssertNil(r.changes[0].whatif)
        XCTAssertEqual(WhatIfOffer.summary(r.changes[0].current, currency: "USD"),
                       "addon → team + storage_100 × 2, +$20.00/month (expected $4.00)")
        XCTAssertEqual(WhatIfOffer.summary(nil, currency: "USD"), "no offer")
        XCTAssertEqual(r.changes[0].changeExpectedDeltaMRR, -400, accuracy: 1e-9)
        XCTAssertEqual(r.difference.mrr, 0, "keep: MRR is what accounts pay")
    }

    func testKeepAndRepriceChangeWhatAccountsPayNotHowOffersArePriced() {
        let dearer = with(sampleCatalog, tier: "team") { $0.priceMonthly = 8900 }
        // Offers are priced within the other catalog either way: Team + 2 packs at 10,900 against Team at 8,900.
        for existing in ExistingPricing.allCases {
            let r = compare(dearer, existing)
            XCTAssertEqual(r.whatif.offers["addon"]?.deltaMRR, 2000, "\(existing)")
            XCTAssertEqual(r.changes, [], "the same add-ons for the same Δ (\(existing))")
        }
        // keep: paying MRR is what accounts pay; reprice: the crowded account's 7,900 becomes 8,900.
        XCTAssertEqual(compare(dearer, .keep).whatif.mrr, 11410)
        let reprice = compare(dearer, .reprice)
        XCTAssertEqual(reprice.whatif.mrr, 12410)
        XCTAssertEqual(reprice.difference.mrr, 1000)
        XCTAssertEqual(reprice.difference.arpu, 500)
        // What the CLI and the page show of it.
        XCTAssertEqual(reprice.rows.first { $0.label.hasPrefix("MRR on") },
                       WhatIfRow(label: "MRR on 2026-11-01", current: "$114.10", whatif: "$124.10", change: "+$10.00"))
        XCTAssertEqual(reprice.rows.first { $0.label == "ARPU on 2026-11-01" }?.change, "+$5.00")
        XCTAssertEqual(reprice.rows.first { $0.label == "addon: Σ expected Δ MRR" },
                       WhatIfRow(label: "addon: Σ expected Δ MRR", current: "$4.00", whatif: "$4.00", change: "$0.00"))
        XCTAssertNil(reprice.rows.first { $0.label.hasPrefix("tier_upgrade") }, "a kind neither side offers is left out")
        // A cut makes no offer worth less than nothing: the packs still add 2,000.
        let cheaper = compare(with(sampleCatalog, tier: "team") { $0.priceMonthly = 6900 }, .keep)
        XCTAssertEqual(cheaper.whatif.offers["addon"]?.deltaMRR, 2000)
    }

    func testAConfigurationTooDearToComputeIsUnmappedNotACrash() {
        var absurd = sampleCatalog
        for i in absurd.addons.indices where absurd.addons[i].code == "storage_100" { absurd.addons[i].priceMonthly = 1_000_000_000_000 }
        let hoarder = account("hoarder", addons: [AddonQuantity(addon: "storage_100", quantity: 1_000_000)])
        XCTAssertEqual(WhatIf.missing(hoarder, in: absurd), ["a price, storage or seats too large to compute"])
        // Its need for more storage cannot be priced either: no offer, no trap.
        var whatIf = WhatIf(current: sampleCatalog, proposed: absurd, asOf: asOf, acceptance: acceptance, existing: .reprice)
        whatIf.add(crowded, usage: crowdedUsage, history: OfferHistory(), paid: 7900)
        let r = whatIf.report(asOf: asOf, months: 3, currency: "USD", catalog: "f", paying: 1, mrr: 7900, forecasts: (nil, nil))
        XCTAssertEqual(r.whatif.offers["addon"]?.deltaMRR, 2_000_000_000_000)
    }

    func testWhatTheOtherCatalogLacksIsUnmappedAndKeepsItsPrice() {
        var noPacks = sampleCatalog
        noPacks.addons.removeAll { $0.code == "storage_100" }
        var r = compare(noPacks, .reprice)
        XCTAssertEqual(r.unmapped.map(\.accountID), ["small"])
        XCTAssertFalse(r.changes.contains { $0.accountID == "small" }, "unmapped accounts are not changes")
        XCTAssertEqual(r.unmapped.map(\.missing), [["add-on storage_100"]])
        // crowded is priced the same under both; small keeps 3,510.
        XCTAssertEqual(r.whatif.mrr, 11410)
        XCTAssertEqual(r.whatif.offers["addon"]?.count, 0, "no pack to sell on Team any more")
        XCTAssertEqual(r.whatif.offers["tier_upgrade"]?.count, 0)

        var packOnTeamOnly = sampleCatalog
        for i in packOnTeamOnly.addons.indices where packOnTeamOnly.addons[i].code == "storage_100" { packOnTeamOnly.addons[i].availableOn = ["team"] }
        r = compare(packOnTeamOnly, .keep)
        XCTAssertEqual(r.unmapped.map(\.missing), [["add-on storage_100 on tier starter"]])

        var noStarter = sampleCatalog
        noStarter.tiers.removeAll { $0.code == "starter" }
        XCTAssertEqual(WhatIf.missing(small, in: noStarter), ["tier starter"])
        XCTAssertEqual(WhatIf.missing(crowded, in: noStarter), [])
    }

    func testTheBiggestChangesComeFirstAndAtMostTwenty() {
        let roomier = with(sampleCatalog, tier: "team") { $0.storageGB = 1000 }
        var whatIf = WhatIf(current: sampleCatalog, proposed: roomier, asOf: asOf, acceptance: acceptance, existing: .keep)
        // 30 crowded Team accounts at 510…800 GB: the more they use, the more packs they need today.
        for i in 0..<30 {
            let used = Int64(510 + i * 10) * GB
            whatIf.add(account(String(format: "t%02d", i), tier: "team"),
                       usage: UsageSummary(storageUsedBytes: used, dailyMaxStorage: (0..<28).map { (day: $0, bytes: used) },
                                           featureDays: ["reports": 9, "sharing": 9], activeUsers: 3),
                       history: OfferHistory(), paid: 7900)
        }
        let r = whatIf.report(asOf: asOf, months: 3, currency: "USD", catalog: "f", paying: 30, mrr: 30 * 7900, forecasts: (nil, nil))
        XCTAssertEqual(r.changedAccounts, 30)
        XCTAssertEqual(r.changes.count, WhatIf.topChanges)
        let sizes = r.changes.map { abs($0.changeExpectedDeltaMRR) }
        XCTAssertEqual(sizes, sizes.sorted(by: >))
        // 730…790 GB need five packs today (−1,000 expected each) and nothing at 1,000 GB; ties by id.
        XCTAssertEqual(r.changes.prefix(7).map(\.accountID), ["t22", "t23", "t24", "t25", "t26", "t27", "t28"])
        XCTAssertEqual(r.changes[0].changeExpectedDeltaMRR, -1000, accuracy: 1e-9)
        // 800 GB is still near the 1,000 GB limit: one pack instead of five (−800).
        let t29 = whatIf.report(asOf: asOf, months: 3, currency: "USD", catalog: "f", paying: 30, mrr: 0, forecasts: (nil, nil)).changes
            .first { $0.accountID == "t29" }
        XCTAssertEqual(t29?.whatif?.add, [AddonQuantity(addon: "storage_100", quantity: 1)])
    }
}
