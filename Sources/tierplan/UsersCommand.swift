import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanServer
import TierPlanStore

/// `tierplan users add`: people who sign in to the review page.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "users", abstract: "Manage people who sign in to the review page.",
                                                    subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user; the password is read from stdin (one line) and stored as a bcrypt hash.")
        @Argument(help: "User name.") var name: String
        @Option(help: "viewer (read), reviewer (decide) or admin (manage users).") var role: Role
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await runReportingErrors {
                guard let line = readLine(strippingNewline: true), line.count >= 8 else {
                    throw ValidationError("give a password of at least 8 characters on stdin, e.g. `printf '%s\\n' \"$PW\" | tierplan users add \(name) --role \(role.rawValue)`")
                }
                guard !name.isEmpty, name.count <= 64, !name.contains(where: { $0.isWhitespace }) else {
                    throw ValidationError("a user name is 1 to 64 characters without spaces")
                }
                try await connection.repository().addUser(name: name, role: role, passwordHash: PasswordHashing.hash(line), by: Console.operatorName)
                Console.out("added \(name) (\(role.rawValue))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and their roles.")
        @OptionGroup var connection: ConnectionOptions
        func run() async throws {
            try await runReportingErrors {
                for user in try await connection.repository().users() { Console.out("\(user.name)\t\(user.role.rawValue)") }
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
