import Foundation
import TierPlanCore
import TierPlanStore

/// The text tables and charts commands print (`--json` prints the records instead).
enum SignalsTable {
    static let header = "account               tier        storage        growth/day  full in  adoption  seats    flags"

    static func row(_ s: AccountSignals) -> String {
        let storage = s.storageUsedBytes.map { "\(Rationale.gigabytes($0))/\(Rationale.gigabytes(s.storageLimitBytes))" } ?? "-"
        let growth = s.storageGrowthBytesPerDay.map { Int64($0.rounded()) }.map { ($0 < 0 ? "-" : "") + Rationale.gigabytes(abs($0)) } ?? "-"
        let full = s.storageDaysToFull.map { String(format: "%.1f d", $0) } ?? "-"
        let adoption = "\(s.adoptedFeatures.count)/\(s.includedFeatures.count)"
        let seats = "\(s.activeUsers)/\(s.seatLimit)"
        return [pad(s.accountID, 21), pad(s.tier, 11), pad(storage, 14), pad(growth, 11), pad(full, 8), pad(adoption, 9), pad(seats, 8),
                s.flags.map(\.rawValue).joined(separator: ",")].joined(separator: " ")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

enum OffersTable {
    static func print(_ offers: [OfferRecord]) {
        guard !offers.isEmpty else { Console.out("no offers"); return }
        Console.out("id                                    account              kind          from → to             Δ MRR    p       E[Δ]     status")
        for o in offers {
            Console.out([SignalsTable.pad(o.id, 37), SignalsTable.pad(o.accountID, 20), SignalsTable.pad(o.kind.rawValue, 13),
                         SignalsTable.pad("\(o.fromTier) → \(o.toTier)", 21), SignalsTable.pad(String(o.deltaMRR), 8),
                         SignalsTable.pad(String(format: "%.3f", o.acceptanceProbability), 7),
                         SignalsTable.pad(String(format: "%.2f", o.expectedDeltaMRR), 8), o.status.rawValue].joined(separator: " "))
        }
    }
}

enum MetricsRows {
    static func rows(_ r: MetricsReport) -> [(String, String, String)] {
        var rows: [(String, String, String)] = [
            ("revenue", "as_of", r.asOf), ("revenue", "currency", r.currency), ("revenue", "paying_accounts", String(r.payingAccounts)),
            ("revenue", "mrr", String(r.mrr)), ("revenue", "arpu", String(format: "%.2f", r.arpu)),
            ("movements", "from", r.from), ("movements", "new", String(r.movements.new)), ("movements", "expansion", String(r.movements.expansion)),
            ("movements", "contraction", String(r.movements.contraction)), ("movements", "churn", String(r.movements.churn)),
            ("movements", "reactivation", String(r.movements.reactivation)), ("movements", "net", String(r.movements.net)),
        ]
        for (status, n) in r.offersByStatus.sorted(by: { $0.key < $1.key }) { rows.append(("offers_by_status", status, String(n))) }
        for c in r.conversion {
            rows.append(("conversion", c.kind + ".accepted", String(c.accepted)))
            rows.append(("conversion", c.kind + ".declined", String(c.declined)))
            rows.append(("conversion", c.kind + ".rate", c.rate.map { String(format: "%.4f", $0) } ?? ""))
            rows.append(("conversion", c.kind + ".credible_95", String(format: "%.4f-%.4f", c.low, c.high)))
        }
        rows.append(("retention", "nrr_12m", r.retention.map { String(format: "%.4f", $0.nrr) } ?? ""))
        rows.append(("retention", "grr_12m", r.retention.map { String(format: "%.4f", $0.grr) } ?? ""))
        if let v = r.cltv {
            rows.append(("cltv", "overall", v.overall.map { String(format: "%.2f", $0) } ?? ""))
            for (tier, value) in v.byTier.sorted(by: { $0.key < $1.key }) { rows.append(("cltv", "tier." + tier, value.map { String(format: "%.2f", $0) } ?? "")) }
            for (segment, value) in v.bySegment.sorted(by: { $0.key < $1.key }) { rows.append(("cltv", "segment." + segment, value.map { String(format: "%.2f", $0) } ?? "")) }
            rows.append(("cltv", "gross_margin", String(v.grossMargin)))
            rows.append(("cltv", "monthly_churn", v.monthlyChurn.map { String(format: "%.6f", $0) } ?? ""))
        }
        for v in r.aov {
            rows.append(("aov", v.kind.rawValue + ".accepted", String(v.accepted)))
            rows.append(("aov", v.kind.rawValue + ".mean_delta_mrr", v.meanDeltaMRR.map { String(format: "%.2f", $0) } ?? ""))
            rows.append(("aov", v.kind.rawValue + ".mean_one_time", v.meanOneTime.map { String(format: "%.2f", $0) } ?? ""))
        }
        for d in r.declines {
            rows.append(("declines", d.reasonCode.rawValue + ".count", String(d.count)))
            rows.append(("declines", d.reasonCode.rawValue + ".delta_mrr", String(d.deltaMRR)))
        }
        func ratio(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "" }
        rows.append(("calibration", "outcomes", String(r.calibration.outcomes)))
        rows.append(("calibration", "brier", ratio(r.calibration.brier)))
        rows.append(("calibration", "brier_per_kind", ratio(r.calibration.brierPerKind)))
        for b in r.calibration.bins {
            let bin = String(format: "%.1f-%.1f", b.from, b.to)
            rows.append(("calibration", bin + ".count", String(b.count)))
            rows.append(("calibration", bin + ".mean_predicted", ratio(b.meanPredicted)))
            rows.append(("calibration", bin + ".observed", ratio(b.observed)))
        }
        for e in r.experiments {
            rows.append(("experiments", e.name + ".p_treatment_better", ratio(e.probabilityTreatmentBetter)))
            for a in [e.control, e.treatment] {
                let key = e.name + "." + a.arm.rawValue
                rows.append(("experiments", key + ".offers", String(a.offers)))
                rows.append(("experiments", key + ".accepted", String(a.accepted)))
                rows.append(("experiments", key + ".declined", String(a.declined)))
                rows.append(("experiments", key + ".conversion", ratio(a.conversion)))
                rows.append(("experiments", key + ".credible_95", String(format: "%.4f-%.4f", a.credible95.low, a.credible95.high)))
                rows.append(("experiments", key + ".realised_delta_mrr_per_account", String(format: "%.2f", a.realisedDeltaMRRPerAccount)))
            }
        }
        rows.append(("realised", "accepted_offers", String(r.realised.acceptedOffers)))
        rows.append(("realised", "realised_offers", String(r.realised.realisedOffers)))
        rows.append(("realised", "realised_expansion_mrr", String(r.realised.realisedExpansionMRR)))
        if let u = r.uplift {
            rows.append(("uplift", "treated_accounts", String(u.treatedAccounts)))
            rows.append(("uplift", "holdout_accounts", String(u.holdoutAccounts)))
            rows.append(("uplift", "treated_expansion_rate", String(format: "%.4f", u.treatedExpansionRate)))
            rows.append(("uplift", "holdout_expansion_rate", String(format: "%.4f", u.holdoutExpansionRate)))
            rows.append(("uplift", "uplift_rate", String(format: "%.4f", u.upliftRate)))
            rows.append(("uplift", "uplift_mean_delta_mrr", String(format: "%.2f", u.upliftMeanDeltaMRR)))
        } else {
            rows.append(("uplift", "holdout_accounts", "0"))
        }
        return rows
    }
}

/// The backtest scores side by side, one line per horizon.
enum BacktestTable {
    static func print(_ r: BacktestReport, horizons: [Int]? = nil) {
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }
        Console.out("backtest: \(r.asOfDays.count) as_of days (\(r.asOfDays.first ?? "–") … \(r.asOfDays.last ?? "–")), horizons 1–\(r.months)")
        let header = ["h".padding(toLength: 4, withPad: " ", startingAt: 0)] + r.models.flatMap { m in
            ["\(m.model) MAPE", "bias", "P10–P90"].map { SignalsTable.pad($0, 12) }
        }
        Console.out(header.joined(separator: " "))
        let count = r.models.first?.horizons.count ?? 0
        for i in 0...count where i == count || horizons?.contains(i + 1) ?? true {
            let label = i < (r.models.first?.horizons.count ?? 0) ? String(i + 1) : "all"
            let cells = r.models.flatMap { m -> [String] in
                let s = i < m.horizons.count ? m.horizons[i] : m.overall
                return [pct(s.arpuMAPE), pct(s.arpuBias), pct(s.arpuCoverage)].map { SignalsTable.pad($0, 12) }
            }
            Console.out(([label.padding(toLength: 4, withPad: " ", startingAt: 0)] + cells).joined(separator: " "))
        }
        Console.out("MAPE and bias of ARPU against the actual; P10–P90: share of actual ARPU inside the band (80% when calibrated).")
    }
}

enum ForecastTable {
    static func print(_ f: Forecast, asOf: Day, currency: String) {
        func money(_ x: Double) -> String { Rationale.money(Int(x.rounded()), currency) }
        func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
        Console.out("as of \(asOf.iso): \(f.payingAccounts) paying accounts, MRR \(money(Double(f.mrr))), ARPU \(money(f.arpu))")
        if let fallback = f.fallback {
            Console.out("model: flat (fallback: \(fallback) — no lookback month the account history covers), monthly churn \(pct(f.monthlyChurn))")
        } else if let r = f.rates {
            Console.out("model: history, \(f.history.count) of \(f.lookbackMonths ?? f.history.count) lookback months: churn \(pct(r.logoChurn)) of accounts, "
                        + "\(pct(r.mrrChurn)) of MRR, contraction \(pct(r.contraction)), organic expansion \(pct(r.organicExpansion)), "
                        + "new \(String(format: "%.1f", r.newAccounts)) accounts and \(money(r.newMRR)) MRR a month")
            Console.out("")
            Console.out("month      start  MRR start    churned  new   new MRR      expansion  of it offers  contraction  end    MRR end")
            for m in f.history {
                Console.out([m.month.iso, SignalsTable.pad(String(m.startAccounts), 6), SignalsTable.pad(money(Double(m.startMRR)), 12),
                             SignalsTable.pad(String(m.churned), 8), SignalsTable.pad(String(m.new), 5), SignalsTable.pad(money(Double(m.newMRR)), 12),
                             SignalsTable.pad(money(Double(m.expansion)), 10), SignalsTable.pad(money(Double(m.offerExpansion)), 13),
                             SignalsTable.pad(money(Double(m.contraction)), 12), SignalsTable.pad(String(m.endAccounts), 6),
                             money(Double(m.endMRR))].joined(separator: " "))
            }
        } else {
            Console.out("model: flat, monthly churn \(pct(f.monthlyChurn))")
        }
        Console.out("open offers counted: \(f.openOffers), expected Δ MRR \(money(f.expectedDeltaMRR)) (quantiles: \(f.quantiles))")
        Console.out("")
        Console.out("month    active   MRR base      MRR expected  ARPU base   ARPU exp    ARPU P10    ARPU P50    ARPU P90")
        for m in f.months {
            Console.out([m.month, SignalsTable.pad(String(format: "%.1f", m.activeAccounts), 8), SignalsTable.pad(money(m.mrrBaseline), 13),
                         SignalsTable.pad(money(m.mrrExpected), 13), SignalsTable.pad(money(m.arpuBaseline), 11),
                         SignalsTable.pad(money(m.arpuExpected), 11), SignalsTable.pad(money(m.arpuP10), 11),
                         SignalsTable.pad(money(m.arpuP50), 11), money(m.arpuP90)].joined(separator: " "))
        }
        Console.out("")
        Console.out(ForecastChart.text(f, currency: currency))
    }
}

/// A small text chart of MRR: baseline (b), expected (e) and the P10–P90 band (░).
enum ForecastChart {
    static func text(_ f: Forecast, currency: String, height: Int = 10) -> String {
        guard !f.months.isEmpty else { return "" }
        let top = f.months.map { max($0.mrrP90, $0.mrrExpected, $0.mrrBaseline) }.max() ?? 1
        let bottom = f.months.map { min($0.mrrP10, $0.mrrBaseline) }.min() ?? 0
        let span = max(top - bottom, 1)
        func rowOf(_ value: Double) -> Int { Int(((value - bottom) / span * Double(height - 1)).rounded()) }
        var grid = Array(repeating: Array(repeating: " ", count: f.months.count * 3), count: height)
        for (i, m) in f.months.enumerated() {
            let x = i * 3 + 1
            for r in rowOf(m.mrrP10)...max(rowOf(m.mrrP10), rowOf(m.mrrP90)) { grid[r][x] = "░" }
            grid[rowOf(m.mrrBaseline)][x] = "b"
            grid[rowOf(m.mrrExpected)][x] = grid[rowOf(m.mrrExpected)][x] == "b" ? "*" : "e"
        }
        var lines: [String] = ["MRR: b baseline, e expected, * both, ░ P10–P90"]
        for r in stride(from: height - 1, through: 0, by: -1) {
            let label = r == height - 1 ? Rationale.money(Int(top.rounded()), currency) : (r == 0 ? Rationale.money(Int(bottom.rounded()), currency) : "")
            lines.append(SignalsTable.pad(label, 12) + "│" + grid[r].joined())
        }
        lines.append(String(repeating: " ", count: 12) + "└" + String(repeating: "─", count: f.months.count * 3))
        lines.append(String(repeating: " ", count: 13) + " " + f.months.first!.month + String(repeating: " ", count: max(1, f.months.count * 3 - 14)) + f.months.last!.month)
        return lines.joined(separator: "\n")
    }
}

/// What the outcomes of the last period taught: calibration of both models, declines, experiments.
enum LearningTable {
    static func print(_ r: MetricsReport) {
        func ratio(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "–" }
        let c = r.calibration
        Console.out("== what customers answered from \(r.from) to \(r.asOf): \(c.outcomes) outcomes")
        Console.out("   Brier score (lower is better; 0.25 is a coin): \(ratio(c.brier)) with the probability per kind and "
                    + "segment the offers carried, \(ratio(c.brierPerKind)) with one probability per kind")
        let declined = r.declines.filter { $0.count > 0 }
        if !declined.isEmpty {
            Console.out("   declined because: " + declined.map { "\($0.reasonCode.rawValue) \($0.count) (Δ \(Rationale.money($0.deltaMRR, r.currency)))" }
                .joined(separator: ", "))
        }
        for e in r.experiments {
            let arms = [e.treatment, e.control].map { a in
                "\(a.arm.rawValue) \(a.accepted) of \(a.accepted + a.declined) accepted (\(a.conversion.map { Rationale.percent($0) } ?? "–"))"
            }
            Console.out("   experiment \(e.name): \(arms.joined(separator: ", ")); P(treatment better) \(String(format: "%.2f", e.probabilityTreatmentBetter))")
        }
    }
}
