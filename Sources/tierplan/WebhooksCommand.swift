import ArgumentParser
import Foundation
import Logging
import TierPlanCore
import TierPlanStore

/// `tierplan webhooks`: endpoints that receive signed events, and their deliveries.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Signed outbound events for billing, CRM and chat.",
        discussion: "Events: \(WebhookEventType.subscribable.map(\.rawValue).joined(separator: ", ")). `tierplan deliver` (or `serve`) sends them.",
        subcommands: [Add.self, List.self, Remove.self, Deliveries.self, Redeliver.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an endpoint; prints its signing secret once.")
        @Argument(help: "http:// or https:// address that receives the POSTs.") var url: String
        @Option(help: "Comma-separated event types, or * for every type.") var events: String
        @Option(help: "json (the event) or slack ({\"text\":…} for a Slack incoming webhook).") var format = "json"
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runReportingErrors {
                let types = try WebhookEventType.parseList(events)
                guard let format = WebhookFormat(rawValue: format) else { throw WebhookInputError("--format: '\(format)' is not json or slack") }
                _ = try WebhookStore.validURL(url)
                let created = try await connection.repository().addWebhook(url: url, events: types, format: format)
                try output.print(created) {
                    Console.note("endpoint \(created.id): \(created.url) (\(created.format)) for \(created.events.joined(separator: ", "))")
                    Console.note("signing secret; store it now, it will not be shown again:")
                    Console.out(created.secret)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The endpoints, with their pending, delivered and failed deliveries.")
        @Flag(help: "Also removed endpoints.") var all = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runReportingErrors {
                let endpoints = try await connection.repository().webhooks(includeRemoved: all)
                try output.print(["endpoints": endpoints]) {
                    if endpoints.isEmpty { Console.note("no webhook endpoints; add one with `tierplan webhooks add URL --events LIST`") }
                    for e in endpoints {
                        Console.out("\(e.id)\t\(e.url)\t\(e.format)\t\(e.events.joined(separator: ","))\tpending \(e.pending), delivered \(e.delivered), failed \(e.failed)"
                                    + (e.removedAt.map { "\tremoved \($0)" } ?? ""))
                    }
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an endpoint: nothing more is sent to it; its pending deliveries fail.")
        @Argument(help: "The endpoint's id (webhooks list).") var id: Int
        @OptionGroup var connection: ConnectionOptions
        func run() async throws {
            try await runReportingErrors {
                try await connection.repository().removeWebhook(id: id)
                Console.note("removed webhook endpoint \(id)")
            }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliveries, newest first, with their last attempt.")
        @Option(help: "pending, delivered or failed.") var status: String?
        @Option(help: "Only this endpoint.") var endpoint: Int?
        @Option(help: "At most this many (1 to 10000).") var limit = 100
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runReportingErrors {
                var filter: WebhookDeliveryStatus?
                if let status {
                    guard let s = WebhookDeliveryStatus(rawValue: status) else { throw WebhookInputError("--status: '\(status)' is not pending, delivered or failed") }
                    filter = s
                }
                guard (1...10_000).contains(limit) else { throw WebhookInputError("--limit: \(limit) is not from 1 to 10000") }
                let deliveries = try await connection.repository().webhookDeliveries(status: filter, endpointID: endpoint, limit: limit)
                try output.print(["deliveries": deliveries]) {
                    for d in deliveries {
                        let last = d.lastStatusCode.map { "HTTP \($0)" } ?? (d.lastError ?? "-")
                        Console.out("\(d.id)\tendpoint \(d.endpointID)\t\(d.eventID)\t\(d.type)\t\(d.status)\tattempts \(d.attempts)\t\(last)"
                                    + (d.lastLatencyMs.map { " \($0) ms" } ?? "") + (d.nextAttemptAt.map { "\tnext \($0)" } ?? ""))
                    }
                }
            }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a delivery's event again (a new delivery, due now).")
        @Argument(help: "The delivery's id (webhooks deliveries).") var deliveryID: Int
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runReportingErrors {
                let delivery = try await connection.repository().redeliver(deliveryID: deliveryID)
                try output.print(delivery) { Console.note("delivery \(delivery.id) queued: \(delivery.eventID) to endpoint \(delivery.endpointID)") }
            }
        }
    }
}

/// `tierplan deliver`: delivers the webhook deliveries that are due, then exits (for cron).
struct DeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver", abstract: "Deliver the webhook events that are due, then exit (for cron).",
        discussion: "Failed attempts are retried by later runs: 1 minute after the first, doubling, up to policy.webhooks.max_attempts.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runReportingErrors {
            let db = try connection.target.connect { Console.note($0) }
            var logger = Logger(label: "tierplan.deliver")
            logger.logLevel = .warning
            let deliverer = WebhookDeliverer(db: db, logger: logger)
            let report: DeliveryReport
            do { report = try await deliverer.deliverDue() } catch { await deliverer.shutdown(); throw error }
            await deliverer.shutdown()
            try output.print(report) {
                Console.out("\(report.delivered) delivered, \(report.retrying) to retry later, \(report.failed) failed for good (\(report.attempted) attempts)")
            }
        }
    }
}
