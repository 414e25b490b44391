import Foundation
import HTTPTypes
import Hummingbird
import TierPlanCore
import TierPlanStore

/// The JSON API under /api/v1, for jobs (bearer tokens) and scripts.
struct APIRoutes {
    let env: ServerEnvironment

    /// The handler of each operationId of the OpenAPI document; the document's paths and methods are
    /// the routes (it is the one description of the API).
    var handlers: [String: @Sendable (Request, AppContext) async throws -> Response] {
        ["listOffers": listOffers, "getOffer": getOffer, "decideOffer": decision, "recordOutcome": outcome,
         "accountSignals": signals, "forecast": forecast, "backtest": backtest, "metrics": metrics]
    }

    func register(on router: Router<AppContext>) {
        let handlers = self.handlers
        for operation in OpenAPI.operations {
            guard let handler = handlers[operation.operationID] else {
                preconditionFailure("the OpenAPI operation \(operation.operationID) has no handler")
            }
            router.on(RouterPath(operation.routerPath), method: HTTPRequest.Method(operation.method)!, use: handler)
        }
    }

    @Sendable func listOffers(_ request: Request, context: AppContext) async throws -> Response {
        _ = try context.require(.viewer)
        let q = request.uri.queryParameters
        // The page's menus send "" for any; the API takes a value or no parameter.
        for key in ["status", "kind", "reason"] where q.get(key) == "" { return apiError(.badRequest, "\(key) must not be empty (leave it out for any)") }
        var (filter, problem) = offerFilter { q.get($0) }
        if let problem { return apiError(.badRequest, problem) }
        if q.get("status") == nil { filter.status = nil }
        filter.accountID = q.get("account")
        guard let limit = Int(q.get("limit") ?? "100"), (1...1000).contains(limit) else { return apiError(.badRequest, "limit must be a whole number from 1 to 1000") }
        guard let offset = Int(q.get("offset") ?? "0"), (0...1_000_000).contains(offset) else {
            return apiError(.badRequest, "offset must be a whole number from 0 to 1000000")
        }
        (filter.limit, filter.offset) = (limit, offset)
        let page = try await env.repository.offerPage(filter)
        let document = OfferPage(offers: page.offers, total: page.total, totalIsLowerBound: page.total > OfferFilter.countLimit,
                                 limit: filter.limit, offset: filter.offset)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document.jsonBytes())))
    }

    @Sendable func getOffer(_ request: Request, context: AppContext) async throws -> Response {
        _ = try context.require(.viewer)
        let id = context.parameters.get("id") ?? ""
        guard let found = try await env.repository.offer(id: id) else { return apiError(.notFound, "no offer with id \(id)") }
        return try json(found)
    }

    struct DecisionBody: Decodable, CaseKeyed {
        var decision: String
        var reason: String?
        var until: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case decision, reason, until, version }
        typealias Keys = CodingKeys
    }

    @Sendable func decision(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.reviewer)
        try checkCSRF(request, identity)
        let id = context.parameters.get("id") ?? ""
        let body: DecisionBody
        do { body = try await jsonBody(request, as: DecisionBody.self, nullable: ["version"]) } catch {
            return apiError(.badRequest, "expected a JSON object with decision (approve|reject|snooze) and only reason, until, version besides")
        }
        let decision: OfferDecision
        switch OfferDecision.review(body.decision, reason: body.reason, until: body.until) {
        case .success(let asked): decision = asked
        case .failure(.unknown): return apiError(.badRequest, "decision must be approve, reject or snooze")
        case .failure(let problem): return apiError(.unprocessableContent, problem.message)
        }
        return try await apply(decision, id: id, identity: identity, reason: body.reason, version: body.version)
    }

    struct OutcomeBody: Decodable, CaseKeyed {
        var outcome: String
        var reasonCode: String?
        var reason: String?
        var version: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case outcome, reasonCode = "reason_code", reason, version }
        typealias Keys = CodingKeys
    }

    @Sendable func outcome(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.reviewer)
        try checkCSRF(request, identity)
        let id = context.parameters.get("id") ?? ""
        guard let body = try? await jsonBody(request, as: OutcomeBody.self, nullable: ["version"]) else {
            return apiError(.badRequest, "expected a JSON object with outcome (accepted|declined) and only reason_code, reason, version besides")
        }
        switch OfferDecision.outcome(body.outcome, reasonCode: body.reasonCode) {
        case .success(let decision): return try await apply(decision, id: id, identity: identity, reason: body.reason, version: body.version)
        case .failure(.unknown): return apiError(.badRequest, "outcome must be accepted or declined")
        case .failure(let problem): return apiError(.unprocessableContent, problem.message)
        }
    }

    func apply(_ decision: OfferDecision, id: String, identity: Identity, reason: String?, version: Int?) async throws -> Response {
        do {
            let offer = try await env.repository.decide(offerID: id, decision: decision, by: identity.name, reason: reason,
                                                        at: nil, expectedVersion: version)
            return try json(offer)
        } catch let error as OfferDecisionError {
            switch error.kind {
            case .notFound: return apiError(.notFound, error.description)
            case .stale: return apiError(.conflict, error.description)
            case .illegal: return apiError(.unprocessableContent, error.description)
            }
        }
    }

    @Sendable func signals(_ request: Request, context: AppContext) async throws -> Response {
        _ = try context.require(.viewer)
        let id = context.parameters.get("id") ?? ""
        let given = request.uri.queryParameters.get("as_of")
        if let given, Day(iso: given) == nil { return apiError(.badRequest, "as_of must be \(Day.format)") }
        let asOf = try await env.asOf(given.flatMap { Day(iso: $0) })
        guard let signals = try await env.repository.signals(accountID: id, asOf: asOf) else {
            return apiError(.notFound, "no account '\(id)' that is not canceled on \(asOf.iso)")
        }
        return try json(AccountSignalsDocument(asOf: asOf.iso, account: SignalsRecord(signals)))
    }

    @Sendable func forecast(_ request: Request, context: AppContext) async throws -> Response {
        _ = try context.require(.viewer)
        let q = request.uri.queryParameters
        if let text = q.get("as_of"), Day(iso: text) == nil { return apiError(.badRequest, "as_of must be \(Day.format)") }
        let months = Int(q.get("months") ?? "12") ?? 0
        guard (1...120).contains(months) else { return apiError(.badRequest, "months must be 1 to 120") }
        guard let model = ForecastModel(rawValue: q.get("model") ?? "history") else { return apiError(.badRequest, "model must be history or flat") }
        guard let lookback = Int(q.get("lookback") ?? "6"), (1...60).contains(lookback) else { return apiError(.badRequest, "lookback must be 1 to 60") }
        var churn: Double?
        if let text = q.get("churn") {
            guard let value = Double(text), (0..<1).contains(value) else { return apiError(.badRequest, "churn must be a rate in [0, 1)") }
            churn = value
        }
        let asOf = try await env.asOf(q.get("as_of").flatMap { Day(iso: $0) })
        let request = ForecastRequest(asOf: asOf, months: months, model: model, lookback: lookback, churn: churn)
        let forecast = try await env.repository.forecast(request)[0].forecast
        return try json(ForecastReport(forecast, asOf: asOf, currency: try await env.repository.labels().currency))
    }

    @Sendable func backtest(_ request: Request, context: AppContext) async throws -> Response {
        _ = try context.require(.viewer)
        let q = request.uri.queryParameters
        let parsed: BacktestRequest
        switch backtestParameters({ q.get($0) }) {
        case .success(let value): parsed = value
        case .failure(let problem): return apiError(.badRequest, problem.message)
        }
        return try json(try await env.repository.backtest(parsed) { _, _ in })
    }

    @Sendable func metrics(_ request: Request, context: AppContext) async throws -> Response {
        _ = try context.require(.viewer)
        let q = request.uri.queryParameters
        for key in ["as_of", "from"] { if let text = q.get(key), Day(iso: text) == nil { return apiError(.badRequest, "\(key) must be \(Day.format)") } }
        let asOf = try await env.asOf(q.get("as_of").flatMap { Day(iso: $0) })
        let from = q.get("from").flatMap { Day(iso: $0) }.flatMap { $0 < asOf ? $0 : nil } ?? asOf.adding(days: -30)
        return try json(try await env.repository.metrics(asOf: asOf, from: from))
    }

    /// Requests authenticated by a browser session must carry the session's CSRF token.
    func checkCSRF(_ request: Request, _ identity: Identity) throws {
        guard let expected = identity.csrfToken else { return }   // bearer tokens: no cookie, no CSRF
        guard request.headers[csrfHeader] == expected else { throw AccessError.badCSRF }
    }
}

