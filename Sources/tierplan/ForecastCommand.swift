import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

extension ForecastGrouping: ExpressibleByArgument {}
extension ForecastModel: ExpressibleByArgument {}

/// `tierplan forecast`: the projection (its default subcommand) and `forecast backtest`.
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Project MRR and ARPU from the account history (tierplan forecast --as-of D), or backtest the projection.",
        subcommands: [ForecastProjectCommand.self, ForecastBacktestCommand.self],
        defaultSubcommand: ForecastProjectCommand.self)
}

/// `tierplan forecast --as-of D`: MRR and ARPU month by month from the account history, with the open
/// offers landing over time and P10/P50/P90 bands.
struct ForecastProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Project MRR and ARPU month by month from the account history, with the open offers and P10/P50/P90.",
        discussion: """
            Everything is as known on --as-of: the accounts' history rows effective on or before it, the offers open then,
            the acceptances dated on or before it. Paying accounts are active or past_due.
            --model history (default): rates of churn, contraction, organic expansion and new business from the --lookback
            calendar months before the month of as_of; open offers land by the learnt acceptance lag; the bands come from
            10,000 seeded draws of whole lookback months. With no usable month it falls back to the flat model and says so.
            --model flat: churn (--churn, else policy.monthly_churn, else accounts canceled in the 90 days to as_of ÷ paying
            ÷ 3) applied alike to accounts and MRR, every offer in from month 1.
            Open offers: proposed or approved upsells (tier_upgrade, addon), not held out, one per account (largest expected delta).
            """)
    @OptionGroup var day: AsOfOption
    @Option(help: "Months to project (1 to 120).") var months: Int = 12
    @Option(help: "history (default) or flat.") var model: ForecastModel = .history
    @Option(help: "Lookback calendar months of the history model (1 to 60).") var lookback: Int = 6
    @Option(help: "Monthly churn rate, e.g. 0.02, replacing logo and MRR churn (default: policy, else learnt).") var churn: Double?
    @Option(help: "Split the projection by tier or segment.") var by: ForecastGrouping?
    @Flag(help: "Print the months as CSV.") var csv = false
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...120).contains(months) else { throw ValidationError("--months must be between 1 and 120") }
        guard (1...60).contains(lookback) else { throw ValidationError("--lookback must be between 1 and 60") }
        if let churn, !(0..<1).contains(churn) { throw ValidationError("--churn must be a rate from 0 up to (not including) 1") }
        if csv && output.json { throw ValidationError("choose one of --json and --csv") }
    }

    func run() throws {
        try runReportingErrors {
            let db = try connection.connect()
            let catalog = try CatalogStore.read(db)
            let request = ForecastRequest(asOf: day.asOf, months: months, model: model, lookback: lookback, churn: churn, by: by)
            let forecasts = try ForecastStore.forecast(db, request, policy: catalog.policy)
            if output.json {
                if let by {
                    try Console.json(GroupedForecastReport(asOf: day.asOf.iso, currency: catalog.currency, by: by.rawValue, forecasts: forecasts))
                } else {
                    try Console.json(ForecastReport(forecasts[0].forecast, asOf: day.asOf, currency: catalog.currency, group: nil))
                }
            } else if csv {
                Console.write(ForecastCSV.text(forecasts, grouped: by != nil))
            } else {
                for (group, forecast) in forecasts {
                    if by != nil { Console.out("\n== \(by!.rawValue) \(group.isEmpty ? "(none)" : group)") }
                    ForecastTable.print(forecast, asOf: day.asOf, currency: catalog.currency)
                }
            }
        }
    }
}

/// `tierplan forecast backtest`: the forecast as it would have been made at past month ends, against what happened.
struct ForecastBacktestCommand: ParsableCommand {
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

