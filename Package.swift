// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "syncledger",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "syncledger", targets: ["syncledger"]),
        .library(name: "SyncLedgerCore", targets: ["SyncLedgerCore"]),
        .library(name: "SyncLedger", targets: ["SyncLedger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // The pure decision core: no I/O, no dependencies beyond Foundation.
        .target(name: "SyncLedgerCore"),
        // The PostgreSQL shell: loads chunks, asks the core, writes results set-based.
        .target(
            name: "SyncLedger",
            dependencies: [
                "SyncLedgerCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "syncledger",
            dependencies: [
                "SyncLedger",
                "SyncLedgerCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(name: "SyncLedgerCoreTests", dependencies: ["SyncLedgerCore"]),
        .testTarget(
            name: "SyncLedgerTests",
            dependencies: [
                "SyncLedger",
                // Not imported: listed so `swift test` builds the binary the
                // process-level tests (faults, SIGTERM) start.
                "syncledger",
                "SyncLedgerCore",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
