import FuzzSupport
import TierPlanCore
import TierPlanStore

/// One input is a catalog file: YAML text → `Yams.compose` → `CatalogFile.sourceNode` →
/// `CatalogParser.parse`, through the public entry `CatalogFile.parse(yaml:file:)` that
/// `tierplan catalog load` uses. It must give a catalog, or InputErrors each naming the file and
/// a line of it. A parsed catalog is then priced as the planner prices it (each tier with every
/// add-on once, under the largest discount) and its limits computed as the watcher does, so that
/// values the parser lets through cannot trap later.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCatalog(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: inputBytes(data, size), as: UTF8.self)
    do {
        let catalog = try CatalogFile.parse(yaml: text, file: "fuzz.yaml")
        precondition(!catalog.tiers.isEmpty && catalog.currency.count == 3)
        precondition(Set(catalog.tiers.map(\.code)).count == catalog.tiers.count)
        precondition(Set(catalog.addons.map(\.code)).count == catalog.addons.count)
        let all = catalog.addons.filter { $0.kind != .service }.map { AddonQuantity(addon: $0.code, quantity: 1) }
        for tier in catalog.tiers {
            for discount in [Discount.none, Discount(percentText: "99.99")!] {
                precondition(Pricing.mrr(tier: tier, addons: all, catalog: catalog, discount: discount) >= 0)
            }
            _ = catalog.limits(tier: tier.code, addons: all)
        }
    } catch let errors as InputErrors {
        checkLocated(errors, file: "fuzz.yaml", maxLine: maxLine(of: text))
    } catch {
        fatalError("unexpected error \(type(of: error)): \(error)")
    }
    return 0
}

@main struct Main {
    static func main() { runFuzzer(fuzzCatalog) }
}
