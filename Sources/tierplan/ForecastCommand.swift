import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

extension ForecastGrouping: ExpressibleByArgument {}
extension ForecastModel: ExpressibleByArgument {}

/// `tierplan forecast`: the projection (its default subcommand) and `forecast backtest`.
struct ForecastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Project MRR and ARPU from the account history (tierplan forecast --as-of D), or backtest the projection.",
        subcommands: [ForecastProjectCommand.self, ForecastBacktestCommand.self],
        defaultSubcommand: ForecastProjectCommand.self)
}
