import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan forecast --as-of D`: MRR and ARPU month by month from the account history, with the open
/// offers landing over time and P10/P50/P90 bands.
struct ForecastProjectCommand: AsyncParsableCommand {
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

    func run() async throws {
        try await runReportingErrors {
            let store = try connection.repository()
            let currency = try await store.labels().currency
            let request = ForecastRequest(asOf: day.asOf, months: months, model: model, lookback: lookback, churn: churn, by: by)
            let forecasts = try await store.forecast(request)
            if output.json, let by {
                try Console.json(GroupedForecastReport(asOf: day.asOf.iso, currency: currency, by: by.rawValue, forecasts: forecasts))
            } else if output.json {
                try Console.json(ForecastReport(forecasts[0].forecast, asOf: day.asOf, currency: currency, group: nil))
            } else if csv {
                Console.write(ForecastCSV.text(forecasts, grouped: by != nil))
            } else {
                for (group, forecast) in forecasts {
                    if by != nil { Console.out("\n== \(by!.rawValue) \(group.isEmpty ? "(none)" : group)") }
                    ForecastTable.print(forecast, asOf: day.asOf, currency: currency)
                }
            }
        }
    }
}
