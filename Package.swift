// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tierplan",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tierplan", targets: ["tierplan"]),
        // For the libFuzzer package in Fuzz/ (which depends on this one by path); nothing extra is built.
        .library(name: "TierPlanCore", targets: ["TierPlanCore"]),
        .library(name: "TierPlanStore", targets: ["TierPlanStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
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
            dependencies: ["Postgres", "TierPlanCore", .product(name: "Yams", package: "Yams"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            resources: [.copy("Resources/schema.sql")]
        ),
        // The generated data set of `tierplan demo` and the scenario that loads it (beside the store).
        .target(name: "TierPlanDemo", dependencies: ["TierPlanStore", "TierPlanCore", "Postgres"]),
        // The review page and JSON API (Hummingbird 2, server-rendered Mustache, no external assets).
        .target(
            name: "TierPlanServer",
            dependencies: [
                "TierPlanStore", "TierPlanCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Templates")]
        ),
        .executableTarget(
            name: "tierplan",
            dependencies: [
                "TierPlanStore", "TierPlanCore", "TierPlanServer", "TierPlanDemo",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TierPlanCoreTests", dependencies: ["TierPlanCore"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "TierPlanStoreTests", dependencies: ["TierPlanStore", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: [
            "TierPlanStore", "TestSupport",
            // A real webhook receiver on loopback, verifying signatures itself.
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TierPlanServerTests", dependencies: [
            "TierPlanServer", "TestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // Starts one throwaway PostgreSQL cluster per test process.
        .target(name: "TestSupport", dependencies: ["Postgres", "TierPlanStore"], path: "Tests/TestSupport"),
    ]
)
