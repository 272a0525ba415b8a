import Foundation
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

/// Issue 21: the worker through a stock PgBouncer (Debian's `pgbouncer`,
/// started by the test with its shipped defaults: no
/// `ignore_startup_parameters`), in session and in transaction mode. Every
/// job is processed, or the worker exits 78 with a named error; never a
/// silent retry loop. Skipped only when PgBouncer is not installed (`.ci/run`
/// installs it).
@Suite(
    "Poolers: a stock PgBouncer in session and transaction mode",
    .enabled(if: PgBouncer.binary != nil, "PgBouncer is not installed (apt-get install pgbouncer; .ci/run does): pooler tests skipped"))
struct PoolerTests {
    /// (mode, worker flags) as deploy/README.md documents them.
    static let cases: [(PgBouncer.Mode, [String])] = [
        (.session, []),
        (.transaction, ["--transaction-pooler"]),
        (.transaction, []),
    ]

    @Test(.timeLimit(.minutes(4)), arguments: 0..<3)
    func aWorkerThroughPgBouncerProcessesEveryJob(_ index: Int) async throws {
        let (mode, flags) = Self.cases[index]
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let pooler = try await PgBouncer(mode: mode, in: db.url)
            defer { pooler.stop() }
            let jobs = 6
            for j in 1...jobs {
                try await db.submit(key: "pooled-\(j)", items: (1...40).map { .set("PB\(j)-\($0)", "email", "pb\(j)-\($0)@example.org") })
            }
            let run = try await CommandRun.run(
                ["worker", "--exit-when-idle", "--worker-id", "pooled-\(mode.rawValue)", "--chunk-size", "10"] + flags,
                environment: ["DATABASE_URL": CommandRun.databaseURL(pooler.url)], bound: .seconds(180))
            #expect(run.status == 0, "\(mode) \(flags): \(run)\npgbouncer log:\n\(pooler.log.suffix(2000))")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job WHERE job_status = 'Completed'") == jobs, "\(run)")
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE sync_item_id IS NOT NULL") == jobs * 40)
            // The refusal of startup parameters is no longer hidden: the worker
            // says how it applies its settings instead.
            if flags.isEmpty {
                #expect(run.stderr.contains("refuses session settings as startup parameters"), "\(run)")
            } else {
                #expect(!run.stderr.contains("unsupported startup parameter"), "\(run)")
            }
        }
    }

    /// Through PgBouncer, the worker's sessions still carry its bounds: in
    /// session mode set after connecting, in transaction mode per transaction.
    @Test(.timeLimit(.minutes(2)))
    func sessionSettingsReachTheServerThroughPgBouncer() async throws {
        try await TestDatabase.with { db in
            let pooler = try await PgBouncer(mode: .session, in: db.url)
            defer { pooler.stop() }
            var settings = SessionSettings()
            settings.delivery = .afterConnecting
            settings.idleInTransactionTimeout = .seconds(7)
            let setup = SessionSetup(settings: settings, logger: db.logger)
            let values = try await SessionSetup.$current.withValue(setup) {
                try await Database.withClient(pooler.url, maximumConnections: 1, logger: db.logger) { client in
                    try await client.withOpenConnection { conn in
                        try await conn.checkedRows(
                            "SELECT current_setting('idle_in_transaction_session_timeout'), current_setting('tcp_user_timeout')",
                            logger: db.logger
                        ).decoded((String, String).self)
                    }
                }
            }
            #expect(values.first?.0 == "7s")
            #expect(values.first?.1 == "25000")  // milliseconds, as SHOW gives tcp_user_timeout
        }
    }
}
