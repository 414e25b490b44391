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
        Console.out("what if: \(r.catalog) against the loaded catalog, as of \(r.asOf), \(r.accountsScanned) accounts planned under both; "
                    + (r.existing == .keep ? "existing accounts keep their price" : "every account repriced under \(r.catalog)"))
        for row in [WhatIfRow(label: "", current: "loaded", whatif: "what-if", change: "change")] + r.rows {
            Console.out([SignalsTable.pad(row.label, 34), pad(row.current, 16), pad(row.whatif, 16), pad(row.change, 14)].joined(separator: " "))
        }
        Console.out("")
        if r.changes.isEmpty {
            Console.out("no account's leading offer changes")
        } else {
            Console.out("accounts whose leading offer changes most (\(min(shown, r.changes.count)) of \(r.changedAccounts), by |Δ expected|):")
            for change in r.changes.prefix(shown) {
                let delta = Rationale.money(Int(change.changeExpectedDeltaMRR.rounded()), r.currency)
                Console.out("  \(change.accountID): \(WhatIfOffer.summary(change.current, currency: r.currency))")
                Console.out("    → \(WhatIfOffer.summary(change.whatif, currency: r.currency)); expected \(change.changeExpectedDeltaMRR > 0 ? "+" : "")\(delta)")
            }
        }
        if !r.unmapped.isEmpty {
            Console.out("")
            Console.out("unmapped: \(r.unmapped.count) account(s) the what-if catalog cannot price (no plan there; they keep their MRR):")
            for account in r.unmapped.prefix(10) { Console.out("  \(account.accountID): \(account.missing.joined(separator: ", "))") }
            if r.unmapped.count > 10 { Console.out("  … and \(r.unmapped.count - 10) more (--json lists them all)") }
        }
    }

    /// Right-aligned in `width`.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
