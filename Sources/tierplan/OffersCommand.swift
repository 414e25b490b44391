import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

extension OfferStatus: ExpressibleByArgument {}

/// `tierplan offers …`: the review queue and decisions.
struct OffersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offers",
        abstract: "List offers and record review decisions and outcomes.",
        subcommands: [List.self, Approve.self, Reject.self, Snooze.self, Outcome.self, Show.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Offers, highest expected delta first (the review queue is --status proposed).")
        @Option(help: "Only this status: proposed, approved, rejected, snoozed, expired, held_out, accepted, declined.") var status: OfferStatus?
        @Option(help: "Only this account.") var account: String?
        @Option(help: "At most this many.") var limit: Int?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let offers = try await connection.repository().offers(status: status, accountID: account, limit: limit)
                try output.print(["offers": offers]) { OffersTable.print(offers) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One offer with its decision history.")
        @Argument(help: "Offer id.") var id: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                guard let found = try await connection.repository().offer(id: id) else { throw OfferDecisionError(.notFound, "no offer with id \(id)") }
                try output.print(found) {
                    OffersTable.print([found.offer])
                    Console.out(found.offer.rationale)
                    for e in found.events { Console.out("\(e.at)  \(e.fromStatus ?? "-") → \(e.toStatus)  by \(e.actor)\(e.reason.map { ": \($0)" } ?? "")") }
                }
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a proposed offer.")
        @OptionGroup var decision: DecisionOptions
        @Option(help: "Why (optional).") var reason: String?
        func run() async throws { try await decision.apply(.approve, reason: reason) }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a proposed offer; a reason is required.")
        @OptionGroup var decision: DecisionOptions
        @Option(help: "Why (required).") var reason: String?
        func validate() throws {
            if (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("reject needs --reason TEXT") }
        }
        func run() async throws { try await decision.apply(.reject(reason: reason!), reason: reason) }
    }

    struct Snooze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Snooze a proposed offer until a day; it comes back then.")
        @OptionGroup var decision: DecisionOptions
        @Option(help: "Day it comes back (YYYY-MM-DD, required).") var until: Day?
        @Option(help: "Why (optional).") var reason: String?
        func validate() throws { if until == nil { throw ValidationError("snooze needs --until YYYY-MM-DD") } }
        func run() async throws { try await decision.apply(.snooze(until: until!), reason: reason) }
    }

    struct Outcome: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record what the customer did with an approved offer: accepted or declined.",
            discussion: "Accepting one expires the account's other open upsell offers.")
        @Argument(help: "Offer id.") var id: String
        @Argument(help: "accepted or declined.") var result: OutcomeResult
        @Option(help: "Who records it.") var by: String
        @Option(help: "Day of the outcome for backfills (default: now).") var at: Day?
        @Option(help: ArgumentHelp("Why the customer declined (required with declined).", valueName: DeclineReason.list))
        var reasonCode: DeclineReason?
        @Option(help: "Note (optional).") var reason: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            switch (result, reasonCode) {
            case (.declined, nil): throw ValidationError("declined needs --reason-code \(DeclineReason.list)")
            case (.accepted, _?): throw ValidationError("--reason-code is for declined outcomes only")
            default: break
            }
        }

        func run() async throws {
            let decision: OfferDecision = reasonCode.map { .decline(reasonCode: $0) } ?? .accept
            try await DecisionOptions.decide(id: id, decision: decision, by: by, reason: reason, at: at, connection: connection, output: output)
        }
    }
}

enum OutcomeResult: String, ExpressibleByArgument { case accepted, declined }

extension DeclineReason: ExpressibleByArgument {}

/// The id, who and when of a review decision.
struct DecisionOptions: ParsableArguments {
    @Argument(help: "Offer id.") var id: String
    @Option(help: "Who decides (recorded in the audit trail).") var by: String
    @Option(help: "Day of the decision for backfills (default: now).") var at: Day?
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func apply(_ decision: OfferDecision, reason: String?) async throws {
        try await Self.decide(id: id, decision: decision, by: by, reason: reason, at: at, connection: connection, output: output)
    }

    static func decide(id: String, decision: OfferDecision, by: String, reason: String?, at: Day?,
                       connection: ConnectionOptions, output: OutputOptions) async throws {
        try await runReportingErrors {
            guard !by.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--by must name who decides") }
            let offer = try await connection.repository().decide(offerID: id, decision: decision, by: by, reason: reason, at: at?.start,
                                                                 expectedVersion: nil)
            try output.print(offer) { Console.out("offer \(offer.id) (\(offer.accountID), \(offer.kind.rawValue)) is now \(offer.status.rawValue)") }
        }
    }
}
