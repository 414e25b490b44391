import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan metrics`: ARPU, MRR movements, offer conversion, realised expansion, holdout uplift.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Paying accounts, MRR, ARPU, MRR movements, offers by status, conversion, realised expansion, uplift.")
    @OptionGroup var day: AsOfOption
    @Option(help: "Start of the MRR movement period, excluded (default: 30 days before as_of).") var from: Day?
    @Flag(help: "Print as CSV rows: section,key,value.") var csv = false
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let from, from >= day.asOf { throw ValidationError("--from must be before --as-of") }
        if csv && output.json { throw ValidationError("choose one of --json and --csv") }
    }

    func run() throws {
        try runReportingErrors {
            let db = try connection.connect()
            let catalog = try CatalogStore.read(db)
            let report = try MetricsStore.report(db, asOf: day.asOf, from: from ?? day.asOf.adding(days: -30), currency: catalog.currency)
            if output.json { try Console.json(report); return }
            let rows = MetricsRows.rows(report)
            if csv {
                Console.write((["section,key,value"] + rows.map { "\($0.0),\($0.1),\($0.2)" }).joined(separator: "\n") + "\n")
                return
            }
            var section = ""
            for (s, key, value) in rows {
                if s != section { Console.out("\n[\(s)]"); section = s }
                Console.out("  " + SignalsTable.pad(key, 28) + value)
            }
        }
    }
}

enum MetricsRows {
    static func rows(_ r: MetricsReport) -> [(String, String, String)] {
        var rows: [(String, String, String)] = [
            ("revenue", "as_of", r.asOf), ("revenue", "currency", r.currency), ("revenue", "paying_accounts", String(r.payingAccounts)),
            ("revenue", "mrr", String(r.mrr)), ("revenue", "arpu", String(format: "%.2f", r.arpu)),
            ("movements", "from", r.from), ("movements", "new", String(r.movements.new)), ("movements", "expansion", String(r.movements.expansion)),
            ("movements", "contraction", String(r.movements.contraction)), ("movements", "churn", String(r.movements.churn)),
            ("movements", "reactivation", String(r.movements.reactivation)), ("movements", "net", String(r.movements.net)),
        ]
        for (status, n) in r.offersByStatus.sorted(by: { $0.key < $1.key }) { rows.append(("offers_by_status", status, String(n))) }
        for c in r.conversion {
            rows.append(("conversion", c.kind + ".accepted", String(c.accepted)))
            rows.append(("conversion", c.kind + ".declined", String(c.declined)))
            rows.append(("conversion", c.kind + ".rate", c.rate.map { String(format: "%.4f", $0) } ?? ""))
            rows.append(("conversion", c.kind + ".credible_95", String(format: "%.4f-%.4f", c.low, c.high)))
        }
        rows.append(("realised", "accepted_offers", String(r.realised.acceptedOffers)))
        rows.append(("realised", "realised_offers", String(r.realised.realisedOffers)))
        rows.append(("realised", "realised_expansion_mrr", String(r.realised.realisedExpansionMRR)))
        if let u = r.uplift {
            rows.append(("uplift", "treated_accounts", String(u.treatedAccounts)))
            rows.append(("uplift", "holdout_accounts", String(u.holdoutAccounts)))
            rows.append(("uplift", "treated_expansion_rate", String(format: "%.4f", u.treatedExpansionRate)))
            rows.append(("uplift", "holdout_expansion_rate", String(format: "%.4f", u.holdoutExpansionRate)))
            rows.append(("uplift", "uplift_rate", String(format: "%.4f", u.upliftRate)))
            rows.append(("uplift", "uplift_mean_delta_mrr", String(format: "%.2f", u.upliftMeanDeltaMRR)))
        } else {
            rows.append(("uplift", "holdout_accounts", "0"))
        }
        return rows
    }
}
