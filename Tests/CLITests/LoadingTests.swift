import Foundation
import Postgres
import TestSupport
import TierPlanStore
import XCTest

/// Catalog, accounts and usage loading through the real `tierplan` binary and a real database.
final class LoadingTests: XCTestCase {
    var url: String!
    var db: Connection!
    var dir: URL!

    override func setUpWithError() throws {
        url = try TestCluster.freshDatabase()
        db = try Connection(url)
        dir = try temporaryFolder()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    @discardableResult
    func tierplan(_ args: String..., stdin: String? = nil) throws -> CLIResult {
        try CLI.run(args, databaseURL: url, stdin: stdin)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func count(_ table: String) throws -> Int {
        try db.query("SELECT count(*) FROM \(table)").first!.decode(0)
    }

    /// A fingerprint of every usage table, to show that nothing changed.
    func usageFingerprint() throws -> String {
        try ["storage_samples", "feature_events", "daily_storage", "feature_days", "user_days"].map { table in
            try db.query("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \(table) t").first!.decode(0, as: String.self)
        }.joined(separator: ",")
    }

    func loadExamples() throws {
        let root = repositoryRoot.appendingPathComponent("examples").path
        XCTAssertEqual(try tierplan("catalog", "load", root + "/catalog.yaml").status, 0)
        let accounts = try tierplan("accounts", "import", root + "/accounts.csv", "--json")
        XCTAssertEqual(accounts.status, 0, accounts.stderr)
    }

    // MARK: Usage

    func testSameFileTwiceIsAllDuplicatesAndChangesNothing() throws {
        try loadExamples()
        let file = repositoryRoot.appendingPathComponent("examples/usage.ndjson").path
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count
        let first = try tierplan("usage", "ingest", file, "--json")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.json?["new"] as? Int, lines)
        XCTAssertEqual(first.json?["duplicates"] as? Int, 0)
        let before = try usageFingerprint()
        let second = try tierplan("usage", "ingest", file, "--json")
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.json?["new"] as? Int, 0)
        XCTAssertEqual(second.json?["duplicates"] as? Int, lines)
        XCTAssertEqual(try usageFingerprint(), before)
    }

    func testRollupsMatchRawEvents() throws {
        try loadExamples()
        XCTAssertEqual(try tierplan("usage", "ingest", repositoryRoot.appendingPathComponent("examples/usage.ndjson").path).status, 0)
        try assertRollupsMatchRawEvents()
    }

    /// The rollups stay exact when an ingest merges into stored months and days: every third event
    /// first (a file: the direct path), then the whole file (its repeats send it through staging,
    /// whose new rows are read back), then a storage sample and a feature use more for every day
    /// already seen, through stdin.
    func testRollupsMatchRawEventsAcrossIngests() throws {
        try loadExamples()
        let all = try String(contentsOfFile: repositoryRoot.appendingPathComponent("examples/usage.ndjson").path, encoding: .utf8)
            .split(separator: "\n")
        let some = try write("some.ndjson", all.enumerated().filter { $0.offset % 3 == 0 }.map { $0.element + "\n" }.joined())
        let first = try tierplan("usage", "ingest", some, "--json")
        XCTAssertEqual(first.json?["duplicates"] as? Int, 0, first.stderr)
        let whole = try tierplan("usage", "ingest", repositoryRoot.appendingPathComponent("examples/usage.ndjson").path, "--json")
        XCTAssertEqual(whole.json?["duplicates"] as? Int, (all.count + 2) / 3, whole.stderr)
        try assertRollupsMatchRawEvents()
        let days = try db.query("SELECT DISTINCT account_id, to_char(day, 'YYYY-MM-DD') FROM daily_storage").rows
        let more = try days.enumerated().map { index, row -> String in
            let account: String = try row.decode(0), day: String = try row.decode(1)
            return #"{"type":"storage","id":"m-\#(index)","account":"\#(account)","at":"\#(day)T23:59:59Z","bytes":\#(index % 7)}"# + "\n"
                + #"{"type":"feature","id":"n-\#(index)","account":"\#(account)","user":"late","feature":"reports","at":"\#(day)T00:00:00Z"}"# + "\n"
        }.joined()
        let late = try tierplan("usage", "ingest", "-", "--json", stdin: more)
        XCTAssertEqual(late.json?["new"] as? Int, days.count * 2, late.stderr)
        try assertRollupsMatchRawEvents()
    }

