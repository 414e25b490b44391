import Foundation
import Hummingbird
import NIOPosix
import TierPlanCore
import TierPlanStore

/// Login, logout, health, Prometheus metrics and the OpenAPI document: no role needed.
struct PublicRoutes {
    let env: ServerEnvironment

    func register(on router: Router<AppContext>) {
        // Says ok or unavailable and nothing more to anonymous callers; why is in the log.
        router.get("/healthz") { _, context -> Response in
            do {
                try await env.repository.check()
                return textResponse("ok\n")
            } catch {
                context.logger.error("healthz: database unavailable: \(error)")
                return textResponse("unavailable\n", status: .serviceUnavailable, headers: [.retryAfter: "5"])
            }
        }
        router.get("/metrics") { _, _ -> Response in
            textResponse(env.registry.emitToString(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/openapi.yaml") { _, _ -> Response in
            textResponse(OpenAPI.document, contentType: "application/yaml; charset=utf-8")
        }
        router.get("/login") { request, _ -> Response in
            loginPage(next: safeNext(request.uri.queryParameters.get("next")), error: nil)
        }
        router.post("/login") { request, context -> Response in
            let form = try await formFields(request)
            let next = safeNext(form["next"])
            // Login CSRF: the form's token must match the cookie set with the form (double submit).
            guard let token = form["csrf"], !token.isEmpty, request.cookies[loginCSRFCookie]?.value == token else {
                return loginPage(next: next, error: "The sign-in form expired. Please try again.", status: .forbidden)
            }
            guard let name = form["name"], let password = form["password"], !name.isEmpty else {
                return loginPage(next: next, error: "Wrong name or password.", status: .unauthorized)
            }
            let address = context.remoteAddress?.ipAddress ?? "unknown"
            let cookie: String
            switch try await SignIn.check(env, name: name, password: password, address: address) {
            case .session(let value, _): cookie = value
            case .wrong: return loginPage(next: next, error: "Wrong name or password.", status: .unauthorized)
            case .throttled:
                var response = loginPage(next: next, error: "Too many failed sign-ins for this name or from this address: "
                                         + "try again in \(SignIn.lockoutMinutes) minutes.", status: .tooManyRequests)
                response.headers[.retryAfter] = String(SignIn.lockoutMinutes * 60)
                return response
            }
            var response = Response(status: .seeOther, headers: [.location: next])
            response.setCookie(SignIn.cookie(cookie, secure: env.secureCookies))
            response.setCookie(Cookie(name: loginCSRFCookie, value: "", maxAge: 0, path: "/login", secure: env.secureCookies, httpOnly: true, sameSite: .strict))
            return response
        }
        router.post("/logout") { request, context -> Response in
            let form = try await formFields(request)
            if let identity = context.identity {
                guard form["csrf"] == identity.csrfToken else { throw AccessError.badCSRF }
                if let cookie = request.cookies[sessionCookie]?.value {
                    try await env.repository.closeSession(cookie: cookie)
                }
                try await env.repository.audit(.signOut, actor: identity.name, subject: nil, address: context.remoteAddress?.ipAddress)
            }
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(SignIn.cookie("", secure: env.secureCookies, maxAge: 0))
            return response
        }
    }
}

extension PublicRoutes {
    /// The sign-in form with a fresh CSRF token, also set as a cookie scoped to /login.
    func loginPage(next: String, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = Secret.make()
        var data: [String: Any] = ["next": next, "csrf": token]
        if let error { data["error"] = error }
        var response = env.pages.render("login", title: "Sign in", identity: nil, data: data, status: status)
        response.setCookie(Cookie(name: loginCSRFCookie, value: token, maxAge: 3600, path: "/login", secure: env.secureCookies,
                                  httpOnly: true, sameSite: .strict))
        return response
    }
}

let loginCSRFCookie = "tierplan_login_csrf"

/// Only same-site paths after sign-in (no open redirect).
func safeNext(_ next: String?) -> String {
    guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/queue" }
    return next
}

func textResponse(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8",
                  headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = contentType
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
}

/// Turns refusals into proper responses: JSON for the API, pages or a sign-in redirect for people.
struct RefusalMiddleware: RouterMiddleware {
    let env: ServerEnvironment

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        let isAPI = request.uri.path.hasPrefix("/api/")
        do {
            return try await next(request, context)
        } catch let error as AccessError {
            switch (error, isAPI) {
            case (.unauthenticated, true):
                var response = apiError(.unauthorized, "sign in or send Authorization: Bearer TOKEN")
                response.headers[.wwwAuthenticate] = "Bearer"
                return response
            case (.unauthenticated, false):
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                let encoded = target.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=?"))) ?? "/queue"
                return Response(status: .seeOther, headers: [.location: "/login?next=" + encoded])
            case (.forbidden(let role), true):
                return apiError(.forbidden, "this needs the \(role.rawValue) role")
            case (.forbidden(let role), false):
                return env.pages.render("message", title: "Forbidden", identity: context.identity,
                                        data: ["heading": "Not allowed", "style": "error", "message": "This needs the \(role.rawValue) role."],
                                        status: .forbidden)
            case (.badCSRF, true):
                return apiError(.forbidden, "missing or wrong CSRF token (X-CSRF-Token)")
            case (.badCSRF, false):
                return env.pages.render("message", title: "Forbidden", identity: context.identity,
                                        data: ["heading": "Form expired", "style": "error",
                                               "message": "The form's security token is missing or wrong. Reload the page and try again."],
                                        status: .forbidden)
            }
        }
    }
}

/// The review pages: queue, offer, account, forecast, finance, users.
struct PageRoutes {
    let env: ServerEnvironment

