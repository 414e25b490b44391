import TierPlanCore
import XCTest

let GB: Int64 = 1_000_000_000
let asOf = Day(iso: "2026-11-01")!

func account(_ id: String = "acme", tier: String = "starter", status: AccountStatus = .active, created: String = "2025-01-01",
             addons: [AddonQuantity] = [], discount: Discount = .none) -> Account {
    Account(id: id, name: id, tier: tier, status: status, createdAt: Timestamp(iso: created)!, addons: addons, discount: discount)
}

/// A storage series over the window: `values[i]` on window day `i` (nil = no sample that day).
func series(_ values: [Int64?]) -> [(day: Int, bytes: Int64)] {
    values.enumerated().compactMap { i, v in v.map { (day: i, bytes: $0) } }
}

final class WatcherTests: XCTestCase {
    func testLeastSquaresSlopeAndDaysToFull() {
        struct Case { let name: String; let points: [Int64?]; let used: Int64; let slope: Double?; let days: Double? }
        let rising = (0..<28).map { Int64(50) * GB + Int64($0) * GB }            // +1 GB a day, ends at 77 GB
        let cases: [Case] = [
            Case(name: "steady growth", points: rising, used: 77 * GB, slope: Double(GB), days: 23),
            Case(name: "six days is too few", points: Array(rising.prefix(6)), used: 55 * GB, slope: nil, days: nil),
            Case(name: "seven days is enough", points: Array(rising.prefix(7)), used: 56 * GB, slope: Double(GB), days: 44),
            Case(name: "gaps count only sampled days", points: [50 * GB, nil, 52 * GB, nil, 54 * GB, nil, 56 * GB, nil, 58 * GB, nil, 60 * GB, nil, 62 * GB],
                 used: 62 * GB, slope: Double(GB), days: 38),
            Case(name: "flat", points: Array(repeating: 60 * GB, count: 28), used: 60 * GB, slope: 0, days: nil),
            Case(name: "shrinking", points: rising.reversed(), used: 50 * GB, slope: -Double(GB), days: nil),
            Case(name: "already full", points: rising, used: 100 * GB, slope: Double(GB), days: 0),
            Case(name: "over the limit", points: rising, used: 120 * GB, slope: Double(GB), days: 0),
        ]
        for c in cases {
            let usage = UsageSummary(storageUsedBytes: c.used, dailyMaxStorage: series(c.points))
            let s = Watcher.signals(for: account(), usage: usage, catalog: sampleCatalog, asOf: asOf)
            if let slope = c.slope {
                XCTAssertEqual(s.storageGrowthBytesPerDay ?? .nan, slope, accuracy: 1e-3, c.name)
            } else {
                XCTAssertNil(s.storageGrowthBytesPerDay, c.name)
            }
            if let days = c.days { XCTAssertEqual(s.storageDaysToFull ?? .nan, days, accuracy: 1e-9, c.name) } else { XCTAssertNil(s.storageDaysToFull, c.name) }
        }
        XCTAssertEqual(Watcher.leastSquaresSlope([(0, 10), (1, 30), (2, 20)]) ?? .nan, 5, accuracy: 1e-12)
    }

    func testStorageFlags() {
        func flags(used: Int64, slope perDay: Int64 = 0) -> [SignalFlag] {
            let points = (0..<28).map { used - Int64(27 - $0) * perDay }
            return Watcher.signals(for: account(), usage: UsageSummary(storageUsedBytes: used, dailyMaxStorage: series(points), featureDays: ["reports": 9]),
                                   catalog: sampleCatalog, asOf: asOf).flags
        }
        XCTAssertEqual(flags(used: 79_999_999_999), [])
        XCTAssertEqual(flags(used: 80 * GB), [.storageNearLimit])
        XCTAssertEqual(flags(used: 100 * GB), [.storageOverLimit])
        XCTAssertEqual(flags(used: 70 * GB, slope: 1 * GB), [.storageFilling])             // 30 days to full: filling
        XCTAssertEqual(flags(used: 69 * GB, slope: 1 * GB), [])                              // 31 days
        XCTAssertEqual(flags(used: 101 * GB, slope: 1 * GB), [.storageOverLimit], "over the limit is not filling")
    }

    func testAdoptionAndDemandAtTheirEdges() {
        let team = account(tier: "team")    // includes reports, sharing
        func signals(_ days: [String: Int], created: String = "2025-01-01") -> AccountSignals {
            Watcher.signals(for: account(tier: "team", created: created), usage: UsageSummary(featureDays: days), catalog: sampleCatalog, asOf: asOf)
        }
        XCTAssertEqual(team.tier, "team")
        XCTAssertEqual(signals(["reports": 3, "sharing": 2]).adoptedFeatures, ["reports"], "3 days adopts, 2 does not")
        XCTAssertEqual(signals(["reports": 3, "sharing": 2]).adoptionRatio, 0.5)
        XCTAssertEqual(signals(["automation": 2]).demandedFeatures, ["automation"], "2 days is demand")
        XCTAssertEqual(signals(["automation": 1]).demandedFeatures, [], "1 day is not")
        XCTAssertTrue(signals(["automation": 2]).has(.featureDemand))
        XCTAssertTrue(signals(["reports": 2]).has(.lowAdoption), "0 of 2 adopted")
        XCTAssertFalse(signals(["reports": 3]).has(.lowAdoption), "1 of 2 is 0.5, not under 0.4")
    }

