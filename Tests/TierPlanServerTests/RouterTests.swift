import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import TierPlanCore
import TierPlanServer
import TierPlanStore
import XCTest

/// Every route, role and error code of the review page and API, on a real database.
final class RouterTests: XCTestCase {
    var url: String!
    var db: Connection!
    var tokens: [Role: String] = [:]
    let hostile = "<script>alert('x')</script> & \"Co\""

    override func setUp() async throws {
        let users: [(String, Role)] = [("vera", .viewer), ("rick", .reviewer), ("ada", .admin)]
        // A hostile name on an account that gets offers.
        (url, db) = try ExamplesServer.database(users: users) { [hostile] db in
            try db.execute("UPDATE accounts SET name = $1 WHERE account_id = 'acme'", [hostile])
        }
        for (name, role) in users { tokens[role] = try AccessStore.createToken(db, name: "job-\(name)", role: role) }
    }

    func withApp(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await ExamplesServer.withApp(url, body)
    }

    func offerID(_ account: String = "acme") throws -> String {
        try db.query("SELECT offer_id::text FROM offers WHERE account_id = $1 AND status = 'proposed' ORDER BY rank LIMIT 1", [account])
            .first!.decode(0)
    }

    // MARK: Helpers

    struct Session: Sendable {
        let cookie: String
        let csrf: String
    }

    /// The sign-in form's CSRF token and its cookie.
    static func loginForm(_ client: any TestClientProtocol) async throws -> (token: String, cookie: String) {
        let page = try await client.execute(uri: "/login", method: .get)
        let cookie = String(try XCTUnwrap(page.headers[.setCookie]).split(separator: ";")[0])
        let html = String(buffer: page.body)
        let token = try XCTUnwrap(html.range(of: #"name="csrf" value="([0-9a-f]+)""#, options: .regularExpression).map {
            String(html[$0].split(separator: "\"")[3])
        })
        return (token, cookie)
    }

    static func postLogin(_ client: any TestClientProtocol, _ fields: String, csrf: Bool = true) async throws -> TestResponse {
        let form = try await loginForm(client)
        return try await client.execute(uri: "/login", method: .post,
                                        headers: [.contentType: "application/x-www-form-urlencoded", .cookie: form.cookie],
                                        body: ByteBuffer(string: fields + (csrf ? "&csrf=\(form.token)" : "")))
    }

    static func login(_ client: any TestClientProtocol, _ name: String, _ password: String) async throws -> Session {
        let response = try await postLogin(client, "name=\(name)&password=\(password)&next=%2Fqueue")
        XCTAssertEqual(response.status, .seeOther)
        let setCookie = try XCTUnwrap(response.headers[.setCookie])
        XCTAssertTrue(setCookie.contains("HttpOnly"), setCookie)
        XCTAssertTrue(setCookie.contains("SameSite=Lax"), setCookie)
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = try await client.execute(uri: "/queue", method: .get, headers: [.cookie: cookie])
        let html = String(buffer: page.body)
        let csrf = try XCTUnwrap(html.range(of: #"name="csrf" value="([0-9a-f]+)""#, options: .regularExpression).map {
            String(html[$0].split(separator: "\"")[3])
        })
        return Session(cookie: cookie, csrf: csrf)
    }