    func register(on router: Router<AppContext>) {
        router.get("/") { _, _ -> Response in Response(status: .seeOther, headers: [.location: "/queue"]) }
        router.get("/queue", use: queue)
        router.get("/offers/:id", use: offer)
        router.post("/offers/:id/:decision", use: decide)
        router.get("/accounts/:id", use: account)
        router.get("/forecast", use: forecast)
        router.get("/forecast.csv", use: forecastCSV)
        router.get("/finance", use: finance)
        router.get("/users", use: users)
        router.post("/users", use: addUser)
        WebhookPages(env: env).register(on: router)
        WhatIfPages(env: env).register(on: router)
    }

    @Sendable func queue(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.viewer)
        let q = request.uri.queryParameters
        // The queue is the proposed offers; unknown filter values are ignored.
        var (filter, _) = offerFilter { $0 == "status" ? nil : q.get($0) }
        filter.status = .proposed
        let page = max(1, Int(q.get("page") ?? "1") ?? 1)
        filter.offset = (page - 1) * filter.limit
        let repository = env.repository
        let result = try await repository.offerPageWithNames(filter)
        let facets = try await env.facets.get { try await repository.offerFacets() }
        let names = result.names
        let labels = try await env.labels.get { try await repository.labels() }
        let capped = result.total > OfferFilter.countLimit
        let pages = max(1, (min(result.total, OfferFilter.countLimit) + filter.limit - 1) / filter.limit)
        func link(_ p: Int) -> String {
            var items = ["page=\(p)"]
            for (key, value) in [("kind", filter.kind?.rawValue), ("reason", filter.reason), ("owner", filter.owner), ("segment", filter.segment)] {
                if let value { items.append("\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")") }
            }
            return "/queue?" + items.joined(separator: "&")
        }
        func options(_ values: [String], _ selected: String?) -> [[String: Any]] { values.map { ["value": $0, "selected": $0 == selected] } }
        var data: [String: Any] = [
            "total": capped ? "More than 1,000" : String(result.total), "page": page,
            "pages": capped ? "more than \(pages)" : String(pages),
            "kinds": options(OfferKind.allCases.map(\.rawValue), filter.kind?.rawValue),
            "reasons": options(SignalFlag.allCases.map(\.rawValue), filter.reason),
            "owners": options(facets.owners, filter.owner), "segments": options(facets.segments, filter.segment),
            "rows": QueueRows.html(result.offers, names: names, labels: labels),
        ]
        if page > 1 { data["previous"] = link(page - 1) }
        if page < pages || (capped && result.offers.count == filter.limit) { data["next"] = link(page + 1) }
        if let notice = q.get("notice") { data["notice"] = notice }
        return env.pages.render("queue", title: "Queue", identity: identity, data: data)
    }

