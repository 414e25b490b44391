// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tierplan",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tierplan", targets: ["tierplan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libpq, found through pkg-config (shim.h falls back to the Debian header path).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // A small, general, safe libpq wrapper.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // Domain types and every rule of the contract, pure Swift.
        .target(name: "TierPlanCore"),
        // The SQL of tierplan's schema: migrations, embedded cluster, loaders, ingest.
        .target(
            name: "TierPlanStore",
            dependencies: ["Postgres", "TierPlanCore", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Resources/schema.sql")]
        ),
        .executableTarget(
            name: "tierplan",
            dependencies: [
                "TierPlanStore", "TierPlanCore", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TierPlanCoreTests", dependencies: ["TierPlanCore"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "TierPlanStoreTests", dependencies: ["TierPlanStore", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TierPlanStore", "TestSupport"]),
        // Starts one throwaway PostgreSQL cluster per test process.
        .target(name: "TestSupport", dependencies: ["Postgres", "TierPlanStore"], path: "Tests/TestSupport"),
    ]
)