    /// The day sets and storage days recomputed from the raw events equal the stored rollups.
    func assertRollupsMatchRawEvents(file: StaticString = #filePath, line: UInt = #line) throws {
        // The day sets, recomputed from the raw events day by day (without the schema's day_bit).
        for (table, key) in [("feature_days", "feature_key"), ("user_days", "user_id")] {
            let mismatches = try db.query("""
                SELECT count(*) FROM (
                  SELECT account_id, \(key), date_trunc('month', day)::date AS month, sum(DISTINCT 1::bigint << (extract(day FROM day)::int - 1)) AS days
                  FROM (SELECT account_id, \(key), (at AT TIME ZONE 'UTC')::date AS day FROM feature_events) e GROUP BY 1, 2, 3
                ) raw FULL JOIN \(table) d USING (account_id, \(key), month)
                WHERE raw.days IS DISTINCT FROM d.days::bigint
                """).first!.decode(0, as: Int.self)
            XCTAssertEqual(mismatches, 0, table, file: file, line: line)
            XCTAssertGreaterThan(try count(table), 0, file: file, line: line)
        }
        let storage = try db.query("""
            SELECT count(*) FROM (
              SELECT DISTINCT ON (account_id, (at AT TIME ZONE 'UTC')::date) account_id, (at AT TIME ZONE 'UTC')::date AS day,
                     bytes AS last_bytes, at AS last_at,
                     max(bytes) OVER (PARTITION BY account_id, (at AT TIME ZONE 'UTC')::date) AS max_bytes,
                     count(*) OVER (PARTITION BY account_id, (at AT TIME ZONE 'UTC')::date) AS samples
              FROM storage_samples ORDER BY account_id, (at AT TIME ZONE 'UTC')::date, at DESC, bytes DESC
            ) raw FULL JOIN daily_storage d USING (account_id, day)
            WHERE raw.max_bytes IS DISTINCT FROM d.max_bytes OR raw.last_bytes IS DISTINCT FROM d.last_bytes
               OR raw.last_at IS DISTINCT FROM d.last_at OR raw.samples IS DISTINCT FROM d.samples
            """).first!.decode(0, as: Int.self)
        XCTAssertEqual(storage, 0, file: file, line: line)
        XCTAssertGreaterThan(try count("daily_storage"), 0, file: file, line: line)
    }

