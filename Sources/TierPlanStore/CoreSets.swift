import Postgres
import TierPlanCore

/// The sets Core rules define, as bound parameters (`kind = ANY($1::text[])`): SQL never copies a
/// rule as literals, so a new case is classified by its predicate everywhere.
enum CoreSets {
    static func of<Value: RawRepresentable & CaseIterable>(_ keep: (Value) -> Bool) -> PostgresArray<String> where Value.RawValue == String {
        PostgresArray(Value.allCases.filter(keep).map(\.rawValue))
    }

    static var payingStatuses: PostgresArray<String> { of(\AccountStatus.isPaying) }
    static var expansionKinds: PostgresArray<String> { of(\OfferKind.isExpansion) }
    static var openStatuses: PostgresArray<String> { of(\OfferStatus.isOpen) }
    static var currentStatuses: PostgresArray<String> { of(\OfferStatus.isCurrent) }
    static var watchedStatuses: PostgresArray<String> { of(\AccountStatus.isWatched) }
    /// What the guardrails remember: refusals and acceptances.
    static var guardrailStatuses: PostgresArray<String> { of { (status: OfferStatus) in status.isRefusal || status == .accepted } }
    static var outcomeStatuses: PostgresArray<String> { of(\OfferStatus.isOutcome) }
    /// The kinds and statuses of the offers an acceptance expires (`OfferLife.expiresOnAcceptance`).
    static var expiredOnAcceptance: (kinds: PostgresArray<String>, statuses: PostgresArray<String>) {
        (of { kind in OfferStatus.allCases.contains { OfferLife.expiresOnAcceptance(kind: kind, status: $0) } },
         of { status in OfferKind.allCases.contains { OfferLife.expiresOnAcceptance(kind: $0, status: status) } })
    }
}

// Core values read from result columns as themselves (an unknown value is a decoding error).
extension OfferKind: PostgresDecodable { public init?(postgresText: String) { self.init(rawValue: postgresText) } }
extension OfferStatus: PostgresDecodable { public init?(postgresText: String) { self.init(rawValue: postgresText) } }
extension AccountStatus: PostgresDecodable { public init?(postgresText: String) { self.init(rawValue: postgresText) } }
extension Day: PostgresDecodable { public init?(postgresText: String) { self.init(iso: postgresText) } }
extension Timestamp: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { iso }
    public init?(postgresText: String) { self.init(iso: postgresText) }
}