    func run() throws {
        try runReportingErrors {
            let db = try connection.connect()
            let catalog = try CatalogStore.read(db)
            let report = try ForecastStore.backtest(db, BacktestRequest(from: from, to: to, months: months, models: models, lookback: lookback),
                                                    policy: catalog.policy) { done, total in
                if !output.json && !csv { Console.progress("  backtest: \(done) of \(total) as_of days") }
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

/// The backtest scores side by side, one line per horizon.
enum BacktestTable {
    static func print(_ r: BacktestReport, horizons: [Int]? = nil) {
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }
        Console.out("backtest: \(r.asOfDays.count) as_of days (\(r.asOfDays.first ?? "–") … \(r.asOfDays.last ?? "–")), horizons 1–\(r.months)")
        let header = ["h".padding(toLength: 4, withPad: " ", startingAt: 0)] + r.models.flatMap { m in
            ["\(m.model) MAPE", "bias", "P10–P90"].map { SignalsTable.pad($0, 12) }
        }
        Console.out(header.joined(separator: " "))
        let count = r.models.first?.horizons.count ?? 0
        for i in 0...count where i == count || horizons?.contains(i + 1) ?? true {
            let label = i < (r.models.first?.horizons.count ?? 0) ? String(i + 1) : "all"
            let cells = r.models.flatMap { m -> [String] in
                let s = i < m.horizons.count ? m.horizons[i] : m.overall
                return [pct(s.arpuMAPE), pct(s.arpuBias), pct(s.arpuCoverage)].map { SignalsTable.pad($0, 12) }
            }
            Console.out(([label.padding(toLength: 4, withPad: " ", startingAt: 0)] + cells).joined(separator: " "))
        }
        Console.out("MAPE and bias of ARPU against the actual; P10–P90: share of actual ARPU inside the band (80% when calibrated).")
    }
}

enum ForecastTable {
    static func print(_ f: Forecast, asOf: Day, currency: String) {
        func money(_ x: Double) -> String { Rationale.money(Int(x.rounded()), currency) }
        func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
        Console.out("as of \(asOf.iso): \(f.payingAccounts) paying accounts, MRR \(money(Double(f.mrr))), ARPU \(money(f.arpu))")
        if let fallback = f.fallback {
            Console.out("model: flat (fallback: \(fallback) — no lookback month the account history covers), monthly churn \(pct(f.monthlyChurn))")
        } else if let r = f.rates {
            Console.out("model: history, \(f.history.count) of \(f.lookbackMonths ?? f.history.count) lookback months: churn \(pct(r.logoChurn)) of accounts, "
                        + "\(pct(r.mrrChurn)) of MRR, contraction \(pct(r.contraction)), organic expansion \(pct(r.organicExpansion)), "
                        + "new \(String(format: "%.1f", r.newAccounts)) accounts and \(money(r.newMRR)) MRR a month")
            Console.out("")
            Console.out("month      start  MRR start    churned  new   new MRR      expansion  of it offers  contraction  end    MRR end")
            for m in f.history {
                Console.out([m.month.iso, SignalsTable.pad(String(m.startAccounts), 6), SignalsTable.pad(money(Double(m.startMRR)), 12),
                             SignalsTable.pad(String(m.churned), 8), SignalsTable.pad(String(m.new), 5), SignalsTable.pad(money(Double(m.newMRR)), 12),
                             SignalsTable.pad(money(Double(m.expansion)), 10), SignalsTable.pad(money(Double(m.offerExpansion)), 13),
                             SignalsTable.pad(money(Double(m.contraction)), 12), SignalsTable.pad(String(m.endAccounts), 6),
                             money(Double(m.endMRR))].joined(separator: " "))
            }
        } else {
            Console.out("model: flat, monthly churn \(pct(f.monthlyChurn))")
        }
        Console.out("open offers counted: \(f.openOffers), expected Δ MRR \(money(f.expectedDeltaMRR)) (quantiles: \(f.quantiles))")
        Console.out("")
        Console.out("month    active   MRR base      MRR expected  ARPU base   ARPU exp    ARPU P10    ARPU P50    ARPU P90")
        for m in f.months {
            Console.out([m.month, SignalsTable.pad(String(format: "%.1f", m.activeAccounts), 8), SignalsTable.pad(money(m.mrrBaseline), 13),
                         SignalsTable.pad(money(m.mrrExpected), 13), SignalsTable.pad(money(m.arpuBaseline), 11),
                         SignalsTable.pad(money(m.arpuExpected), 11), SignalsTable.pad(money(m.arpuP10), 11),
                         SignalsTable.pad(money(m.arpuP50), 11), money(m.arpuP90)].joined(separator: " "))
        }
        Console.out("")
        Console.out(ForecastChart.text(f, currency: currency))
    }
}

/// A small text chart of MRR: baseline (b), expected (e) and the P10–P90 band (░).
enum ForecastChart {
    static func text(_ f: Forecast, currency: String, height: Int = 10) -> String {
        guard !f.months.isEmpty else { return "" }
        let top = f.months.map { max($0.mrrP90, $0.mrrExpected, $0.mrrBaseline) }.max() ?? 1
        let bottom = f.months.map { min($0.mrrP10, $0.mrrBaseline) }.min() ?? 0
        let span = max(top - bottom, 1)
        func rowOf(_ value: Double) -> Int { Int(((value - bottom) / span * Double(height - 1)).rounded()) }
        var grid = Array(repeating: Array(repeating: " ", count: f.months.count * 3), count: height)
        for (i, m) in f.months.enumerated() {
            let x = i * 3 + 1
            for r in rowOf(m.mrrP10)...max(rowOf(m.mrrP10), rowOf(m.mrrP90)) { grid[r][x] = "░" }
            grid[rowOf(m.mrrBaseline)][x] = "b"
            grid[rowOf(m.mrrExpected)][x] = grid[rowOf(m.mrrExpected)][x] == "b" ? "*" : "e"
        }
        var lines: [String] = ["MRR: b baseline, e expected, * both, ░ P10–P90"]
        for r in stride(from: height - 1, through: 0, by: -1) {
            let label = r == height - 1 ? Rationale.money(Int(top.rounded()), currency) : (r == 0 ? Rationale.money(Int(bottom.rounded()), currency) : "")
            lines.append(SignalsTable.pad(label, 12) + "│" + grid[r].joined())
        }
        lines.append(String(repeating: " ", count: 12) + "└" + String(repeating: "─", count: f.months.count * 3))
        lines.append(String(repeating: " ", count: 13) + " " + f.months.first!.month + String(repeating: " ", count: max(1, f.months.count * 3 - 14)) + f.months.last!.month)
        return lines.joined(separator: "\n")
    }
}
