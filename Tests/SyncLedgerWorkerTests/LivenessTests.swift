import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

#if canImport(Glibc)
    import Glibc
#endif

/// Liveness under faults: dead connections, a network partition longer than
/// the lease, a frozen worker, two slots of one process, a stop forced past
/// the grace period. The network faults go through a ``TCPProxy`` the test
/// controls; the process faults use real worker processes and signals.
@Suite("Liveness: network faults, frozen and stopped workers")
struct LivenessTests {
    /// `url` with the proxy in front of its server.
    static func through(_ proxy: TCPProxy, _ url: DatabaseURL) -> DatabaseURL {
        var url = url
        url.host = "127.0.0.1"
        url.port = proxy.port
        return url
    }

    /// A connection of the test's own, holding a transaction open.
    static func openTransaction(_ db: TestDatabase, _ statement: PostgresQuery) async throws -> PostgresConnection {
        let connection = try await PostgresConnection.connect(
            configuration: try db.url.connectionConfiguration(applicationName: "liveness test"), id: 99, logger: db.logger)
        try await connection.query("BEGIN", logger: db.logger)
        try await connection.query(statement, logger: db.logger)
        return connection
    }

    /// The sessions a worker has on the server (by its application name).
    static func sessions(of workerID: String, _ db: TestDatabase) async throws -> Int {
        try await db.int(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = \(SessionSettings.serverName("syncledger worker \(workerID)"))")
    }

    /// Whether a session of the worker waits for a lock.
    static func waitsOnALock(_ workerID: String, _ db: TestDatabase) async throws -> Bool {
        try await db.int(
            """
            SELECT count(*) FROM pg_stat_activity
             WHERE application_name = \(SessionSettings.serverName("syncledger worker \(workerID)")) AND wait_event_type = 'Lock'
            """) > 0
    }

    // MARK: - A half-open connection

    /// The proxy stops forwarding without closing anything: the query fails
    /// with QueryTimedOut (not a hang), and once the link is back the pool
    /// answers on a new connection.
    @Test(.timeLimit(.minutes(2)))
    func aQueryOnAHalfOpenConnectionFailsWithinItsDeadline() async throws {
        try await TestDatabase.with { db in
            let proxy = try await TCPProxy(to: db.url.host, port: db.url.port)
            let url = Self.through(proxy, db.url)
            try await Database.withClient(url, maximumConnections: 1, logger: db.logger) { client in
                #expect(try await client.collect("SELECT 1", as: Int32.self, logger: db.logger).first == Int32(1))
                try await proxy.partition()
                await #expect(throws: QueryTimedOut.self) {
                    try await QueryDeadline.$limit.withValue(.seconds(2)) {
                        try await client.collect("SELECT 2", as: Int32.self, logger: db.logger)
                    }
                }
                try await proxy.heal()
                let answer = try await QueryDeadline.$limit.withValue(.seconds(15)) {
                    try await client.collect("SELECT 3", as: Int32.self, logger: db.logger)
                }
                #expect(answer.first == Int32(3))
            }
            await proxy.close()
        }
    }

    // MARK: - A partition longer than the lease