    func testAccountAgeEdgeForLowAdoption() {
        func low(_ created: String) -> Bool {
            Watcher.signals(for: account(created: created), usage: UsageSummary(), catalog: sampleCatalog, asOf: asOf).has(.lowAdoption)
        }
        XCTAssertTrue(low("2026-10-04"), "28 days old on as_of")
        XCTAssertFalse(low("2026-10-05"), "27 days old")
        XCTAssertTrue(low("2026-10-04T23:59:59Z"), "the day counts, not the hour")
    }

    func testLimitsCountAddons() {
        let s = Watcher.signals(for: account(tier: "team", addons: [AddonQuantity(addon: "storage_100", quantity: 2), AddonQuantity(addon: "seats_5", quantity: 1),
                                                                    AddonQuantity(addon: "automation", quantity: 1)]),
                                usage: UsageSummary(storageUsedBytes: 350 * GB, activeUsers: 18), catalog: sampleCatalog, asOf: asOf)
        XCTAssertEqual(s.storageLimitBytes, 700 * GB)
        XCTAssertEqual(s.storageUtilization, 0.5)
        XCTAssertEqual(s.seatLimit, 25)
        XCTAssertEqual(s.seatUtilization, 0.72)
        XCTAssertEqual(s.includedFeatures, ["automation", "reports", "sharing"])
        XCTAssertNil(s.storageGrowthBytesPerDay)
    }

    func testSeatsFlagAtNinetyPercent() {
        func flags(_ users: Int) -> [SignalFlag] {
            Watcher.signals(for: account(tier: "team"), usage: UsageSummary(featureDays: ["reports": 5, "sharing": 5], activeUsers: users),
                            catalog: sampleCatalog, asOf: asOf).flags
        }
        XCTAssertEqual(flags(17), [])
        XCTAssertEqual(flags(18), [.seatsNearLimit])   // 18 / 20 = 0.9
    }

    /// The window's month day sets: exactly its 28 days, each as bit d−1 of its month, over years of as_of days.
    func testWindowMonthsAreExactlyTheWindowsDays() {
        let november = Watcher.windowMonths(asOf: Day(year: 2026, month: 11, day: 1))
        XCTAssertEqual(november.map(\.month), [Day(year: 2026, month: 10, day: 1), Day(year: 2026, month: 11, day: 1)])
        XCTAssertEqual(november.map(\.days), [Int32((1 << 31) - (1 << 4)), 1])
        XCTAssertEqual(Watcher.windowMonths(asOf: Day(year: 2026, month: 2, day: 28)).map(\.days), [Int32((1 << 28) - 1)])
        XCTAssertEqual(Watcher.windowMonths(asOf: Day(year: 2026, month: 3, day: 31)).map(\.days), [Int32(bitPattern: 0x7FFF_FFF8)])
        for offset in 0..<(4 * 366) {
            let asOf = Day(year: 2023, month: 1, day: 1).adding(days: offset)
            let months = Watcher.windowMonths(asOf: asOf)
            var expected: [Day: Int32] = [:]
            for back in 0..<Watcher.windowDays {
                let day = asOf.adding(days: -back)
                expected[CalendarMonth(containing: day).firstDay, default: 0] |= Int32(1) << (day.components.day - 1)
            }
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: months.map { ($0.month, $0.days) }), expected, "as_of \(asOf)")
            XCTAssertEqual(months.map(\.month), months.map(\.month).sorted())
        }
    }

    /// The window's storage from month rows is what a day-by-day reading gives: the latest sample on or
    /// before as_of (from an earlier month when the window's months have none) and each window day's maximum.
    func testStorageFromMonthRowsIsTheDayByDayReading() {
        var state: UInt64 = 20261203
        func next(_ n: Int) -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int((state >> 33) % UInt64(n)) }
        for round in 0..<500 {
            // Random sample days from August to November 2026, each with a maximum and a latest value.
            var samples: [Day: (max: Int64, last: Int64)] = [:]
            let first = Day(year: 2026, month: 8, day: 1)
            for _ in 0..<next(60) { samples[first.adding(days: next(122))] = (Int64(next(1000)), Int64(next(1000))) }
            let asOf = Day(year: 2026, month: 9, day: 15).adding(days: next(70))
            let windowMonths = Watcher.windowMonths(asOf: asOf).map(\.month)
            func row(_ month: Day) -> StorageMonth? {
                let days = samples.keys.filter { CalendarMonth(containing: $0).firstDay == month }.sorted()
                guard !days.isEmpty else { return nil }
                return StorageMonth(month: month, days: days.map { $0.days(since: month) + 1 },
                                    maxBytes: days.map { samples[$0]!.max }, lastBytes: days.map { samples[$0]!.last })
            }
            let earlier = samples.keys.filter { $0 < windowMonths[0] }.max().map { samples[$0]!.last }
            let got = StorageMonth.window(windowMonths.compactMap(row), earlier: earlier, asOf: asOf)
            let start = Watcher.windowStart(asOf: asOf)
            let expectedUsed = samples.keys.filter { $0 <= asOf }.max().map { samples[$0]!.last }
            let expectedDays = samples.keys.filter { $0 >= start && $0 <= asOf }.sorted()
            XCTAssertEqual(got.usedBytes, expectedUsed, "round \(round)")
            XCTAssertEqual(got.dailyMax.map(\.day), expectedDays.map { $0.days(since: start) }, "round \(round)")
            XCTAssertEqual(got.dailyMax.map(\.bytes), expectedDays.map { samples[$0]!.max }, "round \(round)")
        }
    }
}
