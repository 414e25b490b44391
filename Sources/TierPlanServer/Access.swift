import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import NIOPosix
import Prometheus
import TierPlanCore
import TierPlanStore

let sessionCookie = "tierplan_session"

/// Finds who is asking: a bearer token (jobs) or a session cookie (people). Routes then require a role.
struct IdentityMiddleware: RouterMiddleware {
    let env: ServerEnvironment

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
            context.identity = try await env.repository.identity(forToken: token)
        } else if let cookie = request.cookies[sessionCookie]?.value, !cookie.isEmpty {
            context.identity = try await env.repository.identity(forSession: cookie)
        }
        return try await next(request, context)
    }
}

/// Why a request was refused before doing anything.
enum AccessError: Error {
    case unauthenticated
    case forbidden(Role)
    case badCSRF
}

extension AppContext {
    /// The identity when it has at least `role`; else 401 (nobody) or 403 (not enough).
    func require(_ role: Role) throws -> Identity {
        guard let identity else { throw AccessError.unauthenticated }
        guard identity.role.allows(role) else { throw AccessError.forbidden(role) }
        return identity
    }
}

/// Counts requests and their durations per route and status for /metrics.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AppContext
    let registry: PrometheusCollectorRegistry

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let route = context.endpointPath ?? "unmatched"
            let labels = [("method", request.method.rawValue), ("route", route), ("status", String(status))]
            registry.makeCounter(name: "tierplan_http_requests_total", labels: labels).increment()
            registry.makeDurationHistogram(name: "tierplan_http_request_duration_seconds", labels: [("route", route)],
                                           buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                                     .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1)])
                .record(ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}

/// Form bodies (`application/x-www-form-urlencoded`) as a dictionary.
func formFields(_ request: Request) async throws -> [String: String] {
    let buffer = try await request.body.collect(upTo: 64 * 1024)
    return parseForm(String(buffer: buffer))
}

func parseForm(_ text: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in text.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func decode(_ s: Substring) -> String {
            s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
        }
        guard let key = parts.first else { continue }
        fields[decode(key)] = parts.count > 1 ? decode(parts[1]) : ""
    }
    return fields
}

/// Sign-in: bcrypt check of the password, then a session row and its cookie.
enum SignIn {
    /// What a sign-in attempt came to.
    enum Result { case session(cookie: String, csrf: String), wrong, throttled }

    /// Failed sign-ins that lock a name or an address out, and for how long.
    static let maxFailures = 5
    static let lockoutMinutes = 15

    /// Checks the password, unless the name or the address failed `maxFailures` times within
    /// `lockoutMinutes`; every attempt goes to the audit log. A success opens a new session (a new id
    /// whatever cookie the browser had).
    static func check(_ env: ServerEnvironment, name: String, password: String, address: String) async throws -> Result {
        let repository = env.repository
        let failures = try await repository.recentFailedSignIns(name: name, address: address, minutes: lockoutMinutes)
        if failures.name >= maxFailures || failures.address >= maxFailures {
            try await repository.audit(.signInThrottled, actor: name, subject: nil, address: address)
            return .throttled
        }
        let ok: Bool
        if let credentials = try await repository.credentials(name: name) {
            ok = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: credentials.hash) }
        } else {
            _ = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: dummyHash) }   // same cost whether or not the user exists
            ok = false
        }
        guard ok else {
            try await repository.audit(.signInFailed, actor: name, subject: nil, address: address)
            return .wrong
        }
        let session = try await repository.openSession(user: name)
        try await repository.audit(.signIn, actor: name, subject: nil, address: address)
        return .session(cookie: session.cookie, csrf: session.csrf)
    }

    static let dummyHash = Bcrypt.hash("not a password", cost: 10)

    static func cookie(_ value: String, secure: Bool, maxAge: Int = 12 * 3600) -> Cookie {
        Cookie(name: sessionCookie, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

/// Hashes a password for `tierplan users add`.
public enum PasswordHashing {
    public static func hash(_ password: String) -> String { Bcrypt.hash(password, cost: 11) }
    public static func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }
}