    @Sendable func offer(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.viewer)
        let id = context.parameters.get("id") ?? ""
        return try await offerPage(id: id, identity: identity, error: nil, notice: request.uri.queryParameters.get("notice"))
    }

    func offerPage(id: String, identity: Identity, error: String?, notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let detail = try await OfferDetail.load(env.repository, id: id) else {
            return env.pages.render("message", title: "Not found", identity: identity,
                                    data: ["heading": "No such offer", "style": "error", "message": "There is no offer \(id)."], status: .notFound)
        }
        var data = detail.pageData()
        data["canDecide"] = identity.role.allows(.reviewer) && detail.offer.status == .proposed
        data["canRecordOutcome"] = identity.role.allows(.reviewer) && detail.offer.status == .approved
        data["declineReasons"] = DeclineReason.allCases.map { ["value": $0.rawValue, "label": $0.label] }
        data["csrf"] = identity.csrfToken ?? ""
        if let error { data["error"] = error }
        if let notice { data["notice"] = notice }
        return env.pages.render("offer", title: "Offer", identity: identity, data: data, status: status)
    }

    @Sendable func decide(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.reviewer)
        let form = try await formFields(request)
        guard let csrf = form["csrf"], csrf == identity.csrfToken else { throw AccessError.badCSRF }
        let id = context.parameters.get("id") ?? ""
        let version = form["version"].flatMap(Int.init)
        let reason = form["reason"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        let decision: OfferDecision
        let name = context.parameters.get("decision")
        let asked = name == "accepted" || name == "declined"
            ? OfferDecision.outcome(name, reasonCode: form["reason_code"])
            : OfferDecision.review(name, reason: reason, until: form["until"])
        switch asked {
        case .success(let asked): decision = asked
        case .failure(.reasonMissing):
            return try await offerPage(id: id, identity: identity, error: "A rejection needs a reason.", notice: nil, status: .unprocessableContent)
        case .failure(.dateMissing):
            return try await offerPage(id: id, identity: identity, error: "A snooze needs a date (YYYY-MM-DD).", notice: nil, status: .unprocessableContent)
        case .failure(.notFor(let field, let decision)):
            return try await offerPage(id: id, identity: identity, error: "\(field) is not for \(decision).", notice: nil, status: .unprocessableContent)
        case .failure(.reasonCodeMissing), .failure(.reasonCodeUnknown):
            return try await offerPage(id: id, identity: identity, error: "A decline needs the customer's reason: choose one.", notice: nil,
                                       status: .unprocessableContent)
        case .failure(.unknown):
            return env.pages.render("message", title: "Not found", identity: identity,
                                    data: ["heading": "Unknown decision", "style": "error",
                                           "message": "Use approve, reject, snooze, accepted or declined."], status: .notFound)
        }
        do {
            let offer = try await env.repository.decide(offerID: id, decision: decision, by: identity.name,
                                                        reason: reason?.isEmpty == false ? reason : nil, at: nil, expectedVersion: version)
            let name = try await env.repository.accountNames(ids: [offer.accountID])[offer.accountID] ?? offer.accountID
            let notice = "Offer for \(name) \(offer.status.rawValue)."
            return Response(status: .seeOther, headers: [.location: "/queue?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")])
        } catch let error as OfferDecisionError {
            let status: HTTPResponse.Status = error.kind == .stale ? .conflict : (error.kind == .notFound ? .notFound : .unprocessableContent)
            return try await offerPage(id: id, identity: identity, error: error.description, notice: nil, status: status)
        }
    }

    @Sendable func account(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.viewer)
        let id = context.parameters.get("id") ?? ""
        guard let (account, mrr) = try await env.repository.account(id: id) else {
            return env.pages.render("message", title: "Not found", identity: identity,
                                    data: ["heading": "No such account", "style": "error", "message": "There is no account \(id)."], status: .notFound)
        }
        var filter = OfferFilter()
        filter.status = nil
        filter.accountID = id
        filter.limit = 200
        let offers = try await env.repository.offerPage(filter).offers
        let history = try await env.repository.accountHistory(id: id)
        let labels = try await env.repository.labels()
        let alerts = try await env.repository.alerts(accountID: id)
        let data: [String: Any] = [
            "alerts": alerts.map { ["metric": $0.metric, "threshold": PageText.percent($0.threshold), "value": $0.value.map(PageText.percent) ?? "–",
                                    "asOf": $0.asOf] },
            "hasAlerts": !alerts.isEmpty,
            "id": account.id, "name": account.name, "tier": account.tier, "status": account.status.rawValue,
            "addons": account.addonsText.isEmpty ? "none" : account.addonsText, "discount": account.discount.description,
            "segment": account.segment, "owner": account.owner, "mrr": Rationale.money(mrr, labels.currency), "created": account.createdAt.day.iso,
            "offers": offers.map { offerRow($0, name: account.name, labels: labels) },
            "history": history.map { ["day": $0.day, "tier": $0.tier, "addons": $0.addons, "status": $0.status, "mrr": Rationale.money($0.mrr, labels.currency)] },
        ]
        return env.pages.render("account", title: account.name, identity: identity, data: data)
    }

    @Sendable func forecast(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.viewer)
        let p = try await forecastParameters(request)
        // The backtest of the page: month ends of the nine months before as_of, three months ahead.
        let backtestFrom = CalendarMonth(containing: p.asOf).adding(months: -9).lastDay
        let backtestRequest = BacktestRequest(from: backtestFrom, to: p.asOf, months: 3, lookback: p.lookback)
        let f = try await env.repository.forecast(p.request)[0].forecast
        let currency = try await env.repository.labels().currency
        let backtest = try await env.repository.backtest(backtestRequest) { _, _ in }
        func m(_ x: Double) -> String { Rationale.money(Int(x.rounded()), currency) }
        func mi(_ x: Int) -> String { Rationale.money(x, currency) }
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f %%", $0 * 100) } ?? "–" }
        let modelText: String
        if let fallback = f.fallback {
            modelText = "Model: flat (fallback: \(fallback) — the account history covers no lookback month yet)."
        } else if let r = f.rates {
            modelText = "Model: history, \(f.history.count) of \(f.lookbackMonths ?? p.lookback) lookback months: churn \(pct(r.logoChurn)) of accounts and "
                + "\(pct(r.mrrChurn)) of MRR, contraction \(pct(r.contraction)), organic expansion \(pct(r.organicExpansion)), "
                + "\(String(format: "%.1f", r.newAccounts)) new accounts and \(m(r.newMRR)) new MRR a month; bands from \(f.quantiles)."
        } else {
            modelText = "Model: flat (churn applied alike to accounts and MRR, every offer in from month 1)."
        }
        let data: [String: Any] = [
            "asOf": p.asOf.iso, "months": p.months, "model": p.model.rawValue, "lookback": p.lookback, "modelText": modelText,
            "models": ForecastModel.allCases.map { ["name": $0.rawValue, "selected": $0 == p.model] },
            "paying": f.payingAccounts, "mrr": m(Double(f.mrr)), "arpu": m(f.arpu),
            "churn": String(format: "%.2f %%", f.monthlyChurn * 100), "openOffers": f.openOffers, "expectedDelta": m(f.expectedDeltaMRR),
            "chart": Charts.forecast(f, currency: currency),
            "rows": f.months.map { ["month": $0.month, "active": String(format: "%.1f", $0.activeAccounts), "mrrBaseline": m($0.mrrBaseline),
                                    "mrrExpected": m($0.mrrExpected), "arpuBaseline": m($0.arpuBaseline), "arpuExpected": m($0.arpuExpected),
                                    "p10": m($0.arpuP10), "p50": m($0.arpuP50), "p90": m($0.arpuP90)] },
            "movementsChart": Charts.movements(f.history, currency: currency),
            "history": f.history.map { ["month": $0.month.iso, "start": $0.startAccounts, "startMRR": mi($0.startMRR), "churned": $0.churned,
                                        "churnedMRR": mi($0.churnedMRR), "new": $0.new, "newMRR": mi($0.newMRR), "expansion": mi($0.expansion),
                                        "offerExpansion": mi($0.offerExpansion), "contraction": mi($0.contraction), "end": $0.endAccounts,
                                        "endMRR": mi($0.endMRR)] as [String: Any] },
            "backtestFrom": backtestRequest.from.iso, "backtestTo": backtestRequest.to.iso, "backtestMonths": backtestRequest.months,
            "backtestChart": Charts.backtest(backtest, horizon: backtestRequest.months, currency: currency),
            "backtest": backtest.models.flatMap { model in (model.horizons + [model.overall]).map { s in
                ["model": model.model, "h": s.h.map(String.init) ?? "all", "forecasts": s.forecasts, "arpuMAPE": pct(s.arpuMAPE),
                 "mrrMAPE": pct(s.mrrMAPE), "bias": pct(s.arpuBias), "coverage": pct(s.arpuCoverage)] as [String: Any] } },
        ]
        return env.pages.render("forecast", title: "Forecast", identity: identity, data: data)
    }

    @Sendable func forecastCSV(_ request: Request, context: AppContext) async throws -> Response {
        _ = try context.require(.viewer)
        let p = try await forecastParameters(request)
        let f = try await env.repository.forecast(p.request)[0].forecast
        var response = textResponse(ForecastCSV.text([(group: "", forecast: f)], grouped: false), contentType: "text/csv; charset=utf-8")
        response.headers[.contentDisposition] = "attachment; filename=\"forecast-\(p.asOf.iso).csv\""
        return response
    }

    /// The page's forecast: as_of (default the latest run's), months, model and lookback, out-of-range values clamped.
    func forecastParameters(_ request: Request) async throws -> (asOf: Day, months: Int, model: ForecastModel, lookback: Int, request: ForecastRequest) {
        let q = request.uri.queryParameters
        let months = min(120, max(1, Int(q.get("months") ?? "12") ?? 12))
        let lookback = min(60, max(1, Int(q.get("lookback") ?? "6") ?? 6))
        let model = ForecastModel(rawValue: q.get("model") ?? "history") ?? .history
        let asOf = try await env.asOf(q.get("as_of").flatMap { Day(iso: $0) })
        return (asOf, months, model, lookback, ForecastRequest(asOf: asOf, months: months, model: model, lookback: lookback))
    }

    @Sendable func finance(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.viewer)
        let q = request.uri.queryParameters
        let given = q.get("as_of").flatMap { Day(iso: $0) }
        let asOf = try await env.asOf(given)
        let from = q.get("from").flatMap { Day(iso: $0) }.flatMap { $0 < asOf ? $0 : nil } ?? asOf.adding(days: -30)
        let report = try await env.repository.metrics(asOf: asOf, from: from)
        let currency = report.currency
        func kv(_ pairs: [(String, String)]) -> [[String: String]] { pairs.map { ["key": $0.0, "value": $0.1] } }
        let m = report.movements
        var outcome: [(String, String)] = [("accepted offers", String(report.realised.acceptedOffers)),
                                           ("reached the offered configuration", String(report.realised.realisedOffers)),
                                           ("realised expansion MRR", Rationale.money(report.realised.realisedExpansionMRR, currency))]
        if let u = report.uplift {
            outcome += [("treated accounts", String(u.treatedAccounts)), ("holdout accounts", String(u.holdoutAccounts)),
                        ("expansion rate, treated", String(format: "%.1f %%", u.treatedExpansionRate * 100)),
                        ("expansion rate, holdout", String(format: "%.1f %%", u.holdoutExpansionRate * 100)),
                        ("uplift in mean Δ MRR", Rationale.money(Int(u.upliftMeanDeltaMRR.rounded()), currency))]
        } else {
            outcome.append(("uplift", "no holdout accounts"))
        }
        for v in report.aov where v.accepted > 0 {
            outcome.append(("average order, \(v.kind.rawValue) (\(v.accepted) accepted since \(report.from))",
                            Rationale.money(Int((v.meanDeltaMRR ?? 0).rounded()), currency) + "/month, "
                            + Rationale.money(Int((v.meanOneTime ?? 0).rounded()), currency) + " once"))
        }
        let data: [String: Any] = [
            "asOf": report.asOf, "from": report.from,
            "summary": kv([("paying accounts", String(report.payingAccounts)), ("MRR", Rationale.money(report.mrr, currency)),
                           ("ARPU", Rationale.money(Int(report.arpu.rounded()), currency)),
                           ("net revenue retention, 12 months", report.retention.map { String(format: "%.1f %%", $0.nrr * 100) } ?? "– (under 12 months of history)"),
                           ("gross revenue retention, 12 months", report.retention.map { String(format: "%.1f %%", $0.grr * 100) } ?? "–"),
                           ("lifetime value per account (CLTV)", report.cltv?.overall.map { Rationale.money(Int($0.rounded()), currency) } ?? "– (no churn measured)")]),
            "movements": kv([("new", m.new), ("expansion", m.expansion), ("reactivation", m.reactivation), ("contraction", -m.contraction),
                             ("churn", -m.churn), ("net", m.net)].map { ($0.0, Rationale.money($0.1, currency)) }),
            "statuses": kv(report.offersByStatus.sorted { $0.key < $1.key }.map { ($0.key, String($0.value)) }),
            "conversion": report.conversion.map { ["kind": $0.kind, "accepted": $0.accepted, "declined": $0.declined,
                                                    "rate": $0.rate.map { String(format: "%.1f %%", $0 * 100) } ?? "–",
                                                    "interval": String(format: "%.1f – %.1f %%", $0.low * 100, $0.high * 100)] },
            "outcome": kv(outcome),
            "declines": report.declines.map { ["code": $0.reasonCode.rawValue, "label": $0.reasonCode.label, "count": $0.count,
                                               "delta": Rationale.money($0.deltaMRR, currency)] as [String: Any] },
            "calibration": [
                "outcomes": report.calibration.outcomes == 1 ? "1 outcome" : "\(Rationale.grouped(report.calibration.outcomes)) outcomes",
                "brier": report.calibration.brier.map { String(format: "%.4f", $0) } ?? "–",
                "brierPerKind": report.calibration.brierPerKind.map { String(format: "%.4f", $0) } ?? "–",
                "chart": Charts.reliability(report.calibration),
                "bins": report.calibration.bins.map { bin in
                    ["range": String(format: "%.1f–%.1f", bin.from, bin.to), "count": bin.count,
                     "predicted": bin.meanPredicted.map { String(format: "%.2f", $0) } ?? "–",
                     "observed": bin.observed.map { String(format: "%.2f", $0) } ?? "–"] as [String: Any]
                },
            ] as [String: Any],
            "experiments": report.experiments.map { e in
                [
                    "name": e.name, "better": String(format: "%.1f %%", e.probabilityTreatmentBetter * 100),
                    "arms": [e.control, e.treatment].map { a in
                        ["arm": a.arm.rawValue, "offers": a.offers, "accepted": a.accepted, "declined": a.declined,
                         "conversion": a.conversion.map { String(format: "%.1f %%", $0 * 100) } ?? "–",
                         "interval": String(format: "%.1f – %.1f %%", a.credible95.low * 100, a.credible95.high * 100),
                         "perAccount": Rationale.money(Int(a.realisedDeltaMRRPerAccount.rounded()), currency)] as [String: Any]
                    },
                ] as [String: Any]
            },
        ]
        return env.pages.render("finance", title: "Finance", identity: identity, data: data)
    }

    @Sendable func users(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.admin)
        return try await usersPage(identity, error: nil, notice: request.uri.queryParameters.get("notice"))
    }

    func usersPage(_ identity: Identity, error: String?, notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let users = try await env.repository.users()
        var data: [String: Any] = ["users": users.map { ["name": $0.name, "role": $0.role.rawValue] }, "csrf": identity.csrfToken ?? ""]
        if let error { data["error"] = error }
        if let notice { data["notice"] = notice }
        return env.pages.render("users", title: "Users", identity: identity, data: data, status: status)
    }

    @Sendable func addUser(_ request: Request, context: AppContext) async throws -> Response {
        let identity = try context.require(.admin)
        let form = try await formFields(request)
        guard form["csrf"] == identity.csrfToken, identity.csrfToken != nil else { throw AccessError.badCSRF }
        guard let name = form["name"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty, name.count <= 64,
              let role = form["role"].flatMap(Role.init(rawValue:)), let password = form["password"], password.count >= 8 else {
            return try await usersPage(identity, error: "Give a name, a role and a password of at least 8 characters.", notice: nil, status: .unprocessableContent)
        }
        let hash = try await NIOThreadPool.singleton.runIfActive { PasswordHashing.hash(password) }
        do {
            try await env.repository.addUser(name: name, role: role, passwordHash: hash, by: identity.name)
        } catch let error as StoreError {
            return try await usersPage(identity, error: error.description, notice: nil, status: .conflict)
        }
        return Response(status: .seeOther, headers: [.location: "/users?notice=added"])
    }
}

