import Foundation
import Hummingbird
import Mustache
import TierPlanCore
import TierPlanStore

/// The HTML templates (Mustache, every `{{value}}` HTML-escaped) and the page layout.
/// Everything a page needs is served by tierplan itself: inline CSS, inline SVG, no scripts.
public struct Pages: Sendable {
    let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in Self.templates { try library.register(text, named: name) }
        self.library = library
    }

    /// Renders `template` with `data` inside the layout.
    func render(_ template: String, title: String, identity: Identity?, data: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let body = library.render(data, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body]
        if let identity {
            layout["user"] = ["name": identity.name, "role": identity.role.rawValue, "csrf": identity.csrfToken ?? "",
                              "admin": identity.role == .admin]
        }
        let html = library.render(layout, withTemplate: "layout") ?? ""
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let templates: [String: String] = [
        "layout": """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · tierplan</title>
        <style>
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
        header{background:#1d2733;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center}
        header a{color:#cfe3ff;text-decoration:none}header .who{margin-left:auto;color:#aab}
        main{padding:1em 1.4em;max-width:1200px}
        table{border-collapse:collapse;background:#fff;width:100%}th,td{padding:.35em .6em;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
        th{background:#eef1f5;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        .card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:1em;margin:0 0 1em}
        .error{background:#fdecea;border:1px solid #f5c2c0;color:#8a1c17;padding:.6em 1em;border-radius:6px;margin-bottom:1em}
        .notice{background:#e8f5e9;border:1px solid #b9dfbc;padding:.6em 1em;border-radius:6px;margin-bottom:1em}
        .tag{display:inline-block;background:#eef1f5;border-radius:3px;padding:0 .4em;margin:0 .2em .2em 0;font-size:12px}
        form.inline{display:inline-block;margin-right:1em}button{cursor:pointer}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1em}
        </style></head>
        <body><header><strong>tierplan</strong>
        {{#user}}<a href="/queue">Queue</a><a href="/forecast">Forecast</a><a href="/finance">Finance</a>{{#admin}}<a href="/users">Users</a>{{/admin}}
        <span class="who">{{name}} ({{role}})</span>
        <form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button>Sign out</button></form>{{/user}}
        </header><main>{{{body}}}</main></body></html>
        """,
        "login": """
        <h1>Sign in</h1>
        {{#error}}<div class="error">{{error}}</div>{{/error}}
        <form method="post" action="/login" class="card" style="max-width:360px">
        <input type="hidden" name="next" value="{{next}}"><input type="hidden" name="csrf" value="{{csrf}}">
        <p><label>Name<br><input name="name" id="name" autocomplete="username" required></label></p>
        <p><label>Password<br><input name="password" id="password" type="password" autocomplete="current-password" required></label></p>
        <p><button id="sign-in">Sign in</button></p></form>
        """,
        "queue": """
        <h1>Review queue</h1>
        {{#notice}}<div class="notice">{{notice}}</div>{{/notice}}
        <form method="get" action="/queue" class="card">
        <label>Kind <select name="kind"><option value="">any</option>{{#kinds}}<option {{#selected}}selected{{/selected}}>{{value}}</option>{{/kinds}}</select></label>
        <label>Reason <select name="reason"><option value="">any</option>{{#reasons}}<option {{#selected}}selected{{/selected}}>{{value}}</option>{{/reasons}}</select></label>
        <label>Owner <select name="owner"><option value="">any</option>{{#owners}}<option {{#selected}}selected{{/selected}}>{{value}}</option>{{/owners}}</select></label>
        <label>Segment <select name="segment"><option value="">any</option>{{#segments}}<option {{#selected}}selected{{/selected}}>{{value}}</option>{{/segments}}</select></label>
        <button>Filter</button></form>
        <p>{{total}} proposed offer(s){{#pages}}, page {{page}} of {{pages}}{{/pages}}.</p>
        <table id="queue"><tr><th>Account</th><th>Kind</th><th>Change</th><th class="num">Δ MRR</th><th class="num">p</th><th class="num">E[Δ]</th><th>Reasons</th><th></th></tr>
        {{#offers}}<tr class="offer" data-id="{{id}}"><td><a href="/accounts/{{accountPath}}">{{accountName}}</a></td><td>{{kind}}</td><td>{{change}}</td>
        <td class="num">{{delta}}</td><td class="num">{{probability}}</td><td class="num">{{expected}}</td>
        <td>{{#reasons}}<span class="tag">{{.}}</span>{{/reasons}}</td><td><a class="open" href="/offers/{{id}}">Review</a></td></tr>{{/offers}}
        </table>
        <p>{{#previous}}<a href="{{previous}}">← previous</a> {{/previous}}{{#next}}<a href="{{next}}">next →</a>{{/next}}</p>
        """,
        "offer": """
        <h1>Offer for <a href="/accounts/{{accountPath}}">{{accountName}}</a></h1>
        {{#error}}<div class="error" id="error">{{error}}</div>{{/error}}
        {{#notice}}<div class="notice">{{notice}}</div>{{/notice}}
        <div class="card"><p><strong>{{kind}}</strong> · status <strong id="status">{{status}}</strong> · version {{version}} · as of {{asOf}}</p>
        <p id="rationale">{{rationale}}</p>
        <table><tr><th>From</th><th>To</th><th>Add</th><th>Remove</th><th class="num">MRR before</th><th class="num">MRR after</th><th class="num">Δ MRR</th><th class="num">One-time</th><th class="num">p</th><th class="num">E[Δ]</th></tr>
        <tr><td>{{fromTier}}</td><td>{{toTier}}</td><td>{{add}}</td><td>{{remove}}</td><td class="num">{{currentMRR}}</td><td class="num">{{newMRR}}</td>
        <td class="num">{{delta}}</td><td class="num">{{oneTime}}</td><td class="num">{{probability}}</td><td class="num">{{expected}}</td></tr></table></div>
        {{#canDecide}}<div class="card" id="decide">
        <form class="inline" method="post" action="/offers/{{id}}/approve"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{version}}"><button id="approve">Approve</button></form>
        <form class="inline" method="post" action="/offers/{{id}}/reject"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{version}}"><input name="reason" id="reject-reason" placeholder="reason (required)"> <button id="reject">Reject</button></form>
        <form class="inline" method="post" action="/offers/{{id}}/snooze"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{version}}"><input type="date" name="until" id="snooze-until" required> <button id="snooze">Snooze</button></form>
        </div>{{/canDecide}}
        <div class="grid">
        <div class="card"><h3>Storage</h3>{{{storageChart}}}<p>{{storageText}}</p></div>
        <div class="card"><h3>Adoption</h3><table><tr><th>Feature</th><th>Included</th><th class="num">Days used (of 28)</th><th>Adopted</th></tr>
        {{#features}}<tr><td>{{name}}</td><td>{{included}}</td><td class="num">{{days}}</td><td>{{adopted}}</td></tr>{{/features}}</table></div>
        <div class="card"><h3>Seats</h3><p>{{seatText}}</p></div>
        </div>
        <div class="card"><h3>Decision history</h3><table><tr><th>When</th><th>From</th><th>To</th><th>Who</th><th>Why</th></tr>
        {{#events}}<tr><td>{{at}}</td><td>{{from}}</td><td>{{to}}</td><td>{{actor}}</td><td>{{reason}}</td></tr>{{/events}}</table></div>
        """,
        "account": """
        <h1 id="account-name">{{name}}</h1>
        <div class="card"><p>{{id}} · tier <strong>{{tier}}</strong> · {{status}} · add-ons {{addons}} · discount {{discount}} · segment {{segment}} · owner {{owner}}</p>
        <p>MRR <strong>{{mrr}}</strong> · customer since {{created}}</p></div>
        <div class="card"><h3>Offers</h3><table><tr><th>Kind</th><th>Change</th><th>Status</th><th class="num">Δ MRR</th><th class="num">E[Δ]</th><th></th></tr>
        {{#offers}}<tr><td>{{kind}}</td><td>{{change}}</td><td>{{status}}</td><td class="num">{{delta}}</td><td class="num">{{expected}}</td><td><a href="/offers/{{id}}">open</a></td></tr>{{/offers}}</table></div>
        <div class="card"><h3>Billing history</h3><table><tr><th>From</th><th>Tier</th><th>Add-ons</th><th>Status</th><th class="num">MRR</th></tr>
        {{#history}}<tr><td>{{day}}</td><td>{{tier}}</td><td>{{addons}}</td><td>{{status}}</td><td class="num">{{mrr}}</td></tr>{{/history}}</table></div>
        """,
        "forecast": """
        <h1>ARPU forecast</h1>
        <form method="get" action="/forecast" class="card"><label>As of <input type="date" name="as_of" value="{{asOf}}"></label>
        <label>Months <input type="number" name="months" min="1" max="120" value="{{months}}"></label>
        <label>Model <select name="model">{{#models}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/models}}</select></label>
        <label>Lookback <input type="number" name="lookback" min="1" max="60" value="{{lookback}}"></label> <button>Project</button>
        <a id="csv" href="/forecast.csv?as_of={{asOf}}&amp;months={{months}}&amp;model={{model}}&amp;lookback={{lookback}}">CSV</a></form>
        <div class="card"><p id="model">{{modelText}}</p>
        <p>{{paying}} paying accounts · MRR {{mrr}} · ARPU {{arpu}} · monthly churn {{churn}} · {{openOffers}} open offers counted, expected Δ MRR {{expectedDelta}}</p>
        <figure id="forecast-chart">{{{chart}}}</figure></div>
        <table id="forecast-table"><tr><th>Month</th><th class="num">Active</th><th class="num">MRR baseline</th><th class="num">MRR expected</th><th class="num">ARPU baseline</th><th class="num">ARPU expected</th><th class="num">P10</th><th class="num">P50</th><th class="num">P90</th></tr>
        {{#rows}}<tr><td>{{month}}</td><td class="num">{{active}}</td><td class="num">{{mrrBaseline}}</td><td class="num">{{mrrExpected}}</td><td class="num">{{arpuBaseline}}</td><td class="num">{{arpuExpected}}</td><td class="num">{{p10}}</td><td class="num">{{p50}}</td><td class="num">{{p90}}</td></tr>{{/rows}}</table>
        <h2>What the history says</h2>
        <div class="card"><figure id="history-chart">{{{movementsChart}}}</figure>
        <table id="history-table"><tr><th>Month</th><th class="num">Start</th><th class="num">MRR start</th><th class="num">Churned</th><th class="num">Churned MRR</th><th class="num">New</th><th class="num">New MRR</th><th class="num">Expansion</th><th class="num">of it offers</th><th class="num">Contraction</th><th class="num">End</th><th class="num">MRR end</th></tr>
        {{#history}}<tr><td>{{month}}</td><td class="num">{{start}}</td><td class="num">{{startMRR}}</td><td class="num">{{churned}}</td><td class="num">{{churnedMRR}}</td><td class="num">{{new}}</td><td class="num">{{newMRR}}</td><td class="num">{{expansion}}</td><td class="num">{{offerExpansion}}</td><td class="num">{{contraction}}</td><td class="num">{{end}}</td><td class="num">{{endMRR}}</td></tr>{{/history}}</table></div>
        <h2>How far to trust it</h2>
        <div class="card"><p>The forecast made at each month end from {{backtestFrom}} to {{backtestTo}}, {{backtestMonths}} months ahead, against what happened
        (<a id="backtest-json" href="/api/v1/forecast/backtest?from={{backtestFrom}}&amp;to={{backtestTo}}&amp;months={{backtestMonths}}">JSON</a>).</p>
        <figure id="backtest-chart">{{{backtestChart}}}</figure>
        <table id="backtest-table"><tr><th>Model</th><th>Horizon</th><th class="num">Forecasts</th><th class="num">ARPU MAPE</th><th class="num">MRR MAPE</th><th class="num">ARPU bias</th><th class="num">P10–P90 coverage</th></tr>
        {{#backtest}}<tr><td>{{model}}</td><td>{{h}}</td><td class="num">{{forecasts}}</td><td class="num">{{arpuMAPE}}</td><td class="num">{{mrrMAPE}}</td><td class="num">{{bias}}</td><td class="num">{{coverage}}</td></tr>{{/backtest}}</table></div>
        """,
        "finance": """
        <h1>Revenue and offers</h1>
        <form method="get" action="/finance" class="card"><label>From <input type="date" name="from" value="{{from}}"></label>
        <label>As of <input type="date" name="as_of" value="{{asOf}}"></label> <button>Show</button></form>
        <div class="grid">
        <div class="card"><h3>Today</h3><table>{{#summary}}<tr><th>{{key}}</th><td class="num">{{value}}</td></tr>{{/summary}}</table></div>
        <div class="card"><h3>MRR movements {{from}} → {{asOf}}</h3><table>{{#movements}}<tr><th>{{key}}</th><td class="num">{{value}}</td></tr>{{/movements}}</table></div>
        <div class="card"><h3>Offers by status</h3><table>{{#statuses}}<tr><th>{{key}}</th><td class="num">{{value}}</td></tr>{{/statuses}}</table></div>
        <div class="card"><h3>Conversion</h3><table><tr><th>Kind</th><th class="num">Accepted</th><th class="num">Declined</th><th class="num">Rate</th><th>95 % interval</th></tr>
        {{#conversion}}<tr><td>{{kind}}</td><td class="num">{{accepted}}</td><td class="num">{{declined}}</td><td class="num">{{rate}}</td><td>{{interval}}</td></tr>{{/conversion}}</table></div>
        <div class="card"><h3>Realised expansion and uplift</h3><table>{{#outcome}}<tr><th>{{key}}</th><td class="num">{{value}}</td></tr>{{/outcome}}</table></div>
        <div class="card"><h3>Forecast</h3><p id="forecast-links"><a href="/forecast?as_of={{asOf}}">ARPU forecast from the history, with its backtest</a>
        · <a href="/forecast.csv?as_of={{asOf}}&amp;months=12">CSV</a> · <a href="/api/v1/forecast?as_of={{asOf}}">JSON</a></p></div>
        </div>
        """,
        "users": """
        <h1>Users</h1>
        {{#error}}<div class="error">{{error}}</div>{{/error}}{{#notice}}<div class="notice">{{notice}}</div>{{/notice}}
        <table><tr><th>Name</th><th>Role</th></tr>{{#users}}<tr><td>{{name}}</td><td>{{role}}</td></tr>{{/users}}</table>
        <form method="post" action="/users" class="card"><input type="hidden" name="csrf" value="{{csrf}}">
        <label>Name <input name="name" required></label> <label>Role <select name="role"><option>viewer</option><option>reviewer</option><option>admin</option></select></label>
        <label>Password <input name="password" type="password" required minlength="8"></label> <button>Add user</button></form>
        """,
        "message": """
        <h1>{{heading}}</h1><div class="{{style}}">{{message}}</div><p><a href="/queue">Back to the queue</a></p>
        """,
    ]
}

