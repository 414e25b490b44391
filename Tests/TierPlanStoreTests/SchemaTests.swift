import Foundation
import Postgres
import TestSupport
import TierPlanCore
import TierPlanStore
import XCTest

/// schema.sql: safe to repeat, versioned, and distributable by account_id as citus.sql says.
final class SchemaTests: XCTestCase {
    func testMigrateTwiceChangesNothing() throws {
        let (db, _) = try TestCluster.freshConnection()
        let before = try tablesAndColumns(db)
        XCTAssertEqual(try Schema.migrate(db), Schema.version)
        XCTAssertEqual(try tablesAndColumns(db), before)
        XCTAssertEqual(try Schema.installedVersion(db), Schema.version)
    }

    func tablesAndColumns(_ db: Connection) throws -> [String] {
        try db.query("""
            SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY 1
            """).rows.map { try $0.decode(0) }
    }

    func testCitusScriptCoversEveryTableAndKeysStartWithAccountID() throws {
        let (db, _) = try TestCluster.freshConnection()
        let script = try String(contentsOf: repositoryRoot.appendingPathComponent("citus.sql"), encoding: .utf8)
        func named(_ function: String) -> Set<String> {
            Set(script.split(separator: "\n").filter { $0.hasPrefix("SELECT \(function)('") }.map {
                String($0.split(separator: "'")[1])
            })
        }
        let distributed = named("create_distributed_table"), reference = named("create_reference_table")
        let tables = Set(try db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").rows.map { try $0.decode(0, as: String.self) })
        XCTAssertEqual(distributed.union(reference), tables, "citus.sql must place every table")
        XCTAssertTrue(distributed.isDisjoint(with: reference))
        // Citus needs the distribution column in every primary key and unique index. ARCHITECTURE puts it
        // first; the raw usage events lead with their time instead (README, Decisions: the raw events' key).
        for table in distributed {
            let keys = try db.query("""
                SELECT i.indexrelid::regclass::text, array_to_string(array_agg(a.attname::text ORDER BY k.position), ',')
                FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k (attnum, position)
                     JOIN pg_attribute a ON a.attnum = k.attnum
                WHERE i.indrelid = $1::regclass AND a.attrelid = i.indrelid AND (i.indisunique OR i.indisprimary)
                GROUP BY 1
                """, [table]).rows
            XCTAssertFalse(keys.isEmpty, "\(table) has a primary key")
            for key in keys {
                let index: String = try key.decode(0)
                let columns = try key.decode(1, as: String.self).split(separator: ",").map(String.init)
                XCTAssertTrue(columns.contains("account_id"), "\(table): \(index) must contain account_id")
                XCTAssertEqual(columns.first, table == "usage_events" ? "at" : "account_id", "\(table): \(index) starts with \(columns)")
            }
        }
    }

    /// `window_days(month, first, last)` is the set of days of `month` between `first` and `last`:
    /// checked against a day-by-day count for every month boundary case of a year and a half of
    /// windows (28 days, 1 day, 40 days, across February and leap days).
    func testWindowDaysIsTheDaysOfTheMonthInTheWindow() throws {
        let (db, _) = try TestCluster.freshConnection()
        let wrong = try db.query("""
            WITH w AS (SELECT f::date AS first, (f::date + len - 1) AS last
                       FROM generate_series('2027-12-01'::date, '2029-05-31'::date, interval '1 day') f, unnest(ARRAY[1, 28, 40]) len),
                 m AS (SELECT w.*, month::date FROM w, generate_series(date_trunc('month', first), last, interval '1 month') month)
            SELECT count(*) FROM m
            WHERE window_days(month, first, last) IS DISTINCT FROM (
                SELECT coalesce(sum(1::bigint << (extract(day FROM d)::int - 1)), 0)::integer
                FROM generate_series(greatest(month, first), least((month + interval '1 month' - interval '1 day')::date, last), interval '1 day') d)
            """).first!.decode(0, as: Int.self)
        XCTAssertEqual(wrong, 0)
        XCTAssertEqual(try db.query("SELECT window_days('2026-10-01', '2026-10-05', '2026-11-01')").first!.decode(0, as: Int.self),
                       Int(Int32.max) - 0b1111, "5–31 October: every bit but the first four")
        XCTAssertEqual(try db.query("SELECT day_bit('2026-10-31')").first!.decode(0, as: Int.self), 1 << 30)
    }

    /// The signals query takes the window's day sets from Swift (`Watcher.windowMonths`) instead of
    /// computing `window_days` per row: the two agree on every as_of of four years.
    func testWindowMonthsAgreeWithWindowDays() throws {
        let (db, _) = try TestCluster.freshConnection()
        var asOfs: [String] = [], months: [String] = [], sets: [Int] = []
        for offset in 0..<(4 * 366) {
            let asOf = Day(year: 2027, month: 1, day: 1).adding(days: offset)
            for entry in Watcher.windowMonths(asOf: asOf) {
                asOfs.append(asOf.iso); months.append(entry.month.iso); sets.append(Int(entry.days))
            }
        }
        let wrong = try db.query("""
            SELECT count(*) FROM unnest($1::date[], $2::date[], $3::integer[]) w(as_of, month, days)
            WHERE days IS DISTINCT FROM window_days(month, as_of - 27, as_of)
            """, [PostgresArray(asOfs), PostgresArray(months), PostgresArray(sets)]).first!.decode(0, as: Int.self)
        XCTAssertEqual(wrong, 0)
        XCTAssertGreaterThan(sets.count, 4 * 366)
    }
}
