import ArgumentParser
import Foundation

/// The `tierplan` command line: finds accounts that need more (or get too little) and plans offers.
@main
struct TierPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tierplan",
        abstract: "SaaS subscription tier upgrade planner on PostgreSQL.",
        discussion: "Connection: --database-url, else DATABASE_URL, else libpq's PG* variables, else a local "
            + "cluster under .tierplan/ that tierplan starts itself (see `tierplan db`).",
        subcommands: [DBCommand.self, CatalogCommand.self, AccountsCommand.self, UsageCommand.self,
                      SignalsCommand.self, PlanCommand.self, RunCommand.self, OffersCommand.self, ForecastCommand.self, MetricsCommand.self, WhatIfCommand.self,
                      WebhooksCommand.self, DeliverCommand.self, ServeCommand.self, UsersCommand.self, TokensCommand.self, DemoCommand.self, DebugCommand.self]
    )

    /// As swift-argument-parser's, except that a usage error is one line on stderr (the contract's
    /// "one-line message"), not the message followed by the whole usage.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand { try await command.run() } else { try command.run() }
        } catch {
            let code = exitCode(for: error)
            if code == .success {   // --help, --version
                let text = fullMessage(for: error)
                if !text.isEmpty { print(text) }
                Foundation.exit(0)
            }
            let message = self.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            if !message.isEmpty {
                FileHandle.standardError.write(Data("error: \(message) (see --help)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
