import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan forecast backtest`: the forecast as it would have been made at past month ends, against what happened.
struct ForecastBacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Replay the forecast at past month ends and measure its error against what really happened.",
        discussion: """
            As of the last day of each month from --from's month to --to's month (kept when its --months-th forecast month
            ends on or before the latest history date), each model forecasts with what was known then; the actual paying
            accounts, MRR and ARPU at the end of each forecast month are compared with it. Per model and horizon: MAPE of
            ARPU and MRR, the bias of ARPU, and the share of actual ARPU inside [P10, P90] (about 80 % when well calibrated).
            """)
    @Option(help: "First month to forecast from (YYYY-MM-DD).") var from: Day
    @Option(help: "Last month to forecast from (YYYY-MM-DD).") var to: Day
    @Option(help: "Horizon H in months (1 to 24).") var months: Int = 3
    @Option(help: "history, flat or both (default).") var model: String = "both"
    @Option(help: "Lookback calendar months of the history model (1 to 60).") var lookback: Int = 6
    @Flag(help: "Print the scores as CSV.") var csv = false
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    var models: [ForecastModel] { model == "both" ? ForecastModel.allCases : [ForecastModel(rawValue: model)].compactMap { $0 } }

    func validate() throws {
        guard (1...24).contains(months) else { throw ValidationError("--months must be between 1 and 24") }
        guard (1...60).contains(lookback) else { throw ValidationError("--lookback must be between 1 and 60") }
        guard !models.isEmpty else { throw ValidationError("--model must be history, flat or both, not '\(model)'") }
        guard from <= to else { throw ValidationError("--from \(from.iso) is after --to \(to.iso)") }
        if csv && output.json { throw ValidationError("choose one of --json and --csv") }
    }

    func run() async throws {
        try await runReportingErrors {
            let quiet = output.json || csv
            let request = BacktestRequest(from: from, to: to, months: months, models: models, lookback: lookback)
            let report = try await connection.repository().backtest(request) { done, total in
                if !quiet { Console.progress("  backtest: \(done) of \(total) as_of days") }
            }
            Console.endProgress()
            if output.json { try Console.json(report) } else if csv { Console.write(report.csv) } else {
                if report.asOfDays.isEmpty {
                    Console.note("no as_of day from \(from.iso) to \(to.iso) has \(months) months of history after it"
                                 + (report.latestHistoryDate.map { " (latest history date \($0))" } ?? " (no account history)"))
                }
                BacktestTable.print(report)
            }
        }
    }
}
