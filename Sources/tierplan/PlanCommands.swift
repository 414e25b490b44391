import ArgumentParser
import Foundation
import Postgres
import TierPlanCore
import TierPlanStore

/// `--as-of DATE`, required by every command that looks at usage.
struct AsOfOption: ParsableArguments {
    @Option(name: .customLong("as-of"), help: "UTC calendar day (YYYY-MM-DD); the window is the 28 days ending on it.")
    var asOf: Day
}

/// `tierplan signals`: the watcher's view of each account.
struct SignalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signals", abstract: "Storage, adoption, seats and demand of each account that is not canceled.")
    @OptionGroup var day: AsOfOption
    @Option(help: "Only this account.") var account: String?
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReportingErrors {
            let db = try connection.connect()
            let catalog = try CatalogStore.read(db)
            let encoder = ContractJSON.encoder()
            var first = true
            // One account: nothing is printed until it is found, so a refusal leaves stdout empty.
            var held = ""
            func emit(_ text: String) { if account == nil { Console.write(text) } else { held += text } }
            emit(output.json ? "{\"as_of\":\"\(day.asOf.iso)\",\"accounts\":[" : SignalsTable.header + "\n")
            try SignalsStore.forEachSignals(db, asOf: day.asOf, accountID: account, catalog: catalog) { batch in
                var chunk = ""
                for signals in batch {
                    if output.json {
                        chunk += (first ? "" : ",") + String(decoding: try encoder.encode(SignalsRecord(signals)), as: UTF8.self)
                    } else {
                        chunk += SignalsTable.row(signals) + "\n"
                    }
                    first = false
                }
                emit(chunk)
            }
            if account != nil && first { throw StoreError.refused("no account '\(account!)' that is not canceled and existed on \(day.asOf.iso)") }
            if output.json { emit("]}\n") }
            Console.write(held)
        }
    }
}

enum SignalsTable {
    static let header = "account               tier        storage        growth/day  full in  adoption  seats    flags"

    static func row(_ s: AccountSignals) -> String {
        let storage = s.storageUsedBytes.map { "\(Rationale.gigabytes($0))/\(Rationale.gigabytes(s.storageLimitBytes))" } ?? "-"
        let growth = s.storageGrowthBytesPerDay.map { Int64($0.rounded()) }.map { ($0 < 0 ? "-" : "") + Rationale.gigabytes(abs($0)) } ?? "-"
        let full = s.storageDaysToFull.map { String(format: "%.1f d", $0) } ?? "-"
        let adoption = "\(s.adoptedFeatures.count)/\(s.includedFeatures.count)"
        let seats = "\(s.activeUsers)/\(s.seatLimit)"
        return [pad(s.accountID, 21), pad(s.tier, 11), pad(storage, 14), pad(growth, 11), pad(full, 8), pad(adoption, 9), pad(seats, 8),
                s.flags.map(\.rawValue).joined(separator: ",")].joined(separator: " ")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// `tierplan plan`: signals and offers; `--dry-run` writes nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Compute signals and write offers (--dry-run writes nothing).")
    @OptionGroup var day: AsOfOption
    @Flag(help: "Compute and print, change nothing.") var dryRun = false
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try PlanOutput.execute(command: "plan", asOf: day.asOf, dryRun: dryRun, connection: connection, json: output.json)
    }
}

/// `tierplan run`: the nightly billing job.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The nightly job: schema check, signals, plan, expiry, in one transaction under a lock.",
        discussion: "Idempotent: running it again for the same --as-of changes nothing. A second run while one is going exits non-zero and changes nothing.")
    @OptionGroup var day: AsOfOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try PlanOutput.execute(command: "run", asOf: day.asOf, dryRun: false, connection: connection, json: output.json)
    }
}

enum PlanOutput {
    /// Plans (or runs the nightly job) with a progress line, and prints the result.
    static func execute(command: String, asOf: Day, dryRun: Bool, connection: ConnectionOptions, json: Bool) throws {
        try runReportingErrors {
            let result = try PlanRun.execute(try connection.connect(), asOf: asOf, dryRun: dryRun, command: command) { n in
                Console.progress("\(command): \(Console.grouped(n)) accounts")
            }
            Console.endProgress()
            try print(result, json: json)
        }
    }

    static func print(_ result: PlanResult, json: Bool) throws {
        if json { try Console.json(result); return }
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
