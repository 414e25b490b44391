import TierPlanCore
import TierPlanStore

/// The review queue's table rows as HTML, written here rather than by a template section: through
/// Mustache each of a page's ~700 values went through a chain of dynamic casts and a per-character
/// escape, over half the CPU of a queue request at 100k offers. The markup is the one
/// `queue.mustache` had (`QueueRowsTests` holds it to a Mustache rendering of that section), and
/// every value is HTML-escaped as Mustache escapes it: & < > " '.
enum QueueRows {
    static func html(_ offers: [OfferRecord], names: [String: String], labels: CatalogLabels) -> String {
        var out = HTMLBytes(capacity: offers.count * 512)
        for offer in offers {
            let t = OfferRowText(offer, name: names[offer.accountID], labels: labels)
            out.raw("<tr class=\"offer\" data-id=\""); out.text(t.id)
            out.raw("\"><td><a href=\"/accounts/"); out.text(t.accountPath)
            out.raw("\">"); out.text(t.accountName)
            out.raw("</a></td><td>"); out.text(t.kind)
            out.raw("</td><td>"); out.text(t.change)
            out.raw("</td>\n<td class=\"num\">"); out.text(t.delta)
            out.raw("</td><td class=\"num\">"); out.text(t.probability)
            out.raw("</td><td class=\"num\">"); out.text(t.expected)
            out.raw("</td>\n<td>")
            for reason in t.reasons {
                out.raw("<span class=\"tag\">"); out.text(reason); out.raw("</span>")
            }
            out.raw("</td><td><a class=\"open\" href=\"/offers/"); out.text(t.id)
            out.raw("\">Review</a></td></tr>")
        }
        return out.string
    }
}

/// HTML built from literal markup and escaped text, as UTF-8 bytes.
struct HTMLBytes {
    private var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ markup: StaticString) {
        markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `text` with & < > " ' replaced by their entities (byte by byte: every other byte of UTF-8 is
    /// not one of these, so multi-byte characters pass through untouched).
    mutating func text(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() {
                let entity: StaticString
                switch byte {
                case UInt8(ascii: "&"): entity = "&amp;"
                case UInt8(ascii: "<"): entity = "&lt;"
                case UInt8(ascii: ">"): entity = "&gt;"
                case UInt8(ascii: "\""): entity = "&quot;"
                case UInt8(ascii: "'"): entity = "&#39;"
                default: continue
                }
                bytes.append(contentsOf: utf8[start..<i])
                raw(entity)
                start = i + 1
            }
            bytes.append(contentsOf: utf8[start...])
        }
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// What `addingPercentEncoding` and `String(format:)` give for a queue row's path and probability,
/// without their cost (Foundation's percent encoding goes through CFString; both were a tenth of a
/// queue request). `QueueRowsTests` holds them to Foundation's results.
enum PageText {
    /// The bytes `urlPathAllowed` minus "/" lets through unencoded (Foundation on Linux).
    static let pathSegmentAllowed: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "!$&'()*+,-.0123456789:=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~".utf8 { table[Int(byte)] = true }
        return table
    }()

    /// `text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed minus "/")`: every other
    /// UTF-8 byte as %XX.
    static func pathSegment(_ text: String) -> String {
        if text.utf8.allSatisfy({ pathSegmentAllowed[Int($0)] }) { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if pathSegmentAllowed[Int(byte)] {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%")); out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `String(format: "%.2f", value)`. The hundredths are rounded from the product value × 100; where
    /// that product is too close to a half for its rounding error to be ruled out (or too large),
    /// printf itself decides.
    static func twoDecimals(_ value: Double) -> String {
        let scaled = (value * 100).magnitude
        let whole = scaled.rounded(.toNearestOrEven)
        guard value.isFinite, scaled < 1e7, abs(abs(scaled - whole) - 0.5) > 1e-6 else { return String(format: "%.2f", value) }
        let hundredths = Int(whole)
        let cents = hundredths % 100
        return (value.sign == .minus ? "-" : "") + String(hundredths / 100) + (cents < 10 ? ".0" : ".") + String(cents)
    }
}
