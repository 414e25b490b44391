import Foundation
import Postgres
import TierPlanCore

// The typed boundary around the database. The server's routes and the CLI's commands see only these
// protocols, which take and return Core types and the store's records; the SQL and the `Connection`
// stay behind them, in `PostgresRepository` and the `…Store` files it calls.

/// The catalog: tiers, features, add-ons and policy.
public protocol CatalogRepository: Sendable {
    func catalog() async throws -> Catalog
    func loadCatalog(_ catalog: Catalog, source: String) async throws -> CatalogLoadSummary
    /// The catalog's currency and the display names of add-ons, read together for labels.
    func labels() async throws -> CatalogLabels
    func featureNames() async throws -> [String: String]
}

/// Customer accounts and their billing history.
public protocol AccountRepository: Sendable {
    func upsertAccounts(_ accounts: [Account], catalog: Catalog, effective: Day?) async throws -> AccountImportSummary
    func account(id: String) async throws -> (account: Account, mrr: Int)?
    func accountNames(ids: [String]) async throws -> [String: String]
    func accountHistory(id: String) async throws -> [(day: String, tier: String, addons: String, status: String, mrr: Int)]
    func storageSeries(accountID: String, from: Day, to: Day) async throws -> [(day: Day, bytes: Int64)]
}

/// Offers, their events and review decisions.
public protocol OfferRepository: Sendable {
    func offers(status: OfferStatus?, accountID: String?, limit: Int?) async throws -> [OfferRecord]
    /// One page of the review queue and how many match (counted up to `OfferStore.Filter.countLimit` + 1).
    func offerPage(_ filter: OfferFilter) async throws -> (offers: [OfferRecord], total: Int)
    /// The same with the names of the page's accounts, by account id (what the queue page shows).
    func offerPageWithNames(_ filter: OfferFilter) async throws -> (offers: [OfferRecord], total: Int, names: [String: String])
    func offer(id: String) async throws -> OfferWithEvents?
    /// The signals the offer was built on, as a JSON object's text.
    func offerEvidence(id: String) async throws -> String
    /// Distinct owners and segments of accounts, for the queue's menus.
    func offerFacets() async throws -> (owners: [String], segments: [String])
    @discardableResult
    func decide(offerID: String, decision: OfferDecision, by actor: String, reason: String?, at: Timestamp?,
                expectedVersion: Int?) async throws -> OfferRecord
}

/// Usage, signals and the nightly job.
public protocol PlanRepository: Sendable {
    /// The as_of of the latest run, else today (UTC).
    func latestRunAsOf() async throws -> Day
    func signals(accountID: String, asOf: Day) async throws -> AccountSignals?
    /// Every watched account's signals (or the one asked for) in batches, in account order.
    func forEachSignals(asOf: Day, accountID: String?, _ body: @escaping @Sendable ([AccountSignals]) throws -> Void) async throws
    func plan(asOf: Day, dryRun: Bool, command: String, progress: @escaping @Sendable (Int) -> Void) async throws -> PlanResult
    func ingestUsage(_ request: UsageIngestRequest) async throws -> IngestSummary
    /// Deletes the raw events older than the catalog's `raw_retention_days` before `asOf`.
    func pruneUsage(asOf: Day, dryRun: Bool) async throws -> UsagePruneSummary
}

