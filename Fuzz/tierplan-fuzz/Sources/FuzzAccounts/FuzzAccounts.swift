import Foundation
import FuzzSupport
import TierPlanCore
import TierPlanStore

/// The fixed catalog the accounts are checked against: examples/catalog.yaml, parsed once.
let catalog: Catalog = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = root.appendingPathComponent("examples/catalog.yaml").path
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fatalError("cannot read \(path)") }
    do { return try CatalogFile.parse(yaml: text, file: path) } catch { fatalError("\(error)") }
}()

/// One input is an accounts CSV file, through `AccountsCSV.parse` as `tierplan accounts import`
/// uses it. It must give accounts, or InputErrors each naming the file and a line of it. Each
/// account is then priced (`mrr(in:)`), as the import does right after parsing, and its limits
/// computed, as the watcher does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAccounts(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: inputBytes(data, size), as: UTF8.self)
    do {
        let accounts = try AccountsCSV.parse(text, file: "fuzz.csv", catalog: catalog)
        precondition(Set(accounts.map(\.id)).count == accounts.count, "duplicate account ids accepted")
        for account in accounts {
            precondition(!account.id.isEmpty && catalog.tier(account.tier) != nil)
            precondition(account.addons.allSatisfy { $0.quantity >= 1 })
            precondition(account.mrr(in: catalog) >= 0)
            _ = catalog.limits(tier: account.tier, addons: account.addons)
            _ = account.addonsText
            _ = account.createdAt.iso
        }
    } catch let errors as InputErrors {
        checkLocated(errors, file: "fuzz.csv", maxLine: maxLine(of: text))
    } catch {
        fatalError("unexpected error \(type(of: error)): \(error)")
    }
    return 0
}

@main struct Main {
    static func main() {
        _ = catalog
        runFuzzer(fuzzAccounts)
    }
}
