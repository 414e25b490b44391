import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan debug …`: what the benchmarks need from inside tierplan (hidden from --help).
struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Internals for the benchmarks.", shouldDisplay: false, subcommands: [SignalsSQL.self])

    /// The run's signals query with its parameters filled in, so `make bench` times the same SQL.
    struct SignalsSQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "signals-sql", abstract: "Print the signals query of --as-of with literal parameters.")
        @OptionGroup var day: AsOfOption
        func run() async throws { Console.out(SignalsStore.inlinedSQL(asOf: day.asOf)) }
    }
}
