import ArgumentParser
import Foundation
import TierPlanStore

/// `tierplan db …`: the embedded cluster and migrations.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "The local PostgreSQL cluster under .tierplan/, and schema migrations.",
        subcommands: [Up.self, Down.self, Status.self, URLCommand.self, Migrate.self]
    )

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (initdb) and start the local cluster; apply the schema.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let cluster = EmbeddedCluster.forCurrentDirectory()
                let started = try cluster.up()
                let version = try DatabaseTarget.embedded(cluster).schemaVersion()
                try output.print(["home": cluster.home, "url": cluster.url, "state": "running",
                                  "started": started ? "yes" : "no", "schema_version": version.map(String.init) ?? "none"]) {
                    Console.note(started ? "started PostgreSQL at \(cluster.home)" : "PostgreSQL already running at \(cluster.home)")
                    Console.out(cluster.url)
                }
            }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the local cluster (its data stays).")
        @Flag(help: "Also delete the cluster's folder and all its data.") var destroy = false

        func run() async throws {
            try await runReportingErrors {
                let cluster = EmbeddedCluster.forCurrentDirectory()
                if destroy {
                    try cluster.destroy()
                    Console.note("stopped and deleted \(cluster.home)")
                } else {
                    let wasRunning = cluster.state == .running
                    try cluster.down()
                    Console.note(wasRunning ? "stopped PostgreSQL at \(cluster.home)" : "not running (\(cluster.home))")
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the local cluster exists and runs, and where.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let cluster = EmbeddedCluster.forCurrentDirectory()
                let state = cluster.state
                var fields = ["home": cluster.home, "state": state.rawValue, "url": cluster.url]
                if let pid = cluster.runningPID { fields["pid"] = String(pid) }
                try output.print(fields) {
                    Console.out("\(state.rawValue): \(cluster.home)" + (cluster.runningPID.map { " (pid \($0))" } ?? ""))
                }
                if state != .running { throw ExitCode(3) }
            }
        }
    }

    struct URLCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "url", abstract: "Print the local cluster's connection string.")
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let url = EmbeddedCluster.forCurrentDirectory().url
            try output.print(["url": url]) { Console.out(url) }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply schema.sql (safe to repeat); print the schema version.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let (before, after) = try connection.target.migrate()
                try output.print(MigrateResult(versionBefore: before, version: after)) {
                    Console.out(before == after ? "schema is up to date (version \(after))"
                                : "schema migrated from \(before.map(String.init) ?? "nothing") to version \(after)")
                }
            }
        }
    }
}

struct MigrateResult: Encodable {
    var versionBefore: Int?
    var version: Int
}