let csrfHeader = HTTPField.Name("X-CSRF-Token")!

/// The queue's filters from query parameters (status, kind, reason, owner, segment), with the first
/// value that is not a known status, kind or reason.
func offerFilter(_ value: (String) -> String?) -> (OfferFilter, problem: String?) {
    var filter = OfferFilter()
    var problem: String?
    func nonEmpty(_ key: String) -> String? { value(key).flatMap { $0.isEmpty ? nil : $0 } }
    if let text = nonEmpty("status") {
        if let status = OfferStatus(rawValue: text) { filter.status = status } else { problem = "unknown status '\(text)'" }
    }
    if let text = nonEmpty("kind") {
        if let kind = OfferKind(rawValue: text) { filter.kind = kind } else { problem = problem ?? "unknown kind '\(text)'" }
    }
    if let text = nonEmpty("reason") {
        if SignalFlag(rawValue: text) != nil { filter.reason = text } else { problem = problem ?? "unknown reason '\(text)'" }
    }
    filter.owner = nonEmpty("owner")
    filter.segment = nonEmpty("segment")
    return (filter, problem)
}

/// A page of offers; `total` counts matching offers up to 1,001 (`total_is_lower_bound` beyond).
struct OfferPage: ContractJSONDocument {
    var offers: [OfferRecord]
    var total: Int
    var totalIsLowerBound: Bool
    var limit: Int
    var offset: Int
    enum CodingKeys: String, CodingKey { case offers, total, totalIsLowerBound, limit, offset }

