import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

extension ExistingPricing: ExpressibleByArgument {}

/// `tierplan whatif --catalog FILE --as-of D`: offers, MRR and ARPU under another catalog, side by
/// side with the loaded one; nothing written.
struct WhatIfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Offers, MRR and ARPU under another catalog, side by side with the loaded one; nothing written.",
        discussion: """
            FILE is checked exactly as `catalog load` checks it, and never stored. Every watched account is signalled and
            planned (a dry run) under both catalogs with the same usage, offer history, guardrails and policy: the loaded
            catalog's policy applies to both sides, so only products and prices differ.
            --existing keep (default): on the FILE side existing accounts pay what they pay today.
            --existing reprice: every paying account is priced under FILE (its tier, add-ons and discount).
            Either way an offer under FILE is priced within FILE, as `plan` would price it with FILE loaded.
            The forecast is month --months of the history model, from each side's paying MRR and the expansion offers of
            its dry-run plan (one per account, the largest expected delta), with the same learnt rates.
            Accounts whose tier or add-on FILE lacks are listed as unmapped, get no plan under FILE and keep their MRR.
            """)
    @Option(help: "The other catalog (YAML), or - for stdin.") var catalog: String
    @OptionGroup var day: AsOfOption
    @Option(help: "Forecast month to compare (1 to 120).") var months: Int = 12
    @Option(help: "keep (existing accounts pay what they pay) or reprice (every account priced under FILE).") var existing: ExistingPricing = .keep
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...120).contains(months) else { throw ValidationError("--months must be between 1 and 120") }
    }

    func run() async throws {
        try await runReportingErrors {
            let proposed = try CatalogFile.parse(yaml: try readText(catalog), file: catalog)
            let request = WhatIfRequest(asOf: day.asOf, months: months, existing: existing, source: catalog)
            let report = try await connection.repository().whatIf(proposed, request) { Console.progress("  planned \(Console.grouped($0)) accounts under both catalogs") }
            Console.endProgress()
            try output.print(report) { WhatIfTable.print(report) }
        }
    }
}

/// The what-if as text: the two catalogs in columns, the change, the accounts that move most.
enum WhatIfTable {
    /// `changes`: how many of the accounts that change most to list (the report holds up to 20).
    static func print(_ r: WhatIfReport, changes shown: Int = WhatIf.topChanges) {
        let c = r.currency
        func money(_ x: MinorUnits) -> String { Rationale.money(x, c) }
        func money(_ x: Double) -> String { Rationale.money(Int(x.rounded()), c) }
        func signed(_ x: MinorUnits) -> String { x > 0 ? "+" + money(x) : money(x) }
        func signed(_ x: Double) -> String { signed(Int(x.rounded())) }
        func row(_ label: String, _ a: String, _ b: String, _ change: String) {
            Console.out([SignalsTable.pad(label, 30), pad(a, 16), pad(b, 16), pad(change, 16)].joined(separator: " "))
        }
        Console.out("what if: \(r.catalog) against the loaded catalog, as of \(r.asOf), \(r.accountsScanned) accounts planned under both; "
                    + (r.existing == .keep ? "existing accounts keep their price" : "every account repriced under \(r.catalog)"))
        row("", "loaded", "what-if", "change")
        row("paying accounts", Console.grouped(r.current.payingAccounts), Console.grouped(r.whatif.payingAccounts), "")
        row("MRR", money(r.current.mrr), money(r.whatif.mrr), signed(r.difference.mrr))
        row("ARPU", money(r.current.arpu), money(r.whatif.arpu), signed(r.difference.arpu))
        for kind in OfferKind.allCases {
            let a = r.current.offers[kind.rawValue] ?? OfferTally(), b = r.whatif.offers[kind.rawValue] ?? OfferTally()
            guard a.count + b.count > 0 else { continue }
            row("\(kind.rawValue) offers", Console.grouped(a.count), Console.grouped(b.count), signedCount(b.count - a.count))
            row("  Σ Δ MRR", signed(a.deltaMRR), signed(b.deltaMRR), signed(b.deltaMRR - a.deltaMRR))
            row("  Σ expected Δ MRR", signed(a.expectedDeltaMRR), signed(b.expectedDeltaMRR), signed(b.expectedDeltaMRR - a.expectedDeltaMRR))
        }
        row("all offers", Console.grouped(r.current.total.count), Console.grouped(r.whatif.total.count), signedCount(r.difference.offers))
        row("  Σ expected Δ MRR", signed(r.current.total.expectedDeltaMRR), signed(r.whatif.total.expectedDeltaMRR), signed(r.difference.expectedDeltaMRR))
        if let a = r.current.forecast, let b = r.whatif.forecast {
            let model = a.fallback.map { "\(a.model), \($0)" } ?? a.model
            row("forecast \(a.month) (\(model))", "", "", "")
            row("  MRR expected", money(a.mrrExpected), money(b.mrrExpected), signed(b.mrrExpected - a.mrrExpected))
            row("  ARPU expected", money(a.arpuExpected), money(b.arpuExpected), signed(b.arpuExpected - a.arpuExpected))
            row("  ARPU P10–P90", "\(money(a.arpuP10))–\(money(a.arpuP90))", "\(money(b.arpuP10))–\(money(b.arpuP90))", "")
        }
        Console.out("")
        if r.changes.isEmpty {
            Console.out("no account's leading offer changes")
        } else {
            Console.out("accounts whose leading offer changes most (\(min(shown, r.changes.count)) of \(r.changedAccounts), by |Δ expected|):")
            for change in r.changes.prefix(shown) {
                Console.out("  \(SignalsTable.pad(change.accountID, 20)) \(describe(change.current, c)) → \(describe(change.whatif, c)) "
                            + "(expected \(signed(change.changeExpectedDeltaMRR)))")
            }
        }
        if !r.unmapped.isEmpty {
            Console.out("")
            Console.out("unmapped: \(r.unmapped.count) account(s) the what-if catalog cannot price (no plan there; they keep their MRR):")
            for account in r.unmapped.prefix(10) { Console.out("  \(account.accountID): \(account.missing.joined(separator: ", "))") }
            if r.unmapped.count > 10 { Console.out("  … and \(r.unmapped.count - 10) more (--json lists them all)") }
        }
    }

    static func describe(_ offer: WhatIfOffer?, _ currency: String) -> String {
        guard let offer else { return "no offer" }
        let items = offer.add.map { "\($0.addon)×\($0.quantity)" }.joined(separator: "+")
        return "\(offer.kind.rawValue) \(offer.toTier)\(items.isEmpty ? "" : "+" + items) \(offer.deltaMRR >= 0 ? "+" : "")\(Rationale.money(offer.deltaMRR, currency))"
    }

    static func signedCount(_ n: Int) -> String { n > 0 ? "+\(Console.grouped(n))" : Console.grouped(n) }

    /// Right-aligned in `width`.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
