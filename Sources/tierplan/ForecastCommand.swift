import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

extension ForecastGrouping: ExpressibleByArgument {}

/// `tierplan forecast`: ARPU month by month, baseline against with-offers, with P10/P50/P90.
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Project MRR and ARPU month by month: baseline, with the open offers, and P10/P50/P90.",
        discussion: """
            Paying accounts are active or past_due. Churn: --churn, else policy.monthly_churn, else accounts canceled
            in the 90 days to as_of ÷ paying accounts ÷ 3. Open offers: proposed or approved upsells (tier_upgrade,
            addon), not held out, one per account (the largest expected delta).
            """)
    @OptionGroup var day: AsOfOption
    @Option(help: "Months to project (1 to 120).") var months: Int = 12
    @Option(help: "Monthly churn rate, e.g. 0.02 (default: policy, else derived).") var churn: Double?
    @Option(help: "Split the projection by tier or segment.") var by: ForecastGrouping?
    @Flag(help: "Print the months as CSV.") var csv = false
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...120).contains(months) else { throw ValidationError("--months must be between 1 and 120") }
        if let churn, !(0..<1).contains(churn) { throw ValidationError("--churn must be a rate from 0 up to (not including) 1") }
        if csv && output.json { throw ValidationError("choose one of --json and --csv") }
    }

    func run() throws {
        try runReportingErrors {
            let db = try connection.connect()
            let catalog = try CatalogStore.read(db)
            let inputs = try ForecastStore.inputs(db, asOf: day.asOf, churn: churn, policy: catalog.policy, by: by)
            let forecasts = inputs.groups.map { ($0.0, Forecaster.project($0.1, asOf: day.asOf, months: months)) }
            if output.json {
                if let by {
                    try Console.json(GroupedForecastReport(asOf: day.asOf.iso, currency: catalog.currency, by: by.rawValue,
                                                         monthlyChurn: inputs.churn,
                                                         groups: forecasts.map { ForecastReport($0.1, asOf: day.asOf, currency: catalog.currency, group: $0.0) }))
                } else {
                    try Console.json(ForecastReport(forecasts[0].1, asOf: day.asOf, currency: catalog.currency, group: nil))
                }
            } else if csv {
                Console.write(ForecastCSV.text(forecasts.map { (group: $0.0, forecast: $0.1) }, grouped: by != nil))
            } else {
                for (group, forecast) in forecasts {
                    if by != nil { Console.out("\n== \(by!.rawValue) \(group.isEmpty ? "(none)" : group)") }
                    ForecastTable.print(forecast, asOf: day.asOf, currency: catalog.currency)
                }
            }
        }
    }
}

enum ForecastTable {
    static func print(_ f: Forecast, asOf: Day, currency: String) {
        func money(_ x: Double) -> String { Rationale.money(Int(x.rounded()), currency) }
        Console.out("as of \(asOf.iso): \(f.payingAccounts) paying accounts, MRR \(money(Double(f.mrr))), ARPU \(money(f.arpu)), monthly churn \(String(format: "%.2f%%", f.monthlyChurn * 100))")
        Console.out("open offers counted: \(f.openOffers), expected Δ MRR \(money(f.expectedDeltaMRR)) (quantiles: \(f.exactQuantiles ? "exact" : "\(UpliftDistribution.draws) seeded draws"))")
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