/// Finance's reports: forecast, backtest and metrics.
public protocol ReportRepository: Sendable {
    func forecast(_ request: ForecastRequest) async throws -> [(group: String, forecast: Forecast)]
    func backtest(_ request: BacktestRequest, progress: @escaping @Sendable (Int, Int) -> Void) async throws -> BacktestReport
    func metrics(asOf: Day, from: Day) async throws -> MetricsReport
    /// The loaded catalog and `proposed` side by side (contract: What if); writes nothing.
    func whatIf(_ proposed: Catalog, _ request: WhatIfRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> WhatIfReport
}

/// People, sessions and API tokens.
public protocol AccessRepository: Sendable {
    /// Adds a user; `actor` (who did it) goes to the audit log.
    func addUser(name: String, role: Role, passwordHash: String, by actor: String) async throws
    func users() async throws -> [(name: String, role: Role)]
    func credentials(name: String) async throws -> (hash: String, role: Role)?
    func createToken(name: String, role: Role, by actor: String) async throws -> String
    func audit(_ action: AuditAction, actor: String, subject: String?, address: String?) async throws
    func recentFailedSignIns(name: String, address: String, minutes: Int) async throws -> (name: Int, address: Int)
    func auditLog(limit: Int) async throws -> [AuditEntry]
    func identity(forToken token: String) async throws -> Identity?
    func identity(forSession cookie: String) async throws -> Identity?
    func openSession(user: String) async throws -> (cookie: String, csrf: String)
    func closeSession(cookie: String) async throws
}

/// Usage alerts, webhook endpoints and their deliveries.
public protocol WebhookRepository: Sendable {
    /// The usage thresholds an account has crossed, as the latest run saw them.
    func alerts(accountID: String) async throws -> [AlertRecord]
    func addWebhook(url: String, events: [WebhookEventType], format: WebhookFormat) async throws -> WebhookEndpointCreated
    func webhooks(includeRemoved: Bool) async throws -> [WebhookEndpointRecord]
    func removeWebhook(id: Int) async throws
    func webhookDeliveries(status: WebhookDeliveryStatus?, endpointID: Int?, limit: Int) async throws -> [WebhookDeliveryRecord]
    func redeliver(deliveryID: Int) async throws -> WebhookDeliveryRecord
    /// Queues a `webhook.test` event for one endpoint; returns its event id.
    func sendTestEvent(endpointID: Int) async throws -> String
}

/// Everything tierplan keeps, as the server and the commands use it.
public protocol TierPlanRepository: CatalogRepository, AccountRepository, OfferRepository, PlanRepository, ReportRepository,
                                    AccessRepository, WebhookRepository {
    /// Throws when the database cannot be reached.
    func check() async throws
}

/// The catalog's currency and add-on display names.
public struct CatalogLabels: Sendable {
    public var currency: String
    public var addonNames: [String: String]
    public init(currency: String, addonNames: [String: String]) { self.currency = currency; self.addonNames = addonNames }
}

/// A usage file to ingest, and how.
public struct UsageIngestRequest: Sendable {
    public var file: String
    public var format: UsageFormat?
    public var onError: OnError
    public var rejectsPath: String?
    public var progress: @Sendable (IngestProgress) -> Void

    public init(file: String, format: UsageFormat? = nil, onError: OnError = .abort, rejectsPath: String? = nil,
                progress: @escaping @Sendable (IngestProgress) -> Void = { _ in }) {
        self.file = file; self.format = format; self.onError = onError; self.rejectsPath = rejectsPath; self.progress = progress
    }
}

/// The repositories on PostgreSQL, through a `DatabasePool`.
public struct PostgresRepository: TierPlanRepository {
    public let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    private func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }

    public func check() async throws { try await pool.check() }

    // Catalog
    public func catalog() async throws -> Catalog { try await run(CatalogStore.read) }
    public func loadCatalog(_ catalog: Catalog, source: String) async throws -> CatalogLoadSummary {
        try await run { try CatalogStore.load(catalog, source: source, into: $0) }
    }
    public func labels() async throws -> CatalogLabels {
        try await run { CatalogLabels(currency: try CatalogStore.currency($0), addonNames: try CatalogStore.addonNames($0)) }
    }
    public func featureNames() async throws -> [String: String] { try await run(CatalogStore.featureNames) }

    // Accounts
    public func upsertAccounts(_ accounts: [Account], catalog: Catalog, effective: Day?) async throws -> AccountImportSummary {
        try await run { try AccountStore.upsert(accounts, catalog: catalog, effective: effective, into: $0) }
    }
    public func account(id: String) async throws -> (account: Account, mrr: Int)? { try await run { try AccountStore.account($0, id: id) } }
    public func accountNames(ids: [String]) async throws -> [String: String] { try await run { try AccountStore.names($0, ids: ids) } }
    public func accountHistory(id: String) async throws -> [(day: String, tier: String, addons: String, status: String, mrr: Int)] {
        try await run { try AccountStore.history($0, id: id) }
    }
    public func storageSeries(accountID: String, from: Day, to: Day) async throws -> [(day: Day, bytes: Int64)] {
        try await run { try AccountStore.storageSeries($0, id: accountID, from: from, to: to) }
    }

