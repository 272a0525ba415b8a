import Foundation
import Logging
import PostgresNIO
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#endif

/// The fault test: worker processes on dozens of jobs, one killed with
/// SIGKILL mid-run, PostgreSQL crashed (`pg_ctl restart -m immediate`: every
/// server process killed at once, crash recovery) under the others for
/// several rounds (`SYNCLEDGER_STRESS_ROUNDS`, default 2), and every worker
/// that exits restarted under its own worker id as the systemd unit does
/// (`Restart=always`). Afterwards every job is finished, every item applied
/// exactly once, the values right, and SIGTERM stops each worker with exit 0.
/// Runs on a private cluster, since it crashes the server.
@Suite("Faults: crashes and PostgreSQL crashes")
struct FaultToleranceTests {
    static let jobs = 36
    static let records = 40
    static let fields = ["given_name", "family_name", "email"]
    static var rounds: Int { ConcurrencyTests.rounds }

    @Test(.timeLimit(.minutes(10)))
    func workersSurviveCrashesAndServerCrashesWithEveryItemAppliedOnce() async throws {
        let logger = TestCluster.logger
        let postgres = try await EmbeddedPostgres.start(logger: logger)
        defer { postgres.stop() }
        try await Database.createDatabase("faults", on: postgres.url, logger: logger)
        let url = postgres.url.with(database: "faults")
        let migrator = try Migrator(directory: Migrator.locateDirectory())
        let total = Self.jobs * Self.records * Self.fields.count

        try await Database.withClient(url, maximumConnections: 4, logger: logger) { client in
            try await migrator.migrate(client: client, logger: logger)
            try await Database.runScript(Scenario.standard, on: client, logger: logger)
            try await client.query(
                """
                WITH jobs AS (
                  INSERT INTO integration.sync_job (source_system_key, entity_type, job_key)
                  SELECT 'hr', 'core.person', 'fault-' || j FROM generate_series(1, \(Self.jobs)) j
                  RETURNING job_id, split_part(job_key, '-', 2)::int AS j
                )
                INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
                SELECT jobs.job_id, r * 10 + f, 'K' || jobs.j || '-' || r, (\(Self.fields))[f],
                       (\(Self.fields))[f] || '-' || jobs.j || '-' || r
                  FROM jobs, generate_series(1, \(Self.records)) r, generate_series(1, \(Self.fields.count)) f
                """, logger: logger)
        }

        let arguments = ["--concurrency", "2", "--lease-seconds", "3", "--poll-interval-seconds", "1", "--chunk-size", "10",
                         "--max-attempts", "50", "--shutdown-grace-seconds", "20"]
        let fleet = SupervisedFleet(ids: ["w1", "w2", "w3"], url: url, arguments: arguments)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await fleet.supervise() }
            defer { group.cancelAll() }

            try await Database.withClient(url, maximumConnections: 2, logger: logger) { client in
                try await Self.waitUntilApplied(atLeast: total / 10, client: client)
                // Killed while it holds a job, so that a job must be taken
                // over: frozen (SIGSTOP) until it is seen holding one.
                let holds = try await eventually(within: .seconds(60), every: .milliseconds(20)) {
                    fleet.signal("w1", SIGSTOP)
                    let held = try await Self.scalar(
                        "SELECT count(*) FROM integration.sync_job WHERE lease_owner = 'w1' AND job_status = 'Processing'", client)
                    if held == 0 { fleet.signal("w1", SIGCONT) }
                    return held > 0
                }
                #expect(holds, "w1 never held a job; logs:\n\(fleet.logs.suffix(3000))")
            }
            fleet.kill("w1")

            for round in 1...Self.rounds {
                try await Database.withClient(url, maximumConnections: 2, logger: logger) { client in
                    try await Self.waitUntilApplied(atLeast: total * round / (Self.rounds + 2), client: client)
                }
                try postgres.restart(immediate: true)
            }

            try await Database.withClient(url, maximumConnections: 2, logger: logger) { client in
                let deadline = ContinuousClock.now + .seconds(240)
                while try await Self.scalar("SELECT count(*) FROM integration.sync_job WHERE finished_at IS NULL", client) > 0 {
                    if ContinuousClock.now > deadline {
                        Issue.record("jobs unfinished after 240 s; logs:\n\(fleet.logs.suffix(4000))")
                        return
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }

                #expect(try await Self.scalar("SELECT count(*) FROM integration.sync_job WHERE job_status = 'Completed'", client) == Self.jobs)
                #expect(try await Self.scalar("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Applied'", client) == total)
                // Exactly once: one ledger row per item, none without its item.
                #expect(try await Self.scalar("SELECT count(*) FROM integration.ledger WHERE sync_item_id IS NOT NULL", client) == total)
                #expect(
                    try await Self.scalar(
                        "SELECT count(*) FROM integration.sync_item i JOIN integration.ledger l ON l.ledger_id = i.ledger_id AND l.sync_item_id = i.item_id",
                        client) == total)
                // One record per key, each holding the values sent for it.
                #expect(try await Self.scalar("SELECT count(*) FROM core.person", client) == Self.jobs * Self.records)
                #expect(
                    try await Self.scalar(
                        """
                        SELECT count(*) FROM integration.sync_item i
                          JOIN integration.identifier x ON x.source_system_key = 'hr' AND x.external_key = i.external_key
                          JOIN core.person p ON p.id = x.target_id
                         WHERE i.new_value IS DISTINCT FROM (to_jsonb(p) ->> i.field_name)
                        """, client) == 0)
                #expect(try await Self.scalar("SELECT count(*) FROM integration.verify_ledger()", client) == 0)
                #expect(try await Self.scalar("SELECT count(*) FROM integration.provenance_violations()", client) == 0)
                // The crashes were felt: w1's job needed another attempt.
                #expect(try await Self.scalar("SELECT count(*) FROM integration.sync_job WHERE attempts > 1", client) > 0)
            }
            // The killed worker was started again, as systemd would.
            #expect(fleet.exits.contains { $0.id == "w1" }, "exits: \(fleet.exits)")
            group.cancelAll()
        }

        let statuses = await fleet.stop()
        for (id, status) in statuses {
            #expect(status == 0, "worker \(id) exit status \(String(describing: status)); exits so far \(fleet.exits):\n\(fleet.logs.suffix(3000))")
        }
    }

    static func waitUntilApplied(atLeast count: Int, client: PostgresClient) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while try await scalar("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Applied'", client) < count {
            if ContinuousClock.now > deadline { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func scalar(_ query: PostgresQuery, _ client: PostgresClient) async throws -> Int {
        let rows = try await client.query(query, logger: TestCluster.logger)
        for try await value in rows.decode(Int64.self) { return Int(value) }
        return 0
    }
}
