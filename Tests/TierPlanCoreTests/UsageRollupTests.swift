import XCTest
@testable import TierPlanCore

final class UsageRollupTests: XCTestCase {
    func at(_ text: String) -> Timestamp { Timestamp(iso: text)! }
    let october = Day(year: 2026, month: 10, day: 1)

    func testStorageDaysKeepTheLargestTheLatestAndTheCount() {
        var rollup = UsageRollup()
        rollup.addStorage(account: "acme", at: at("2026-10-10T12:00:00Z"), bytes: 500)
        rollup.addStorage(account: "acme", at: at("2026-10-10T18:00:00Z"), bytes: 300)
        rollup.addStorage(account: "acme", at: at("2026-10-10T06:00:00Z"), bytes: 900)   // late, earlier in the day
        rollup.addStorage(account: "acme", at: at("2026-10-02T06:00:00Z"), bytes: 10)    // an earlier day, after a later one
        rollup.addStorage(account: "acme", at: at("2026-10-31T23:59:59Z"), bytes: 1)
        rollup.addStorage(account: "acme", at: at("2026-11-01T00:00:00Z"), bytes: 2)     // the next month
        let storage = Dictionary(uniqueKeysWithValues: rollup.storage.map { ($0.key, $0.days) })
        let days = storage[.init(account: "acme", month: october)]
        XCTAssertEqual(days, [
            .init(day: 2, maxBytes: 10, lastAt: at("2026-10-02T06:00:00Z"), lastBytes: 10, samples: 1),
            .init(day: 10, maxBytes: 900, lastAt: at("2026-10-10T18:00:00Z"), lastBytes: 300, samples: 3),
            .init(day: 31, maxBytes: 1, lastAt: at("2026-10-31T23:59:59Z"), lastBytes: 1, samples: 1),
        ])
        XCTAssertEqual(storage[.init(account: "acme", month: Day(year: 2026, month: 11, day: 1))]?.map(\.day), [1])
        XCTAssertEqual(rollup.storageEvents, 6)
    }

    /// A day summed up elsewhere (the staging path's server-side group-by) counts as its events do.
    func testADaySummedUpCountsAsItsSamples() {
        var one = UsageRollup(), summed = UsageRollup()
        for (time, bytes) in [("2026-10-10T12:00:00Z", Int64(500)), ("2026-10-10T18:00:00Z", 300), ("2026-10-10T06:00:00Z", 900)] {
            one.addStorage(account: "acme", at: at(time), bytes: bytes)
        }
        summed.addStorage(account: "acme", month: october,
                          .init(day: 10, maxBytes: 900, lastAt: at("2026-10-10T18:00:00Z"), lastBytes: 300, samples: 3))
        XCTAssertEqual(summed.storage.map(\.days), one.storage.map(\.days))
        XCTAssertEqual(summed.storageEvents, 3)
        summed.addFeature(account: "acme", user: "u1", feature: "reports", at: Day(year: 2026, month: 10, day: 3).start, events: 4)
        XCTAssertEqual(summed.featureEvents, 4)
        XCTAssertEqual(summed.users.map(\.days), [1 << 2])
    }

    func testTwoSamplesAtOneInstantKeepTheLargerAsLatest() {
        var day = UsageRollup.StorageDay(day: 5, maxBytes: 7, lastAt: at("2026-10-05T06:00:00Z"), lastBytes: 7, samples: 1)
        day.absorb(.init(day: 5, maxBytes: 9, lastAt: at("2026-10-05T06:00:00Z"), lastBytes: 9, samples: 1))
        day.absorb(.init(day: 5, maxBytes: 8, lastAt: at("2026-10-05T06:00:00Z"), lastBytes: 8, samples: 1))
        XCTAssertEqual(day, .init(day: 5, maxBytes: 9, lastAt: at("2026-10-05T06:00:00Z"), lastBytes: 9, samples: 3))
    }

