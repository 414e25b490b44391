import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan signals`: the watcher's view of each account.
struct SignalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signals", abstract: "Storage, adoption, seats and demand of each account that is not canceled.")
    @OptionGroup var day: AsOfOption
    @Option(help: "Only this account.") var account: String?
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runReportingErrors {
            let repository = try connection.repository()
            let printer = SignalsPrinter(asOf: day.asOf, json: output.json, holding: account != nil,
                                         alerts: try await repository.catalog().policy.alerts)
            try await repository.forEachSignals(asOf: day.asOf, accountID: account) { try printer.add($0) }
            if let account, printer.isEmpty { throw StoreError.refused("no account '\(account)' that is not canceled and existed on \(day.asOf.iso)") }
            printer.finish()
        }
    }
}

/// Streams signals to stdout batch by batch, as a table or one JSON document. For one account
/// nothing is printed until it is found, so a refusal leaves stdout empty.
final class SignalsPrinter: @unchecked Sendable {   // used by one batch at a time, in order
    let json: Bool
    let holding: Bool
    /// The thresholds whose crossings each account's `alerts` lists.
    let alerts: AlertPolicy
    private let encoder = ContractJSON.encoder()
    private var held = ""
    private(set) var isEmpty = true

    init(asOf: Day, json: Bool, holding: Bool, alerts: AlertPolicy) {
        self.json = json
        self.holding = holding
        self.alerts = alerts
        emit(json ? "{\"as_of\":\"\(asOf.iso)\",\"accounts\":[" : SignalsTable.header + "\n")
    }

    func add(_ batch: [AccountSignals]) throws {
        var chunk = ""
        for signals in batch {
            if json {
                chunk += (isEmpty ? "" : ",") + String(decoding: try encoder.encode(SignalsWithAlerts(signals, policy: alerts)), as: UTF8.self)
            } else {
                chunk += SignalsTable.row(signals) + "\n"
            }
            isEmpty = false
        }
        emit(chunk)
    }

    func finish() {
        if json { emit("]}\n") }
        Console.write(held)
    }

    private func emit(_ text: String) { if holding { held += text } else { Console.write(text) } }
}