/// What pages show instead of codes: the currency and the add-ons' names.
extension CatalogLabels {
    func items(_ items: [AddonQuantity]) -> String {
        items.map { ($0.quantity == 1 ? "" : "\($0.quantity) × ") + (addonNames[$0.addon] ?? $0.addon) }.joined(separator: ", ")
    }
}

/// The texts of a queue or account table row (unescaped).
struct OfferRowText {
    var id, accountPath, accountName, kind, change, status, delta, probability, expected: String
    var reasons: [String]

    init(_ o: OfferRecord, name: String?, labels: CatalogLabels) {
        let currency = labels.currency
        var change = o.fromTier == o.toTier ? o.toTier : "\(o.fromTier) → \(o.toTier)"
        if !o.add.isEmpty { change += " + " + labels.items(o.add) }
        if !o.remove.isEmpty { change += " − " + labels.items(o.remove) }
        id = o.id
        accountPath = PageText.pathSegment(o.accountID)
        accountName = name ?? o.accountID
        kind = o.kind.rawValue
        self.change = change
        status = o.status.rawValue
        delta = Rationale.money(o.deltaMRR, currency)
        probability = PageText.twoDecimals(o.acceptanceProbability)
        expected = Rationale.money(Int(o.expectedDeltaMRR.rounded()), currency)
        reasons = o.reasons
    }
}

