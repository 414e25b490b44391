import Foundation
import Postgres
import TierPlanCore
import Yams

/// Reads catalog YAML into a validated `Catalog`, with the line of every problem.
public enum CatalogFile {
    public static func parse(yaml: String, file: String) throws -> Catalog {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            if case .duplicatedKeysInMapping(let keys, let context) = error {
                let key = keys.sorted()[0]
                throw InputErrors([InputError(file: file, line: secondLine(of: key, in: yaml, from: context.mark.line) ?? min(context.mark.line, lineCount(of: yaml)),
                                              field: key, reason: "key given twice")])
            }
            // libyaml puts an error at the end of the input on a line after the last one (it ends
            // the stream with a line break of its own): name the last line instead.
            throw InputErrors([InputError(file: file, line: min(line(of: error), lineCount(of: yaml)),
                                          reason: "not valid YAML: \(summary(of: error))")])
        }
        guard let root else { throw InputErrors([InputError(file: file, line: 1, reason: "empty catalog")]) }
        return try CatalogParser.parse(try sourceNode(root, file: file, lastLine: lineCount(of: yaml)), file: file)
    }

    /// `lastLine`: an empty value at the end of the input (`key:` on the last line) has its mark on
    /// the line libyaml adds after it; it is named on the last line.
    static func sourceNode(_ node: Yams.Node, file: String, lastLine: Int = .max) throws -> SourceNode {
        let line = min(node.mark?.line ?? 1, lastLine)
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, line: line)
        case .sequence(let sequence):
            return .list(try sequence.map { try sourceNode($0, file: file, lastLine: lastLine) }, line: line)
        case .mapping(let mapping):
            var entries: [(key: String, value: SourceNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw InputErrors([InputError(file: file, line: min(key.mark?.line ?? line, lastLine), reason: "keys must be plain words")])
                }
                entries.append((keyScalar.string, try sourceNode(value, file: file, lastLine: lastLine)))
            }
            return .map(entries, line: line)
        case .alias:
            throw InputErrors([InputError(file: file, line: line, reason: "YAML aliases are not supported in a catalog")])
        }
    }

    /// The line where `key:` appears for the second time from line `start` on (the duplicate).
    static func secondLine(of key: String, in yaml: String, from start: Int) -> Int? {
        let pattern = try! NSRegularExpression(pattern: "(^|[\\s{,])" + NSRegularExpression.escapedPattern(for: key) + "\\s*:")
        var seen = 0
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where index + 1 >= start {
            let text = String(line)
            seen += pattern.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text))
            if seen >= 2 { return index + 1 }
        }
        return nil
    }

    /// The lines of `yaml` as YAML counts them (LF, CR, CRLF, NEL, LS and PS end a line; a final
    /// line break does not start another line), at least 1.
    static func lineCount(of yaml: String) -> Int {
        var lines = 0, open = false
        for c in yaml {
            if c == "\n" || c == "\r\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" { lines += 1; open = false }
            else { open = true }
        }
        return max(1, lines + (open ? 1 : 0))
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return 1
        }
    }

    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return problem
        default: return "\(error)".split(separator: "\n").first.map(String.init) ?? "parse error"
        }
    }
}

/// What a catalog load changed.
public struct CatalogLoadSummary: Codable, Sendable {
    public var currency: String
    public var features: Int
    public var tiers: Int
    public var addons: Int
    public var bundles: Int
    public var removed: [String]
    /// Accounts whose MRR changed with the new prices.
    public var accountsRepriced: Int
    public var policy: Policy
}

