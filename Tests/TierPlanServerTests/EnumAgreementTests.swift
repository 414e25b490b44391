import Foundation
@testable import TierPlanServer
import TierPlanCore
import TierPlanStore
import XCTest

/// The schema's CHECK lists, the OpenAPI document's enums and the Core enums name the same cases:
/// adding an offer kind or a status is one enum case, and this test says what else must follow.
final class EnumAgreementTests: XCTestCase {
    /// The quoted values of `CHECK (column IN (…))` in one table of schema.sql.
    func checkList(table: String, column: String) throws -> [String] {
        let sql = try Schema.sql
        let start = try XCTUnwrap(sql.range(of: "CREATE TABLE IF NOT EXISTS \(table) ("), "table \(table)")
        let body = sql[start.upperBound...].prefix { $0 != ";" }
        let pattern = try NSRegularExpression(pattern: "CHECK \\(\(column) IN \\(([^)]*)\\)\\)", options: [.dotMatchesLineSeparators])
        let text = String(body)
        let match = try XCTUnwrap(pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), "\(table).\(column)")
        return text[Range(match.range(at: 1), in: text)!].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
    }

    /// The `enum: [...]` of a property in the OpenAPI document (its first occurrence).
    func openAPIEnum(_ property: String) throws -> [String] {
        let line = try XCTUnwrap(OpenAPI.document.split(separator: "\n").first { $0.contains("\(property): {type: string, enum: [") }, property)
        let list = line.split(separator: "[", maxSplits: 1)[1].prefix { $0 != "]" }
        return list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func testOfferKindsAndStatusesAgreeEverywhere() throws {
        let kinds = OfferKind.allCases.map(\.rawValue), statuses = OfferStatus.allCases.map(\.rawValue)
        XCTAssertEqual(try checkList(table: "offers", column: "kind"), kinds)
        XCTAssertEqual(try checkList(table: "offers", column: "status"), statuses)
        XCTAssertEqual(try openAPIEnum("kind"), kinds)
        XCTAssertEqual(try openAPIEnum("status"), statuses)
    }

    func testAccountStatusesAddonKindsAndRolesAgreeWithTheSchema() throws {
        XCTAssertEqual(try checkList(table: "accounts", column: "status"), AccountStatus.allCases.map(\.rawValue))
        XCTAssertEqual(try checkList(table: "addons", column: "kind"), AddonKind.allCases.map(\.rawValue))
        XCTAssertEqual(try checkList(table: "users", column: "role"), Role.allCases.map(\.rawValue))
        XCTAssertEqual(try checkList(table: "api_tokens", column: "role"), Role.allCases.map(\.rawValue))
    }
}
