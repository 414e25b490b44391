import Foundation
import Postgres
import TestSupport
import XCTest

/// The history model, the backtest and point-in-time reads through the real CLI, on a scripted
/// account history whose numbers are worked out by hand.
final class HistoryForecastCLITests: XCTestCase {
    var url: String!
    var db: Connection!
    let examples = repositoryRoot.appendingPathComponent("examples").path
    let header = "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner,canceled_at\n"

    func tierplan(_ args: String...) throws -> CLIResult { try CLI.run(args, databaseURL: url) }

    func importAccounts(_ rows: String, effective: String) throws {
        let result = try CLI.run(["accounts", "import", "-", "--effective", effective], databaseURL: url, stdin: header + rows)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    /// starter 2900, team 7900 (examples/catalog.yaml).
    ///   2026-01-10  a1 starter, a2 team, a3 starter sign up
    ///   2026-02-15  a1 → team (expansion 5,000), a3 cancels (churn 2,900), a4 starter signs up (new 2,900)
    ///   2026-03-20  a2 → starter (contraction 5,000)
    ///   2026-05-05  a4 → team (after every as_of below but the backtest's actuals)
    func scriptedHistory() throws {
        url = try TestCluster.freshDatabase()
        db = try Connection(url)
        XCTAssertEqual(try tierplan("catalog", "load", examples + "/catalog.yaml").status, 0)
        try importAccounts("a1,A1,starter,active,2026-01-10,,0,smb,ann,\na2,A2,team,active,2026-01-10,,0,mid,ann,\na3,A3,starter,active,2026-01-10,,0,smb,ann,\n",
                           effective: "2026-01-10")
        try importAccounts("a1,A1,team,active,2026-01-10,,0,smb,ann,\na3,A3,starter,canceled,2026-01-10,,0,smb,ann,2026-02-15\na4,A4,starter,active,2026-02-15,,0,smb,ann,\n",
                           effective: "2026-02-15")
        try importAccounts("a2,A2,starter,active,2026-01-10,,0,mid,ann,\n", effective: "2026-03-20")
        try importAccounts("a4,A4,team,active,2026-02-15,,0,smb,ann,\n", effective: "2026-05-05")
    }

    func testHistoryModelByHand() throws {
        try scriptedHistory()
        let result = try tierplan("forecast", "--as-of", "2026-04-10", "--months", "2", "--lookback", "3", "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(result.json)
        XCTAssertEqual(json["model"] as? String, "history")
        XCTAssertEqual(json["lookback_months"] as? Int, 3)
        // On 2026-04-10: a1 team, a2 starter, a4 starter (a4's upgrade on 2026-05-05 is not known yet).
        XCTAssertEqual(json["paying_accounts"] as? Int, 3)
        XCTAssertEqual(json["mrr"] as? Int, 7900 + 2900 + 2900)
        // 2026-01 is not used: the history starts on 2026-01-10, after its first day.
        let history = try XCTUnwrap(json["history"] as? [[String: Any]])
        XCTAssertEqual(history.map { $0["month"] as? String }, ["2026-02", "2026-03"])
        func ints(_ m: [String: Any], _ keys: [String]) -> [Int] { keys.map { m[$0] as? Int ?? -1 } }
        let keys = ["start_accounts", "start_mrr", "churned", "churned_mrr", "new", "new_mrr", "expansion", "offer_expansion", "contraction",
                    "end_accounts", "end_mrr"]
        XCTAssertEqual(ints(history[0], keys), [3, 13_700, 1, 2_900, 1, 2_900, 5_000, 0, 0, 3, 18_700])
        XCTAssertEqual(ints(history[1], keys), [3, 18_700, 0, 0, 0, 0, 0, 0, 5_000, 3, 13_700])
        // Rates over the two months (start MRR 13,700 + 18,700 = 32,400): c = 1/6, rc = 2,900/32,400,
        // rk = re = 5,000/32,400, a = 1/2, b = 2,900/2.
        let rates = try XCTUnwrap(json["rates"] as? [String: Double])
        XCTAssertEqual(rates["logo_churn"]!, 0.166667, accuracy: 1e-9)
        XCTAssertEqual(rates["mrr_churn"]!, 0.089506, accuracy: 1e-9)
        XCTAssertEqual(rates["contraction"]!, 0.154321, accuracy: 1e-9)
        XCTAssertEqual(rates["organic_expansion"]!, 0.154321, accuracy: 1e-9)
        XCTAssertEqual(rates["new_accounts"]!, 0.5)
        XCTAssertEqual(rates["new_mrr"]!, 1_450)
        XCTAssertEqual(json["monthly_churn"] as? Double ?? 0, 0.166667, accuracy: 1e-9)
        // active_1 = 3 (5/6) + 1/2 = 3; mrr_1 = 13,700 (1 − 2,900/32,400) + 1,450; then again from there.
        let months = try XCTUnwrap(json["months"] as? [[String: Any]])
        XCTAssertEqual(months.map { $0["month"] as? String }, ["2026-05", "2026-06"])
        let factor = 1 - 2_900.0 / 32_400
        let mrr1 = 13_700 * factor + 1_450, mrr2 = mrr1 * factor + 1_450
        for (month, mrr) in zip(months, [mrr1, mrr2]) {
            XCTAssertEqual(month["active_accounts"] as? Double ?? 0, 3, accuracy: 0.005)
            XCTAssertEqual(month["mrr_baseline"] as? Double ?? 0, mrr, accuracy: 0.005)
            XCTAssertEqual(month["arpu_baseline"] as? Double ?? 0, mrr / 3, accuracy: 0.005)
            XCTAssertEqual(month["uplift_expected"] as? Double, 0, "no open offer")
            XCTAssertEqual(month["mrr_expected"] as? Double ?? 0, mrr, accuracy: 0.005)
            for key in ["arpu_p10", "arpu_p50", "arpu_p90", "mrr_p10", "mrr_p50", "mrr_p90"] { XCTAssertNotNil(month[key] as? Double, key) }
        }
        // The table says which model and shows the movements.
        let table = try tierplan("forecast", "--as-of", "2026-04-10", "--months", "2", "--lookback", "3")
        XCTAssertTrue(table.stdout.contains("model: history, 2 of 3 lookback months"), table.stdout)
        XCTAssertTrue(table.stdout.contains("2026-02"), table.stdout)
    }

    func testPointInTimeAndTheFallback() throws {
        try scriptedHistory()
        // Before a4 signs up and a1 upgrades: the state of 2026-02-10, not of today.
        let early = try XCTUnwrap(try tierplan("forecast", "--as-of", "2026-02-10", "--months", "1", "--lookback", "1", "--json").json)
        XCTAssertEqual(early["paying_accounts"] as? Int, 3)
        XCTAssertEqual(early["mrr"] as? Int, 2_900 + 7_900 + 2_900)
        XCTAssertEqual(early["model"] as? String, "flat", "2026-01 is not covered: nothing to learn from")
        XCTAssertEqual(early["fallback"] as? String, "no history")
        let later = try XCTUnwrap(try tierplan("forecast", "--as-of", "2026-02-20", "--months", "1", "--json").json)
        XCTAssertEqual(later["mrr"] as? Int, 7_900 + 7_900 + 2_900)
        // Signals as of a past day read the tier of that day, and only accounts that existed.
        let signals = try XCTUnwrap(try tierplan("signals", "--as-of", "2026-02-10", "--json").json?["accounts"] as? [[String: Any]])
        XCTAssertEqual(signals.compactMap { $0["account_id"] as? String }, ["a1", "a2", "a3"])
        XCTAssertEqual(signals.first?["tier"] as? String, "starter")
        let now = try XCTUnwrap(try tierplan("signals", "--as-of", "2026-04-10", "--json").json?["accounts"] as? [[String: Any]])
        XCTAssertEqual(now.compactMap { $0["account_id"] as? String }, ["a1", "a2", "a4"], "a3 was canceled by then")
        // --model flat on request, and a bad model is refused in one line.
        XCTAssertEqual(try tierplan("forecast", "--as-of", "2026-04-10", "--months", "1", "--model", "flat", "--json").json?["model"] as? String, "flat")
        let bad = try tierplan("forecast", "--as-of", "2026-04-10", "--model", "crystal-ball")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
    }

    func testBacktestByHand() throws {
        try scriptedHistory()
        let result = try tierplan("forecast", "backtest", "--from", "2026-01-01", "--to", "2026-03-31", "--months", "1", "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(result.json)
        // Every month end whose next month ends by the latest history date (2026-05-05).
        XCTAssertEqual(json["as_of_days"] as? [String], ["2026-01-31", "2026-02-28", "2026-03-31"])
        XCTAssertEqual(json["latest_history_date"] as? String, "2026-05-05")
        let points = try XCTUnwrap(json["points"] as? [[String: Any]])
        XCTAssertEqual(points.count, 6, "3 as_of days × 1 horizon × 2 models")
        // As of 2026-03-31 the history model has February only: c = 1/3, rc = 2,900/13,700, re = 5,000/13,700,
        // a = 1, b = 2,900: April's MRR = 13,700 − 2,900 + 5,000 + 2,900 = 18,700 over 3 accounts.
        // What happened: 13,700 over a1 team, a2 starter, a4 starter at the end of April.
        let march = try XCTUnwrap(points.first { $0["as_of"] as? String == "2026-03-31" && $0["model"] as? String == "history" })
        XCTAssertEqual(march["month"] as? String, "2026-04")
        XCTAssertEqual(march["mrr_expected"] as? Double ?? 0, 18_700, accuracy: 0.005)
        XCTAssertEqual(march["arpu_expected"] as? Double ?? 0, 6_233.33, accuracy: 0.005)
        XCTAssertEqual(march["mrr_actual"] as? Double, 13_700)
        XCTAssertEqual(march["arpu_actual"] as? Double ?? 0, 4_566.67, accuracy: 0.005)
        // As of 2026-01-31 there is no usable month: the history model falls back to flat (13,700 / 3, no churn)
        // while February ended at 18,700 / 3: an error of 5,000 / 18,700 = 0.2674.
        let models = try XCTUnwrap(json["models"] as? [[String: Any]])
        XCTAssertEqual(models.compactMap { $0["model"] as? String }, ["history", "flat"])
        let history = try XCTUnwrap(models[0]["horizons"] as? [[String: Any]])
        XCTAssertEqual(history.first?["h"] as? Int, 1)
        XCTAssertEqual(history.first?["forecasts"] as? Int, 3)
        let january = try XCTUnwrap(points.first { $0["as_of"] as? String == "2026-01-31" && $0["model"] as? String == "flat" })
        XCTAssertEqual(january["arpu_expected"] as? Double ?? 0, 4_566.67, accuracy: 0.005)
        XCTAssertEqual(january["arpu_actual"] as? Double ?? 0, 6_233.33, accuracy: 0.005)
        for model in models {
            let overall = try XCTUnwrap(model["overall"] as? [String: Any])
            for key in ["arpu_mape", "mrr_mape", "arpu_bias", "arpu_coverage"] { XCTAssertNotNil(overall[key] as? Double, key) }
        }
        // CSV and the table; a horizon the history cannot score says so.
        let csv = try tierplan("forecast", "backtest", "--from", "2026-01-01", "--to", "2026-03-31", "--months", "1", "--csv")
        let lines = csv.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "model,h,forecasts,arpu_mape,mrr_mape,arpu_bias,arpu_coverage")
        XCTAssertEqual(lines.count, 5, csv.stdout)   // history 1, all; flat 1, all
        XCTAssertTrue(lines.contains { $0.hasPrefix("flat,all,3,") }, csv.stdout)
        let table = try tierplan("forecast", "backtest", "--from", "2026-01-01", "--to", "2026-03-31", "--months", "1")
        XCTAssertTrue(table.stdout.contains("history MAPE"), table.stdout)
        let none = try tierplan("forecast", "backtest", "--from", "2026-04-01", "--to", "2026-06-30", "--months", "3")
        XCTAssertEqual(none.status, 0, none.stderr)
        XCTAssertTrue(none.stderr.contains("latest history date 2026-05-05"), none.stderr)
        XCTAssertNotEqual(try tierplan("forecast", "backtest", "--from", "2026-03-01", "--to", "2026-01-01", "--months", "1").status, 0)
    }

    func testOffersOpenOnADayAndTheAcceptanceLag() throws {
        url = try TestCluster.freshDatabase()
        db = try Connection(url)
        for args in [["catalog", "load", examples + "/catalog.yaml"], ["accounts", "import", examples + "/accounts.csv", "--effective", "2026-10-01"],
                     ["usage", "ingest", examples + "/usage.ndjson"], ["run", "--as-of", "2026-11-01"]] {
            XCTAssertEqual(try CLI.run(args, databaseURL: url).status, 0)
        }
        func openOffers(_ day: String) throws -> Int {
            try XCTUnwrap(try tierplan("forecast", "--as-of", day, "--months", "1", "--json").json?["open_offers"] as? Int)
        }
        XCTAssertEqual(try openOffers("2026-10-31"), 0, "the run for 2026-11-01 had not happened yet")
        let counted = try openOffers("2026-11-01")
        XCTAssertGreaterThan(counted, 1)
        let acme = try XCTUnwrap(try db.query("SELECT offer_id::text FROM offers WHERE account_id = 'acme' AND rank = 1").first?.decode(0, as: String.self))
        XCTAssertEqual(try tierplan("offers", "approve", acme, "--by", "cs", "--at", "2026-11-02").status, 0)
        XCTAssertEqual(try tierplan("offers", "outcome", acme, "accepted", "--by", "cs", "--at", "2026-11-04").status, 0)
        try importAccounts("acme,Acme Corp,team,active,2025-03-14,,0,smb,alice,\n", effective: "2026-11-04")
        XCTAssertEqual(try openOffers("2026-11-03"), counted, "approved, not yet accepted")
        XCTAssertEqual(try openOffers("2026-11-05"), counted - 1, "accepted on 2026-11-04")
        // A month later the lookback month 2026-11 shows acme's upgrade as expansion from an offer, with a lag of 3 days.
        let json = try XCTUnwrap(try tierplan("forecast", "--as-of", "2026-12-15", "--months", "1", "--lookback", "1", "--json").json)
        let november = try XCTUnwrap((json["history"] as? [[String: Any]])?.first)
        XCTAssertEqual(november["month"] as? String, "2026-11")
        XCTAssertEqual(november["expansion"] as? Int, 7_900 - 2_900)
        XCTAssertEqual(november["offer_expansion"] as? Int, 7_900 - 2_900)
        XCTAssertEqual(november["organic_expansion"] as? Int, 0)
        // Every lag (3 days) has passed by the end of month 1: the whole expectation lands there.
        let month = try XCTUnwrap((json["months"] as? [[String: Any]])?.first)
        let e = json["expected_delta_mrr"] as? Double ?? 0, c = json["monthly_churn"] as? Double ?? 0
        XCTAssertEqual(month["uplift_expected"] as? Double ?? 0, e * (1 - c), accuracy: 0.01)
    }

    /// The point-in-time rule exists twice: in SQL (`statesSQL`, read by `metrics`, `signals` and
    /// `plan` for one day) and in Core (`AccountTimeline`, read by the forecast for many days).
    /// On the days around every change of the scripted history both must count the same.
    func testTheSQLAndTheCoreReadTheSameStateOnEveryDay() throws {
        try scriptedHistory()
        for day in ["2026-01-09", "2026-01-10", "2026-01-31", "2026-02-14", "2026-02-15", "2026-02-16", "2026-03-19", "2026-03-20",
                    "2026-04-30", "2026-05-04", "2026-05-05", "2026-06-01"] {
            let metrics = try XCTUnwrap(try tierplan("metrics", "--as-of", day, "--json").json, day)
            let forecast = try XCTUnwrap(try tierplan("forecast", "--as-of", day, "--months", "1", "--json").json, day)
            XCTAssertEqual(metrics["paying_accounts"] as? Int, forecast["paying_accounts"] as? Int, day)
            XCTAssertEqual(metrics["mrr"] as? Int, forecast["mrr"] as? Int, day)
        }
    }

    /// NRR and GRR of the 12-month cohort on the scripted history. As of 2027-01-10 the cohort is the
    /// accounts paying on 2026-01-10: a1 2,900, a2 7,900, a3 2,900 (S = 13,700); since then a1 expanded
    /// by 5,000, a2 contracted by 5,000, a3 churned 2,900 (a4 came later: not in the cohort).
    /// NRR = (13,700 + 5,000 − 5,000 − 2,900) / 13,700 = 0.7883; GRR = (13,700 − 5,000 − 2,900) / 13,700 = 0.4234.
    /// A year before the history starts there is no cohort: null.
    func testRetentionOfTheTwelveMonthCohort() throws {
        try scriptedHistory()
        let metrics = try XCTUnwrap(try tierplan("metrics", "--as-of", "2027-01-10", "--json").json)
        XCTAssertEqual(try XCTUnwrap(metrics["nrr_12m"] as? Double), 0.7883, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(metrics["grr_12m"] as? Double), 0.4234, accuracy: 1e-9)
        let early = try XCTUnwrap(try tierplan("metrics", "--as-of", "2026-12-01", "--json").json)
        XCTAssertTrue(early["nrr_12m"] is NSNull, "\(early["nrr_12m"] ?? "missing")")
        XCTAssertTrue(early["grr_12m"] is NSNull)
        let csv = try tierplan("metrics", "--as-of", "2027-01-10", "--csv")
        XCTAssertTrue(csv.stdout.contains("retention,nrr_12m,0.7883\nretention,grr_12m,0.4234\n"), csv.stdout)
    }

    /// CLTV = ARPU × gross margin (0.8) / c, c the history model's logo churn over the usable lookback
    /// months (Feb and Mar 2026). On 2026-04-10: overall ARPU 13,700 / 3, c = 1/6 → 21,920.
    /// team: a1 7,900; churn 1 (a2 left team in March) of 1 + 2 starts → 7,900 × 0.8 × 3 = 18,960.
    /// starter: a2, a4 2,900 each; churn 2 (a1 up, a3 canceled) of 2 + 1 starts → 2,900 × 0.8 × 1.5 = 3,480.
    /// smb: a1, a4, ARPU 5,400; churn 1 (a3) of 2 + 2 → 17,280. mid: a2, nothing churned → null.
    func testLifetimeValueByHand() throws {
        try scriptedHistory()
        let metrics = try XCTUnwrap(try tierplan("metrics", "--as-of", "2026-04-10", "--json").json)
        let cltv = try XCTUnwrap(metrics["cltv"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(cltv["overall"] as? Double), 21920, accuracy: 0.01)
        XCTAssertEqual(cltv["gross_margin"] as? Double, 0.8)
        XCTAssertEqual(try XCTUnwrap(cltv["monthly_churn"] as? Double), 0.166667, accuracy: 1e-9)
        let tiers = try XCTUnwrap(cltv["by_tier"] as? [String: Any]), segments = try XCTUnwrap(cltv["by_segment"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(tiers["team"] as? Double), 18960, accuracy: 0.01)
        XCTAssertEqual(try XCTUnwrap(tiers["starter"] as? Double), 3480, accuracy: 0.01)
        XCTAssertEqual(try XCTUnwrap(segments["smb"] as? Double), 17280, accuracy: 0.01)
        XCTAssertTrue(segments["mid"] is NSNull, "\(segments)")
    }
}
