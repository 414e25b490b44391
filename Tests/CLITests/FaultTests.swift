import Foundation
import Postgres
import TestSupport
import TierPlanStore
import XCTest

/// Faults on a PostgreSQL cluster of these tests' own: the server killed (`pg_ctl stop -m immediate`,
/// a crash as far as the data goes) in the middle of `usage ingest`, `run` and `catalog load` leaves
/// every table exactly as it was (row count and checksum of each), and the same command then succeeds;
/// `serve` answers 503 while the database is down and recovers by itself once it is back.
///
/// "In the middle" is made certain, not left to timing: another session makes the command wait after
/// its first writes (it holds the last table the command writes in EXCLUSIVE mode, so reads go on and
/// writes wait; or, for ingest, it has inserted without committing the event the command inserts last,
/// so the command's INSERT waits for that transaction with every earlier row written), and the cluster
/// is killed once the command's backend waits on that lock with a transaction id.
final class FaultTests: XCTestCase {
    nonisolated(unsafe) static var cluster: EmbeddedCluster?
    nonisolated(unsafe) static var counter = 0
    let examples = repositoryRoot.appendingPathComponent("examples").path

    /// The fault cluster, running (created on first use, deleted when the tests end).
    func runningCluster() throws -> EmbeddedCluster {
        if let cluster = Self.cluster { try cluster.up(); return cluster }
        // Durable settings, as in production: the test clusters' synchronous_commit=off would lose the
        // last commits before a crash (WAL still in shared memory), which is not what is tested here.
        let cluster = EmbeddedCluster(home: "/tmp/tierplan-fault-\(getpid())", unsafeFastStorage: false)
        try? cluster.destroy()
        try cluster.up()
        Self.cluster = cluster
        atexit { try? FaultTests.cluster?.destroy() }
        return cluster
    }

    /// A new migrated database on the fault cluster, with the example catalog and accounts.
    func freshDatabase(usage: Bool) throws -> String {
        let cluster = try runningCluster()
        Self.counter += 1
        let name = "fault\(Self.counter)"
        let admin = try Connection("postgresql:///postgres?host=\(cluster.home)&port=\(cluster.port)&user=postgres")
        try admin.execute("DROP DATABASE IF EXISTS \(name)")
        try admin.execute("CREATE DATABASE \(name)")
        let url = "postgresql:///\(name)?host=\(cluster.home)&port=\(cluster.port)&user=postgres"
        try Schema.migrate(try Connection(url))
        var steps = [["catalog", "load", examples + "/catalog.yaml"], ["accounts", "import", examples + "/accounts.csv", "--effective", "2026-10-01"]]
        if usage { steps.append(["usage", "ingest", examples + "/usage.ndjson"]) }
        for args in steps {
            let result = try CLI.run(args, databaseURL: url)
            XCTAssertEqual(result.status, 0, "\(args): \(result.stderr)")
        }
        return url
    }

    /// Every table of the schema: its row count and the md5 of its rows in order.
    func snapshot(_ url: String) throws -> [String: String] {
        let db = try Connection(url)
        try db.execute("SET TIME ZONE 'UTC'")
        let tables = try db.query("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").rows
            .map { try $0.decode(0, as: String.self) }
        XCTAssertGreaterThan(tables.count, 15)
        var result: [String: String] = [:]
        for table in tables {   // identifiers from the catalog, quoted by quote_ident; no values here
            result[table] = try db.query("""
                SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM \(table) t
                """).first!.decode(0, as: String.self)
        }
        return result
    }

    /// Runs `args`, kills the cluster while the command waits for `hold` (run by another session in an
    /// open transaction) after its first writes, then checks that nothing of it stayed and that it
    /// succeeds once the database is back, writing `changed`.
    func killMidCommand(_ args: [String], url: String, hold: (Connection) throws -> Void, changed: String,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let cluster = try runningCluster()
        let before = try snapshot(url)
        let holder = try Connection(url)
        try holder.execute("BEGIN")
        try hold(holder)
        let output = try temporaryFolder().appendingPathComponent("command")
        let command = try CLI.start(args, databaseURL: url, output: output)
        // Its own session: inside the holder's transaction pg_stat_activity would stay as first read.
        let observer = try Connection(url)
        var blocked = false
        for _ in 0..<600 where command.isRunning && !blocked {
            blocked = try observer.query("""
                SELECT count(*) > 0 FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL
                """).first!.decode(0, as: Bool.self)
            if !blocked { Thread.sleep(forTimeInterval: 0.05) }
        }
        XCTAssertTrue(blocked, "\(args) never wrote and then waited", file: file, line: line)
        try cluster.down(immediately: true)
        let deadline = Date().addingTimeInterval(60)
        while command.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(command.isRunning, "\(args) still running 60 s after the database died", file: file, line: line)
        if command.isRunning { command.terminate() }
        command.waitUntilExit()
        let stderr = (try? String(contentsOfFile: output.path + ".err", encoding: .utf8)) ?? ""
        XCTAssertEqual(command.terminationReason, .exit, "no crash: \(stderr)", file: file, line: line)
        XCTAssertEqual(command.terminationStatus, 1, stderr, file: file, line: line)
        XCTAssertTrue(stderr.contains("error: the database is unavailable") && stderr.contains("run it again"), "a clear error: \(stderr)", file: file, line: line)

        try cluster.up()
        let after = try snapshot(url)
        XCTAssertEqual(after, before, "\(args) killed mid-way changed tables: \(after.keys.filter { after[$0] != before[$0] }.sorted())",
                       file: file, line: line)
        let again = try CLI.run(args, databaseURL: url)
        XCTAssertEqual(again.status, 0, "\(args) after the restart: \(again.stderr)", file: file, line: line)
        let done = try snapshot(url)
        XCTAssertNotEqual(done[changed], before[changed], "the second \(args) wrote \(changed)", file: file, line: line)
    }

