import Foundation

/// An amount of money in integer minor units (cents) of the catalog's currency.
public typealias MinorUnits = Int

/// A discount in hundredths of a percent (basis points): 12.5 % is 1250. Exact, never a float.
public struct Discount: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let basisPoints: Int

    public init(basisPoints: Int) { self.basisPoints = basisPoints }

    public static let none = Discount(basisPoints: 0)

    /// Parses a percentage such as `10`, `12.5` or `7.25`; at most two decimals, 0 to 100.
    public init?(percentText: String) {
        let text = percentText.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { self = .none; return }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        // `.5` and `12.50` are fine; a third decimal other than 0 is not (discounts are basis points).
        guard parts.count <= 2, parts[0].allSatisfy(\.isNumber), !(parts[0].isEmpty && parts.count == 1),
              let whole = parts[0].isEmpty ? 0 : Int(parts[0]), whole <= 100 else { return nil }   // no overflow below
        var fraction = 0
        if parts.count == 2 {
            var digits = Substring(parts[1])
            while digits.count > 2, digits.last == "0" { digits = digits.dropLast() }
            guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy(\.isNumber), let value = Int(digits) else { return nil }
            fraction = digits.count == 1 ? value * 10 : value
        }
        let bp = whole * 100 + fraction
        guard bp <= 10_000 else { return nil }
        self.basisPoints = bp
    }

    /// `round-half-up(amount × (1 − pct/100))`, exact in integers, for any amount (the product is
    /// taken in 128 bits: a what-if catalog may price a configuration near the top of Int).
    public func apply(to amount: MinorUnits) -> MinorUnits {
        precondition(amount >= 0, "prices are never negative")
        let (quotient, remainder) = 10_000.dividingFullWidth(amount.multipliedFullWidth(by: 10_000 - basisPoints))
        return quotient + (remainder >= 5_000 ? 1 : 0)
    }

    /// The percentage as a decimal string (`12.5`, `10`).
    public var percentText: String {
        let whole = basisPoints / 100, fraction = basisPoints % 100
        if fraction == 0 { return String(whole) }
        return fraction % 10 == 0 ? "\(whole).\(fraction / 10)" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public var description: String { percentText + "%" }
    public static func < (a: Discount, b: Discount) -> Bool { a.basisPoints < b.basisPoints }
}


/// `value` rounded half away from zero to `places` decimals: how the contract prints ratios (4),
/// days (1) and averages of money (2).
public func rounded(_ value: Double, _ places: Int) -> Double {
    let scale = pow(10.0, Double(places))
    return (value * scale).rounded() / scale
}
