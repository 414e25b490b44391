import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TierPlanCore
import TierPlanServer
import TierPlanStore

/// `tierplan serve`: the review page and JSON API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the review page and the JSON API.",
        discussion: "Add people first: `tierplan users add NAME --role reviewer` (password on stdin). There are no default credentials.")
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Database connections (and threads for libpq calls).") var pool = 8
    @Flag(help: "Mark the session cookie Secure (when served over HTTPS).") var secureCookies = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var conninfo = ""
        try runReportingErrors {
            let db = try connection.connect()   // starts the embedded cluster if needed, checks the schema
            _ = db
            conninfo = connection.target.conninfo
            if try AccessStore.users(db).isEmpty {
                Console.note("note: no users yet; add one with `tierplan users add NAME --role admin` (password on stdin)")
            }
        }
        var logger = Logger(label: "tierplan.serve")
        logger.logLevel = .info
        let app = try buildApplication(ServerArguments(host: host, port: port, conninfo: conninfo, poolSize: pool, secureCookies: secureCookies),
                                       logger: logger)
        Console.note("serving on http://\(host):\(port)/ (Ctrl-C to stop)")
        try await app.runService()
    }
}

/// `tierplan users add`: people who sign in to the review page.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "users", abstract: "Manage people who sign in to the review page.",
                                                    subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user; the password is read from stdin (one line) and stored as a bcrypt hash.")
        @Argument(help: "User name.") var name: String
        @Option(help: "viewer (read), reviewer (decide) or admin (manage users).") var role: Role
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors {
                guard let line = readLine(strippingNewline: true), line.count >= 8 else {
                    throw ValidationError("give a password of at least 8 characters on stdin, e.g. `printf '%s\\n' \"$PW\" | tierplan users add \(name) --role \(role.rawValue)`")
                }
                guard !name.isEmpty, name.count <= 64, !name.contains(where: { $0.isWhitespace }) else {
                    throw ValidationError("a user name is 1 to 64 characters without spaces")
                }
                try AccessStore.addUser(try connection.connect(), name: name, role: role, passwordHash: PasswordHashing.hash(line))
                Console.out("added \(name) (\(role.rawValue))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and their roles.")
        @OptionGroup var connection: ConnectionOptions
        func run() throws {
            try runReportingErrors {
                for user in try AccessStore.users(try connection.connect()) { Console.out("\(user.name)\t\(user.role.rawValue)") }
            }
        }
    }
}

/// `tierplan tokens create`: bearer tokens for jobs.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokens", abstract: "API bearer tokens for jobs.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once and stored only as a SHA-256 hash.")
        @Option(help: "viewer, reviewer or admin.") var role: Role
        @Option(help: "A name for the audit trail (default: job).") var name = "job"
        @OptionGroup var connection: ConnectionOptions
        func run() throws {
            try runReportingErrors {
                let token = try AccessStore.createToken(try connection.connect(), name: name, role: role)
                Console.note("token for \(name) (\(role.rawValue)); store it now, it will not be shown again:")
                Console.out(token)
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