    // Offers
    public func offers(status: OfferStatus?, accountID: String?, limit: Int?) async throws -> [OfferRecord] {
        try await run { try OfferStore.list($0, status: status, accountID: accountID, limit: limit) }
    }
    public func offerPage(_ filter: OfferFilter) async throws -> (offers: [OfferRecord], total: Int) {
        try await run { try OfferStore.page($0, filter) }
    }
    public func offerPageWithNames(_ filter: OfferFilter) async throws -> (offers: [OfferRecord], total: Int, names: [String: String]) {
        try await run { try OfferStore.pageWithNames($0, filter) }
    }
    public func offer(id: String) async throws -> OfferWithEvents? {
        try await run { db in
            guard let offer = try OfferStore.get(db, id: id) else { return nil }
            return OfferWithEvents(offer: offer, events: try OfferStore.events(db, offerID: id))
        }
    }
    public func offerEvidence(id: String) async throws -> String { try await run { try OfferStore.evidence($0, id: id) } }
    public func offerFacets() async throws -> (owners: [String], segments: [String]) { try await run(OfferStore.facets) }
    @discardableResult
    public func decide(offerID: String, decision: OfferDecision, by actor: String, reason: String?, at: Timestamp?,
                       expectedVersion: Int? = nil) async throws -> OfferRecord {
        try await run { try OfferStore.decide($0, offerID: offerID, decision: decision, by: actor, reason: reason, at: at,
                                              expectedVersion: expectedVersion) }
    }

    // Usage, signals, the nightly job
    public func latestRunAsOf() async throws -> Day { try await run(PlanRun.latestAsOf) }
    public func signals(accountID: String, asOf: Day) async throws -> AccountSignals? {
        try await run { try SignalsStore.signals($0, accountID: accountID, asOf: asOf, catalog: try CatalogStore.read($0)) }
    }
    public func forEachSignals(asOf: Day, accountID: String?, _ body: @escaping @Sendable ([AccountSignals]) throws -> Void) async throws {
        try await run { try SignalsStore.forEachSignals($0, asOf: asOf, accountID: accountID, catalog: try CatalogStore.read($0), body) }
    }
    public func plan(asOf: Day, dryRun: Bool, command: String, progress: @escaping @Sendable (Int) -> Void) async throws -> PlanResult {
        try await run { try PlanRun.execute($0, asOf: asOf, dryRun: dryRun, command: command, progress: progress) }
    }
    public func ingestUsage(_ request: UsageIngestRequest) async throws -> IngestSummary {
        try await run { db in
            var ingest = UsageIngest()
            ingest.onError = request.onError
            ingest.rejectsPath = request.rejectsPath
            ingest.progress = request.progress
            return try ingest.run(path: request.file, format: request.format, into: db)
        }
    }

    public func pruneUsage(asOf: Day, dryRun: Bool) async throws -> UsagePruneSummary {
        try await run { try UsagePrune.execute($0, asOf: asOf, dryRun: dryRun) }
    }

