import Foundation
import Hummingbird
import Logging
import Mustache
import NIOCore
import Prometheus
import ServiceLifecycle
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
    /// Deliver webhook events in the background (`WebhookDeliveryService`).
    public var deliverWebhooks: Bool

    public init(host: String = "127.0.0.1", port: Int = 8080, conninfo: String, poolSize: Int = 8, secureCookies: Bool = false,
                deliverWebhooks: Bool = true) {
        self.host = host; self.port = port; self.conninfo = conninfo; self.poolSize = poolSize; self.secureCookies = secureCookies
        self.deliverWebhooks = deliverWebhooks
    }
}

/// The request context: Hummingbird's core plus who is asking.
public struct AppContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    /// The client's address (sign-in throttling and the audit log).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }
}

/// Everything the routes share: the repository, the templates and the metrics registry.
public struct ServerEnvironment: Sendable {
    public let repository: any TierPlanRepository
    public let pages: Pages
    public let registry: PrometheusCollectorRegistry
    public let secureCookies: Bool
    /// The queue's owner and segment menus, and the currency and add-on names, read at most once a minute.
    let facets = MinuteCache<(owners: [String], segments: [String])>()
    let labels = MinuteCache<CatalogLabels>()

    public init(repository: some TierPlanRepository, secureCookies: Bool = false) throws {
        self.repository = repository
        self.pages = try Pages()
        self.registry = PrometheusCollectorRegistry()
        self.secureCookies = secureCookies
    }

    /// The day asked for, else the latest run's as_of (what pages and the API show by default).
    func asOf(_ given: Day?) async throws -> Day {
        if let given { return given }
        return try await repository.latestRunAsOf()
    }
}

/// Builds the Hummingbird application of `tierplan serve`.
public func buildApplication(_ arguments: ServerArguments, logger: Logger = Logger(label: "tierplan.serve")) throws -> some ApplicationProtocol {
    let repository = PostgresRepository(pool: DatabasePool(conninfo: arguments.conninfo, size: arguments.poolSize))
    var services: [any Service] = [repository.pool]
    if arguments.deliverWebhooks { services.append(WebhookDeliveryService(conninfo: arguments.conninfo, logger: logger)) }
    return Application(
        router: try buildRouter(repository, secureCookies: arguments.secureCookies),
        configuration: .init(address: .hostname(arguments.host, port: arguments.port), serverName: "tierplan"),
        services: services,
        logger: logger)
}

/// All routes over `repository`: pages, the JSON API, OpenAPI, health and Prometheus metrics.
public func buildRouter(_ repository: some TierPlanRepository, secureCookies: Bool = false) throws -> Router<AppContext> {
    buildRouter(try ServerEnvironment(repository: repository, secureCookies: secureCookies))
}

/// All routes of `env`.
public func buildRouter(_ env: ServerEnvironment) -> Router<AppContext> {
    let router = Router(context: AppContext.self)
    router.add(middleware: FailureMiddleware(env: env))
    router.add(middleware: RequestMetricsMiddleware(registry: env.registry))
    router.add(middleware: IdentityMiddleware(env: env))
    router.add(middleware: RefusalMiddleware(env: env))
    router.add(middleware: APIContractMiddleware())
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

    func get(_ load: () async throws -> Value) async rethrows -> Value {
        if let cached = lock.withLock({ value.flatMap { ContinuousClock.now - loaded < .seconds(60) ? $0 : nil } }) { return cached }
        let fresh = try await load()
        lock.withLock { value = fresh; loaded = ContinuousClock.now }
        return fresh
    }
}
