import Foundation
import HTTPTypes
import Hummingbird
import TierPlanStore

/// The headers every response carries: no script may run at all (the pages have none), no framing,
/// no sniffing, no full referrers to other sites.
enum SecurityHeaders {
    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func apply(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
    }
}

/// The outermost middleware: whatever a route or the router throws becomes an answer — a one-line
/// JSON error under /api/, a page elsewhere. The database unreachable is 503 with Retry-After; a value
/// the database refused is 400; the router's own errors keep their status; nothing else should reach
/// here, and if it does it is logged and answered 500 without details.
struct FailureMiddleware: RouterMiddleware {
    let env: ServerEnvironment
    static let retryAfterSeconds = "5"

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = answer(error, request: request, context: context)
        }
        SecurityHeaders.apply(&response.headers)
        return response
    }

    func answer(_ error: Error, request: Request, context: AppContext) -> Response {
        let isAPI = request.uri.path.hasPrefix("/api/")
        let status: HTTPResponse.Status, message: String
        switch error {
        case StoreError.unavailable(let detail):
            context.logger.error("database unavailable: \(detail)")
            var response = isAPI
                ? apiError(.serviceUnavailable, "the database is unavailable; try again in a few seconds")
                : env.pages.render("message", title: "Unavailable", identity: nil,
                                   data: ["heading": "Back in a moment", "style": "error",
                                          "message": "tierplan cannot reach its database right now. Nothing was changed; reload the page in a few seconds."],
                                   status: .serviceUnavailable)
            response.headers[.retryAfter] = Self.retryAfterSeconds
            return response
        case StoreError.invalidValue(let detail):
            (status, message) = (.badRequest, "a value is out of range: \(detail)")
        case let error as HTTPError:
            (status, message) = (error.status, error.body ?? error.status.reasonPhrase)
        default:
            context.logger.error("unhandled error on \(request.method) \(request.uri.path): \(error)")
            (status, message) = (.internalServerError, "internal error (logged)")
        }
        if isAPI { return apiError(status, message) }
        return env.pages.render("message", title: status.reasonPhrase, identity: context.identity,
                                data: ["heading": status.reasonPhrase, "style": "error", "message": message], status: status)
    }
}

/// Holds requests to /api/v1 to the OpenAPI document before a handler sees them: a method the path
/// does not have is 405 with Allow, a query parameter the operation does not declare is 400, and a
/// body that is not `application/json` is 400.
struct APIContractMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/v1/") else { return try await next(request, context) }
        let matching = OpenAPI.operations.filter { $0.matches(path: path) }
        guard !matching.isEmpty else { return try await next(request, context) }
        guard let operation = matching.first(where: { $0.method == request.method.rawValue }) else {
            var response = apiError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(path)")
            response.headers[.allow] = matching.map(\.method).joined(separator: ", ")
            return response
        }
        // Who is asking comes first: without credentials the route answers 401 whatever else is wrong.
        guard context.identity != nil else { return try await next(request, context) }
        for (key, _) in request.uri.queryParameters where !operation.queryParameters.contains(String(key)) {
            let known = operation.queryParameters.sorted()
            return apiError(.badRequest, "unknown query parameter '\(key)'"
                            + (known.isEmpty ? " (this operation takes none)" : " (known: \(known.joined(separator: ", ")))"))
        }
        if operation.hasBody {
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/json" else {
                return apiError(.badRequest, "send the body as JSON with Content-Type: application/json")
            }
        }
        return try await next(request, context)
    }
}
