import Foundation
import Hummingbird
import Logging
import Mustache
import Postgres
import Prometheus
import TierPlanCore
import TierPlanStore

/// Where and how `tierplan serve` listens.
public struct ServerArguments: Sendable {
    public var host: String
    public var port: Int
    public var conninfo: String
    public var poolSize: Int
    /// Mark the session cookie Secure (behind HTTPS).
    public var secureCookies: Bool

    public init(host: String = "127.0.0.1", port: Int = 8080, conninfo: String, poolSize: Int = 8, secureCookies: Bool = false) {
        self.host = host; self.port = port; self.conninfo = conninfo; self.poolSize = poolSize; self.secureCookies = secureCookies
    }
}

/// The request context: Hummingbird's core plus who is asking.
public struct AppContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }
}

/// Everything the routes share: the database pool, the templates and the metrics registry.
public struct ServerEnvironment: Sendable {
    public let pool: DatabasePool
    public let pages: Pages
    public let registry: PrometheusCollectorRegistry
    public let secureCookies: Bool
    /// The queue's owner and segment menus, and the currency and add-on names, read at most once a minute.
    let facets = MinuteCache<(owners: [String], segments: [String])>()
    let labels = MinuteCache<Labels>()

    public init(pool: DatabasePool, secureCookies: Bool = false) throws {
        self.pool = pool
        self.pages = try Pages()
        self.registry = PrometheusCollectorRegistry()
        self.secureCookies = secureCookies
    }

    /// Runs blocking database work on the pool's threads.
    func db<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }
}

/// Builds the Hummingbird application of `tierplan serve`.
public func buildApplication(_ arguments: ServerArguments, logger: Logger = Logger(label: "tierplan.serve")) throws -> some ApplicationProtocol {
    let environment = try ServerEnvironment(pool: DatabasePool(conninfo: arguments.conninfo, size: arguments.poolSize),
                                            secureCookies: arguments.secureCookies)
    return Application(
        router: buildRouter(environment),
        configuration: .init(address: .hostname(arguments.host, port: arguments.port), serverName: "tierplan"),
        services: [environment.pool],
        logger: logger)
}

/// All routes: pages, the JSON API, OpenAPI, health and Prometheus metrics.
public func buildRouter(_ env: ServerEnvironment) -> Router<AppContext> {
    let router = Router(context: AppContext.self)
    router.add(middleware: RequestMetricsMiddleware(registry: env.registry))
    router.add(middleware: IdentityMiddleware(env: env))
    router.add(middleware: RefusalMiddleware(env: env))
    PublicRoutes(env: env).register(on: router)
    PageRoutes(env: env).register(on: router)
    APIRoutes(env: env).register(on: router)
    return router
}

/// A value read from the database at most once a minute (the queue's menus and labels).
final class MinuteCache<Value>: @unchecked Sendable {   // `value` and `loaded` are guarded by `lock`
    private let lock = NSLock()
    private var value: Value?
    private var loaded = ContinuousClock.now

    func get(_ load: () throws -> Value) rethrows -> Value {
        if let cached = lock.withLock({ value.flatMap { ContinuousClock.now - loaded < .seconds(60) ? $0 : nil } }) { return cached }
        let fresh = try load()
        lock.withLock { value = fresh; loaded = ContinuousClock.now }
        return fresh
    }
}
