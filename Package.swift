// swift-tools-version:6.0
import PackageDescription

/// What every integration test target links: the libraries, the shared
/// harness, and the `syncledger` executable, which is not imported but listed
/// so that `swift test` builds the binary the tests run as a process.
let integrationTestDependencies: [Target.Dependency] = [
    "SyncLedgerCore", "SyncLedgerPostgres", "SyncLedgerWorker", "SyncLedgerDevSupport", "SyncLedgerTestSupport", "syncledger",
    .product(name: "PostgresNIO", package: "postgres-nio"),
    .product(name: "Logging", package: "swift-log"),
]

let package = Package(
    name: "syncledger",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "syncledger", targets: ["syncledger"]),
        .library(name: "SyncLedgerCore", targets: ["SyncLedgerCore"]),
        .library(name: "SyncLedgerPostgres", targets: ["SyncLedgerPostgres"]),
        .library(name: "SyncLedgerWorker", targets: ["SyncLedgerWorker"]),
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
        // The PostgreSQL shell: connections, migrations, transactions, and
        // one type per SQL concern (jobs, chunks, stewardship, outbound,
        // retention, intake, the queue snapshot). Loads, asks the core,
        // writes set-based.
        .target(
            name: "SyncLedgerPostgres",
            dependencies: [
                "SyncLedgerCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The worker's services: slots, heartbeat, listener, watchdog,
        // retention; metrics, /healthz and /readyz, logs.
        .target(
            name: "SyncLedgerWorker",
            dependencies: [
                "SyncLedgerCore",
                "SyncLedgerPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The demo, the bench and the embedded throwaway PostgreSQL: for the
        // command-line tool and the tests only, never linked by the runtime.
        .target(
            name: "SyncLedgerDevSupport",
            dependencies: [
                "SyncLedgerCore",
                "SyncLedgerPostgres",
                "SyncLedgerWorker",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "syncledger",
            dependencies: [
                "SyncLedgerCore",
                "SyncLedgerPostgres",
                "SyncLedgerWorker",
                "SyncLedgerDevSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The integration tests' shared harness: the throwaway cluster, a
        // database per test, the standard scenario, runners of the built
        // binary, a TCP proxy for network faults, an HTTP probe, schema dumps.
        .target(
            name: "SyncLedgerTestSupport",
            dependencies: [
                "SyncLedgerCore",
                "SyncLedgerPostgres",
                "SyncLedgerWorker",
                "SyncLedgerDevSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/SyncLedgerTestSupport"
        ),
        .testTarget(name: "SyncLedgerCoreTests", dependencies: ["SyncLedgerCore"]),
        // Database-level tests of the PostgreSQL shell and the SQL.
        .testTarget(name: "SyncLedgerPostgresTests", dependencies: integrationTestDependencies, exclude: ["Fixtures"]),
        // The worker in process and as processes: fleets, liveness, faults,
        // start-up, readiness, metrics, logs.
        .testTarget(
            name: "SyncLedgerWorkerTests",
            dependencies: integrationTestDependencies + [
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The commands run as processes, and the documentation.
        .testTarget(name: "SyncLedgerCLITests", dependencies: integrationTestDependencies),
    ],
    swiftLanguageModes: [.v6]
)
