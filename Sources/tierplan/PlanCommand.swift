import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `--as-of DATE`, required by every command that looks at usage.
struct AsOfOption: ParsableArguments {
    @Option(name: .customLong("as-of"), help: "UTC calendar day (YYYY-MM-DD); the window is the 28 days ending on it.")
    var asOf: Day
}

/// `tierplan plan`: signals and offers; `--dry-run` writes nothing.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Compute signals and write offers (--dry-run writes nothing).")
    @OptionGroup var day: AsOfOption
    @Flag(help: "Compute and print, change nothing.") var dryRun = false
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await PlanOutput.execute(command: "plan", asOf: day.asOf, dryRun: dryRun, connection: connection, output: output)
    }
}

/// `tierplan run`: the nightly billing job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The nightly job: schema check, signals, plan, expiry, in one transaction under a lock.",
        discussion: "Idempotent: running it again for the same --as-of changes nothing. A second run while one is going exits non-zero and changes nothing.")
    @OptionGroup var day: AsOfOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await PlanOutput.execute(command: "run", asOf: day.asOf, dryRun: false, connection: connection, output: output)
    }
}

enum PlanOutput {
    /// Plans (or runs the nightly job) with a progress line, and prints the result.
    static func execute(command: String, asOf: Day, dryRun: Bool, connection: ConnectionOptions, output: OutputOptions) async throws {
        try await runReportingErrors {
            let result = try await connection.repository().plan(asOf: asOf, dryRun: dryRun, command: command) { n in
                Console.progress("\(command): \(Console.grouped(n)) accounts")
            }
            Console.endProgress()
            try output.print(result) { print(result) }
        }
    }

    static func print(_ result: PlanResult) {
        Console.out("as of \(result.asOf)\(result.dryRun ? " (dry run: nothing written)" : ""), run \(result.runID)")
        Console.out("\(result.accountsScanned) accounts scanned, \(result.accountsFlagged) flagged; offers: \(result.offersCreated) new, \(result.offersRefreshed) refreshed, \(result.offersExpired) expired")
        OffersTable.print(result.offers)
        if !result.suppressed.isEmpty {
            var counts: [String: Int] = [:]
            for s in result.suppressed { counts[s.reason, default: 0] += 1 }
            Console.out("suppressed: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }
}
