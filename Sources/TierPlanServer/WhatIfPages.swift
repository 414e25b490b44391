import Foundation
import Hummingbird
import MultipartKit
import TierPlanCore
import TierPlanStore

/// The admins' "Pricing what-if" page: a catalog uploaded or pasted, compared with the loaded one
/// side by side (the same report as `tierplan whatif`). Nothing is written; the form carries the
/// session's CSRF token all the same, since it makes the server plan every account.
struct WhatIfPages {
    let env: ServerEnvironment

    /// The largest form accepted: a catalog file is a few kilobytes.
    static let maxFormBytes = 1 << 20

    func register(on router: Router<AppContext>) {
        router.get("/whatif", use: page)
        router.post("/whatif", use: compare)
    }

    /// The form's fields, from a multipart upload or a urlencoded form.
    struct Form: Decodable {
        var csrf: String?
        var catalog: String?
        var file: String?
        var asOf: String?
        var months: String?
        var existing: String?
        enum CodingKeys: String, CodingKey { case csrf, catalog, file, asOf = "as_of", months, existing }
    }

    @Sendable func page(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.admin)
        let asOf = try await env.asOf(nil)
        return render(identity, form: Form(asOf: asOf.iso, months: "12", existing: ExistingPricing.keep.rawValue), report: nil, error: nil)
    }

    @Sendable func compare(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.admin)
        let form = try await Self.form(request)
        guard let csrf = identity.csrfToken, form.csrf == csrf else { throw AccessError.badCSRF }
        let uploaded = form.file.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        guard let text = uploaded ?? form.catalog.flatMap({ $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }) else {
            return render(identity, form: form, report: nil, error: "Upload a catalog file or paste one.", status: .unprocessableContent)
        }
        guard let asOf = try await dayField(form.asOf) else {
            return render(identity, form: form, report: nil, error: "as of: \(form.asOf ?? "") is not a date (YYYY-MM-DD).", status: .unprocessableContent)
        }
        guard let months = Int(form.months ?? "12"), (1...120).contains(months) else {
            return render(identity, form: form, report: nil, error: "months: \(form.months ?? "") must be a whole number from 1 to 120.", status: .unprocessableContent)
        }
        guard let existing = ExistingPricing(rawValue: form.existing ?? "keep") else {
            return render(identity, form: form, report: nil, error: "existing accounts: \(form.existing ?? "") must be keep or reprice.", status: .unprocessableContent)
        }
        let source = uploaded != nil ? "uploaded catalog" : "pasted catalog"
        var shown = form
        shown.catalog = text
        shown.asOf = asOf.iso
        do {
            let proposed = try CatalogFile.parse(yaml: text, file: source)
            let report = try await env.repository.whatIf(proposed, WhatIfRequest(asOf: asOf, months: months, existing: existing, source: source)) { _ in }
            return render(identity, form: shown, report: report, error: nil)
        } catch let errors as InputErrors {
            return render(identity, form: shown, report: nil, error: errors.description, status: .unprocessableContent)
        } catch let error as StoreError {
            // Said on the page (no catalog loaded yet, another currency, an old schema); an unreachable
            // database stays the server's 503.
            if case .unavailable = error { throw error }
            if case .refused(let message) = error {
                return render(identity, form: shown, report: nil, error: message, status: .unprocessableContent)
            }
            return render(identity, form: shown, report: nil, error: error.description, status: .conflict)
        }
    }

    /// A date field, the latest run's as_of when left empty; nil when it is not a date.
    func dayField(_ text: String?) async throws -> Day? {
        let text = (text ?? "").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? try await env.asOf(nil) : Day(iso: text)
    }

    static func form(_ request: Request) async throws -> Form {
        let body = try await request.body.collect(upTo: maxFormBytes)
        let type = request.headers[.contentType] ?? ""
        if type.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = Self.boundary(type) else { throw HTTPError(.badRequest, message: "multipart form without a boundary") }
            do {
                return try FormDataDecoder().decode(Form.self, from: body, boundary: boundary)
            } catch {
                throw HTTPError(.badRequest, message: "the form could not be read as multipart/form-data")
            }
        }
        let fields = parseForm(String(buffer: body))
        return Form(csrf: fields["csrf"], catalog: fields["catalog"], file: nil, asOf: fields["as_of"], months: fields["months"], existing: fields["existing"])
    }

    /// The `boundary` parameter of a multipart content type, without quotes.
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].lowercased() == "boundary" {
                let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    func render(_ identity: Identity, form: Form, report: WhatIfReport?, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        var data: [String: Any] = [
            "csrf": identity.csrfToken ?? "", "catalog": form.catalog ?? "", "asOf": form.asOf ?? "", "months": form.months ?? "12",
            "existing": ExistingPricing.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == (form.existing ?? "keep"),
                                                        "label": $0 == .keep ? "keep what they pay" : "repriced under this catalog"] },
        ]
        if let error { data["error"] = error }
        if let report { data["report"] = Self.reportData(report) }
        return env.pages.render("whatif", title: "Pricing what-if", identity: identity, data: data, status: status)
    }

    static func reportData(_ r: WhatIfReport) -> [String: Any] {
        let rows = r.rows.map { ["label": $0.label, "current": $0.current, "whatif": $0.whatif, "change": $0.change] }
        return [
            "catalog": r.catalog, "asOf": r.asOf, "scanned": Rationale.grouped(r.accountsScanned),
            "existing": r.existing == .keep ? "existing accounts keep what they pay" : "every account repriced under the what-if catalog",
            "rows": rows, "chart": Charts.whatIf(r),
            "changes": r.changes.map { change -> [String: String] in
                let delta = Rationale.money(Int(change.changeExpectedDeltaMRR.rounded()), r.currency)
                return ["account": change.accountID, "accountPath": PageText.pathSegment(change.accountID),
                        "current": WhatIfOffer.summary(change.current, currency: r.currency),
                        "whatif": WhatIfOffer.summary(change.whatif, currency: r.currency),
                        "change": (change.changeExpectedDeltaMRR > 0 ? "+" : "") + delta]
            },
            "changedAccounts": Rationale.grouped(r.changedAccounts), "shownChanges": r.changes.count,
            "unmapped": r.unmapped.prefix(100).map { ["account": $0.accountID, "tier": $0.tier, "missing": $0.missing.joined(separator: ", ")] },
            "unmappedCount": r.unmapped.count, "hasUnmapped": !r.unmapped.isEmpty,
        ]
    }
}