    /// What `ContractJSON` makes of it, written directly: JSONEncoder took most of the request's time
    /// (the router tests hold the two to the same bytes).
    func jsonBytes() -> [UInt8] {
        var w = ContractJSONWriter(capacity: 1024 + offers.count * 640)
        w.beginObject()
        w.key("limit", first: true); w.int(limit)
        w.key("offers"); w.array(offers) { $1.writeJSON(&$0) }
        w.key("offset"); w.int(offset)
        w.key("total"); w.int(total)
        w.key("total_is_lower_bound"); w.bool(totalIsLowerBound)
        w.endObject()
        return w.bytes
    }
}

struct AccountSignalsDocument: Encodable {
    var asOf: String
    var account: SignalsRecord
    enum CodingKeys: String, CodingKey { case asOf, account }
}

/// A request's JSON object as `T`, held to the document: only `T`'s keys, and null only for those in
/// `nullable` (an optional field is left out, not null). Bodies over 64 KiB are refused.
func jsonBody<T: Decodable & CaseKeyed>(_ request: Request, as type: T.Type, nullable: Set<String>) async throws -> T {
    let buffer = try await request.body.collect(upTo: 64 * 1024)
    let data = Data(buffer: buffer)
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw BodyProblem() }
    let known = Set(T.Keys.allCases.map(\.stringValue))
    if object.keys.contains(where: { !known.contains($0) }) || object.contains(where: { $0.value is NSNull && !nullable.contains($0.key) }) {
        throw BodyProblem()
    }
    return try JSONDecoder().decode(T.self, from: data)
}

/// A body whose keys are listed (to refuse keys the document does not declare).
protocol CaseKeyed { associatedtype Keys: CodingKey & CaseIterable }

struct BodyProblem: Error {}

func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try ContractJSON.data(value)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func apiError(_ status: HTTPResponse.Status, _ message: String) -> Response {
    (try? json(["error": message], status: status)) ?? Response(status: status)
}

/// A query parameter that is not what the API expects.
struct ParameterProblem: Error { let message: String }

/// Reads `from`, `to`, `months`, `model` and `lookback` of a backtest (the API and the forecast page).
func backtestParameters(_ value: (String) -> String?, defaultFrom: Day? = nil, defaultTo: Day? = nil) -> Result<BacktestRequest, ParameterProblem> {
    func day(_ key: String, _ fallback: Day?) -> Result<Day, ParameterProblem> {
        guard let text = value(key) else { return fallback.map { .success($0) } ?? .failure(ParameterProblem(message: "\(key) is required (YYYY-MM-DD)")) }
        return Day(iso: text).map { .success($0) } ?? .failure(ParameterProblem(message: "\(key) must be \(Day.format)"))
    }
    let from: Day, to: Day
    switch (day("from", defaultFrom), day("to", defaultTo)) {
    case (.success(let f), .success(let t)): from = f; to = t
    case (.failure(let p), _), (_, .failure(let p)): return .failure(p)
    }
    guard from <= to else { return .failure(ParameterProblem(message: "from must not be after to")) }
    // Every month end in between is a forecast replayed: ten years is plenty and keeps a request bounded.
    guard to.days(since: from) <= 3_700 else { return .failure(ParameterProblem(message: "from and to must be at most ten years apart")) }
    guard let months = Int(value("months") ?? "3"), (1...24).contains(months) else { return .failure(ParameterProblem(message: "months must be 1 to 24")) }
    guard let lookback = Int(value("lookback") ?? "6"), (1...60).contains(lookback) else { return .failure(ParameterProblem(message: "lookback must be 1 to 60")) }
    let model = value("model") ?? "both"
    let models = model == "both" ? ForecastModel.allCases : ForecastModel(rawValue: model).map { [$0] } ?? []
    guard !models.isEmpty else { return .failure(ParameterProblem(message: "model must be history, flat or both")) }
    return .success(BacktestRequest(from: from, to: to, months: months, models: models, lookback: lookback))
}