/// HTML-escapes text placed in SVG built by hand.
func escapeHTML(_ text: String) -> String {
    var out = ""
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// Inline SVG charts.
enum Charts {
    /// Daily storage over the window with the limit as a dashed line.
    static func storage(_ points: [(day: Day, bytes: Int64)], limit: Int64, from: Day, to: Day) -> String {
        let width = 420.0, height = 180.0, pad = 36.0
        let top = Double(max(limit, points.map(\.bytes).max() ?? 0)) * 1.1
        guard top > 0 else { return "<p>No storage samples.</p>" }
        let span = Double(max(to.days(since: from), 1))
        func x(_ d: Day) -> Double { pad + Double(d.days(since: from)) / span * (width - pad - 8) }
        func y(_ b: Double) -> Double { height - pad + 8 - b / top * (height - pad) }
        let line = points.map { String(format: "%.1f,%.1f", x($0.day), y(Double($0.bytes))) }.joined(separator: " ")
        let limitY = y(Double(limit))
        return """
        <svg id="storage-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" aria-label="storage used against the limit">
        <line x1="\(pad)" y1="\(height - pad + 8)" x2="\(width - 8)" y2="\(height - pad + 8)" stroke="#999"/>
        <line x1="\(pad)" y1="\(String(format: "%.1f", limitY))" x2="\(width - 8)" y2="\(String(format: "%.1f", limitY))" stroke="#c0392b" stroke-dasharray="6 4"/>
        <text x="\(pad + 4)" y="\(String(format: "%.1f", limitY - 4))" font-size="11" fill="#c0392b">limit \(escapeHTML(Rationale.gigabytes(limit)))</text>
        <polyline fill="none" stroke="#2e86de" stroke-width="2" points="\(line)"/>
        <text x="\(pad)" y="\(height - 6)" font-size="11">\(from.iso)</text><text x="\(width - 80)" y="\(height - 6)" font-size="11">\(to.iso)</text>
        </svg>
        """
    }

    /// Baseline and expected ARPU per month with the P10–P90 band, then the same for MRR.
    static func forecast(_ f: Forecast, currency: String) -> String {
        guard !f.months.isEmpty else { return "<p>Nothing to project.</p>" }
        let months = f.months.map(\.month)
        let arpu = lineChart(id: "arpu", title: "ARPU per month", months: months, currency: currency,
                             band: (f.months.map(\.arpuP10), f.months.map(\.arpuP90)),
                             lines: [("baseline", "baseline", "#7f8c8d", f.months.map(\.arpuBaseline)),
                                     ("expected", "expected with offers", "#2e86de", f.months.map(\.arpuExpected))])
        let mrr = lineChart(id: "mrr", title: "MRR per month", months: months, currency: currency,
                            band: (f.months.map(\.mrrP10), f.months.map(\.mrrP90)),
                            lines: [("mrr-baseline", "baseline", "#7f8c8d", f.months.map(\.mrrBaseline)),
                                    ("mrr-expected", "expected with offers", "#2e86de", f.months.map(\.mrrExpected))])
        return arpu + mrr
    }

    /// Each lookback month's MRR movements as stacked bars: new and expansion up, contraction and churn down.
    static func movements(_ history: [MonthMovements], currency: String) -> String {
        guard !history.isEmpty else { return "<p>No lookback month: the history does not cover one.</p>" }
        let width = 680.0, height = 240.0, left = 78.0, right = 20.0, top = 28.0, bottom = 40.0
        let ups = history.map { Double($0.newMRR + $0.expansion) }, downs = history.map { Double($0.contraction + $0.churnedMRR) }
        let upMax = ups.max() ?? 0, downMax = downs.max() ?? 0
        // Both sides keep some room, so that their labels never overlap.
        let hi = max(upMax, downMax * 0.25, 1) * 1.1, lo = -max(downMax, upMax * 0.25, 1) * 1.1
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (height - top - bottom) }
        let slot = (width - left - right) / Double(history.count), bar = slot * 0.6
        func money(_ v: Double) -> String { escapeHTML(Rationale.money(Int(v.rounded()), currency)) }
        func f(_ x: Double) -> String { String(format: "%.1f", x) }
        var svg = """
        <svg id="movements-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" style="max-width:\(Int(width))px;width:100%;font-size:12px" role="img" aria-label="MRR movements by month">
        <text x="\(left)" y="16" font-weight="600">MRR movements by lookback month</text>
        """
        for v in [lo, 0, hi] {
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"\(v == 0 ? "#999" : "#e3e6ea")\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\" fill=\"#555\">\(money(v))</text>"
        }
        let kinds: [(id: String, label: String, color: String, up: Bool, value: (MonthMovements) -> Int)] = [
            ("new", "new", "#27ae60", true, { $0.newMRR }), ("expansion", "expansion", "#2e86de", true, { $0.expansion }),
            ("contraction", "contraction", "#e67e22", false, { $0.contraction }), ("churn", "churn", "#c0392b", false, { $0.churnedMRR }),
        ]
        for (i, m) in history.enumerated() {
            let x = left + Double(i) * slot + (slot - bar) / 2
            var upTop = 0.0, downBottom = 0.0
            for k in kinds {
                let v = Double(k.value(m))
                guard v > 0 else { continue }
                let (from, to) = k.up ? (upTop, upTop + v) : (downBottom - v, downBottom)
                if k.up { upTop += v } else { downBottom -= v }
                svg += "<rect class=\"\(k.id)\" x=\"\(f(x))\" y=\"\(f(y(to)))\" width=\"\(f(bar))\" height=\"\(f(y(from) - y(to)))\" fill=\"\(k.color)\"><title>\(escapeHTML(m.month.iso)) \(k.label): \(money(v))</title></rect>"
            }
            svg += "<text x=\"\(f(x + bar / 2))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" fill=\"#555\">\(escapeHTML(m.month.iso))</text>"
        }
        var legendX = left
        for k in kinds {
            svg += "<rect x=\"\(f(legendX))\" y=\"\(height - 14)\" width=\"12\" height=\"10\" fill=\"\(k.color)\"/><text x=\"\(f(legendX + 16))\" y=\"\(height - 5)\">\(k.label)</text>"
            legendX += 110
        }
        return svg + "</svg>"
    }

    /// Forecast against actual ARPU at one horizon, by the month forecast, for each model (history with its band).
    static func backtest(_ report: BacktestReport, horizon: Int, currency: String) -> String {
        let history = report.raw.filter { $0.h == horizon && $0.model == .history }
        let flat = report.raw.filter { $0.h == horizon && $0.model == .flat }
        let reference = history.isEmpty ? flat : history
        guard !reference.isEmpty else { return "<p>No past month end has \(horizon) months of history after it yet.</p>" }
        var lines: [(id: String, label: String, color: String, values: [Double])] = [("actual", "actual", "#2c3e50", reference.map(\.arpuActual))]
        if !history.isEmpty { lines.append(("history", "history model", "#2e86de", history.map(\.arpuExpected))) }
        if !flat.isEmpty { lines.append(("flat", "flat model", "#e67e22", flat.map(\.arpuExpected))) }
        return lineChart(id: "backtest", title: "ARPU forecast \(horizon) months ahead against what happened", months: reference.map(\.month.iso),
                         currency: currency, band: (reference.map(\.arpuP10), reference.map(\.arpuP90)), lines: lines)
    }

    /// A small line chart with a shaded band, four y gridlines with money labels and month labels.
    static func lineChart(id: String, title: String, months: [String], currency: String, band: ([Double], [Double]),
                          lines: [(id: String, label: String, color: String, values: [Double])]) -> String {
        let width = 680.0, height = 230.0, left = 78.0, right = 36.0, top = 28.0, bottom = 36.0
        let all = band.0 + band.1 + lines.flatMap(\.values)
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        let pad = max((hi - lo) * 0.1, max(abs(hi) * 0.01, 1))
        lo -= pad; hi += pad
        let n = Double(max(months.count - 1, 1))
        func x(_ i: Int) -> Double { left + Double(i) / n * (width - left - right) }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (height - top - bottom) }
        func points(_ values: [Double]) -> [String] { values.enumerated().map { String(format: "%.1f,%.1f", x($0.offset), y($0.element)) } }
        func money(_ v: Double) -> String { escapeHTML(Rationale.money(Int(v.rounded()), currency)) }
        var svg = """
        <svg id="\(id)-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" style="max-width:\(Int(width))px;width:100%;font-size:12px" role="img" aria-label="\(escapeHTML(title))">
        <text x="\(left)" y="16" font-weight="600">\(escapeHTML(title))</text>
        """
        for i in 0...3 {
            let v = lo + (hi - lo) * Double(i) / 3
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(String(format: "%.1f", y(v)))\" y2=\"\(String(format: "%.1f", y(v)))\" stroke=\"#e3e6ea\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(String(format: "%.1f", y(v) + 4))\" text-anchor=\"end\" fill=\"#555\">\(money(v))</text>"
        }
        let step = max(1, months.count / 6)
        for (i, month) in months.enumerated() where i % step == 0 || i == months.count - 1 {
            svg += "<text x=\"\(String(format: "%.1f", x(i)))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" fill=\"#555\">\(escapeHTML(month))</text>"
        }
        let bandID = id == "arpu" ? "band" : "\(id)-band"
        svg += "<polygon id=\"\(bandID)\" points=\"\((points(band.1) + points(band.0).reversed()).joined(separator: " "))\" fill=\"#2e86de\" fill-opacity=\"0.15\"><title>P10–P90</title></polygon>"
        for line in lines {
            svg += "<polyline id=\"\(line.id)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2.5\" points=\"\(points(line.values).joined(separator: " "))\"><title>\(escapeHTML(line.label))</title></polyline>"
        }
        var legendX = left
        for line in lines {
            svg += "<rect x=\"\(legendX)\" y=\"\(height - 12)\" width=\"14\" height=\"3\" fill=\"\(line.color)\"/><text x=\"\(legendX + 18)\" y=\"\(height - 8)\">\(escapeHTML(line.label))</text>"
            legendX += 170
        }
        svg += "<rect x=\"\(legendX)\" y=\"\(height - 16)\" width=\"14\" height=\"10\" fill=\"#2e86de\" fill-opacity=\"0.15\"/><text x=\"\(legendX + 18)\" y=\"\(height - 8)\">P10–P90</text>"
        return svg + "</svg>"
    }
}
