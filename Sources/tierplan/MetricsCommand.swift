import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan metrics`: ARPU, MRR movements, offer conversion, realised expansion, holdout uplift.
struct MetricsCommand: AsyncParsableCommand {
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

    func run() async throws {
        try await runReportingErrors {
            let report = try await connection.repository().metrics(asOf: day.asOf, from: from ?? day.asOf.adding(days: -30))
            try output.print(report) {
                let rows = MetricsRows.rows(report)
                if csv {
                    Console.write((["section,key,value"] + rows.map { "\($0.0),\($0.1),\($0.2)" }).joined(separator: "\n") + "\n")
                    return
                }
                var section = ""
                let width = (rows.map(\.1.count).max() ?? 26) + 2
                for (s, key, value) in rows {
                    if s != section { Console.out("\n[\(s)]"); section = s }
                    Console.out("  " + SignalsTable.pad(key, width) + (value.isEmpty ? "–" : value))
                }
            }
        }
    }
}
