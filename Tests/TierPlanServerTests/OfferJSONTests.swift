import Foundation
@testable import TierPlanServer
@testable import TierPlanCore
@testable import TierPlanStore
import XCTest

/// The offers API's pages, `run --json` and the evidence a run stores are written without JSONEncoder
/// (`OfferPage.jsonBytes`, `PlanResult.jsonBytes`, `SignalsRecord.writeJSON`): the bytes must be
/// exactly what `ContractJSON` makes of the same value, for any text, number and missing value.
final class OfferJSONTests: XCTestCase {
    /// A small deterministic generator (the same cases every run).
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }

        /// Text with everything JSON escapes or might: controls, quotes, backslashes, slashes, DEL,
        /// accents, emoji, line separators, a byte-order mark.
        mutating func text(maxLength: Int = 40) -> String {
            let pool: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\u{7F}", "é", "€", "😀", "\u{2028}", "\u{FEFF}", "<", "&", "'",
                                  "→", "\r\n", "e\u{301}"] + (0..<32).map { String(UnicodeScalar(UInt8($0))) }
            return String((0..<below(maxLength + 1)).map { _ in pool[below(pool.count)] }.joined())
        }

        mutating func double() -> Double {
            switch below(8) {
            case 0: return 0
            case 1: return Double(below(100_000))                       // integral: "1200", not "1200.0"
            case 2: return Double(below(10_000)) / 10_000                // probabilities
            case 3: return Double(Int64(bitPattern: next() << 11)) / 1e6 // large, negative too
            case 4: return Double(below(1000)) * 1e-9                    // tiny: exponent notation
            case 5: return 1e17 * Double(1 + below(9))                   // huge: exponent notation
            case 6: return -Double(below(1_000_000)) / 100
            default: return Double(next()) / Double(1 << 40)
            }
        }

        mutating func int() -> Int {
            switch below(5) {
            case 0: return 0
            case 1: return Int.max
            case 2: return Int.min
            case 3: return -below(100_000)
            default: return Int(truncatingIfNeeded: next())
            }
        }

        mutating func offer() -> OfferRecord {
            let items = { (g: inout Generator) in (0..<g.below(3)).map { _ in AddonQuantity(addon: g.text(maxLength: 8), quantity: g.int()) } }
            return OfferRecord(
                id: text(), accountID: text(), kind: OfferKind.allCases[below(OfferKind.allCases.count)], rank: int(),
                fromTier: text(), toTier: text(), add: items(&self), remove: items(&self),
                currentMRR: int(), newMRR: int(), deltaMRR: int(), oneTime: int(),
                acceptanceProbability: double(), expectedDeltaMRR: double(),
                reasons: (0..<below(4)).map { _ in text(maxLength: 12) }, rationale: text(maxLength: 200),
                status: OfferStatus.allCases[below(OfferStatus.allCases.count)],
                asOf: Day(daysSinceEpoch: below(40_000)), snoozedUntil: chance(0.5) ? Day(daysSinceEpoch: below(40_000)) : nil,
                version: int(), experiment: chance(0.5) ? text(maxLength: 10) : nil, arm: chance(0.5) ? text(maxLength: 10) : nil)
        }
    }

    /// Fails with both documents when the bytes differ.
    func same(_ written: Data, _ expected: Data, round: Int) -> Bool {
        guard written != expected else { return true }
        XCTFail("round \(round): written\n\(String(decoding: written, as: UTF8.self))\nexpected\n\(String(decoding: expected, as: UTF8.self))")
        return false
    }

    func testPlanResultsAreWhatContractJSONWrites() throws {
        var g = Generator(state: 20261204)
        for round in 0..<400 {
            let suppressed = (0..<g.below(5)).map { _ in
                SuppressedRecord(accountID: g.text(), kind: g.chance(0.5) ? g.text(maxLength: 10) : nil, reason: g.text(maxLength: 20))
            }
            let result = PlanResult(asOf: g.text(maxLength: 10), runID: g.text(), dryRun: g.chance(0.5), accountsScanned: g.int(),
                                    accountsFlagged: g.int(), offersCreated: g.int(), offersRefreshed: g.int(), offersExpired: g.int(),
                                    offers: (0..<g.below(6)).map { _ in g.offer() }, suppressed: suppressed)
            let expected = try ContractJSON.data(result)
            let written = Data(result.jsonBytes())
            guard same(written, expected, round: round) else { return }
        }
    }

    func testSignalsRecordsAreWhatContractJSONWrites() throws {
        var g = Generator(state: 20261205)
        for round in 0..<1000 {
            let optional = { (g: inout Generator) -> Double? in g.chance(0.3) ? nil : g.double() }
            let names = { (g: inout Generator) in (0..<g.below(5)).map { _ in g.text(maxLength: 12) } }
            var featureDays: [String: Int] = [:]
            for _ in 0..<g.below(6) { featureDays[g.chance(0.5) ? g.text(maxLength: 12) : ["reports", "sso_login", "apiAccess", "Z", "a_b"][g.below(5)]] = g.int() }
            let signals = AccountSignals(
                accountID: g.text(), tier: g.text(maxLength: 10), status: AccountStatus.allCases[g.below(AccountStatus.allCases.count)],
                storageUsedBytes: g.chance(0.3) ? nil : Int64(g.int()), storageLimitBytes: Int64(g.int()),
                storageUtilization: optional(&g), storageGrowthBytesPerDay: optional(&g), storageDaysToFull: optional(&g),
                includedFeatures: names(&g), adoptedFeatures: names(&g), adoptionRatio: optional(&g), activeUsers: g.int(),
                seatLimit: g.int(), seatUtilization: optional(&g), demandedFeatures: names(&g),
                flags: (0..<g.below(4)).map { _ in SignalFlag.allCases[g.below(SignalFlag.allCases.count)] },
                featureDays: featureDays, accountAgeDays: g.int())
            let record = SignalsRecord(signals, withFeatureDays: g.chance(0.5))
            let expected = try ContractJSON.data(record)
            var w = ContractJSONWriter()
            record.writeJSON(&w)
            let written = Data(w.bytes)
            guard same(written, expected, round: round) else { return }
        }
    }

    func testPagesAreWhatContractJSONWrites() throws {
        var g = Generator(state: 20261203)
        for round in 0..<400 {
            let offers = (0..<g.below(6)).map { _ in g.offer() }
            let page = OfferPage(offers: offers, total: g.int(), totalIsLowerBound: g.chance(0.5), limit: g.int(), offset: g.int())
            let expected = try ContractJSON.data(page)
            let written = Data(page.jsonBytes())
            guard same(written, expected, round: round) else { return }
        }
    }

    func testEmptyPage() throws {
        let page = OfferPage(offers: [], total: 0, totalIsLowerBound: false, limit: 50, offset: 0)
        XCTAssertEqual(String(decoding: page.jsonBytes(), as: UTF8.self), String(decoding: try ContractJSON.data(page), as: UTF8.self))
    }
}