extension Charts {
    /// Expected Δ MRR of each offer kind and the expected MRR of the forecast month, loaded against
    /// what-if, as pairs of horizontal bars.
    static func whatIf(_ r: WhatIfReport) -> String {
        var bars: [(label: String, a: Double, b: Double)] = OfferKind.allCases.compactMap { kind in
            let a = r.current.offers[kind.rawValue]?.expectedDeltaMRR ?? 0, b = r.whatif.offers[kind.rawValue]?.expectedDeltaMRR ?? 0
            return a == 0 && b == 0 ? nil : ("\(kind.rawValue) expected Δ", a, b)
        }
        if let a = r.current.forecast, let b = r.whatif.forecast { bars.append(("uplift by \(a.month)", a.upliftExpected, b.upliftExpected)) }
        guard !bars.isEmpty else { return "<p>Neither catalog makes an offer.</p>" }
        let top = max(bars.map { max(abs($0.a), abs($0.b)) }.max() ?? 1, 1)
        let width = 640.0, left = 190.0, right = 110.0, rowHeight = 40.0, height = Double(bars.count) * rowHeight + 30
        func w(_ v: Double) -> String { String(format: "%.1f", abs(v) / top * (width - left - right)) }
        func money(_ v: Double) -> String { escapeHTML(Rationale.money(Int(v.rounded()), r.currency)) }
        var svg = """
        <svg id="whatif-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" aria-label="expected MRR added, loaded catalog against what-if">
        <rect x="\(left)" y="4" width="10" height="10" fill="#95a5a6"/><text x="\(left + 14)" y="13" font-size="11">loaded</text>
        <rect x="\(left + 80)" y="4" width="10" height="10" fill="#2e86de"/><text x="\(left + 94)" y="13" font-size="11">what-if</text>
        """
        for (i, bar) in bars.enumerated() {
            let y = 24 + Double(i) * rowHeight
            svg += """
            <text x="\(left - 6)" y="\(String(format: "%.1f", y + 16))" font-size="11" text-anchor="end">\(escapeHTML(bar.label))</text>
            <rect x="\(left)" y="\(String(format: "%.1f", y))" width="\(w(bar.a))" height="14" fill="#95a5a6"/>
            <text x="\(left + 4 + (Double(w(bar.a)) ?? 0))" y="\(String(format: "%.1f", y + 11))" font-size="10">\(money(bar.a))</text>
            <rect x="\(left)" y="\(String(format: "%.1f", y + 16))" width="\(w(bar.b))" height="14" fill="#2e86de"/>
            <text x="\(left + 4 + (Double(w(bar.b)) ?? 0))" y="\(String(format: "%.1f", y + 27))" font-size="10">\(money(bar.b))</text>
            """
        }
        return svg + "</svg>"
    }
}