    func testOneMalformedLineRefusesEverything() throws {
        try loadExamples()
        let path = try write("bad.ndjson", """
            {"type":"storage","id":"s-1","account":"acme","at":"2026-10-01T06:00:00Z","bytes":100}
            {"type":"feature","id":"f-1","account":"acme","user":"u1","feature":"reports","at":"2026-10-01T07:00:00Z","count":1}
            {"type":"storage","id":"s-2","account":"acme","at":"2026-10-02T06:00:00Z","bytes":-5}
            {"type":"storage","id":"s-3","account":"acme","at":"2026-10-03T06:00:00Z","bytes":300}

            """)
        let result = try tierplan("usage", "ingest", path)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("bad.ndjson:3: field 'bytes' value '-5': negative bytes"), result.stderr)
        XCTAssertEqual(try count("storage_samples"), 0)
        XCTAssertEqual(try count("feature_events"), 0)
        XCTAssertEqual(try count("daily_storage"), 0)
    }

    func testUnknownAccountAndFeatureRefused() throws {
        try loadExamples()
        let path = try write("unknown.csv", """
            type,id,account,user,feature,at,bytes,count
            storage,s-1,acme,,,2026-10-01T06:00:00Z,100,
            storage,s-2,nobody,,,2026-10-01T06:00:00Z,100,
            feature,f-1,acme,u1,teleport,2026-10-01T07:00:00Z,,1

            """)
        let result = try tierplan("usage", "ingest", path)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("unknown.csv:3: field 'account' value 'nobody': unknown account"), result.stderr)
        XCTAssertTrue(result.stderr.contains("unknown.csv:4: field 'feature' value 'teleport': unknown feature"), result.stderr)
        XCTAssertEqual(try count("storage_samples"), 0)
    }

    func testEveryErrorListedInOnePassAndIdsUniqueAcrossEventTypes() throws {
        try loadExamples()
        // A malformed line does not hide the unknown account two lines further down.
        let bad = try write("bad.ndjson", """
            {"type":"storage","id":"s-1","account":"acme","at":"2026-10-01T06:00:00Z","bytes":100}
            {"type":"storage","id":"s-2","account":"acme","at":"2026-10-01T06:00:00Z","bytes":-1}
            {"type":"storage","id":"s-3","account":"nobody","at":"2026-10-01T06:00:00Z","bytes":100}

            """)
        let refused = try tierplan("usage", "ingest", bad)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("bad.ndjson:2: field 'bytes'"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("bad.ndjson:3: field 'account' value 'nobody': unknown account"), refused.stderr)
        XCTAssertEqual(try count("storage_samples"), 0)

        // (time, account, id) is one key across storage and feature events: the first line wins.
        let mixed = try write("mixed.ndjson", """
            {"type":"storage","id":"e-1","account":"acme","at":"2026-10-01T06:00:00Z","bytes":100}
            {"type":"feature","id":"e-1","account":"acme","user":"u1","feature":"reports","at":"2026-10-01T06:00:00Z"}
            {"type":"feature","id":"e-2","account":"acme","user":"u1","feature":"reports","at":"2026-10-01T07:00:00Z"}

            """)
        let first = try tierplan("usage", "ingest", mixed, "--json")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.json?["new"] as? Int, 2)
        XCTAssertEqual(first.json?["duplicates"] as? Int, 1)
        XCTAssertEqual(try count("feature_events"), 1)
        let later = try write("later.ndjson", """
            {"type":"storage","id":"e-2","account":"acme","at":"2026-10-01T07:00:00Z","bytes":100}

            """)
        let second = try tierplan("usage", "ingest", later, "--json")
        XCTAssertEqual(second.json?["storage_duplicates"] as? Int, 1, second.stdout)
        XCTAssertEqual(try count("storage_samples"), 1)
        // The same id at another time is another event (README, Decisions: the raw events' key).
        let another = try write("another.ndjson", """
            {"type":"storage","id":"e-2","account":"acme","at":"2026-10-02T06:00:00Z","bytes":100}

            """)
        let third = try tierplan("usage", "ingest", another, "--json")
        XCTAssertEqual(third.json?["storage_new"] as? Int, 1, third.stdout)
        XCTAssertEqual(try count("storage_samples"), 2)
    }

    func testByteOrderMarkAndOneLineArgumentErrors() throws {
        try loadExamples()
        let csv = "\u{FEFF}type,id,account,user,feature,at,bytes,count\nstorage,s-1,acme,,,2026-10-01T06:00:00Z,100,\n"
        let result = try tierplan("usage", "ingest", "-", "--json", stdin: csv)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.json?["new"] as? Int, 1)
        // A usage error is one line, not the whole usage; and a refused --account prints no JSON.
        let bad = try tierplan("signals", "--as-of", "2026-13-01")
        XCTAssertEqual(bad.status, 64)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        let nobody = try tierplan("signals", "--as-of", "2026-11-01", "--account", "nobody", "--json")
        XCTAssertNotEqual(nobody.status, 0)
        XCTAssertEqual(nobody.stdout, "")
    }

    func testSkipModeWritesRejectsAndKeepsGoodLines() throws {
        try loadExamples()
        let path = try write("mixed.ndjson", """
            {"type":"storage","id":"s-1","account":"acme","at":"2026-10-01T06:00:00Z","bytes":100}
            {"type":"storage","id":"s-2","account":"acme","at":"not a time","bytes":100}
            {"type":"storage","id":"s-3","account":"ghost","at":"2026-10-01T06:00:00Z","bytes":100}
            {"type":"feature","id":"f-1","account":"acme","user":"u1","feature":"reports","at":"2026-10-01T07:00:00Z"}

            """)
        let rejects = dir.appendingPathComponent("rejects.ndjson").path
        let result = try tierplan("usage", "ingest", path, "--on-error", "skip", "--rejects", rejects, "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.json?["new"] as? Int, 2)
        XCTAssertEqual(result.json?["rejected"] as? Int, 2)
        let lines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        XCTAssertEqual(first?["line"] as? Int, 2)
        XCTAssertTrue((first?["error"] as? String)?.contains("field 'at' value 'not a time'") ?? false)
        XCTAssertTrue((first?["input"] as? String)?.contains("not a time") ?? false)
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        XCTAssertEqual(second?["line"] as? Int, 3)
        XCTAssertTrue((second?["error"] as? String)?.contains("unknown account") ?? false)
        XCTAssertEqual(second?["input"] as? String, #"{"type":"storage","id":"s-3","account":"ghost","at":"2026-10-01T06:00:00Z","bytes":100}"#,
                       "the line as read")
        XCTAssertEqual(try count("storage_samples"), 1)
        XCTAssertEqual(try count("feature_events"), 1)
        // Skip mode without a rejects file would lose lines: refused up front.
        XCTAssertNotEqual(try tierplan("usage", "ingest", path, "--on-error", "skip").status, 0)
    }

    func testLateEventsLandAndUpdateRollups() throws {
        try loadExamples()
        let recent = try write("recent.ndjson", """
            {"type":"storage","id":"s-10","account":"acme","at":"2026-10-10T06:00:00Z","bytes":1000}
            {"type":"feature","id":"f-10","account":"acme","user":"u1","feature":"reports","at":"2026-10-10T07:00:00Z","count":2}

            """)
        XCTAssertEqual(try tierplan("usage", "ingest", recent).status, 0)
        let late = try write("late.ndjson", """
            {"type":"storage","id":"s-1","account":"acme","at":"2026-09-01T06:00:00Z","bytes":500}
            {"type":"storage","id":"s-11","account":"acme","at":"2026-10-10T05:00:00Z","bytes":9000}
            {"type":"feature","id":"f-1","account":"acme","user":"u2","feature":"reports","at":"2026-10-10T01:00:00Z","count":3}

            """)
        let result = try tierplan("usage", "ingest", late, "--json")
        XCTAssertEqual(result.json?["new"] as? Int, 3, result.stderr)
        let day = try XCTUnwrap(db.query("SELECT max_bytes, last_bytes, samples FROM daily_storage WHERE account_id = 'acme' AND day = '2026-10-10'").first)
        XCTAssertEqual(try day.decode(0, as: Int.self), 9000, "largest sample of the day")
        XCTAssertEqual(try day.decode(1, as: Int.self), 1000, "a late sample from earlier in the day is not the latest")
        XCTAssertEqual(try day.decode(2, as: Int.self), 2)
        XCTAssertEqual(try db.query("SELECT max_bytes FROM daily_storage WHERE account_id = 'acme' AND day = '2026-09-01'").first?.decode(0, as: Int.self), 500)
        let reports = try db.query("SELECT days FROM feature_days WHERE account_id = 'acme' AND feature_key = 'reports' AND month = '2026-10-01'")
        XCTAssertNotEqual(try reports.first!.decode(0, as: Int.self) & (1 << 9), 0, "reports used on 10 October")
        XCTAssertEqual(try db.query("""
            SELECT count(*) FROM user_days WHERE account_id = 'acme' AND month = '2026-10-01' AND days & (1 << 9) <> 0
            """).first?.decode(0, as: Int.self), 2, "two users active on 10 October")
    }

    func testDuplicatesWithinOneFileAndAgainstEarlierIngests() throws {
        try loadExamples()
        let first = #"{"type":"feature","id":"f-1","account":"acme","user":"u1","feature":"reports","at":"2026-10-01T07:00:00Z"}"#
        let twice = [first, first, #"{"type":"feature","id":"f-2","account":"acme","user":"u2","feature":"reports","at":"2026-10-01T08:00:00Z"}"#]
        let result = try tierplan("usage", "ingest", "-", "--json", stdin: twice.joined(separator: "\n") + "\n")
        XCTAssertEqual(result.json?["new"] as? Int, 2, result.stderr)
        XCTAssertEqual(result.json?["duplicates"] as? Int, 1)
        // A later file mixing old and new ids takes only the new ones.
        let mixed = [first, #"{"type":"feature","id":"f-3","account":"acme","user":"u3","feature":"reports","at":"2026-10-01T09:00:00Z"}"#]
        let again = try tierplan("usage", "ingest", "-", "--json", stdin: mixed.joined(separator: "\n") + "\n")
        XCTAssertEqual(again.json?["new"] as? Int, 1, again.stderr)
        XCTAssertEqual(again.json?["duplicates"] as? Int, 1)
        XCTAssertEqual(try db.query("SELECT count(*) FROM feature_events WHERE account_id = 'acme'").first?.decode(0, as: Int.self), 3)
        XCTAssertEqual(try db.query("""
            SELECT count(*) FROM user_days WHERE account_id = 'acme' AND month = '2026-10-01' AND days & 1 <> 0
            """).first?.decode(0, as: Int.self), 3)
    }

    func testStdinAndCSV() throws {
        try loadExamples()
        let result = try tierplan("usage", "ingest", "-", "--json", stdin: """
            type,id,account,user,feature,at,bytes,count
            storage,s-1,acme,,,2026-10-01T06:00:00Z,100,
            feature,f-1,acme,u1,reports,2026-10-01T07:00:00Z,,

            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.json?["format"] as? String, "csv")
        XCTAssertEqual(result.json?["new"] as? Int, 2)
    }

    // MARK: Catalog

    let goodCatalog = """
        currency: USD
        features:
          - {key: reports, name: Reports}
          - {key: sharing, name: Sharing}
        tiers:
          - {code: starter, name: Starter, price_monthly: 2900, storage_gb: 100, seats: 5, features: [reports]}
          - {code: team, name: Team, price_monthly: 7900, storage_gb: 500, seats: 20, features: [reports, sharing]}
        addons:
          - {code: storage_100, name: Extra 100 GB, kind: storage, storage_gb: 100, price_monthly: 1000, available_on: [starter, team]}
          - {code: onboarding, name: Guided onboarding, kind: service, price_once: 49900}
        policy: {cooldown_days: 30}

        """

    func testCatalogLoadsAndReadsBack() throws {
        let result = try tierplan("catalog", "load", try write("c.yaml", goodCatalog), "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.json?["tiers"] as? Int, 2)
        let show = try tierplan("catalog", "show", "--json")
        XCTAssertEqual(show.status, 0, show.stderr)
        let tiers = show.json?["tiers"] as? [[String: Any]]
        XCTAssertEqual(tiers?.map { $0["code"] as? String }, ["starter", "team"])
        XCTAssertEqual((show.json?["policy"] as? [String: Any])?["cooldown_days"] as? Int, 30)
        XCTAssertEqual(try db.query("SELECT rank FROM tiers WHERE code = 'team'").first?.decode(0, as: Int.self), 1)
    }

    func testEachCatalogRuleRefusedWithItsLine() throws {
        let cases: [(String, String, String)] = [
            ("unknown key", goodCatalog.replacingOccurrences(of: "seats: 20,", with: "seats: 20, colour: blue,"), "c.yaml:7: field 'colour'"),
            ("duplicate tier", goodCatalog.replacingOccurrences(of: "code: team", with: "code: starter"), "c.yaml:7: field 'code' value 'starter': duplicate tier code"),
            ("duplicate feature", goodCatalog.replacingOccurrences(of: "key: sharing", with: "key: reports"), "c.yaml:4: field 'key' value 'reports': duplicate feature key"),
            ("unknown feature", goodCatalog.replacingOccurrences(of: "features: [reports, sharing]", with: "features: [reports, sso]"), "c.yaml:7: field 'features' value 'sso': unknown feature"),
            ("unknown tier", goodCatalog.replacingOccurrences(of: "available_on: [starter, team]", with: "available_on: [starter, gold]"), "c.yaml:9: field 'available_on' value 'gold': unknown tier"),
            ("negative price", goodCatalog.replacingOccurrences(of: "price_monthly: 7900", with: "price_monthly: -7900"), "c.yaml:7: field 'price_monthly' value '-7900': must not be negative"),
            ("negative once", goodCatalog.replacingOccurrences(of: "price_once: 49900", with: "price_once: -1"), "c.yaml:10: field 'price_once' value '-1'"),
            ("bad yaml", goodCatalog.replacingOccurrences(of: "tiers:\n", with: "tiers: [\n"), "c.yaml:"),
            ("duplicate yaml key", goodCatalog.replacingOccurrences(of: "seats: 20,", with: "seats: 20, seats: 21,"), "c.yaml:7: field 'seats': key given twice"),
        ]
        XCTAssertEqual(try tierplan("catalog", "load", try write("c.yaml", goodCatalog)).status, 0)
        let before = try db.query("SELECT string_agg(code || price_monthly, ',' ORDER BY code) FROM tiers").first!.decode(0, as: String.self)
        for (name, text, expected) in cases {
            let result = try tierplan("catalog", "load", try write("c.yaml", text))
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(result.stderr.contains(expected), "\(name): \(result.stderr)")
            // One mistake, one line (renaming a code to a duplicate also leaves the old code unknown: two real errors).
            if !name.hasPrefix("duplicate tier") && !name.hasPrefix("duplicate feature") {
                XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one error, one line: \(name): \(result.stderr)")
            }
        }
        XCTAssertEqual(try db.query("SELECT string_agg(code || price_monthly, ',' ORDER BY code) FROM tiers").first!.decode(0, as: String.self), before)
    }

    func testReloadRemovingATierInUseIsRefused() throws {
        XCTAssertEqual(try tierplan("catalog", "load", try write("c.yaml", goodCatalog)).status, 0)
        let accounts = try write("a.csv", "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner\nacme,Acme,team,active,2025-01-01,,0,smb,alice\n")
        XCTAssertEqual(try tierplan("accounts", "import", accounts).status, 0)
        let withoutTeam = goodCatalog.replacingOccurrences(of: "  - {code: team, name: Team, price_monthly: 7900, storage_gb: 500, seats: 20, features: [reports, sharing]}\n", with: "")
            .replacingOccurrences(of: "[starter, team]", with: "[starter]")
        let result = try tierplan("catalog", "load", try write("c2.yaml", withoutTeam))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("tier 'team' is still used by 1 account(s), e.g. 'acme'"), result.stderr)
        XCTAssertEqual(try count("tiers"), 2)
        // Removing an unused tier is fine.
        let withoutStarter = goodCatalog.replacingOccurrences(of: "  - {code: starter, name: Starter, price_monthly: 2900, storage_gb: 100, seats: 5, features: [reports]}\n", with: "")
            .replacingOccurrences(of: "[starter, team]", with: "[team]")
        let ok = try tierplan("catalog", "load", try write("c3.yaml", withoutStarter), "--json")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.json?["removed"] as? [String], ["tier starter"])
    }

    func testNewPricesRepriceAccountsWithAHistoryRow() throws {
        XCTAssertEqual(try tierplan("catalog", "load", try write("c.yaml", goodCatalog)).status, 0)
        let accounts = try write("a.csv", "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner\nacme,Acme,starter,active,2025-01-01,storage_100:1,12.5,smb,alice\n")
        XCTAssertEqual(try tierplan("accounts", "import", accounts).status, 0)
        XCTAssertEqual(try db.query("SELECT mrr FROM accounts").first?.decode(0, as: Int.self), 3413)   // 3900 × 0.875 = 3412.5
        let dearer = goodCatalog.replacingOccurrences(of: "price_monthly: 2900", with: "price_monthly: 3100")
        let result = try tierplan("catalog", "load", try write("c2.yaml", dearer), "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.json?["accounts_repriced"] as? Int, 1)
        XCTAssertEqual(try db.query("SELECT mrr FROM accounts").first?.decode(0, as: Int.self), 3588)   // 4100 × 0.875 = 3587.5
        XCTAssertEqual(try db.query("SELECT mrr FROM account_history ORDER BY effective_on DESC LIMIT 1").first?.decode(0, as: Int.self), 3588)
        // The same prices again change nothing.
        XCTAssertEqual(try tierplan("catalog", "load", try write("c3.yaml", dearer), "--json").json?["accounts_repriced"] as? Int, 0)
    }

    // MARK: Accounts
    // MARK: Accounts

    func testAccountsImportPricesMRRAndRecordsHistory() throws {
        XCTAssertEqual(try tierplan("catalog", "load", try write("c.yaml", goodCatalog)).status, 0)
        let v1 = try write("a.csv", """
            account_id,name,tier,status,created_at,addons,discount_pct,segment,owner
            acme,"Acme, Inc.",team,active,2025-01-01,storage_100:2,12.5,smb,alice
            globex,Globex,starter,active,2025-02-01,,0.5,mid,bob

            """)
        let first = try tierplan("accounts", "import", v1, "--json")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.json?["inserted"] as? Int, 2)
        // (7900 + 2×1000) × 0.875 = 8662.5 → 8663; 2900 × 0.995 = 2885.5 → 2886
        XCTAssertEqual(try db.query("SELECT mrr FROM accounts WHERE account_id = 'acme'").first?.decode(0, as: Int.self), 8663)
        XCTAssertEqual(try db.query("SELECT mrr FROM accounts WHERE account_id = 'globex'").first?.decode(0, as: Int.self), 2886)
        XCTAssertEqual(try db.query("SELECT effective_on::text FROM account_history WHERE account_id = 'acme'").first?.decode(0, as: String.self), "2025-01-01")
        // Same file again: nothing changes.
        let again = try tierplan("accounts", "import", v1, "--json")
        XCTAssertEqual(again.json?["unchanged"] as? Int, 2)
        XCTAssertEqual(try count("account_history"), 2)
        // An upgrade, dated.
        let v2 = try write("a2.csv", """
            account_id,name,tier,status,created_at,addons,discount_pct,segment,owner
            globex,Globex,team,active,2025-02-01,,0.5,mid,bob

            """)
        let upgrade = try tierplan("accounts", "import", v2, "--effective", "2026-10-15", "--json")
        XCTAssertEqual(upgrade.json?["updated"] as? Int, 1, upgrade.stderr)
        let history = try db.query("SELECT effective_on::text, tier_code, mrr FROM account_history WHERE account_id = 'globex' ORDER BY effective_on").rows
        XCTAssertEqual(try history.map { try $0.decode(0, as: String.self) }, ["2025-02-01", "2026-10-15"])
        XCTAssertEqual(try history.last?.decode(2, as: Int.self), 7861)   // 7900 × 0.995 = 7860.5 → 7861
    }

    func testBadAccountsFileWritesNothing() throws {
        XCTAssertEqual(try tierplan("catalog", "load", try write("c.yaml", goodCatalog)).status, 0)
        let path = try write("a.csv", """
            account_id,name,tier,status,created_at,addons,discount_pct,segment,owner
            acme,Acme,team,active,2025-01-01,,0,smb,alice
            globex,Globex,starter,sleeping,2025-02-01,,0,mid,bob

            """)
        let result = try tierplan("accounts", "import", path)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("a.csv:3: field 'status' value 'sleeping'"), result.stderr)
        XCTAssertEqual(try count("accounts"), 0)
    }

    func testNoCatalogYetIsAClearError() throws {
        let path = try write("a.csv", "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner\n")
        let result = try tierplan("accounts", "import", path)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("no catalog loaded"), result.stderr)
    }

    func testEmptyDatabaseGetsTheSchema() throws {
        let bare = try TestCluster.freshDatabase(migrated: false)
        let first = try CLI.run(["catalog", "show"], databaseURL: bare)
        XCTAssertTrue(first.stderr.contains("applied tierplan's schema"), first.stderr)
        XCTAssertTrue(first.stderr.contains("no catalog loaded"), first.stderr)
        // Applying it again changes nothing; an older schema is refused and upgraded (the next test).
        let again = try CLI.run(["db", "migrate", "--json"], databaseURL: bare)
        XCTAssertEqual(again.json?["version"] as? Int, Schema.version)
        XCTAssertEqual(again.json?["version_before"] as? Int, Schema.version)
        XCTAssertEqual(try CLI.run(["catalog", "show"], databaseURL: bare).stderr.contains("tierplan db migrate"), false)
    }

    func testAVersion2DatabaseIsMigratedToTheCurrentVersion() throws {
        // A database as version 2 left it: no reason codes, no kind probability, no experiment arms.
        let url = try TestCluster.freshDatabase()
        let db = try Connection(url)
        let examples = repositoryRoot.appendingPathComponent("examples").path
        for args in [["catalog", "load", examples + "/catalog.yaml"], ["accounts", "import", examples + "/accounts.csv"],
                     ["usage", "ingest", examples + "/usage.ndjson"], ["run", "--as-of", "2026-11-01"]] {
            XCTAssertEqual(try CLI.run(args, databaseURL: url).status, 0)
        }
        let offers = try db.query("SELECT count(*) FROM offers").first!.decode(0, as: Int.self)
        try db.execute("ALTER TABLE offer_events DROP COLUMN reason_code")
        try db.execute("ALTER TABLE offers DROP COLUMN kind_probability, DROP COLUMN experiment, DROP COLUMN arm")
        try db.execute("DELETE FROM schema_version WHERE version >= 3")
        let refused = try CLI.run(["offers", "list"], databaseURL: url)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("the database schema is version 2, this tierplan needs \(Schema.version): run `tierplan db migrate`"), refused.stderr)
        let migrate = try CLI.run(["db", "migrate", "--json"], databaseURL: url)
        XCTAssertEqual(migrate.json?["version_before"] as? Int, 2)
        XCTAssertEqual(migrate.json?["version"] as? Int, Schema.version)
        XCTAssertEqual(try db.query("SELECT count(*) FROM offers").first!.decode(0, as: Int.self), offers, "nothing lost")
        let list = try CLI.run(["offers", "list", "--json"], databaseURL: url)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue((list.json?["offers"] as? [[String: Any]])?.allSatisfy { $0["arm"] is NSNull } ?? false)
        // The constraint on codes came with the column.
        XCTAssertThrowsError(try db.execute(
            "INSERT INTO offer_events (account_id, offer_id, to_status, actor, reason_code) VALUES ('acme', gen_random_uuid(), 'declined', 'x', 'cheap')"))
    }

    /// Version 3 kept two raw tables and per-day rollups of features, users and storage (the last until
    /// version 5); `db migrate` turns them into `usage_events`, the month day sets and the storage month
    /// rows with nothing lost: the same rows, the same signals.
    func testAVersion3DatabaseIsMigratedToTheCurrentVersion() throws {
        try loadExamples()
        XCTAssertEqual(try tierplan("usage", "ingest", repositoryRoot.appendingPathComponent("examples/usage.ndjson").path).status, 0)
        let signals = try tierplan("signals", "--as-of", "2026-11-01", "--json")
        XCTAssertEqual(signals.status, 0, signals.stderr)
        let before = try usageFingerprint()
        // The usage tables as version 3 had them, filled from what this version holds.
        try db.executeScript("""
            CREATE TABLE daily_storage_v3 AS SELECT * FROM daily_storage;
            DROP VIEW daily_storage;
            ALTER TABLE daily_storage_v3 RENAME TO daily_storage;
            ALTER TABLE daily_storage ADD PRIMARY KEY (account_id, day);
            DROP TABLE storage_months;
            DROP VIEW storage_samples, feature_events;
            CREATE TABLE storage_samples (account_id text NOT NULL, id text NOT NULL, at timestamptz NOT NULL,
                bytes bigint NOT NULL CHECK (bytes >= 0), PRIMARY KEY (account_id, id));
            CREATE TABLE feature_events (account_id text NOT NULL, id text NOT NULL, user_id text NOT NULL, feature_key text NOT NULL,
                at timestamptz NOT NULL, count bigint NOT NULL DEFAULT 1 CHECK (count >= 1), PRIMARY KEY (account_id, id));
            INSERT INTO storage_samples SELECT account_id, id, at, bytes FROM usage_events WHERE kind = 'storage';
            INSERT INTO feature_events SELECT account_id, id, user_id, feature_key, at, count FROM usage_events WHERE kind = 'feature';
            CREATE TABLE daily_feature_usage (account_id text NOT NULL, day date NOT NULL, feature_key text NOT NULL,
                events bigint NOT NULL, uses bigint NOT NULL, PRIMARY KEY (account_id, day, feature_key));
            CREATE TABLE daily_active_users (account_id text NOT NULL, day date NOT NULL, user_id text NOT NULL,
                events bigint NOT NULL, PRIMARY KEY (account_id, day, user_id));
            INSERT INTO daily_feature_usage SELECT account_id, (at AT TIME ZONE 'UTC')::date, feature_key, count(*), sum(count)
                FROM feature_events GROUP BY 1, 2, 3;
            INSERT INTO daily_active_users SELECT account_id, (at AT TIME ZONE 'UTC')::date, user_id, count(*) FROM feature_events GROUP BY 1, 2, 3;
            DROP TABLE usage_events, feature_days, user_days;
            DELETE FROM schema_version WHERE version >= 4;
            """)
        let migrate = try tierplan("db", "migrate", "--json")
        XCTAssertEqual(migrate.json?["version_before"] as? Int, 3, migrate.stderr)
        XCTAssertEqual(migrate.json?["version"] as? Int, Schema.version)
        XCTAssertEqual(try usageFingerprint(), before, "the same events and day sets")
        XCTAssertEqual(try db.query("SELECT count(*) FROM pg_tables WHERE tablename IN ('daily_feature_usage', 'daily_active_users', 'daily_storage')").first!.decode(0, as: Int.self), 0)
        XCTAssertEqual(try tierplan("signals", "--as-of", "2026-11-01", "--json").stdout, signals.stdout, "the same signals")
    }

    /// Storage signals from the month rows are what the raw samples say on every as_of: the latest
    /// sample at or before its end (months back when the window has none; ties by time, then the larger)
    /// and the 28-day slope of the daily maximum.
    func testStorageSignalsMatchTheRawSamplesOnAnyDay() throws {
        try loadExamples()
        XCTAssertEqual(try tierplan("usage", "ingest", repositoryRoot.appendingPathComponent("examples/usage.ndjson").path).status, 0)
        // globex: a few samples in June and July only; hooli: several a day, one tie on time.
        let extra = [
            #"{"type":"storage","id":"x1","account":"globex","at":"2026-06-03T10:00:00Z","bytes":1000}"#,
            #"{"type":"storage","id":"x2","account":"globex","at":"2026-07-30T10:00:00Z","bytes":2000}"#,
            #"{"type":"storage","id":"x3","account":"globex","at":"2026-07-31T23:59:59Z","bytes":1500}"#,
            #"{"type":"storage","id":"x4","account":"hooli","at":"2026-10-20T08:00:00Z","bytes":7000}"#,
            #"{"type":"storage","id":"x5","account":"hooli","at":"2026-10-20T09:00:00Z","bytes":6000}"#,
            #"{"type":"storage","id":"x6","account":"hooli","at":"2026-10-20T09:00:00Z","bytes":6500}"#,
            #"{"type":"storage","id":"x7","account":"hooli","at":"2026-11-30T09:00:00Z","bytes":9000}"#,
        ]
        XCTAssertEqual(try tierplan("usage", "ingest", "-", stdin: extra.joined(separator: "\n") + "\n").status, 0)
        for asOf in ["2026-06-02", "2026-06-15", "2026-07-31", "2026-08-20", "2026-09-20", "2026-09-30", "2026-10-03", "2026-10-20",
                     "2026-10-31", "2026-11-01", "2026-11-29", "2026-12-31", "2027-03-01"] {
            let signals = try tierplan("signals", "--as-of", asOf, "--json")
            XCTAssertEqual(signals.status, 0, signals.stderr)
            let accounts = try XCTUnwrap(signals.json?["accounts"] as? [[String: Any]])
            let raw = try db.query("""
                SELECT a.account_id,
                       (SELECT bytes FROM usage_events e WHERE e.kind = 'storage' AND e.account_id = a.account_id AND e.at < $1::date + 1
                        ORDER BY at DESC, bytes DESC LIMIT 1),
                       (SELECT round(regr_slope(m, d - ($1::date - 27)))::bigint FROM (
                            SELECT (at AT TIME ZONE 'UTC')::date AS d, max(bytes) AS m FROM usage_events e
                            WHERE e.kind = 'storage' AND e.account_id = a.account_id AND (at AT TIME ZONE 'UTC')::date BETWEEN $1::date - 27 AND $1::date
                            GROUP BY 1) x HAVING count(*) >= 2)
                FROM accounts a
                """, [asOf]).rows
            let expected = Dictionary(uniqueKeysWithValues: try raw.map { (try $0.decode(0, as: String.self), (try $0.decodeIfPresent(1, as: Int.self), try $0.decodeIfPresent(2, as: Int.self))) })
            XCTAssertFalse(accounts.isEmpty)
            for account in accounts {
                let id = try XCTUnwrap(account["account_id"] as? String)
                let (used, slope) = try XCTUnwrap(expected[id])
                XCTAssertEqual(account["storage_used_bytes"] as? Int, used, "\(id) on \(asOf)")
                if let growth = account["storage_growth_bytes_per_day"] as? Int { XCTAssertEqual(growth, slope, "\(id) on \(asOf)") }
            }
        }
        let september = try XCTUnwrap(tierplan("signals", "--as-of", "2026-09-20", "--json").json?["accounts"] as? [[String: Any]])
        let globex = try XCTUnwrap(september.first { $0["account_id"] as? String == "globex" })
        XCTAssertEqual(globex["storage_used_bytes"] as? Int, 1500, "no sample in the window's months (August, September): July's last")
    }

    /// `usage prune` deletes raw events past the retention and nothing else: signals stay the same,
    /// and the same file sent again stores the pruned events again without moving a day set.
    func testPruneDeletesOldRawEventsAndChangesNoSignal() throws {
        try loadExamples()
        let file = repositoryRoot.appendingPathComponent("examples/usage.ndjson").path
        XCTAssertEqual(try tierplan("usage", "ingest", file).status, 0)
        let signals = try tierplan("signals", "--as-of", "2026-11-01", "--json").stdout
        let total = try count("usage_events")
        let old = try db.query("SELECT count(*) FROM usage_events WHERE at < '2026-10-11'").first!.decode(0, as: Int.self)
        XCTAssertGreaterThan(old, 0)
        // The default retention, 400 days, before 2027-11-15 keeps 2026-10-11 on.
        let dry = try tierplan("usage", "prune", "--as-of", "2027-11-15", "--dry-run", "--json")
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(dry.json?["deleted"] as? Int, old)
        XCTAssertEqual(dry.json?["before"] as? String, "2026-10-11")
        XCTAssertEqual(dry.json?["retention_days"] as? Int, 400)
        XCTAssertEqual(try count("usage_events"), total, "a dry run deletes nothing")
        let daySets = try db.query("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM (SELECT * FROM feature_days UNION ALL SELECT * FROM user_days) t").first!.decode(0, as: String.self)
        let pruned = try tierplan("usage", "prune", "--as-of", "2027-11-15")
        XCTAssertEqual(pruned.status, 0, pruned.stderr)
        XCTAssertTrue(pruned.stdout.contains("raw usage events before 2026-10-11"), pruned.stdout)
        XCTAssertEqual(try count("usage_events"), total - old)
        XCTAssertEqual(try tierplan("signals", "--as-of", "2026-11-01", "--json").stdout, signals, "rollups are kept")
        let again = try tierplan("usage", "ingest", file, "--json")
        XCTAssertEqual(again.json?["new"] as? Int, old, "events past the retention are stored again")
        XCTAssertEqual(try db.query("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM (SELECT * FROM feature_days UNION ALL SELECT * FROM user_days) t").first!.decode(0, as: String.self), daySets)
        XCTAssertEqual(try tierplan("signals", "--as-of", "2026-11-01", "--json").stdout, signals)
    }

    /// A file is first copied straight into the events table; a repeat inside it or an event stored
    /// before stops that copy, and the file is read again through staging: the same outcome as stdin's.
    func testRepeatsInAFileAndAgainstEarlierIngests() throws {
        try loadExamples()
        let first = #"{"type":"feature","id":"f-1","account":"acme","user":"u1","feature":"reports","at":"2026-10-01T07:00:00Z"}"#
        let second = #"{"type":"feature","id":"f-2","account":"acme","user":"u2","feature":"reports","at":"2026-10-01T08:00:00Z"}"#
        let repeated = #"{"type":"feature","id":"f-1","account":"acme","user":"u9","feature":"sharing","at":"2026-10-01T07:00:00Z"}"#
        let fresh = try tierplan("usage", "ingest", try write("fresh.ndjson", first + "\n" + second + "\n"), "--json")
        XCTAssertEqual(fresh.json?["new"] as? Int, 2, fresh.stderr)
        // f-1 again (stored) and f-3 twice in the file: the first f-3 line wins.
        let third = #"{"type":"storage","id":"f-3","account":"acme","at":"2026-10-02T06:00:00Z","bytes":5}"#
        let thirdAgain = #"{"type":"feature","id":"f-3","account":"acme","user":"u3","feature":"reports","at":"2026-10-02T06:00:00Z"}"#
        let mixed = try tierplan("usage", "ingest", try write("mixed.ndjson", [repeated, third, thirdAgain].joined(separator: "\n") + "\n"), "--json")
        XCTAssertEqual(mixed.status, 0, mixed.stderr)
        XCTAssertEqual(mixed.json?["new"] as? Int, 1)
        XCTAssertEqual(mixed.json?["duplicates"] as? Int, 2)
        XCTAssertEqual(mixed.json?["storage_new"] as? Int, 1)
        XCTAssertEqual(mixed.json?["feature_duplicates"] as? Int, 2)
        XCTAssertEqual(try db.query("SELECT kind || ':' || coalesce(user_id, '-') FROM usage_events WHERE account_id = 'acme' AND id IN ('f-1', 'f-3') ORDER BY id")
            .rows.map { try $0.decode(0, as: String.self) }, ["feature:u1", "storage:-"])
        XCTAssertEqual(try db.query("SELECT count(*) FROM user_days WHERE account_id = 'acme' AND user_id IN ('u3', 'u9')").first!.decode(0, as: Int.self), 0,
                       "a skipped line adds to no rollup")
        XCTAssertEqual(try db.query("SELECT samples FROM daily_storage WHERE account_id = 'acme' AND day = '2026-10-02'").first?.decode(0, as: Int.self), 1)
    }
}
