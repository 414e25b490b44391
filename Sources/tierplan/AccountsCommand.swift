import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan accounts …`: customer accounts and their billing configuration.
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Import customer accounts.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upsert accounts from CSV; any bad row refuses the whole file.",
            discussion: """
                Header: \(AccountsCSV.header.prefix(9).joined(separator: ","))[,canceled_at]
                add-ons are code:qty joined by ';'. MRR = round-half-up((tier price + Σ add-on price × qty) × (1 − discount_pct/100)).
                Changes of tier, add-ons, discount, status or MRR are recorded in the account history on --effective
                (default: today, UTC; a new account's creation day).
                """)
        @Argument(help: "Accounts CSV file, or - for stdin.") var file: String
        @Option(help: "The day (YYYY-MM-DD) the imported changes took effect.") var effective: Day?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let text = try readText(file)
                let store = try connection.repository()
                let catalog = try await store.catalog()
                let accounts = try AccountsCSV.parse(text, file: file, catalog: catalog)
                let summary = try await store.upsertAccounts(accounts, catalog: catalog, effective: effective)
                try output.print(summary) {
                    Console.out("\(summary.rows) accounts: \(summary.inserted) new, \(summary.updated) updated, \(summary.unchanged) unchanged; \(summary.historyChanges) billing changes recorded")
                }
            }
        }
    }
}
