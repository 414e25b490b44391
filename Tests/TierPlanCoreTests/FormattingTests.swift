import Foundation
import TierPlanCore
import XCTest

/// The rationale's number formatting without Foundation's formatter, held to it, and PostgreSQL's
/// timestamp text read as it comes.
final class FormattingTests: XCTestCase {
    func testFixedWritesWhatStringFormatWrites() {
        var state: UInt64 = 0x2026_1207
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
        var values: [Double] = [0, -0.0, 0.125, 0.375, 0.265, 0.285, 1.005, 2.675, 0.995, 99.95, -1.5, 1e-9, 123456789.125,
                                1e30, -3e40, .greatestFiniteMagnitude, .infinity, -.infinity, .nan]
        for _ in 0..<20_000 {
            values.append(Double(next() % 1_000_001) / 1_000_000)          // probabilities, 6 decimals
            values.append(Double(next() % 20_000) / 8)                     // exact ties at .x25, .x75
            values.append(Double(bitPattern: 0x3F00_0000_0000_0000 | (next() & 0x000F_FFFF_FFFF_FFFF)))   // any mantissa
        }
        for value in values {
            for places in [1, 2] {
                XCTAssertEqual(Rationale.fixed(value, places: places), String(format: "%.\(places)f", value), "\(value)")
            }
        }
    }

    func testRationaleNumbers() {
        XCTAssertEqual(Rationale.gigabytes(1_250_000_000), "1.2 GB")   // 1.25 is a tie: to even, as printf
        XCTAssertEqual(Rationale.gigabytes(1_350_000_000), "1.4 GB")
        XCTAssertEqual(Rationale.gigabytes(4_000_000_000), "4 GB")
        XCTAssertEqual(OfferKind.tierUpgrade.words, "tier upgrade")
        XCTAssertEqual(OfferKind.trialConversion.words, "trial conversion")
        XCTAssertEqual(OfferKind.addon.words, "addon")
    }

    func testPostgresTimestampTextAsItComes() {
        XCTAssertEqual(Timestamp(iso: "2026-10-01 06:00:00+00"), Timestamp(iso: "2026-10-01T06:00:00Z"))
        XCTAssertEqual(Timestamp(iso: "2026-10-01 06:00:00.25+00"), Timestamp(iso: "2026-10-01T06:00:00.250Z"))
        XCTAssertEqual(Timestamp(iso: "2026-10-01 08:00:00+02"), Timestamp(iso: "2026-10-01T06:00:00Z"))
    }
}
