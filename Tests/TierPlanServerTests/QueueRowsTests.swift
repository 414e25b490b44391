import Foundation
import Mustache
@testable import TierPlanServer
import TierPlanCore
@testable import TierPlanStore
import XCTest

/// The queue's rows are written in Swift (`QueueRows`): they must be what the template section they
/// replaced rendered, for any text, including what HTML must escape.
final class QueueRowsTests: XCTestCase {
    /// The section of queue.mustache before 2026-12-03, as it was.
    static let section = #"""
{{#offers}}<tr class="offer" data-id="{{id}}"><td><a href="/accounts/{{accountPath}}">{{accountName}}</a></td><td>{{kind}}</td><td>{{change}}</td>
<td class="num">{{delta}}</td><td class="num">{{probability}}</td><td class="num">{{expected}}</td>
<td>{{#reasons}}<span class="tag">{{.}}</span>{{/reasons}}</td><td><a class="open" href="/offers/{{id}}">Review</a></td></tr>{{/offers}}
"""#

    func testRowsAreWhatTheTemplateSectionRendered() throws {
        var library = MustacheLibrary()
        try library.register(Self.section, named: "rows")
        var g = OfferJSONTests.Generator(state: 1203)
        for round in 0..<300 {
            // Mustache escapes by Character, QueueRows by byte: they differ only where a combining mark
            // follows one of & < > " ' (QueueRows still escapes it; Mustache leaves the cluster as it is).
            func text(_ maxLength: Int) -> String { g.text(maxLength: maxLength).replacingOccurrences(of: "e\u{301}", with: "é") }
            let offers = (0..<g.below(5)).map { _ in
                var offer = g.offer()
                offer.accountID = text(12); offer.id = text(12); offer.fromTier = text(8); offer.toTier = g.chance(0.5) ? offer.fromTier : text(8)
                offer.reasons = offer.reasons.map { _ in text(10) }
                offer.add = offer.add.map { AddonQuantity(addon: text(6), quantity: $0.quantity) }
                offer.remove = offer.remove.map { AddonQuantity(addon: text(6), quantity: $0.quantity) }
                offer.deltaMRR = g.below(2_000_000) - 1_000_000
                offer.expectedDeltaMRR = Double(g.below(2_000_000) - 1_000_000) / 7
                offer.acceptanceProbability = Double(g.below(10_001)) / 10_000
                return offer
            }
            var names: [String: String] = [:]
            for offer in offers where g.chance(0.7) { names[offer.accountID] = text(20) }
            let labels = CatalogLabels(currency: ["USD", "EUR", "GBP", "X<Y"][g.below(4)],
                                       addonNames: Dictionary(offers.flatMap { $0.add + $0.remove }.map { ($0.addon, text(10)) }, uniquingKeysWith: { a, _ in a }))
            let expected = library.render(["offers": offers.map { offerRow($0, name: names[$0.accountID], labels: labels) }], withTemplate: "rows")
            let written = QueueRows.html(offers, names: names, labels: labels)
            if written != expected {
                XCTFail("round \(round):\nwritten  \(written.debugDescription)\nexpected \(String(describing: expected).debugDescription)")
                return
            }
        }
    }

    func testPathSegmentsAreWhatFoundationEncodes() {
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        var cases = (0..<128).map { String(UnicodeScalar(UInt8($0))) } + ["acme", "acct-000001", "a b/c?d#e%f", "Zoë 🚀", "e\u{301}", ""]
        var g = OfferJSONTests.Generator(state: 42)
        cases += (0..<500).map { _ in g.text(maxLength: 16) }
        for text in cases {
            XCTAssertEqual(PageText.pathSegment(text), text.addingPercentEncoding(withAllowedCharacters: allowed), text.debugDescription)
        }
    }

    func testTwoDecimalsAreWhatPrintfWrites() {
        var values: [Double] = [0, -0.0, 1, 0.125, 0.375, 0.625, 0.875, 0.005, 0.015, 0.025, 0.045, 0.285, 1.005, 2.675, -0.001, -0.125,
                                -1.5, 0.995, 0.9999, 99.995, 1e6 + 0.125, 1e7, 1e12 + 0.5, 1e20, -1e20, .ulpOfOne, 5e-324, 0.1 + 0.2]
        var g = OfferJSONTests.Generator(state: 7)
        for _ in 0..<20_000 {
            let decimals = Double([1, 10, 100, 1000, 10_000, 100_000, 1_000_000][g.below(7)])
            values.append(Double(g.below(2_000_000) - 1_000_000) / decimals)
            values.append(g.double())
            values.append((Double(g.below(10_000)) + 0.5) / 100)   // halves of a hundredth: ties and near-ties
        }
        for value in values {
            let expected = String(format: "%.2f", value)
            if PageText.twoDecimals(value) != expected {
                XCTFail("\(value): \(PageText.twoDecimals(value)), printf \(expected)")
                return
            }
        }
    }

    func testEveryQuoteIsEscaped() {
        var out = HTMLBytes(capacity: 16)
        out.text("\"\u{301}<b>&'x'")
        XCTAssertEqual(out.string, "&quot;\u{301}&lt;b&gt;&amp;&#39;x&#39;")
    }
}