/// The SQL of the catalog tables: replace the whole catalog atomically, read it back.
public enum CatalogStore {
    /// Replaces the catalog in one transaction. Refuses (changing nothing) when a tier or add-on
    /// still used by an account would disappear, or the currency would change under accounts.
    public static func load(_ catalog: Catalog, source: String, into db: Connection) throws -> CatalogLoadSummary {
        try db.transaction { db in
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('tierplan.catalog'))")
            let codes = Codes(catalog)
            let problems = try refusals(db, catalog, codes)
            if !problems.isEmpty { throw StoreError.refused("\(source): catalog refused, nothing changed: " + problems.joined(separator: "; ")) }
            let removed = try db.query("""
                SELECT 'tier ' || code FROM tiers WHERE NOT (code = ANY($1::text[]))
                UNION ALL SELECT 'add-on ' || code FROM addons WHERE NOT (code = ANY($2::text[]))
                UNION ALL SELECT 'feature ' || key FROM features WHERE NOT (key = ANY($3::text[]))
                """, [codes.tiers, codes.addons, codes.features]).rows.map { try $0.decode(0, as: String.self) }
            try upsertEntries(db, catalog)
            try db.execute("DELETE FROM addons WHERE NOT (code = ANY($1::text[]))", [codes.addons])
            try db.execute("DELETE FROM tiers WHERE NOT (code = ANY($1::text[]))", [codes.tiers])
            try db.execute("DELETE FROM features WHERE NOT (key = ANY($1::text[]))", [codes.features])
            try db.execute("""
                INSERT INTO catalog (id, currency, policy, source, loaded_at) VALUES (true, $1, $2::jsonb, $3, now())
                ON CONFLICT (id) DO UPDATE SET currency = excluded.currency, policy = excluded.policy,
                    source = excluded.source, loaded_at = excluded.loaded_at
                """, [catalog.currency, try policyJSON(catalog.policy), source])
            let repriced = try AccountStore.reprice(db, catalog: catalog, on: Timestamp.now.day)
            return CatalogLoadSummary(currency: catalog.currency, features: catalog.features.count, tiers: catalog.tiers.count,
                                      addons: catalog.addons.count { $0.kind != .bundle }, bundles: catalog.addons.count { $0.kind == .bundle }, removed: removed, accountsRepriced: repriced, policy: catalog.policy)
        }
    }

    /// The codes of the new catalog, as bound arrays.
    struct Codes {
        var tiers, addons, features: PostgresArray<String>
        init(_ catalog: Catalog) {
            tiers = PostgresArray(catalog.tiers.map(\.code))
            addons = PostgresArray(catalog.addons.map(\.code))
            features = PostgresArray(catalog.features.map(\.key))
        }
    }

    /// Why the new catalog cannot replace the loaded one: tiers and add-ons still in use, a currency change under accounts.
    private static func refusals(_ db: Connection, _ catalog: Catalog, _ codes: Codes) throws -> [String] {
        var problems: [String] = []
        for row in try db.query("""
            SELECT tier_code, count(*), min(account_id) FROM accounts
            WHERE NOT (tier_code = ANY($1::text[])) GROUP BY tier_code ORDER BY tier_code
            """, [codes.tiers]).rows {
            problems.append("tier '\(try row.decode(0, as: String.self))' is still used by \(try row.decode(1, as: Int.self)) account(s), e.g. '\(try row.decode(2, as: String.self))', and cannot be removed")
        }
        for row in try db.query("""
            SELECT addon_code, count(*), min(account_id) FROM account_addons
            WHERE NOT (addon_code = ANY($1::text[])) GROUP BY addon_code ORDER BY addon_code
            """, [codes.addons]).rows {
            problems.append("add-on '\(try row.decode(0, as: String.self))' is still held by \(try row.decode(1, as: Int.self)) account(s), e.g. '\(try row.decode(2, as: String.self))', and cannot be removed")
        }
        if let current = try db.query("SELECT currency FROM catalog").first?.decode(0, as: String.self),
           current != catalog.currency,
           try db.query("SELECT EXISTS (SELECT 1 FROM accounts)").first?.decode(0, as: Bool.self) == true {
            problems.append("currency cannot change from \(current) to \(catalog.currency) while accounts exist")
        }
        return problems
    }

    /// Features, tiers with their features, and add-ons, inserted or updated in place.
    private static func upsertEntries(_ db: Connection, _ catalog: Catalog) throws {
        try db.execute("DELETE FROM tier_features")
        for feature in catalog.features {
            try db.execute("""
                INSERT INTO features (key, name) VALUES ($1, $2)
                ON CONFLICT (key) DO UPDATE SET name = excluded.name
                """, [feature.key, feature.name])
        }
        for tier in catalog.tiers {
            try db.execute("""
                INSERT INTO tiers (code, name, rank, price_monthly, storage_gb, seats) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (code) DO UPDATE SET name = excluded.name, rank = excluded.rank,
                    price_monthly = excluded.price_monthly, storage_gb = excluded.storage_gb, seats = excluded.seats
                """, [tier.code, tier.name, tier.rank, tier.priceMonthly, tier.storageGB, tier.seats])
            for feature in tier.features {
                try db.execute("INSERT INTO tier_features (tier_code, feature_key) VALUES ($1, $2)", [tier.code, feature])
            }
        }
        for addon in catalog.addons {
            try db.execute("""
                INSERT INTO addons (code, name, kind, storage_gb, seats, feature_key, price_monthly, price_once, available_on, contents)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::jsonb)
                ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, storage_gb = excluded.storage_gb,
                    seats = excluded.seats, feature_key = excluded.feature_key, price_monthly = excluded.price_monthly,
                    price_once = excluded.price_once, available_on = excluded.available_on, contents = excluded.contents
                """, [addon.code, addon.name, addon.kind.rawValue, addon.storageGB, addon.seats, addon.feature,
                      addon.priceMonthly, addon.priceOnce, addon.availableOn.map(PostgresArray.init), try PlanRun.json(addon.contents)])
        }
    }

    /// The catalog as loaded; throws `StoreError.noCatalog` when none was.
    public static func read(_ db: Connection) throws -> Catalog {
        guard let head = try db.query("SELECT currency, policy::text FROM catalog").first else { throw StoreError.noCatalog }
        let policyText = try head.decode(1, as: String.self)
        // Keys a catalog loaded by an older version did not store take their defaults.
        let defaults = try JSONSerialization.jsonObject(with: ContractJSON.data(Policy())) as? [String: Any] ?? [:]
        let stored = try JSONSerialization.jsonObject(with: Data(policyText.utf8)) as? [String: Any] ?? [:]
        let policy = try JSONDecoder.snakeCase.decode(Policy.self, from: JSONSerialization.data(withJSONObject: defaults.merging(stored) { $1 }))
        let features = try db.query("SELECT key, name FROM features ORDER BY key").rows.map {
            Feature(key: try $0.decode(0), name: try $0.decode(1))
        }
        var tierFeatures: [String: [String]] = [:]
        for row in try db.query("SELECT tier_code, feature_key FROM tier_features ORDER BY tier_code, feature_key").rows {
            tierFeatures[try row.decode(0, as: String.self), default: []].append(try row.decode(1))
        }
        let tiers = try db.query("SELECT code, name, rank, price_monthly, storage_gb, seats FROM tiers ORDER BY rank").rows.map { row in
            let code: String = try row.decode(0)
            return Tier(code: code, name: try row.decode(1), rank: try row.decode(2), priceMonthly: try row.decode(3),
                        storageGB: try row.decode(4), seats: try row.decode(5), features: tierFeatures[code] ?? [])
        }
        let addons = try db.query("""
            SELECT code, name, kind, storage_gb, seats, feature_key, price_monthly, price_once, available_on, contents::text
            FROM addons ORDER BY code
            """).rows.map { row in
            Addon(code: try row.decode(0), name: try row.decode(1), kind: AddonKind(rawValue: try row.decode(2)) ?? .service,
                  storageGB: try row.decode(3), seats: try row.decode(4), feature: try row.decodeIfPresent(5),
                  priceMonthly: try row.decode(6), priceOnce: try row.decode(7),
                  availableOn: try row.decodeIfPresent(8, as: PostgresArray<String>.self)?.elements,
                  contents: try JSONDecoder().decode([AddonQuantity].self, from: Data(try row.decode(9, as: String.self).utf8)))
        }
        return Catalog(currency: try head.decode(0), features: features, tiers: tiers, addons: addons, policy: policy)
    }

    static func policyJSON(_ policy: Policy) throws -> String {
        try ContractJSON.text(policy)
    }

    /// The catalog's currency ("USD" before any catalog is loaded).
    public static func currency(_ db: Connection) throws -> String {
        try db.query("SELECT currency FROM catalog").first?.decode(0) ?? "USD"
    }

    /// Add-on names by code.
    public static func addonNames(_ db: Connection) throws -> [String: String] {
        try names(db, "SELECT code, name FROM addons")
    }

    /// Feature names by key.
    public static func featureNames(_ db: Connection) throws -> [String: String] {
        try names(db, "SELECT key, name FROM features")
    }

    static func names(_ db: Connection, _ sql: String) throws -> [String: String] {
        var names: [String: String] = [:]
        for row in try db.query(sql).rows { names[try row.decode(0)] = try row.decode(1) }
        return names
    }
}

extension JSONDecoder {
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