    // Reports
    public func forecast(_ request: ForecastRequest) async throws -> [(group: String, forecast: Forecast)] {
        try await run { try ForecastStore.forecast($0, request, policy: try CatalogStore.read($0).policy) }
    }
    public func backtest(_ request: BacktestRequest, progress: @escaping @Sendable (Int, Int) -> Void) async throws -> BacktestReport {
        try await run { try ForecastStore.backtest($0, request, policy: try CatalogStore.read($0).policy, progress: progress) }
    }
    public func metrics(asOf: Day, from: Day) async throws -> MetricsReport {
        try await run { try MetricsStore.report($0, asOf: asOf, from: from, catalog: try CatalogStore.read($0)) }
    }
    public func whatIf(_ proposed: Catalog, _ request: WhatIfRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> WhatIfReport {
        try await run { try WhatIfStore.compare($0, proposed: proposed, request, progress: progress) }
    }

    // Access
    public func addUser(name: String, role: Role, passwordHash: String, by actor: String) async throws {
        try await run { try AccessStore.addUser($0, name: name, role: role, passwordHash: passwordHash, by: actor) }
    }
    public func users() async throws -> [(name: String, role: Role)] { try await run(AccessStore.users) }
    public func credentials(name: String) async throws -> (hash: String, role: Role)? { try await run { try AccessStore.credentials($0, name: name) } }
    public func createToken(name: String, role: Role, by actor: String) async throws -> String {
        try await run { try AccessStore.createToken($0, name: name, role: role, by: actor) }
    }
    public func audit(_ action: AuditAction, actor: String, subject: String?, address: String?) async throws {
        try await run { try AccessStore.audit($0, action, actor: actor, subject: subject, address: address) }
    }
    public func recentFailedSignIns(name: String, address: String, minutes: Int) async throws -> (name: Int, address: Int) {
        try await run { try AccessStore.recentFailedSignIns($0, name: name, address: address, minutes: minutes) }
    }
    public func auditLog(limit: Int) async throws -> [AuditEntry] { try await run { try AccessStore.auditLog($0, limit: limit) } }
    public func identity(forToken token: String) async throws -> Identity? { try await run { try AccessStore.identity(forToken: token, $0) } }
    public func identity(forSession cookie: String) async throws -> Identity? { try await run { try AccessStore.identity(forSession: cookie, $0) } }
    public func openSession(user: String) async throws -> (cookie: String, csrf: String) { try await run { try AccessStore.openSession($0, user: user) } }
    public func closeSession(cookie: String) async throws { try await run { try AccessStore.closeSession($0, cookie: cookie) } }

    // Alerts and webhooks
    public func alerts(accountID: String) async throws -> [AlertRecord] { try await run { try AlertStore.active($0, accountID: accountID) } }
    public func addWebhook(url: String, events: [WebhookEventType], format: WebhookFormat) async throws -> WebhookEndpointCreated {
        try await run { try WebhookStore.add($0, url: url, events: events, format: format) }
    }
    public func webhooks(includeRemoved: Bool) async throws -> [WebhookEndpointRecord] {
        try await run { try WebhookStore.list($0, includeRemoved: includeRemoved) }
    }
    public func removeWebhook(id: Int) async throws { try await run { try WebhookStore.remove($0, id: id) } }
    public func webhookDeliveries(status: WebhookDeliveryStatus?, endpointID: Int?, limit: Int) async throws -> [WebhookDeliveryRecord] {
        try await run { try WebhookStore.deliveries($0, status: status, endpointID: endpointID, limit: limit) }
    }
    public func redeliver(deliveryID: Int) async throws -> WebhookDeliveryRecord { try await run { try WebhookStore.redeliver($0, deliveryID: deliveryID) } }
    public func sendTestEvent(endpointID: Int) async throws -> String { try await run { try WebhookStore.sendTest($0, endpointID: endpointID) } }
}

extension DatabaseTarget {
    /// The repositories of a command: one connection (the embedded cluster started and the schema
    /// checked first, as `connect` does).
    public func repository(checkSchema: Bool = true, log: (String) -> Void = { _ in }) throws -> PostgresRepository {
        PostgresRepository(pool: DatabasePool(connection: try connect(checkSchema: checkSchema, log: log), conninfo: conninfo))
    }

    /// The repositories of the server: a pool of `size` connections on threads of their own.
    public func pooledRepository(size: Int) -> PostgresRepository {
        PostgresRepository(pool: DatabasePool(conninfo: conninfo, size: size))
    }

    /// Applies the schema (safe to repeat): the version before (nil on an empty database) and after.
    public func migrate() throws -> (before: Int?, after: Int) {
        let db = try connect(checkSchema: false)
        let before = try Schema.migrate(db)
        return (before, try Schema.installedVersion(db) ?? 0)
    }

    /// The installed schema version (nil when none).
    public func schemaVersion() throws -> Int? { try Schema.installedVersion(try connect(checkSchema: true)) }
}

/// The review queue's filters (status, kind, reason, owner, segment, account, page).
public typealias OfferFilter = OfferStore.Filter