    /// Two worker processes behind the proxy; the link is cut (nothing
    /// forwarded, nothing closed) for longer than the lease, then healed, and
    /// new jobs are submitted: every job completes, every item exactly once,
    /// and the workers that were cut off do the new work.
    @Test(.timeLimit(.minutes(4)))
    func workersCutOffLongerThanTheLeaseResumeAndFinishEveryJobOnce() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let proxy = try await TCPProxy(to: db.url.host, port: db.url.port)
            let url = Self.through(proxy, db.url)
            for j in 1...4 {
                try await db.submit(key: "before-\(j)", items: (1...300).map { .set("P\(j)-\($0)", "email", "p\(j)-\($0)@example.org") })
            }
            let arguments = ["--concurrency", "2", "--lease-seconds", "4", "--poll-interval-seconds", "1", "--chunk-size", "20",
                             "--parallel-chunks", "1", "--statement-timeout-seconds", "3", "--watchdog-seconds", "60", "--max-attempts", "50"]
            let workers = try ["cut1", "cut2"].map { try WorkerProcess(id: $0, url: url, arguments: arguments) }
            #expect(try await eventually(within: .seconds(60)) {
                try await db.int("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Applied'") >= 100
            })

            try await proxy.partition()
            try await Task.sleep(for: .seconds(10))  // longer than the lease: every lease expires
            try await proxy.heal()
            let cutAt = try await db.int("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Applied'")
            for j in 1...3 {
                try await db.submit(key: "after-\(j)", items: (1...50).map { .set("Q\(j)-\($0)", "email", "q\(j)-\($0)@example.org") })
            }

            let finished = try await eventually(within: .seconds(120)) {
                try await db.int("SELECT count(*) FROM integration.sync_job WHERE finished_at IS NULL") == 0
            }
            #expect(finished, "logs:\n\(workers.map { $0.log.suffix(3000) }.joined(separator: "\n"))")
            let total = 4 * 300 + 3 * 50
            #expect(cutAt < total)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job WHERE job_status = 'Completed'") == 7)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Applied'") == total)
            // Exactly once: one ledger row per item, and it is the item's.
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE sync_item_id IS NOT NULL") == total)
            #expect(
                try await db.int(
                    "SELECT count(*) FROM integration.sync_item i JOIN integration.ledger l ON l.ledger_id = i.ledger_id AND l.sync_item_id = i.item_id"
                ) == total)
            #expect(try await db.int("SELECT count(*) FROM integration.provenance_violations()") == 0)

            for worker in workers {
                #expect(worker.isRunning, "worker \(worker.id) exited:\n\(worker.log.suffix(2000))")
                worker.signal(SIGTERM)
            }
            for worker in workers {
                let status = await worker.waitForExit(timeout: .seconds(30))
                #expect(status == 0, "worker \(worker.id) exit status \(String(describing: status)):\n\(worker.log.suffix(2000))")
            }
            await proxy.close()
        }
    }

    // MARK: - The watchdog

    /// A worker cut off for good: its watchdog first drops every connection
    /// and reconnects, then, still hearing nothing, exits non-zero (for
    /// systemd to restart it) instead of hanging on silently.
    @Test(.timeLimit(.minutes(2)))
    func aWorkerThatHearsNothingReconnectsThenExitsNonZero() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let proxy = try await TCPProxy(to: db.url.host, port: db.url.port)
            let worker = try WorkerProcess(
                id: "deaf", url: Self.through(proxy, db.url),
                arguments: ["--poll-interval-seconds", "1", "--statement-timeout-seconds", "1", "--watchdog-seconds", "8"])
            #expect(try await eventually(within: .seconds(30)) { worker.log.contains("worker started") })
            try await proxy.partition()
            let status = await worker.waitForExit(timeout: .seconds(60))
            #expect(status != nil && status != 0, "exit status \(String(describing: status)); log:\n\(worker.log.suffix(3000))")
            #expect(worker.log.contains("dropping every connection and reconnecting"))
            #expect(worker.log.contains("even after reconnecting"))
            await proxy.close()
        }
    }

    // MARK: - A frozen worker

    /// A worker stopped (SIGSTOP) inside a chunk transaction, holding its
    /// job's row: the server ends its idle transaction, its lease expires, and
    /// another worker takes the job over and finishes it, each item once. When
    /// the frozen worker wakes, it writes nothing.
    @Test(.timeLimit(.minutes(3)))
    func aFrozenWorkersJobIsTakenOverOnceItsLeaseExpires() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(key: "seed", items: [.set("F0", "given_name", "Seed")])
            try await db.runWorker()
            let record = try #require(try await db.text("SELECT target_id::text FROM integration.identifier WHERE external_key = 'F0'"))
            let job = try await db.submit(
                key: "frozen", items: [.set("F0", "given_name", "Frozen")] + (1...99).map { .set("F\($0)", "given_name", "N\($0)") })

            // The test holds F0's row, so the worker's first chunk waits for it inside its transaction.
            let holder = try await Self.openTransaction(db, "SELECT 1 FROM core.person WHERE id = \(record)::uuid FOR UPDATE")
            let frozen = try WorkerProcess(
                id: "frozen", url: db.url,
                arguments: ["--lease-seconds", "4", "--idle-in-transaction-timeout-seconds", "2", "--chunk-size", "10",
                            "--parallel-chunks", "1", "--concurrency", "1", "--poll-interval-seconds", "1"])
            #expect(try await eventually(within: .seconds(30)) { try await Self.waitsOnALock("frozen", db) })
            frozen.signal(SIGSTOP)
            try await holder.query("COMMIT", logger: db.logger)
            try await holder.close()

            let rescuer = try WorkerProcess(
                id: "rescuer", url: db.url, arguments: ["--lease-seconds", "4", "--poll-interval-seconds", "1", "--chunk-size", "10"])
            let completed = try await eventually(within: .seconds(60)) {
                try await db.text("SELECT job_status FROM integration.sync_job WHERE job_id = \(job)") == "Completed"
            }
            #expect(completed, "rescuer log:\n\(rescuer.log.suffix(3000))")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job) AND item_status = 'Applied'") == 100)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND sync_item_id IS NOT NULL") == 100)
            #expect(rescuer.log.contains("rescued a job whose lease expired"))

            // The frozen worker wakes: its session is gone, its claim too; it writes nothing.
            frozen.signal(SIGCONT)
            try await Task.sleep(for: .seconds(3))
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND sync_item_id IS NOT NULL") == 100)
            #expect(try await db.text("SELECT job_status FROM integration.sync_job WHERE job_id = \(job)") == "Completed")

            for worker in [frozen, rescuer] { worker.signal(SIGTERM) }
            for worker in [frozen, rescuer] {
                let status = await worker.waitForExit(timeout: .seconds(30))
                #expect(status == 0, "worker \(worker.id) exit status \(String(describing: status)):\n\(worker.log.suffix(2000))")
            }
        }
    }

    // MARK: - Two slots of one process

    /// Claims are fenced by token, not by worker id: once another slot of the
    /// same process has claimed the job (its lease having expired), the first
    /// slot can neither write, renew, finish, retry nor release it, and knows
    /// the job went to its own process.
    @Test func twoSlotsOfOneProcessNeverBothActOnOneJob() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: (1...20).map { .set("S\($0)", "given_name", "Name \($0)") })
            let store = JobStore(client: db.client, workerID: "host:1", leaseSeconds: 60, logger: db.logger)
            let first = try #require(try await store.claim(maxJobs: 10, itemBudget: 1000))
            try await db.exec("UPDATE integration.sync_job SET lease_expires_at = now() - interval '1 second' WHERE job_id = \(job)")
            let second = try #require(try await store.claim(maxJobs: 10, itemBudget: 1000))
            #expect(second.jobIDs == [job])
            #expect(second.jobs.map(\.rescuedFrom) == ["host:1"])

            var settings = WorkerSettings(workerID: "host:1")
            settings.chunkSize = 5
            let configuration = ConfigurationCache(client: db.client, logger: db.logger)
            let stale = ClaimProcessor(
                client: db.client, store: store, claim: first, settings: settings, configuration: configuration, logger: db.logger)
            do {
                _ = try await stale.run()
                Issue.record("the first slot processed a job another slot holds")
            } catch let lost as LeaseLost {
                #expect(lost.takenByThisProcess(workerID: "host:1"))
            }
            #expect(try await store.heartbeat([first.token]).isEmpty)
            #expect(try await store.finish(first).isEmpty)
            #expect(try await store.retryOrFail(first, error: "x", maxAttempts: 5, backoff: .seconds(1)).isEmpty)
            #expect(try await store.release(first).isEmpty)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job)") == 0)
            #expect(try await db.text("SELECT claim_token::text FROM integration.sync_job WHERE job_id = \(job)") == second.token.uuidString.lowercased())

            // The slot that holds it finishes it.
            let current = ClaimProcessor(
                client: db.client, store: store, claim: second, settings: settings, configuration: configuration, logger: db.logger)
            guard case .finished(let results) = try await current.run() else {
                Issue.record("the holding slot did not finish")
                return
            }
            #expect(results.map(\.status) == [.completed])
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND sync_item_id IS NOT NULL") == 20)
        }
    }

    // MARK: - A forced stop

    /// A worker blocked on a lock is stopped and the grace period runs out:
    /// once it has exited, none of its sessions is left on the server (the
    /// blocked one would otherwise wait for the lock on behalf of nobody).
    @Test(.timeLimit(.minutes(2)))
    func aStopForcedPastTheGracePeriodLeavesNoSessionOfTheWorker() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(key: "seed", items: [.set("G0", "given_name", "Seed")])
            try await db.runWorker()
            let record = try #require(try await db.text("SELECT target_id::text FROM integration.identifier WHERE external_key = 'G0'"))
            try await db.submit(key: "blocked", items: [.set("G0", "given_name", "Blocked")])

            let holder = try await Self.openTransaction(db, "SELECT 1 FROM core.person WHERE id = \(record)::uuid FOR UPDATE")
            let worker = try WorkerProcess(
                id: "stopper", url: db.url, arguments: ["--shutdown-grace-seconds", "1", "--lock-timeout-seconds", "120",
                                                        "--statement-timeout-seconds", "120", "--watchdog-seconds", "300"])
            #expect(try await eventually(within: .seconds(30)) { try await Self.waitsOnALock("stopper", db) })
            worker.signal(SIGTERM)
            #expect(await worker.waitForExit(timeout: .seconds(30)) != nil, "log:\n\(worker.log.suffix(2000))")
            let gone = try await eventually(within: .seconds(15)) { try await Self.sessions(of: "stopper", db) == 0 }
            let left = try await Self.sessions(of: "stopper", db)
            #expect(gone, "sessions left: \(left); log:\n\(worker.log.suffix(2000))")
            try await holder.query("ROLLBACK", logger: db.logger)
            try await holder.close()
        }
    }
}
