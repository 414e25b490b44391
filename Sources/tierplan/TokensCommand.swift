import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan tokens create`: bearer tokens for jobs.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokens", abstract: "API bearer tokens for jobs.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once and stored only as a SHA-256 hash.")
        @Option(help: "viewer, reviewer or admin.") var role: Role
        @Option(help: "A name for the audit trail (default: job).") var name = "job"
        @OptionGroup var connection: ConnectionOptions
        func run() async throws {
            try await runReportingErrors {
                let token = try await connection.repository().createToken(name: name, role: role, by: Console.operatorName)
                Console.note("token for \(name) (\(role.rawValue)); store it now, it will not be shown again:")
                Console.out(token)
            }
        }
    }
}
