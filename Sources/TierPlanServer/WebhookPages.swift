import Foundation
import Hummingbird
import TierPlanCore
import TierPlanStore

/// The admins' webhooks page: endpoints, the last deliveries with status code and latency, and the
/// "send test event" and "redeliver" buttons (forms with the session's CSRF token).
struct WebhookPages {
    let env: ServerEnvironment

    func register(on router: Router<AppContext>) {
        router.get("/webhooks", use: page)
        router.post("/webhooks/:id/test", use: sendTest)
        router.post("/webhooks/deliveries/:id/redeliver", use: redeliver)
    }

    @Sendable func page(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.admin)
        return try await render(identity, notice: request.uri.queryParameters.get("notice"), error: nil)
    }

    func render(_ identity: Identity, notice: String?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let csrf = identity.csrfToken ?? ""
        let endpoints = try await env.repository.webhooks(includeRemoved: false)
        let deliveries = try await env.repository.webhookDeliveries(status: nil, endpointID: nil, limit: 50)
        var data: [String: Any] = [
            "endpoints": endpoints.map { ["id": $0.id, "url": $0.url, "format": $0.format, "events": $0.events.joined(separator: ", "),
                                          "pending": $0.pending, "delivered": $0.delivered, "failed": $0.failed, "csrf": csrf] as [String: Any] },
            "deliveries": deliveries.map { d in
                ["id": d.id, "endpoint": d.endpointID, "event": d.eventID, "type": d.type, "account": d.accountID ?? "–", "status": d.status,
                 "attempts": d.attempts, "code": d.lastStatusCode.map(String.init) ?? (d.attempts > 0 ? "none" : "–"),
                 "latency": d.lastLatencyMs.map { "\($0) ms" } ?? "–", "error": d.lastError ?? "", "lastAttempt": d.lastAttemptAt ?? "–",
                 "nextAttempt": d.nextAttemptAt ?? "–", "csrf": csrf] as [String: Any]
            },
        ]
        if let notice { data["notice"] = notice }
        if let error { data["error"] = error }
        return env.pages.render("webhooks", title: "Webhooks", identity: identity, data: data, status: status)
    }

    /// The id of the path, or nil when it is not a positive whole number.
    func pathID(_ context: AppContext) -> Int? {
        context.parameters.get("id").flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    @Sendable func sendTest(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.admin)
        let form = try await formFields(request)
        guard form["csrf"] == identity.csrfToken, identity.csrfToken != nil else { throw AccessError.badCSRF }
        guard let id = pathID(context) else { return try await render(identity, notice: nil, error: "No such endpoint.", status: .notFound) }
        do {
            let event = try await env.repository.sendTestEvent(endpointID: id)
            return Response(status: .seeOther, headers: [.location: "/webhooks?notice=" + (percentEncoded("test event \(event) queued for endpoint \(id)"))])
        } catch let error as WebhookInputError {
            return try await render(identity, notice: nil, error: error.description, status: .notFound)
        }
    }

    @Sendable func redeliver(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.admin)
        let form = try await formFields(request)
        guard form["csrf"] == identity.csrfToken, identity.csrfToken != nil else { throw AccessError.badCSRF }
        guard let id = pathID(context) else { return try await render(identity, notice: nil, error: "No such delivery.", status: .notFound) }
        do {
            let delivery = try await env.repository.redeliver(deliveryID: id)
            return Response(status: .seeOther, headers: [.location: "/webhooks?notice=" + percentEncoded("delivery \(delivery.id) queued: \(delivery.eventID) again")])
        } catch let error as WebhookInputError {
            return try await render(identity, notice: nil, error: error.description, status: .notFound)
        }
    }

    func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

extension PageText {
    /// A utilization as a whole percentage ("92 %").
    static func percent(_ value: Double) -> String { "\(Int((value * 100).rounded())) %" }
}