/// A queue or account table row, for a template.
func offerRow(_ o: OfferRecord, name: String?, labels: CatalogLabels) -> [String: Any] {
    let t = OfferRowText(o, name: name, labels: labels)
    return ["id": t.id, "accountPath": t.accountPath, "accountName": t.accountName, "kind": t.kind, "change": t.change,
            "status": t.status, "delta": t.delta, "probability": t.probability, "expected": t.expected, "reasons": t.reasons]
}

/// Everything the offer page shows: the offer, its evidence, storage series, history.
struct OfferDetail: Sendable {
    var offer: OfferRecord
    var accountName: String
    var labels: CatalogLabels
    var evidence: [String: JSONValue]
    var series: [(day: Day, bytes: Int64)]
    var events: [OfferEventRecord]
    var featureNames: [String: String]

    static func load(_ repository: some TierPlanRepository, id: String) async throws -> OfferDetail? {
        guard let found = try await repository.offer(id: id) else { return nil }
        let offer = found.offer
        let evidence = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(try await repository.offerEvidence(id: id).utf8))) ?? [:]
        let series = try await repository.storageSeries(accountID: offer.accountID, from: Watcher.windowStart(asOf: offer.asOf), to: offer.asOf)
        return OfferDetail(offer: offer, accountName: try await repository.accountNames(ids: [offer.accountID])[offer.accountID] ?? offer.accountID,
                           labels: try await repository.labels(), evidence: evidence, series: series,
                           events: found.events, featureNames: try await repository.featureNames())
    }

    func featureRow(_ key: String, included: Set<String>, adopted: Set<String>) -> [String: Any] {
        let days: Int = evidence["feature_days"]?.object?[key]?.int ?? 0
        let isIncluded = included.contains(key)
        let state: String = adopted.contains(key) ? "yes" : (isIncluded ? "no" : "demanded")
        return ["name": featureNames[key] ?? key, "included": isIncluded ? "yes" : "no", "days": days, "adopted": state]
    }

    func pageData() -> [String: Any] {
        let o = offer
        let asOf = o.asOf
        let limit = evidence["storage_limit_bytes"]?.int ?? 0
        let used = evidence["storage_used_bytes"]?.int
        let included = Set(evidence["included_features"]?.strings ?? [])
        let adopted = Set(evidence["adopted_features"]?.strings ?? [])
        let demanded: [String] = evidence["demanded_features"]?.strings ?? []
        let allFeatures: [String] = included.union(demanded).sorted()
        // Days used per feature are not in the signals JSON; read them from the rationale's source when present.
        let storageText = used.map { "\(Rationale.gigabytes(Int64($0))) used of \(Rationale.gigabytes(Int64(limit)))" } ?? "No storage samples."
        let seatText = "\(evidence["active_users"]?.int ?? 0) active users in the last 28 days on \(evidence["seat_limit"]?.int ?? 0) seats."
        let currency = labels.currency
        var row = offerRow(o, name: accountName, labels: labels)
        row.merge([
            "accountName": accountName, "asOf": o.asOf.iso, "version": o.version, "rationale": o.rationale,
            "fromTier": o.fromTier, "toTier": o.toTier,
            "add": labels.items(o.add), "remove": labels.items(o.remove),
            "currentMRR": Rationale.money(o.currentMRR, currency), "newMRR": Rationale.money(o.newMRR, currency),
            "oneTime": Rationale.money(o.oneTime, currency),
            "storageChart": Charts.storage(series, limit: Int64(limit), from: Watcher.windowStart(asOf: asOf), to: asOf),
            "storageText": storageText, "seatText": seatText,
            "features": allFeatures.map { featureRow($0, included: included, adopted: adopted) },
            "events": events.map { event in
                let code = event.reasonCode.flatMap(DeclineReason.init(rawValue:))
                let why = [code.map { "\($0.label) (\($0.rawValue))" }, event.reason].compactMap { $0 }.joined(separator: ": ")
                return ["at": event.at, "from": event.fromStatus ?? "–", "to": event.toStatus, "actor": event.actor, "reason": why]
            },
        ]) { $1 }
        if let experiment = o.experiment, let arm = o.arm { row["experiment"] = ["name": experiment, "arm": arm] }
        return row
    }
}

/// A JSON value, for reading the evidence stored with an offer (and, in tests, API responses):
/// integers stay apart from other numbers.
enum JSONValue: Decodable, Sendable, Equatable {
    case integer(Int), number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .integer(i) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// The JSON Schema type name of the value.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    var int: Int? {
        switch self {
        case .integer(let i): i
        case .number(let n): Int(exactly: n.rounded())
        default: nil
        }
    }
    var strings: [String]? { if case .array(let a) = self { return a.compactMap { if case .string(let s) = $0 { return s } else { return nil } } } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
}
