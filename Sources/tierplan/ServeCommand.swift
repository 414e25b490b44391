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
    @Flag(help: "Do not deliver webhook events in the background (leave it to `tierplan deliver`).") var noDeliver = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var conninfo = ""
        try await runReportingErrors {
            let store = try connection.repository()   // starts the embedded cluster if needed, checks the schema
            conninfo = connection.target.conninfo
            if try await store.users().isEmpty {
                Console.note("note: no users yet; add one with `tierplan users add NAME --role admin` (password on stdin)")
            }
        }
        var logger = Logger(label: "tierplan.serve")
        logger.logLevel = .info
        let app = try buildApplication(ServerArguments(host: host, port: port, conninfo: conninfo, poolSize: pool, secureCookies: secureCookies,
                                                        deliverWebhooks: !noDeliver),
                                       logger: logger)
        Console.note("serving on http://\(host):\(port)/ (Ctrl-C to stop)")
        try await app.runService()
    }
}
