// swift-tools-version:6.1
import PackageDescription

/// One settings list for every Swift target: strict concurrency (Swift 6 mode), and in release
/// builds cross-module optimisation (the hot path inlines across DriftwoodCore and the stages)
/// and no run-time exclusivity checks, which profiled at ~6% of W1 (compile-time checks stay;
/// debug builds, which the tests use, keep the run-time checks too).
let swiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "driftwood",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "driftwood", targets: ["driftwood"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z"), .linkedLibrary("deflate")]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CKafka", linkerSettings: [.linkedLibrary("rdkafka")]),
        // RE2: regular expressions in linear time (parse patterns, `=~`, multiline.start).
        .target(name: "CRE2", linkerSettings: [.linkedLibrary("re2")]),
        // A cache prefetch hint (evaluate's join index).
        .target(name: "CMemory"),
        .target(
            name: "DriftwoodCore",
            dependencies: ["CRE2", "CMemory", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DriftwoodStages",
            dependencies: [
                "DriftwoodCore", "CZlib", "CCurl", "CKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "driftwood",
            dependencies: [
                "DriftwoodCore", "DriftwoodStages",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets (numpy/scipy as the reference for drift maths).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "DriftwoodCoreTests", dependencies: ["DriftwoodCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DriftwoodStagesTests",
            dependencies: [
                "DriftwoodStages", "DriftwoodCore", "CZlib", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        // Yams: the tests read docker-compose.yml, the Grafana provisioning and the pipelines as YAML.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["DriftwoodCore", .product(name: "Yams", package: "Yams")],
            // The browser probes the tests run with python3, by path.
            exclude: ["Support/page_probe.py", "Support/page_probe_firefox.py"],
            swiftSettings: swiftSettings),
    ],
    cxxLanguageStandard: .cxx17
)