    static func form(_ client: any TestClientProtocol, _ uri: String, _ session: Session, _ fields: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post,
                                 headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                                 body: ByteBuffer(string: fields))
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, _ session: Session? = nil, token: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let session { headers[.cookie] = session.cookie }
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: uri, method: .get, headers: headers)
    }

    static func postJSON(_ client: any TestClientProtocol, _ uri: String, token: String?, _ body: String, extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        for field in extra { headers.append(field) }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func expect(_ response: @autoclosure () async throws -> TestResponse, _ status: HTTPResponse.Status, _ message: String = "",
                       file: StaticString = #filePath, line: UInt = #line) async throws {
        let r = try await response()
        XCTAssertEqual(r.status, status, message + " " + String(buffer: r.body).prefix(300), file: file, line: line)
    }

    // MARK: Tests

    /// Anonymous callers learn only whether the database answers, never libpq's message (which
    /// names the host, the socket and the user).
    func testHealthSaysUnavailableWithoutDetails() async throws {
        let repository = PostgresRepository(pool: DatabasePool(conninfo: "postgresql:///tierplan?host=/nonexistent-socket-dir&user=nobody", size: 1))
        try await Application(router: try buildRouter(repository)).test(.router) { client in
            let health = try await Self.get(client, "/healthz")
            XCTAssertEqual(health.status, .serviceUnavailable)
            XCTAssertEqual(String(buffer: health.body), "unavailable\n")
            XCTAssertEqual(health.headers[.retryAfter], "5")
        }
        try await repository.pool.shutdown()
    }

    /// The database gone: the API answers 503 with Retry-After and a one-line JSON error, the pages a
    /// friendly page with the same status; nothing is a 500.
    func testDatabaseUnavailableIs503() async throws {
        let repository = PostgresRepository(pool: DatabasePool(conninfo: "postgresql:///tierplan?host=/nonexistent-socket-dir&user=nobody", size: 1))
        try await Application(router: try buildRouter(repository)).test(.router) { client in
            let api = try await Self.get(client, "/api/v1/offers", token: "tp_0000")
            XCTAssertEqual(api.status, .serviceUnavailable)
            XCTAssertEqual(api.headers[.retryAfter], "5")
            XCTAssertEqual(api.headers[.contentType], "application/json")
            XCTAssertEqual(String(buffer: api.body), #"{"error":"the database is unavailable; try again in a few seconds"}"#)
            let page = try await client.execute(uri: "/queue", method: .get, headers: [.cookie: "tierplan_session=abc"])
            XCTAssertEqual(page.status, .serviceUnavailable)
            XCTAssertEqual(page.headers[.retryAfter], "5")
            XCTAssertTrue(String(buffer: page.body).contains("cannot reach its database right now"), String(buffer: page.body))
            XCTAssertFalse(String(buffer: page.body).contains("nonexistent-socket-dir"), "no libpq details for visitors")
        }
        try await repository.pool.shutdown()
    }

    /// Bad input is a 4xx with a one-line JSON error, never a 500; methods a path lacks are 405.
    func testBadInputNeverBecomesAServerError() async throws {
        let viewer = tokens[.viewer]!, reviewer = tokens[.reviewer]!
        let id = try offerID()
        try await withApp { client in
            func error(_ response: TestResponse, _ status: HTTPResponse.Status, _ contains: String, line: UInt = #line) throws {
                XCTAssertEqual(response.status, status, String(buffer: response.body), line: line)
                let body = String(buffer: response.body)
                XCTAssertFalse(body.contains("\n"), "one line", line: line)
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String]
                XCTAssertTrue(object?["error"]?.contains(contains) ?? false, body, line: line)
            }
            // Dates out of range (as_of − 27 days would be year 0 in PostgreSQL), huge numbers, unknown keys.
            try error(try await Self.get(client, "/api/v1/accounts/acme/signals?as_of=0001-01-01", token: viewer), .badRequest,
                      "as_of must be a date YYYY-MM-DD from 1900-01-01 to 2999-12-31")
            try error(try await Self.get(client, "/api/v1/metrics?as_of=9999-12-31", token: viewer), .badRequest, "from 1900-01-01")
            try error(try await Self.get(client, "/api/v1/offers?limit=99999999999999999999999", token: viewer), .badRequest, "limit must be")
            try error(try await Self.get(client, "/api/v1/offers?offset=-1", token: viewer), .badRequest, "offset must be")
            try error(try await Self.get(client, "/api/v1/offers?status=", token: viewer), .badRequest, "status must not be empty")
            try error(try await Self.get(client, "/api/v1/forecast?months=1e400", token: viewer), .badRequest, "months")
            try error(try await Self.get(client, "/api/v1/offers?colour=red", token: viewer), .badRequest, "unknown query parameter 'colour'")
            try error(try await Self.get(client, "/api/v1/forecast/backtest?from=1990-01-31&to=2026-10-31", token: viewer), .badRequest, "ten years")
            // Malformed JSON, unknown keys, null where a string belongs, wrong content types, a reason code on acceptance.
            try error(try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision": "approve""#), .badRequest, "JSON object")
            try error(try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision": "approve", "colour": 1}"#), .badRequest, "JSON object")
            try error(try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision": "reject", "reason": null}"#), .badRequest, "JSON object")
            try error(try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision": "approve", "until": "2026-12-01"}"#),
                      .unprocessableContent, "until is not for approve")
            try error(try await Self.postJSON(client, "/api/v1/offers/\(id)/outcome", token: reviewer, #"{"outcome": "accepted", "reason_code": "price"}"#),
                      .unprocessableContent, "reason_code is not for accepted")
            let plain = try await client.execute(uri: "/api/v1/offers/\(id)/decision", method: .post,
                                                 headers: [.authorization: "Bearer \(reviewer)", .contentType: "text/plain"], body: ByteBuffer(string: "approve"))
            try error(plain, .badRequest, "Content-Type: application/json")
            // Methods a documented path does not have: 405 with Allow; an unknown path stays 404.
            for method in [HTTPRequest.Method.trace, .put, .delete, .patch] {
                let response = try await client.execute(uri: "/api/v1/offers/\(id)", method: method, headers: [.authorization: "Bearer \(viewer)"])
                try error(response, .methodNotAllowed, "is not allowed on /api/v1/offers/\(id)")
                XCTAssertEqual(response.headers[.allow], "GET")
            }
            let post = try await client.execute(uri: "/api/v1/offers/\(id)/decision", method: .get, headers: [.authorization: "Bearer \(viewer)"])
            XCTAssertEqual(post.headers[.allow], "POST")
            try error(try await Self.get(client, "/api/v1/nothing-here", token: viewer), .notFound, "Not Found")
            // Nothing was changed by any of it.
        }
        XCTAssertEqual(try db.query("SELECT status FROM offers WHERE offer_id = $1::uuid", [id]).first?.decode(0, as: String.self), "proposed")
    }

    /// Every response, page, API or error, says no script, no framing, no sniffing, a same-origin referrer.
    func testSecurityHeadersOnEveryResponse() async throws {
        let viewer = tokens[.viewer]!
        try await withApp { client in
            for (uri, token) in [("/login", nil), ("/queue", nil), ("/api/v1/offers", viewer), ("/api/v1/offers", nil), ("/nowhere", nil),
                                 ("/healthz", nil), ("/api/openapi.yaml", nil)] as [(String, String?)] {
                let response = try await Self.get(client, uri, token: token)
                XCTAssertEqual(response.headers[.contentSecurityPolicy],
                               "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", uri)
                XCTAssertEqual(response.headers[HTTPField.Name("X-Frame-Options")!], "DENY", uri)
                XCTAssertEqual(response.headers[HTTPField.Name("X-Content-Type-Options")!], "nosniff", uri)
                XCTAssertEqual(response.headers[HTTPField.Name("Referrer-Policy")!], "same-origin", uri)
            }
            // The pages have no script at all (the policy would block it).
            let login = String(buffer: try await Self.get(client, "/login").body)
            XCTAssertFalse(login.lowercased().contains("<script"), login)
        }
    }

    /// Five failed sign-ins lock the name and the address out for 15 minutes (said on the page, 429 with
    /// Retry-After), even with the right password; each sign-in gets a new session id; the audit log
    /// records every attempt, user and token change.
    func testSignInThrottledAuditedAndANewSessionEachTime() async throws {
        try await withApp { client in
            let first = try await Self.login(client, "rick", "password-rick")
            let second = try await Self.login(client, "rick", "password-rick")
            XCTAssertNotEqual(first.cookie, second.cookie, "a new session id at every sign-in")
            // Signing in while sending an old session cookie still gets a fresh one.
            let form = try await Self.loginForm(client)
            let again = try await client.execute(uri: "/login", method: .post,
                                                 headers: [.contentType: "application/x-www-form-urlencoded", .cookie: form.cookie + "; " + first.cookie],
                                                 body: ByteBuffer(string: "name=rick&password=password-rick&csrf=\(form.token)"))
            let fresh = String(try XCTUnwrap(again.headers[.setCookie]).split(separator: ";")[0])
            XCTAssertNotEqual(fresh, first.cookie)
            for _ in 0..<5 {
                let wrong = try await Self.postLogin(client, "name=rick&password=guess")
                XCTAssertEqual(wrong.status, .unauthorized)
                XCTAssertTrue(String(buffer: wrong.body).contains("Wrong name or password."))
            }
            let locked = try await Self.postLogin(client, "name=rick&password=password-rick")
            XCTAssertEqual(locked.status, .tooManyRequests)
            XCTAssertEqual(locked.headers[.retryAfter], "900")
            XCTAssertTrue(String(buffer: locked.body).contains("Too many failed sign-ins for this name or from this address: try again in 15 minutes."),
                          String(buffer: locked.body))
            XCTAssertNil(locked.headers[.setCookie].flatMap { $0.hasPrefix("tierplan_session=") && !$0.hasPrefix("tierplan_session=;") ? $0 : nil })
            // The same address is locked for other names too.
            let other = try await Self.postLogin(client, "name=vera&password=password-vera")
            XCTAssertEqual(other.status, .tooManyRequests)
        }
        let actions = try db.query("SELECT action, actor FROM audit_log ORDER BY seq").rows.map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self))" }
        XCTAssertEqual(actions.filter { $0.hasPrefix("user_added") }.count, 3)
        XCTAssertEqual(actions.filter { $0.hasPrefix("token_created") }.count, 3)
        XCTAssertEqual(actions.filter { $0 == "sign_in rick" }.count, 3)
        XCTAssertEqual(actions.filter { $0 == "sign_in_failed rick" }.count, 5)
        XCTAssertEqual(actions.filter { $0.hasPrefix("sign_in_throttled") }, ["sign_in_throttled rick", "sign_in_throttled vera"])
        XCTAssertThrowsError(try db.execute("DELETE FROM audit_log"), "append-only")
        // Users and tokens made with the CLI name the OS user who ran it.
        XCTAssertEqual(try CLI.run(["tokens", "create", "--role", "viewer", "--name", "nightly"], databaseURL: url).status, 0)
        let last = try db.query("SELECT action, actor, subject FROM audit_log ORDER BY seq DESC LIMIT 1").first!
        XCTAssertEqual(try last.decode(0, as: String.self), "token_created")
        XCTAssertTrue(try last.decode(1, as: String.self).hasPrefix("cli:"))
        XCTAssertEqual(try last.decode(2, as: String.self), "nightly (viewer)")
    }

    func testPublicRoutes() async throws {
        try await withApp { client in
            let health = try await Self.get(client, "/healthz")
            XCTAssertEqual(health.status, .ok)
            XCTAssertEqual(String(buffer: health.body), "ok\n")
            let spec = try await Self.get(client, "/api/openapi.yaml")
            XCTAssertEqual(spec.status, .ok)
            XCTAssertTrue(String(buffer: spec.body).hasPrefix("openapi: 3.1.0"))
            _ = try await Self.get(client, "/queue")
            let metrics = try await Self.get(client, "/metrics")
            XCTAssertEqual(metrics.status, .ok)
            XCTAssertTrue(String(buffer: metrics.body).contains("tierplan_http_requests_total"))
            let login = try await Self.get(client, "/login")
            XCTAssertEqual(login.status, .ok)
        }
    }

    /// The routes come from the document's operations: each has a handler, and each answers
    /// (401 without credentials, never 404 or 405).
    func testEveryDocumentedOperationIsRouted() async throws {
        let operations = APIDocumentation.operations
        XCTAssertEqual(operations.count, 8)
        XCTAssertEqual(Set(operations.map(\.operationID)).count, operations.count, "operationIds are unique")
        try await withApp { client in
            for operation in operations {
                let uri = operation.path.replacingOccurrences(of: "{id}", with: "x")
                let response = try await client.execute(uri: uri, method: operation.method == "GET" ? .get : .post)
                XCTAssertEqual(response.status, .unauthorized, "\(operation)")
            }
        }
    }

    func testNobodySignedIn() async throws {
        try await withApp { client in
            let page = try await Self.get(client, "/offers/abc?x=1")
            XCTAssertEqual(page.status, .seeOther)
            XCTAssertTrue(page.headers[.location]?.hasPrefix("/login?next=") ?? false)
            let api = try await Self.get(client, "/api/v1/offers")
            XCTAssertEqual(api.status, .unauthorized)
            XCTAssertEqual(api.headers[.wwwAuthenticate], "Bearer")
            let badToken = try await Self.get(client, "/api/v1/offers", token: "tp_nope")
            XCTAssertEqual(badToken.status, .unauthorized)
            let noToken = try await Self.postLogin(client, "name=rick&password=password-rick", csrf: false)
            XCTAssertEqual(noToken.status, .forbidden, "login CSRF")
            let wrong = try await Self.postLogin(client, "name=rick&password=wrong")
            XCTAssertEqual(wrong.status, .unauthorized)
            XCTAssertTrue(String(buffer: wrong.body).contains("Wrong name or password"))
            let unknown = try await Self.postLogin(client, "name=nobody&password=x")
            XCTAssertEqual(unknown.status, .unauthorized)
        }
    }

    /// Trial conversions are a kind of their own in the queue's filter and the API's.
    func testTrialConversionsHaveTheirOwnQueueFilter() async throws {
        let viewer = tokens[.viewer]!
        try await withApp { client in
            let s = try await Self.login(client, "vera", "password-vera")
            let queue = String(buffer: try await Self.get(client, "/queue?kind=trial_conversion", s).body)
            XCTAssertTrue(queue.contains("Pied Piper"), queue)
            XCTAssertFalse(queue.contains("Globex"), "only trial conversions")
            XCTAssertTrue(queue.contains("<option selected>trial_conversion</option>"), "the filter offers the kind")
            let api = try await Self.get(client, "/api/v1/offers?kind=trial_conversion", token: viewer)
            XCTAssertEqual(api.status, .ok)
            let offers = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(buffer: api.body)) as? [String: Any])?["offers"] as? [[String: Any]])
            XCTAssertEqual(offers.map { $0["account_id"] as? String }, ["piedpiper"])
            XCTAssertEqual(offers.first?["kind"] as? String, "trial_conversion")
            XCTAssertEqual(offers.first?["current_mrr"] as? Int, 0)
            XCTAssertEqual(offers.first?["delta_mrr"] as? Int, offers.first?["new_mrr"] as? Int)
        }
    }

    func testViewerReadsEverythingAndDecidesNothing() async throws {
        let id = try offerID(), inExperimentID = try offerID("globex")
        try db.execute("UPDATE offers SET experiment = 'upgrade_first', arm = 'treatment' WHERE offer_id = $1::uuid", [inExperimentID])
        try await withApp { client in
            let s = try await Self.login(client, "vera", "password-vera")
            for uri in ["/queue", "/queue?kind=tier_upgrade&reason=storage_over_limit&owner=alice&segment=smb&page=1", "/offers/\(id)",
                        "/accounts/acme", "/forecast", "/forecast?as_of=2026-11-01&months=3", "/finance", "/finance?from=2026-10-01&as_of=2026-11-01"] {
                let response = try await Self.get(client, uri, s)
                XCTAssertEqual(response.status, .ok, uri)
            }
            let offer = String(buffer: try await Self.get(client, "/offers/\(id)", s).body)
            XCTAssertFalse(offer.contains("id=\"approve\""), "viewers get no decision forms")
            XCTAssertTrue(offer.contains("<svg id=\"storage-chart\""))
            XCTAssertFalse(offer.contains("id=\"experiment\""), "outside experiments nothing is said")
            // An offer in an experiment says which arm it is in.
            let inExperiment = String(buffer: try await Self.get(client, "/offers/\(inExperimentID)", s).body)
            XCTAssertTrue(inExperiment.contains("Experiment <strong>upgrade_first</strong>, arm <strong id=\"arm\">treatment</strong>"), inExperiment)
            // The finance page: declines per code, the calibration with its reliability chart (diagonal drawn), experiments.
            let finance = String(buffer: try await Self.get(client, "/finance?from=2026-10-01&as_of=2026-11-01", s).body)
            for part in ["id=\"declines\"", "(competitor)", "id=\"calibration\"", "<svg id=\"reliability-chart\"", "<line id=\"diagonal\"",
                         "Experiment upgrade_first"] {
                XCTAssertTrue(finance.contains(part), part)
            }
            let page = String(buffer: try await Self.get(client, "/forecast?as_of=2026-11-01&months=3", s).body)
            for id in ["forecast-chart", "history-chart", "history-table", "backtest-chart", "backtest-table", "model"] {
                XCTAssertTrue(page.contains("id=\"\(id)\""), id)
            }
            let csv = try await Self.get(client, "/forecast.csv?as_of=2026-11-01&months=2", s)
            XCTAssertEqual(csv.headers[.contentType], "text/csv; charset=utf-8")
            XCTAssertTrue(String(buffer: csv.body).hasPrefix("month,active_accounts,"))
            try await Self.expect(try await Self.get(client, "/users", s), .forbidden)
            try await Self.expect(try await Self.form(client, "/offers/\(id)/approve", s, "csrf=\(s.csrf)&version=1"), .forbidden)
            try await Self.expect(try await Self.get(client, "/offers/00000000-0000-0000-0000-000000000000", s), .notFound)
            try await Self.expect(try await Self.get(client, "/accounts/nobody", s), .notFound)
        }
    }

    func testReviewerDecidesWithCSRFAndVersion() async throws {
        let id = try offerID(), other = try offerID("globex"), third = try offerID("umbrella")
        try await withApp { client in
            let s = try await Self.login(client, "rick", "password-rick")
            // No or wrong CSRF token: refused, nothing changes.
            try await Self.expect(try await Self.form(client, "/offers/\(id)/approve", s, "version=1"), .forbidden)
            try await Self.expect(try await Self.form(client, "/offers/\(id)/approve", s, "csrf=bad&version=1"), .forbidden)
            // Reject without a reason: the page says so.
            let noReason = try await Self.form(client, "/offers/\(id)/reject", s, "csrf=\(s.csrf)&version=1&reason=")
            XCTAssertEqual(noReason.status, .unprocessableContent)
            XCTAssertTrue(String(buffer: noReason.body).contains("A rejection needs a reason."))
            // Approve.
            let ok = try await Self.form(client, "/offers/\(id)/approve", s, "csrf=\(s.csrf)&version=1")
            XCTAssertEqual(ok.status, .seeOther)
            // Someone decides on the stale version: 409, says who decided first.
            let stale = try await Self.form(client, "/offers/\(id)/reject", s, "csrf=\(s.csrf)&version=1&reason=late")
            XCTAssertEqual(stale.status, .conflict)
            XCTAssertTrue(String(buffer: stale.body).contains("approved by rick"), String(buffer: stale.body))
            // Snooze needs a date.
            try await Self.expect(try await Self.form(client, "/offers/\(other)/snooze", s, "csrf=\(s.csrf)&version=1&until=soon"), .unprocessableContent)
            // The page dates a decision "now" (Timestamp.now, TIERPLAN_NOW when set): snooze to a day after it.
            let until = Timestamp.now.day.adding(days: 14).iso
            try await Self.expect(try await Self.form(client, "/offers/\(other)/snooze", s, "csrf=\(s.csrf)&version=1&until=\(until)"), .seeOther)
            try await Self.expect(try await Self.form(client, "/offers/\(third)/reject", s, "csrf=\(s.csrf)&version=1&reason=budget"), .seeOther)
            try await Self.expect(try await Self.form(client, "/offers/\(id)/frobnicate", s, "csrf=\(s.csrf)"), .notFound)
            // The approved offer's page asks what the customer did; a decline needs a reason code from the select.
            let page = String(buffer: try await Self.get(client, "/offers/\(id)", s).body)
            XCTAssertTrue(page.contains("<select name=\"reason_code\" id=\"reason-code\" required>"), page)
            for code in ["price", "budget", "timing", "no_need", "competitor", "other"] { XCTAssertTrue(page.contains("<option value=\"\(code)\">"), code) }
            let noCode = try await Self.form(client, "/offers/\(id)/declined", s, "csrf=\(s.csrf)&version=2&reason_code=")
            XCTAssertEqual(noCode.status, .unprocessableContent)
            XCTAssertTrue(String(buffer: noCode.body).contains("A decline needs the customer&#39;s reason"), String(buffer: noCode.body))
            try await Self.expect(try await Self.form(client, "/offers/\(id)/declined", s, "csrf=\(s.csrf)&version=2&reason_code=cheap"), .unprocessableContent)
            try await Self.expect(try await Self.form(client, "/offers/\(id)/declined", s, "csrf=\(s.csrf)&version=2&reason_code=timing&reason=after+the+audit"),
                                  .seeOther)
            let declined = String(buffer: try await Self.get(client, "/offers/\(id)", s).body)
            XCTAssertTrue(declined.contains("Not now (timing): after the audit"), declined)
            // Reviewers do not manage users.
            try await Self.expect(try await Self.get(client, "/users", s), .forbidden)
            // Sign out ends the session.
            try await Self.expect(try await Self.form(client, "/logout", s, "csrf=\(s.csrf)"), .seeOther)
            try await Self.expect(try await Self.get(client, "/queue", s), .seeOther)
        }
        XCTAssertEqual(try db.query("SELECT status FROM offers WHERE offer_id = $1::uuid", [id]).first?.decode(0, as: String.self), "declined")
        XCTAssertEqual(try db.query("SELECT reason_code FROM offer_events WHERE offer_id = $1::uuid AND to_status = 'declined'", [id]).first?.decode(0, as: String.self), "timing")
        XCTAssertEqual(try db.query("SELECT status FROM offers WHERE offer_id = $1::uuid", [other]).first?.decode(0, as: String.self), "snoozed")
        XCTAssertEqual(try db.query("SELECT reason FROM offer_events WHERE offer_id = $1::uuid AND to_status = 'rejected'", [third]).first?.decode(0, as: String.self), "budget")
    }

    func testAdminManagesUsers() async throws {
        try await withApp { client in
            let s = try await Self.login(client, "ada", "password-ada")
            try await Self.expect(try await Self.get(client, "/users", s), .ok)
            try await Self.expect(try await Self.form(client, "/users", s, "name=newbie&role=viewer&password=longenough"), .forbidden, "no CSRF")
            try await Self.expect(try await Self.form(client, "/users", s, "csrf=\(s.csrf)&name=newbie&role=viewer&password=short"), .unprocessableContent)
            try await Self.expect(try await Self.form(client, "/users", s, "csrf=\(s.csrf)&name=newbie&role=viewer&password=longenough"), .seeOther)
            try await Self.expect(try await Self.form(client, "/users", s, "csrf=\(s.csrf)&name=newbie&role=viewer&password=longenough"), .conflict)
            _ = try await Self.login(client, "newbie", "longenough")
        }
    }

    func testAPIWithTokens() async throws {
        let id = try offerID(), other = try offerID("globex")
        let viewer = tokens[.viewer]!, reviewer = tokens[.reviewer]!
        try await withApp { client in
            let list = try await Self.get(client, "/api/v1/offers?status=proposed&limit=2", token: viewer)
            XCTAssertEqual(list.status, .ok)
            let page = try JSONSerialization.jsonObject(with: Data(buffer: list.body)) as? [String: Any]
            XCTAssertEqual((page?["offers"] as? [Any])?.count, 2)
            XCTAssertGreaterThan(page?["total"] as? Int ?? 0, 2)
            try await Self.expect(try await Self.get(client, "/api/v1/offers?status=bogus", token: viewer), .badRequest)
            try await Self.expect(try await Self.get(client, "/api/v1/offers/\(id)", token: viewer), .ok)
            try await Self.expect(try await Self.get(client, "/api/v1/offers/nope", token: viewer), .notFound)
            // Viewers cannot decide.
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: viewer, #"{"decision":"approve"}"#), .forbidden)
            // Reviewers can; errors have their codes.
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"nope":1}"#), .badRequest)
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision":"reject"}"#), .unprocessableContent)
            let approved = try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision":"approve","version":1}"#)
            XCTAssertEqual(approved.status, .ok)
            let offer = try JSONSerialization.jsonObject(with: Data(buffer: approved.body)) as? [String: Any]
            XCTAssertEqual(offer?["status"] as? String, "approved")
            XCTAssertEqual(offer?["version"] as? Int, 2)
            let stale = try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision":"reject","reason":"x","version":1}"#)
            XCTAssertEqual(stale.status, .conflict)
            XCTAssertTrue(String(buffer: stale.body).contains("by job-rick"), String(buffer: stale.body))
            let illegal = try await Self.postJSON(client, "/api/v1/offers/\(id)/decision", token: reviewer, #"{"decision":"approve"}"#)
            XCTAssertEqual(illegal.status, .unprocessableContent)
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/00000000-0000-0000-0000-000000000000/decision", token: reviewer, #"{"decision":"approve"}"#), .notFound)
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(id)/outcome", token: reviewer, #"{"outcome":"maybe"}"#), .badRequest)
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(other)/outcome", token: reviewer, #"{"outcome":"accepted"}"#), .unprocessableContent, "not approved yet")
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(id)/outcome", token: reviewer, #"{"outcome":"accepted"}"#), .ok)
            // A decline carries its reason code: refused without one or with an unknown one, stored on the event.
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(other)/decision", token: reviewer, #"{"decision":"approve"}"#), .ok)
            let noCode = try await Self.postJSON(client, "/api/v1/offers/\(other)/outcome", token: reviewer, #"{"outcome":"declined"}"#)
            XCTAssertEqual(noCode.status, .unprocessableContent)
            XCTAssertTrue(String(buffer: noCode.body).contains("a decline needs a reason_code (price|budget|timing|no_need|competitor|other)"),
                          String(buffer: noCode.body))
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(other)/outcome", token: reviewer,
                                                          #"{"outcome":"declined","reason_code":"cheap"}"#), .unprocessableContent)
            try await Self.expect(try await Self.postJSON(client, "/api/v1/offers/\(other)/outcome", token: reviewer,
                                                          #"{"outcome":"declined","reason_code":"competitor","reason":"went with a rival"}"#), .ok)
            let otherTrail = try await Self.get(client, "/api/v1/offers/\(other)", token: viewer)
            let otherEvents = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(buffer: otherTrail.body)) as? [String: Any])?["events"] as? [[String: Any]])
            XCTAssertEqual(otherEvents.last?["reason_code"] as? String, "competitor")
            XCTAssertEqual(otherEvents.last?["reason"] as? String, "went with a rival")
            XCTAssertNil(otherEvents.first?["reason_code"])
            // The offer with its trail: the same snake_case keys as `offers show --json` and the document.
            let trail = try await Self.get(client, "/api/v1/offers/\(id)", token: viewer)
            let detail = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(buffer: trail.body)) as? [String: Any])
            let events = try XCTUnwrap(detail["events"] as? [[String: Any]])
            XCTAssertEqual(events.last?["to_status"] as? String, "accepted")
            XCTAssertEqual(events.last?["from_status"] as? String, "approved")
            XCTAssertNil(events.last?["toStatus"])
            // Signals, forecast, metrics.
            let signals = try await Self.get(client, "/api/v1/accounts/acme/signals?as_of=2026-11-01", token: viewer)
            XCTAssertEqual(signals.status, .ok)
            XCTAssertTrue(String(buffer: signals.body).contains("\"storage_limit_bytes\":100000000000"))
            try await Self.expect(try await Self.get(client, "/api/v1/accounts/nobody/signals", token: viewer), .notFound)
            try await Self.expect(try await Self.get(client, "/api/v1/accounts/acme/signals?as_of=yesterday", token: viewer), .badRequest)
            let forecast = try await Self.get(client, "/api/v1/forecast?as_of=2026-11-01&months=3", token: viewer)
            XCTAssertEqual(forecast.status, .ok)
            let f = try JSONSerialization.jsonObject(with: Data(buffer: forecast.body)) as? [String: Any]
            XCTAssertEqual((f?["months"] as? [Any])?.count, 3)
            XCTAssertNotNil(f?["arpu"])
            try await Self.expect(try await Self.get(client, "/api/v1/forecast?months=0", token: viewer), .badRequest)
            try await Self.expect(try await Self.get(client, "/api/v1/forecast?churn=2", token: viewer), .badRequest)
            try await Self.expect(try await Self.get(client, "/api/v1/forecast?model=magic", token: viewer), .badRequest)
            let flat = try await Self.get(client, "/api/v1/forecast?as_of=2026-11-01&months=1&model=flat", token: viewer)
            XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(buffer: flat.body)) as? [String: Any])?["model"] as? String, "flat")
            // The backtest: the same JSON as the CLI's, parameters checked.
            let backtest = try await Self.get(client, "/api/v1/forecast/backtest?from=2026-01-01&to=2026-09-30&months=1", token: viewer)
            XCTAssertEqual(backtest.status, .ok)
            let b = try JSONSerialization.jsonObject(with: Data(buffer: backtest.body)) as? [String: Any]
            XCTAssertEqual((b?["models"] as? [[String: Any]])?.compactMap { $0["model"] as? String }, ["history", "flat"])
            XCTAssertNotNil(b?["points"] as? [Any])
            for bad in ["", "?from=2026-01-01", "?from=2026-01-01&to=2025-01-01", "?from=2026-01-01&to=2026-02-01&months=0",
                        "?from=x&to=2026-02-01", "?from=2026-01-01&to=2026-02-01&model=magic"] {
                try await Self.expect(try await Self.get(client, "/api/v1/forecast/backtest" + bad, token: viewer), .badRequest, bad)
            }
            try await Self.expect(try await Self.get(client, "/api/v1/metrics?as_of=2026-11-01", token: viewer), .ok)
            try await Self.expect(try await Self.get(client, "/api/v1/metrics?from=never", token: viewer), .badRequest)
        }
    }

    func testAPIWithASessionNeedsTheCSRFHeader() async throws {
        let id = try offerID()
        try await withApp { client in
            let s = try await Self.login(client, "rick", "password-rick")
            let without = try await client.execute(uri: "/api/v1/offers/\(id)/decision", method: .post,
                                                   headers: [.cookie: s.cookie, .contentType: "application/json"],
                                                   body: ByteBuffer(string: #"{"decision":"approve"}"#))
            XCTAssertEqual(without.status, .forbidden)
            let with = try await client.execute(uri: "/api/v1/offers/\(id)/decision", method: .post,
                                                headers: [.cookie: s.cookie, .contentType: "application/json", HTTPField.Name("X-CSRF-Token")!: s.csrf],
                                                body: ByteBuffer(string: #"{"decision":"approve"}"#))
            XCTAssertEqual(with.status, .ok)
        }
    }

    func testHostileAccountNameIsEscaped() async throws {
        let id = try offerID(), inExperimentID = try offerID("globex")
        try db.execute("UPDATE offers SET experiment = 'upgrade_first', arm = 'treatment' WHERE offer_id = $1::uuid", [inExperimentID])
        try await withApp { client in
            let s = try await Self.login(client, "vera", "password-vera")
            for uri in ["/queue", "/offers/\(id)", "/accounts/acme"] {
                let html = String(buffer: try await Self.get(client, uri, s).body)
                XCTAssertFalse(html.contains("<script>"), uri)
                XCTAssertTrue(html.contains("&lt;script&gt;"), uri)
            }
        }
    }
}
