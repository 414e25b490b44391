// swift-tools-version:6.0
// The libFuzzer targets of tierplan, a package of their own so that the main package's
// `swift build` / `swift build --build-tests` never see them (nothing here is built by them).
//
// Why a separate package and this build (measured on Swift 6.3.1, Linux):
// - `-sanitize=fuzzer` on an executable target fails to link under SwiftPM: SwiftPM renames each
//   executable's entry point (`--defsym main=<Target>_main`), which clashes with libFuzzer's `main`.
// - So each target has an ordinary `@main` that hands over to libFuzzer's `LLVMFuzzerRunDriver`,
//   the code is instrumented with the frontend flag only (`-Xfrontend -sanitize=fuzzer`, no driver
//   link step) and libclang_rt.fuzzer_no_main is linked in by hand; see scripts/fuzz.sh.
// - Executable targets in the main Package.swift would be built (and fail to link without
//   libFuzzer) by every plain `swift build`; here they depend on the main package by path,
//   through its library products TierPlanCore and TierPlanStore.
// - The package lives in Fuzz/tierplan-fuzz rather than Fuzz/ because SwiftPM names a package by
//   its directory: a package in Fuzz/ is "fuzz", and clashes with the main package when the
//   repository itself is checked out in a directory called fuzz.
import PackageDescription

let package = Package(
    name: "tierplan-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "tierplan", path: "../..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "TierPlanCore", package: "tierplan")]),
        .executableTarget(name: "FuzzUsage", dependencies: ["FuzzSupport", .product(name: "TierPlanCore", package: "tierplan")]),
        .executableTarget(name: "FuzzCatalog", dependencies: [
            "FuzzSupport", .product(name: "TierPlanCore", package: "tierplan"), .product(name: "TierPlanStore", package: "tierplan"),
        ]),
        .executableTarget(name: "FuzzAccounts", dependencies: [
            "FuzzSupport", .product(name: "TierPlanCore", package: "tierplan"), .product(name: "TierPlanStore", package: "tierplan"),
        ]),
    ]
)
