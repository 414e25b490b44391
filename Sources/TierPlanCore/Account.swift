import Foundation

/// Where an account stands with billing.
public enum AccountStatus: String, Sendable, Codable, CaseIterable {
    case active, trialing, pastDue = "past_due", canceled

    /// Paying accounts count in MRR and ARPU.
    public var isPaying: Bool { self == .active || self == .pastDue }

    /// The planner watches every account that has not canceled (trials included).
    public var isWatched: Bool { self != .canceled }
}

/// A customer account as imported: its tier, add-ons, discount and who looks after it.
public struct Account: Sendable, Equatable {
    public var id: String
    public var name: String
    public var tier: String
    public var status: AccountStatus
    public var createdAt: Timestamp
    public var addons: [AddonQuantity]
    public var discount: Discount
    public var segment: String
    public var owner: String
    public var canceledAt: Timestamp?

    public init(id: String, name: String, tier: String, status: AccountStatus, createdAt: Timestamp, addons: [AddonQuantity] = [],
                discount: Discount = .none, segment: String = "", owner: String = "", canceledAt: Timestamp? = nil) {
        self.id = id; self.name = name; self.tier = tier; self.status = status; self.createdAt = createdAt
        self.addons = addons; self.discount = discount; self.segment = segment; self.owner = owner; self.canceledAt = canceledAt
    }

    /// Monthly recurring revenue of this account under `catalog`, in minor units.
    public func mrr(in catalog: Catalog) -> MinorUnits {
        guard let tier = catalog.tier(tier) else { return 0 }
        return Pricing.mrr(tier: tier, addons: addons, catalog: catalog, discount: discount)
    }

    /// `addons` as the CSV writes them: `code:qty` joined by `;`, sorted by code.
    public var addonsText: String {
        addons.sorted { $0.addon < $1.addon }.map { "\($0.addon):\($0.quantity)" }.joined(separator: ";")
    }
}

/// Reads the accounts CSV and checks every row against the catalog; any bad row refuses the file.
public enum AccountsCSV {
    /// The most of one add-on an account can hold.
    public static let maxAddonQuantity = 1_000_000

    public static let header = ["account_id", "name", "tier", "status", "created_at", "addons", "discount_pct", "segment", "owner", "canceled_at"]

    /// Parses and validates the whole text; throws `InputErrors` naming every bad line and field.
    public static func parse(_ text: String, file: String, catalog: Catalog) throws -> [Account] {
        var reader = CSVReader(text: text)
        guard let head = reader.next() else {
            throw InputErrors([InputError(file: file, line: 1, reason: "empty file: expected the header \(header.joined(separator: ","))")])
        }
        let names = head.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let required = Array(header.prefix(9))
        guard names == required || names == header else {
            throw InputErrors([InputError(file: file, line: head.line, field: "header", value: head.fields.joined(separator: ","),
                                          reason: "expected \(required.joined(separator: ","))[,canceled_at]")])
        }
        var errors: [InputError] = []
        var accounts: [Account] = []
        var seen: [String: Int] = [:]
        while let record = reader.next() {
            func fail(_ field: String?, _ value: String?, _ reason: String) {
                errors.append(InputError(file: file, line: record.line, field: field, value: value, reason: reason))
            }
            guard record.fields.count == names.count else {
                fail(nil, nil, "expected \(names.count) fields, found \(record.fields.count)"); continue
            }
            var f: [String: String] = [:]
            for (name, value) in zip(names, record.fields) { f[name] = value.trimmingCharacters(in: .whitespaces) }
            let before = errors.count
            let id = f["account_id"]!
            if id.isEmpty || id.count > 128 || id.contains(where: { $0.isNewline || $0 == "\t" }) {
                fail("account_id", id, "must be 1 to 128 characters without tabs or newlines")
            } else if let first = seen[id] {
                fail("account_id", id, "duplicate account (first on line \(first))")
            } else { seen[id] = record.line }
            let tierCode = f["tier"]!
            let tier = catalog.tier(tierCode)
            if tier == nil { fail("tier", tierCode, "unknown tier (known: \(catalog.tiers.map(\.code).joined(separator: ", ")))") }
            let status = AccountStatus(rawValue: f["status"]!)
            if status == nil { fail("status", f["status"], "must be one of active, trialing, past_due, canceled") }
            let created = Timestamp(iso: f["created_at"]!)
            if created == nil { fail("created_at", f["created_at"], "must be a date YYYY-MM-DD or an ISO 8601 time") }
            var canceled: Timestamp?
            if let text = f["canceled_at"], !text.isEmpty {
                canceled = Timestamp(iso: text)
                if canceled == nil { fail("canceled_at", text, "must be a date YYYY-MM-DD or an ISO 8601 time") }
            }
            let discount = Discount(percentText: f["discount_pct"]!)
            if discount == nil { fail("discount_pct", f["discount_pct"], "must be a percentage from 0 to 100 with at most 2 decimals") }
            var addons: [AddonQuantity] = []
            for item in f["addons"]!.split(separator: ";", omittingEmptySubsequences: true) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let qty = Int(parts[1]), qty > 0, qty <= maxAddonQuantity else {
                    fail("addons", String(item), "each add-on is code:quantity with a quantity from 1 to \(maxAddonQuantity)"); continue
                }
                guard let addon = catalog.addon(parts[0]) else { fail("addons", String(item), "unknown add-on"); continue }
                if addons.contains(where: { $0.addon == addon.code }) { fail("addons", String(item), "add-on listed twice"); continue }
                if let tier, !addon.isAvailable(on: tier.code) {
                    fail("addons", String(item), "add-on is not available on tier \(tier.code)"); continue
                }
                if addon.kind == .service { fail("addons", String(item), "a service add-on is sold once, not held by an account"); continue }
                addons.append(AddonQuantity(addon: addon.code, quantity: qty))
            }
            if errors.count == before, let tier, !catalog.fits(tier: tier, addons: addons) {
                fail("addons", f["addons"], "these add-ons add up to a price, storage or seats too large to compute")
            }
            guard errors.count == before, let status, let created, let discount, tier != nil else { continue }
            accounts.append(Account(id: id, name: f["name"]!, tier: tierCode, status: status, createdAt: created, addons: addons,
                                    discount: discount, segment: f["segment"]!, owner: f["owner"]!, canceledAt: canceled))
        }
        if !errors.isEmpty { throw InputErrors(errors) }
        return accounts
    }
}
