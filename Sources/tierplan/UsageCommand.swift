import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

extension OnError: ExpressibleByArgument {}
extension UsageFormat: ExpressibleByArgument {}

/// `tierplan usage …`: storage samples and feature events.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Ingest usage events; prune old raw events.",
        subcommands: [Ingest.self, Prune.self]
    )

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest usage events (NDJSON or CSV), idempotently by (time, account, id).",
            discussion: """
                NDJSON: {"type":"storage","id":…,"account":…,"at":…,"bytes":…} or {"type":"feature",…,"user":…,"feature":…,"count":…}
                CSV header: \(UsageFormat.csvHeader.joined(separator: ","))
                With --on-error abort (default) one bad line refuses the whole input and nothing is written.
                With --on-error skip the good lines go in and each bad line goes to --rejects FILE with its reason.
                An event already stored with the same time, account and id is a duplicate and changes nothing.
                """)
        @Argument(help: "Events file, or - for stdin.") var file: String
        @Option(help: "ndjson or csv (default: from the file name, else the first character).") var format: UsageFormat?
        @Option(name: .customLong("on-error"), help: "abort or skip.") var onError: OnError = .abort
        @Option(help: "Where skipped lines go, one JSON object each (required with --on-error skip).") var rejects: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if onError == .skip && rejects == nil { throw ValidationError("--on-error skip needs --rejects FILE, so no line is lost") }
            if onError == .abort && rejects != nil { throw ValidationError("--rejects goes with --on-error skip") }
        }

        func run() async throws {
            try await runReportingErrors {
                _ = try LineReader(path: file)   // an unreadable file is refused before the database is touched
                let request = UsageIngestRequest(file: file, format: format, onError: onError, rejectsPath: rejects) { p in
                    let rate = p.seconds > 0 ? Int(Double(p.lines) / p.seconds) : 0
                    Console.progress("\(p.phase): \(Console.grouped(p.lines)) lines, \(Console.grouped(rate)) rows/s")
                }
                let summary = try await connection.repository().ingestUsage(request)
                Console.endProgress()
                try output.print(summary) {
                    let rate = summary.seconds > 0 ? Int(Double(summary.lines) / summary.seconds) : 0
                    Console.out("\(file): \(Console.grouped(summary.lines)) lines, \(Console.grouped(summary.new)) new, \(Console.grouped(summary.duplicates)) duplicates"
                                + (summary.rejected > 0 ? ", \(summary.rejected) rejected to \(summary.rejectsFile ?? "")" : "")
                                + " (storage \(summary.storageNew) new / \(summary.storageDuplicates) dup, feature \(summary.featureNew) new / \(summary.featureDuplicates) dup) in \(String(format: "%.2f", summary.seconds)) s, \(Console.grouped(rate)) rows/s")
                }
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete raw usage events older than policy.raw_retention_days (default 400) before --as-of.",
            discussion: """
                Signals and plans read rollups, which are kept: pruning changes no signal. Ingest stays
                idempotent for events within the retention; an event sent again after it was pruned is
                stored again without moving any rollup. Meant for the nightly job, after `run`.
                """)
        @Option(name: .customLong("as-of"), help: "The day retention counts back from (default: today, UTC).") var asOf: Day?
        @Flag(name: .customLong("dry-run"), help: "Count what would go, delete nothing.") var dryRun = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let summary = try await connection.repository().pruneUsage(asOf: asOf ?? Timestamp.now.day, dryRun: dryRun)
                try output.print(summary) {
                    Console.out("\(dryRun ? "would delete" : "deleted") \(Console.grouped(summary.deleted)) raw usage events before \(summary.before)"
                                + " (raw_retention_days \(summary.retentionDays) before \(summary.asOf)); rollups kept")
                }
            }
        }
    }
}
