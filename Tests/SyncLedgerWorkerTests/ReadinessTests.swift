import Foundation
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

/// Issue 11: `/readyz` follows the database (unready while it is down, ready
/// again when it returns) and the schema; `/healthz` only says the process
/// serves. Runs a metrics server in this process against a private cluster
/// that the test stops and starts.
@Suite("Readiness", .enabled(if: (ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "").isEmpty))
struct ReadinessTests {
    /// Runs a metrics server on an ephemeral port with `readiness`, and `body` with its port.
    static func withServer(readiness: @escaping Readiness.Provider, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = MetricsServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), logger: TestCluster.logger, readiness: readiness,
            onListening: { continuation.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            try await body(port)
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func readyzFollowsTheDatabaseDownAndBack() async throws {
        let logger = TestCluster.logger
        let postgres = try await EmbeddedPostgres.start(logger: logger)
        defer { postgres.stop() }
        try await Database.createDatabase("ready", on: postgres.url, logger: logger)
        let url = postgres.url.with(database: "ready")
        let migrator = try Migrator(directory: Migrator.locateDirectory())

        try await Database.withClient(url, maximumConnections: 2, logger: logger) { client in
            let readiness = Readiness.database(client: client, migrator: migrator, timeout: .seconds(2), logger: logger)
            try await Self.withServer(readiness: readiness) { port in
                // Not migrated yet: unready, saying what to do.
                let unmigrated = await HTTPProbe.wait(port: port, path: "/readyz") {
                    $0.status == 503 && $0.body.contains("run `syncledger migrate`")
                }
                #expect(unmigrated != nil, "/readyz did not ask for `syncledger migrate` on an unmigrated database")

                _ = try await migrator.migrate(client: client, logger: logger)
                let ready = await HTTPProbe.wait(port: port, path: "/readyz", until: { $0.status == 200 })
                #expect(ready?.body == "ready\n")

                try postgres.stopServer()
                let down = await HTTPProbe.wait(port: port, path: "/readyz", until: { $0.status == 503 })
                #expect(down != nil, "/readyz stayed ready with the database stopped")
                #expect(down?.body.contains("database") == true, "\(String(describing: down))")
                let alive = await HTTPProbe.get(port: port, path: "/healthz")
                #expect(alive?.status == 200, "/healthz is about the process, not the database")

                try postgres.startServer()
                let back = await HTTPProbe.wait(port: port, path: "/readyz", until: { $0.status == 200 })
                #expect(back?.body == "ready\n", "/readyz did not become ready again after the database returned")
            }
        }
    }

    @Test func combinedReadinessListsEveryReason() async throws {
        let combined = Readiness.combine([
            { .ready },
            { .unready("the listener is not connected") },
            { .unready("the watchdog saw no progress") },
        ])
        let answer = await combined()
        #expect(!answer.ready)
        #expect(answer.reasons == ["the listener is not connected", "the watchdog saw no progress"])
        #expect(await Readiness.combine([{ .ready }, { .ready }])() == .ready)

        try await Self.withServer(readiness: combined) { port in
            let response = await HTTPProbe.get(port: port, path: "/readyz")
            #expect(response?.status == 503)
            #expect(response?.body == "not ready\n- the listener is not connected\n- the watchdog saw no progress\n")
            #expect(await HTTPProbe.get(port: port, path: "/nope")?.status == 404)
        }
    }
}