    /// Holds `table` in EXCLUSIVE mode: reads go on, writes wait.
    func lock(_ table: String) -> (Connection) throws -> Void {
        { try $0.execute("LOCK TABLE \(table) IN EXCLUSIVE MODE") }
    }

    func testDatabaseKilledDuringUsageIngest() throws {
        let url = try freshDatabase(usage: false)
        // The holder inserts the key (time, account, id) of the input's last event first, so the ingest
        // writes every other event, then waits to learn whether that one is a duplicate.
        let path = examples + "/usage.ndjson"
        let events = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let last = try XCTUnwrap(events.last)
        try killMidCommand(["usage", "ingest", path], url: url, hold: { holder in
            try holder.execute("INSERT INTO usage_events (account_id, id, kind, at, bytes, user_id, feature_key, count) VALUES ($1, $2, 'feature', $3::timestamptz, NULL, 'u', 'reports', 1)",
                               [last["account"] as! String, last["id"] as! String, last["at"] as! String])
        }, changed: "usage_events")
    }

    func testDatabaseKilledDuringRun() throws {
        let url = try freshDatabase(usage: true)
        // runs gets its row last, after the offers and their events.
        try killMidCommand(["run", "--as-of", "2026-11-01"], url: url, hold: lock("runs"), changed: "runs")
        XCTAssertGreaterThan(try snapshot(url)["offers"].map { Int($0.prefix { $0.isNumber }) ?? 0 } ?? 0, 0, "the run after the restart made offers")
    }

    func testDatabaseKilledDuringCatalogLoad() throws {
        let url = try freshDatabase(usage: true)
        // Team at 8900: the accounts on it are repriced and their history gets a row, the last write.
        let catalog = try String(contentsOfFile: examples + "/catalog.yaml", encoding: .utf8)
            .replacingOccurrences(of: "{code: team, name: Team, price_monthly: 7900", with: "{code: team, name: Team, price_monthly: 8900")
        let path = try temporaryFolder().appendingPathComponent("catalog.yaml").path
        try catalog.write(toFile: path, atomically: true, encoding: .utf8)
        try killMidCommand(["catalog", "load", path], url: url, hold: lock("account_history"), changed: "account_history")
    }

    /// serve answers 503 with Retry-After while the database is down, on the API and /healthz, and
    /// 200 again once it is back, without a restart of its own.
    func testServeAnswers503WhileTheDatabaseIsDownAndRecovers() throws {
        let cluster = try runningCluster()
        let url = try freshDatabase(usage: true)
        let created = try CLI.run(["tokens", "create", "--role", "viewer"], databaseURL: url)
        XCTAssertEqual(created.status, 0, created.stderr)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let served = try Served.start(databaseURL: url)
        defer { served.stop() }
        let offers = served.base.appendingPathComponent("api/v1/offers")
        let auth = ["Authorization": "Bearer \(token)"]
        XCTAssertEqual(HTTP.get(offers, headers: auth).status, 200)

        try cluster.down(immediately: true)
        for _ in 0..<3 {   // a pooled connection that died, then new ones that cannot connect
            let down = HTTP.get(offers, headers: auth)
            XCTAssertEqual(down.status, 503, down.body)
            XCTAssertNotNil(down.headers["retry-after"])
            let error = try JSONSerialization.jsonObject(with: Data(down.body.utf8)) as? [String: Any]
            XCTAssertNotNil(error?["error"] as? String, down.body)
        }
        XCTAssertEqual(HTTP.get(served.base.appendingPathComponent("healthz")).status, 503)
        XCTAssertTrue(served.process.isRunning)

        try cluster.up()
        var status: Int?
        for _ in 0..<100 where status != 200 {
            status = HTTP.get(offers, headers: auth).status
            if status != 200 { Thread.sleep(forTimeInterval: 0.1) }
        }
        XCTAssertEqual(status, 200, "serve recovered by itself")
        XCTAssertEqual(HTTP.get(served.base.appendingPathComponent("healthz")).status, 200)
    }
}
