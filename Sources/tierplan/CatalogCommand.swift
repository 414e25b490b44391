import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `tierplan catalog …`: tiers, features, add-ons and policy.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Load or show the catalog: tiers, features, add-ons, policy.",
        subcommands: [Load.self, Show.self]
    )

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the catalog from YAML, atomically (the whole file or nothing).",
            discussion: "Tiers are listed from lowest to highest; that order is their rank. Prices are integer minor units.")
        @Argument(help: "Catalog YAML file, or - for stdin.") var file: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let catalog = try CatalogFile.parse(yaml: try readText(file), file: file)
                let summary = try await connection.repository().loadCatalog(catalog, source: file)
                try output.print(summary) {
                    Console.out("catalog loaded from \(file): \(summary.tiers) tiers, \(summary.features) features, \(summary.addons) add-ons\(summary.bundles > 0 ? ", \(summary.bundles) bundles" : "") (\(summary.currency))")
                    if !summary.removed.isEmpty { Console.out("removed: \(summary.removed.joined(separator: ", "))") }
                    if summary.accountsRepriced > 0 { Console.out("new prices: MRR of \(summary.accountsRepriced) account(s) priced again (history dated today)") }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the loaded catalog.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors {
                let catalog = try await connection.repository().catalog()
                try output.print(CatalogView(catalog)) {
                    Console.out("currency \(catalog.currency)")
                    for tier in catalog.tiers {
                        Console.out("tier \(tier.rank) \(tier.code): \(tier.priceMonthly) /month, \(tier.storageGB) GB, \(tier.seats) seats, features \(tier.features.joined(separator: ", "))")
                    }
                    for addon in catalog.addons where addon.kind != .bundle {
                        Console.out("add-on \(addon.code) (\(addon.kind.rawValue)): \(addon.priceMonthly) /month, \(addon.priceOnce) once, on \(addon.availableOn?.joined(separator: ", ") ?? "every tier")")
                    }
                    for bundle in catalog.addons where bundle.kind == .bundle {
                        Console.out("bundle \(bundle.code): \(bundle.contents.map { "\($0.addon) × \($0.quantity)" }.joined(separator: ", ")) for \(bundle.priceMonthly) /month, on \(bundle.availableOn?.joined(separator: ", ") ?? "every tier")")
                    }
                }
            }
        }
    }
}

/// The catalog as JSON, with the policy in effect.
struct CatalogView: Encodable {
    var currency: String
    var features: [Feature]
    var tiers: [Tier]
    var addons: [Addon]
    var bundles: [BundleView]
    var policy: Policy
    init(_ c: Catalog) {
        currency = c.currency; features = c.features; tiers = c.tiers; policy = c.policy
        addons = c.addons.filter { $0.kind != .bundle }
        bundles = c.addons.filter { $0.kind == .bundle }.map {
            BundleView(code: $0.code, name: $0.name, addons: Dictionary(uniqueKeysWithValues: $0.contents.map { ($0.addon, $0.quantity) }),
                       priceMonthly: $0.priceMonthly, availableOn: $0.availableOn)
        }
    }
}

/// A bundle as the catalog file writes it: `{code, name, addons: {code: quantity}, price_monthly, available_on}`.
struct BundleView: Encodable {
    var code: String
    var name: String
    var addons: [String: Int]
    var priceMonthly: MinorUnits
    var availableOn: [String]?
}
