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
        for (name, text) in try Self.templates() { try library.register(text, named: name) }
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

    /// The templates shipped with this build: every `Templates/NAME.mustache` resource, by NAME.
    static func templates() throws -> [String: String] {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil) else { throw TemplatesMissing() }
        var templates: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) where file.pathExtension == "mustache" {
            templates[file.deletingPathExtension().lastPathComponent] = try String(contentsOf: file, encoding: .utf8)
        }
        return templates
    }

    struct TemplatesMissing: Error, CustomStringConvertible {
        var description: String { "the page templates (tierplan_TierPlanServer.resources/Templates) are missing next to the binary" }
    }
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

    /// Reliability: each non-empty bin's mean predicted probability against the share accepted, a
    /// dot sized by its count, with the diagonal of a perfectly calibrated model.
    static func reliability(_ c: Calibration) -> String {
        let size = 300.0, pad = 40.0
        let plot = size - 2 * pad
        func x(_ p: Double) -> Double { pad + p * plot }
        func y(_ p: Double) -> Double { size - pad - p * plot }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
        <svg id="reliability-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(size)) \(Int(size))" style="max-width:\(Int(size))px;width:100%;font-size:11px" role="img" aria-label="predicted acceptance against observed acceptance">
        <rect x="\(pad)" y="\(pad)" width="\(plot)" height="\(plot)" fill="none" stroke="#ccc"/>
        <line id="diagonal" x1="\(f(x(0)))" y1="\(f(y(0)))" x2="\(f(x(1)))" y2="\(f(y(1)))" stroke="#999" stroke-dasharray="5 4"><title>perfect calibration</title></line>
        """
        for t in [0.0, 0.5, 1.0] {
            svg += "<text x=\"\(f(x(t)))\" y=\"\(f(size - pad + 16))\" text-anchor=\"middle\" fill=\"#555\">\(f(t))</text>"
            svg += "<text x=\"\(f(pad - 6))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\" fill=\"#555\">\(f(t))</text>"
        }
        svg += "<text x=\"\(f(size / 2))\" y=\"\(f(size - 6))\" text-anchor=\"middle\">predicted</text>"
        svg += "<text x=\"12\" y=\"\(f(size / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(f(size / 2)))\">observed</text>"
        let largest = Double(max(c.bins.map(\.count).max() ?? 1, 1))
        for bin in c.bins {
            guard let predicted = bin.meanPredicted, let observed = bin.observed else { continue }
            let r = 3 + 7 * (Double(bin.count) / largest).squareRoot()
            svg += "<circle class=\"bin\" cx=\"\(f(x(predicted)))\" cy=\"\(f(y(observed)))\" r=\"\(f(r))\" fill=\"#2e86de\" fill-opacity=\"0.7\">"
                + "<title>\(f(bin.from))–\(f(bin.to)): \(bin.count) offers, predicted \(String(format: "%.2f", predicted)), accepted \(String(format: "%.2f", observed))</title></circle>"
        }
        if c.outcomes == 0 { svg += "<text x=\"\(f(size / 2))\" y=\"\(f(size / 2))\" text-anchor=\"middle\" fill=\"#555\">no outcomes in the period</text>" }
        return svg + "</svg>"
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
