import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanDemo
import TierPlanStore

/// `tierplan demo`: a generated SaaS data set in its own database on the embedded cluster, the nightly
/// job run on it, and what a newcomer needs to see. Re-running starts the demo database afresh.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a realistic data set on the embedded cluster, run the nightly job, show the results.",
        discussion: "Uses its own database (tierplan_demo) on the embedded cluster, dropped and rebuilt on every run; your data is not touched.")
    @Option(help: "How many accounts.") var accounts = 5_000
    @Option(help: "Seed of the generator: the same seed gives the same data.") var seed: UInt64 = 42
    @Option(name: .customLong("as-of"), help: "The day the nightly job runs for.") var asOf = Day(iso: "2026-11-01")!
    @Flag(help: "Print one JSON summary instead of the story.") var json = false

    func validate() throws {
        guard (10...1_000_000).contains(accounts) else { throw ValidationError("--accounts must be between 10 and 1,000,000") }
    }

    func run() async throws {
        try await runReportingErrors {
            let outcome = try DemoScenario(accounts: accounts, seed: seed, asOf: asOf).run { report in
                guard !json else { return }
                switch report {
                case .step(let text): Console.note("▸ " + text)
                case .progress(let text): Console.progress(text)
                case .endProgress: Console.endProgress()
                }
            }
            if json { try Console.json(outcome.summary); return }
            Self.tell(outcome.summary, result: outcome.result, forecast: outcome.forecast, backtest: outcome.backtest,
                      whatIf: outcome.whatIf, currency: outcome.currency, asOf: asOf, url: outcome.url)
        }
    }

    static func tell(_ s: DemoSummary, result: PlanResult, forecast: Forecast, backtest: BacktestReport, whatIf: WhatIfReport,
                     currency: String, asOf: Day, url: String) {
        Console.out("")
        Console.out("== \(s.accounts) accounts (\(s.accountsByStatus.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))), \(Console.grouped(s.events)) usage events")
        Console.out("   history: " + s.history.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        Console.out("== the nightly job for \(asOf.iso): \(result.accountsScanned) accounts scanned, \(result.accountsFlagged) flagged, "
                    + "\(result.offersCreated) offers new, \(result.offersRefreshed) refreshed, \(result.offersExpired) expired")
        Console.out("   offers by kind: " + s.offersByKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                    + "; held out: \(s.heldOut)")
        Console.out("")
        Console.out("== the ten best offers (highest expected Δ MRR)")
        for (i, offer) in result.offers.filter({ $0.status == .proposed }).prefix(10).enumerated() {
            Console.out("\(i + 1). \(offer.accountID) — \(offer.kind.rawValue), \(offer.fromTier) → \(offer.toTier), "
                        + "+\(Rationale.money(offer.deltaMRR, currency))/month × p \(String(format: "%.2f", offer.acceptanceProbability))")
            Console.out("   \(offer.rationale)")
        }
        Console.out("")
        Console.out("== why others got no offer")
        let explanations = ["cooldown": "a no within the last 60 days", "snoozed": "customer success snoozed it",
                            "recently_accepted": "an accepted offer is being carried out", "no_viable_offer": "nothing in the catalog solves the need"]
        for (reason, n) in s.suppressedByReason.sorted(by: { $0.value > $1.value }) {
            let example = result.suppressed.first { $0.reason == reason }?.accountID ?? ""
            Console.out("   \(reason): \(n) (\(explanations[reason] ?? reason); e.g. \(example))")
        }
        Console.out("")
        LearningTable.print(s.metrics)
        Console.out("   (tierplan metrics --as-of \(asOf.iso) for NRR, CLTV, AOV and the rest; --json or --csv)")
        Console.out("")
        Console.out("== ARPU forecast")
        ForecastTable.print(forecast, asOf: asOf, currency: currency)
        Console.out("")
        Console.out("== how far to trust it: the forecast made at past month ends against what followed (ARPU)")
        BacktestTable.print(backtest, horizons: [1, 3, 6])
        Console.out("   (tierplan forecast backtest --from \(backtest.from) --to \(backtest.to) --months \(backtest.months) for every horizon, --json or --csv)")
        Console.out("")
        Console.out("== what if Team had 1,000 GB instead of 500 GB?")
        WhatIfTable.print(whatIf, changes: 5)
        Console.out("   (tierplan whatif --catalog FILE --as-of \(asOf.iso) [--existing reprice] with your own catalog, or the What-if page; nothing is written)")
        Console.out("")
        Console.out("Done in \(String(format: "%.0f", s.seconds)) s. Open the review page on this data:")
        Console.out("  printf '%s\\n' 'choose-a-password' | tierplan users add you --role reviewer --database-url '\(url)'")
        Console.out("  tierplan serve --database-url '\(url)'    # then open http://127.0.0.1:8080/")
    }
}