    func testMergingStoredAndNewDays() {
        let stored: [UsageRollup.StorageDay] = [
            .init(day: 1, maxBytes: 100, lastAt: at("2026-10-01T20:00:00Z"), lastBytes: 90, samples: 2),
            .init(day: 3, maxBytes: 300, lastAt: at("2026-10-03T06:00:00Z"), lastBytes: 300, samples: 1),
        ]
        let new: [UsageRollup.StorageDay] = [
            .init(day: 1, maxBytes: 50, lastAt: at("2026-10-01T21:00:00Z"), lastBytes: 50, samples: 1),
            .init(day: 2, maxBytes: 200, lastAt: at("2026-10-02T06:00:00Z"), lastBytes: 200, samples: 1),
            .init(day: 4, maxBytes: 400, lastAt: at("2026-10-04T06:00:00Z"), lastBytes: 400, samples: 4),
        ]
        XCTAssertEqual(UsageRollup.merge(stored, new), [
            .init(day: 1, maxBytes: 100, lastAt: at("2026-10-01T21:00:00Z"), lastBytes: 50, samples: 3),
            .init(day: 2, maxBytes: 200, lastAt: at("2026-10-02T06:00:00Z"), lastBytes: 200, samples: 1),
            .init(day: 3, maxBytes: 300, lastAt: at("2026-10-03T06:00:00Z"), lastBytes: 300, samples: 1),
            .init(day: 4, maxBytes: 400, lastAt: at("2026-10-04T06:00:00Z"), lastBytes: 400, samples: 4),
        ])
        XCTAssertEqual(UsageRollup.merge([], new), new)
        XCTAssertEqual(UsageRollup.merge(stored, []), stored)
    }

    func testDaySetsPerFeatureAndUserByMonth() {
        var rollup = UsageRollup()
        for (user, feature, time) in [("u1", "reports", "2026-10-01T07:00:00Z"), ("u2", "reports", "2026-10-01T08:00:00Z"),
                                      ("u1", "reports", "2026-10-31T23:00:00+00:00"), ("u1", "sso", "2026-10-31T23:30:00-01:00")] {
            rollup.add(.feature(id: "f", account: "acme", user: user, feature: feature, at: at(time), count: 1))
        }
        let features = Dictionary(uniqueKeysWithValues: rollup.features.map { ($0.key, $0.days) })
        let users = Dictionary(uniqueKeysWithValues: rollup.users.map { ($0.key, $0.days) })
        XCTAssertEqual(features.count, 2)
        XCTAssertEqual(users.count, 3)
        XCTAssertEqual(features[.init(account: "acme", key: "reports", month: october)], 1 | (1 << 30))
        XCTAssertEqual(users[.init(account: "acme", key: "u1", month: october)], 1 | (1 << 30))
        XCTAssertEqual(users[.init(account: "acme", key: "u2", month: october)], 1)
        // 23:30 at −01:00 is 00:30 UTC on 1 November: the day and month are UTC's.
        XCTAssertEqual(features[.init(account: "acme", key: "sso", month: Day(year: 2026, month: 11, day: 1))], 1)
        XCTAssertNil(features[.init(account: "acme", key: "sso", month: october)])
        XCTAssertEqual(rollup.featureEvents, 4)
        XCTAssertTrue(rollup.storage.isEmpty)
    }
}

/// The plain-CSV fast path of the usage parser reads every line it takes exactly as `CSVReader` does.
final class PlainCSVTests: XCTestCase {
    func testPlainLinesReadAsTheCSVReaderReadsThem() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let plain: [UInt8] = Array("ab9-: é\t".utf8)
        let odd: [UInt8] = [44, 34, 13, 10]   // a comma too many, a quote, line breaks
        var taken = 0
        for _ in 0..<20_000 {
            // Eight fields of plain bytes, now and then with one odd byte in them.
            var line: [UInt8] = []
            for field in 0..<8 {
                if field > 0 { line.append(44) }
                line += (0..<next(6)).map { _ in plain[next(plain.count)] }
                if next(40) == 0 { line.append(odd[next(odd.count)]) }
            }
            let padded = [UInt8](repeating: 44, count: 3) + line   // a slice that does not start at 0
            let slice = padded[3...]
            var fast = UsageFields()
            guard UsageLineParser.readPlainCSV(slice, into: &fast) else {
                XCTAssertEqual(fast.values, Array(repeating: nil, count: 8), "untouched when not taken")
                continue
            }
            taken += 1
            var reader = CSVReader(bytes: slice)
            let fields = reader.next()?.fields ?? []
            XCTAssertEqual(fields.count, 8, "\(line)")
            XCTAssertEqual(fast.values, fields.map { $0.isEmpty ? nil : $0 }, "\(line)")
        }
        XCTAssertGreaterThan(taken, 10_000, "most generated lines are plain")
        XCTAssertLessThan(taken, 20_000, "and some are not")
    }
}
