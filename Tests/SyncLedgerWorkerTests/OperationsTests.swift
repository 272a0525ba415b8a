import Foundation
import Logging
import PostgresNIO
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 21, operations without surprises, with real worker processes: a
/// black-holed connection never stalls a job, a frozen worker's job is taken
/// over within about one lease, live workers and a running job's progress are
/// in `status --json`, and `/readyz` names the cause within a second.
@Suite("Operations: black holes, takeover, live workers, progress, readiness")
struct OperationsTests {
    static var rounds: Int { ConcurrencyTests.rounds }

    /// `status --json` of `url`, decoded.
    static func status(_ url: DatabaseURL) async throws -> [String: Any] {
        let run = try await CommandRun.run(
            ["status", "--json"], environment: ["DATABASE_URL": CommandRun.databaseURL(url)], bound: .seconds(60))
        guard run.status == 0, let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
            Issue.record("status --json failed: \(run)")
            return [:]
        }
        return object
    }

    /// The ids of the live workers `status --json` lists, with their state.
    static func liveWorkers(_ url: DatabaseURL) async throws -> [String: String] {
        let workers = try await status(url)["workers"] as? [[String: Any]] ?? []
        return Dictionary(workers.compactMap { w in (w["worker_id"] as? String).map { ($0, w["state"] as? String ?? "?") } }) { a, _ in a }
    }

    /// Submits an inbound job of `items` email items in one statement (as
    /// an upstream's bulk insert would), so that a large job costs the test
    /// one round trip; returns its id.
    static func submitBulk(_ db: TestDatabase, key: String, prefix: String, items: Int) async throws -> Int64 {
        try await db.exec(
            """
            WITH job AS (
              INSERT INTO integration.sync_job (source_system_key, entity_type, job_key, job_status)
              VALUES ('hr', 'core.person', '\(key)', 'Draft') RETURNING job_id
            )
            INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
            SELECT job.job_id, n, '\(prefix)' || n, 'email', lower('\(prefix)') || n || '@example.org'
              FROM job, generate_series(1, \(items)) n;
            UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_key = '\(key)';
            """)
        return Int64(try await db.int("SELECT job_id FROM integration.sync_job WHERE job_key = \(key)"))
    }

    // MARK: - A black hole on every connection of the only worker

    /// The only worker, mid-job, has every connection it holds silently
    /// dropped (nothing forwarded, nothing closed: a half-open connection as a
    /// firewall that forgot the flow makes it); new connections work. Several
    /// rounds: each time the job completes within two leases plus the
    /// statement deadline (plus a margin for polling), every item applied once.
    ///
    /// The black hole comes when half of the job is applied, so that what is
    /// left is a few seconds' work even on a loaded machine (inside the full
    /// parallel suite the worker applies 30–60 items a second, not 500): the
    /// bound is about noticing the black hole and reconnecting, not about how
    /// fast the rest goes. When the job completed is the server's record of
    /// it (`finished_at`), not when this test's polling, which shares the
    /// suite's threads, got round to seeing it.
    @Test(.timeLimit(.minutes(10)))
    func aBlackHoledWorkerFinishesItsJobWithinTwoLeasesPlusTheStatementDeadline() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let proxy = try await TCPProxy(to: db.url.host, port: db.url.port, serverReceiveBuffer: 4096)
            let url = LivenessTests.through(proxy, db.url)
            let lease = 5
            let statement = 3
            let worker = try WorkerProcess(
                id: "blackholed", url: url,
                arguments: ["--concurrency", "1", "--lease-seconds", "\(lease)", "--statement-timeout-seconds", "\(statement)",
                            "--poll-interval-seconds", "1", "--chunk-size", "10", "--parallel-chunks", "1", "--max-attempts", "50",
                            "--watchdog-seconds", "120"])
            // The query deadline closes an unanswered connection 5 s after the
            // statement timeout; a retry's backoff and a poll come on top.
            let bound = Duration.seconds(2 * lease + statement + 5) + .seconds(10)
            var measured: [Duration] = []
            for round in 1...Self.rounds {
                let items = 600
                let job = try await Self.submitBulk(db, key: "blackhole-\(round)", prefix: "B\(round)-", items: items)
                let applied: PostgresQuery = "SELECT count(*) FROM integration.sync_item WHERE job_id = \(job) AND item_status = 'Applied'"
                #expect(try await eventually(within: .seconds(60)) { try await db.int(applied) >= items / 2 })
                try await proxy.freezeExisting()
                let frozenAt = Date()
                // Mid-job: what was in flight may still land, never the rest.
                let appliedAtFreeze = try await db.int(applied)
                #expect(appliedAtFreeze < items, "round \(round): the job was done before the black hole")
                let completed = try await eventually(within: bound + .seconds(60)) {
                    try await db.text("SELECT job_status FROM integration.sync_job WHERE job_id = \(job)") == "Completed"
                }
                let seen = Date().timeIntervalSince(frozenAt)
                let finishedAt = try await db.text("SELECT extract(epoch FROM finished_at)::float8::text FROM integration.sync_job WHERE job_id = \(job)")
                // Not finished: counted as far past the bound (the expectations below say so).
                let finishedSeconds = finishedAt.flatMap(Double.init) ?? (frozenAt.timeIntervalSince1970 + 9_999)
                let took = Duration.milliseconds(Int((finishedSeconds - frozenAt.timeIntervalSince1970) * 1000))
                measured.append(took)
                #expect(completed, "round \(round): not completed; log:\n\(worker.log.suffix(4000))")
                #expect(
                    took < bound,
                    "round \(round): completed \(took) after the black hole (seen after \(seen) s), more than \(bound); log:\n\(worker.log.suffix(4000))")
                let entries = try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND sync_item_id IS NOT NULL")
                #expect(entries == items, "round \(round): \(entries) ledger entries for \(items) items; log:\n\(worker.log.suffix(4000))")
                print("black hole round \(round): \(appliedAtFreeze) of \(items) items applied at the black hole, completed after \(took), seen after \(seen) s")
            }
            print("black hole: job completed after \(measured.map { "\($0)" }.joined(separator: ", ")) (bound \(bound))")
            #expect(try await db.int("SELECT count(*) FROM integration.provenance_violations()") == 0)
            #expect(worker.isRunning, "log:\n\(worker.log.suffix(3000))")
            worker.signal(SIGTERM)
            #expect(await worker.waitForExit(timeout: .seconds(40)) == 0, "log:\n\(worker.log.suffix(3000))")
            await proxy.close()
        }
    }

    // MARK: - Takeover follows the lease

    /// A worker frozen (SIGSTOP) inside a chunk transaction with
    /// `--lease-seconds 5` and no idle-in-transaction timeout of its own: the
    /// server ends its transaction before its lease ends (the default is at
    /// most two thirds of the lease, not 15 s), so another worker takes the
    /// job over within about one lease.
    @Test(.timeLimit(.minutes(3)))
    func aFrozenWorkerLosesItsJobWithinAboutOneLease() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(key: "seed", items: [.set("T0", "given_name", "Seed")])
            try await db.runWorker()
            let record = try #require(try await db.text("SELECT target_id::text FROM integration.identifier WHERE external_key = 'T0'"))
            let job = try await db.submit(
                key: "frozen", items: [.set("T0", "given_name", "Frozen")] + (1...49).map { .set("T\($0)", "given_name", "N\($0)") })

            let holder = try await LivenessTests.openTransaction(db, "SELECT 1 FROM core.person WHERE id = \(record)::uuid FOR UPDATE")
            let frozen = try WorkerProcess(
                id: "frozen5", url: db.url,
                arguments: ["--lease-seconds", "5", "--chunk-size", "10", "--parallel-chunks", "1", "--concurrency", "1",
                            "--poll-interval-seconds", "1"])
            #expect(try await eventually(within: .seconds(30)) { try await LivenessTests.waitsOnALock("frozen5", db) })
            #expect(try await db.text("SELECT lease_owner FROM integration.sync_job WHERE job_id = \(job)") == "frozen5")
            // Started now, so that it finds its slots free and polling when the job is freed.
            let rescuer = try WorkerProcess(
                id: "rescuer5", url: db.url, arguments: ["--lease-seconds", "5", "--poll-interval-seconds", "1", "--chunk-size", "10"])
            #expect(try await eventually(within: .seconds(30)) { rescuer.log.contains("worker started") })
            frozen.signal(SIGSTOP)
            // The frozen worker's chunk gets its lock now, and its session sits idle in its transaction.
            try await holder.query("COMMIT", logger: db.logger)
            try await holder.close()
            let frozenAt = ContinuousClock.now

            // Taken over: the rescuer holds it, or already finished it (a
            // poll may miss a short hold; its log says it rescued the job).
            let takenOver = try await eventually(within: .seconds(60)) {
                if try await db.text("SELECT lease_owner FROM integration.sync_job WHERE job_id = \(job)") == "rescuer5" { return true }
                return rescuer.log.contains("rescued a job whose lease expired")
            }
            let took = ContinuousClock.now - frozenAt
            print("takeover of a frozen worker's job with --lease-seconds 5: \(took)")
            #expect(takenOver, "rescuer log:\n\(rescuer.log.suffix(3000))")
            // About one lease (5 s) plus a poll, well short of the 15 s an
            // idle-in-transaction timeout longer than the lease would take.
            #expect(took < .seconds(11), "took \(took)")
            #expect(try await eventually(within: .seconds(60)) {
                try await db.text("SELECT job_status FROM integration.sync_job WHERE job_id = \(job)") == "Completed"
            })
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND sync_item_id IS NOT NULL") == 50)

            frozen.signal(SIGCONT)
            for worker in [frozen, rescuer] { worker.signal(SIGTERM) }
            for worker in [frozen, rescuer] {
                let status = await worker.waitForExit(timeout: .seconds(30))
                #expect(status == 0, "worker \(worker.id) exit status \(String(describing: status)):\n\(worker.log.suffix(2000))")
            }
        }
    }

    /// The idle-in-transaction default follows the lease; an explicit value stays.
    @Test func idleInTransactionTimeoutNeverExceedsTheLeaseUnlessSet() {
        #expect(WorkerSettings.defaultIdleInTransactionTimeout(leaseSeconds: 60) == .seconds(15))
        #expect(WorkerSettings.defaultIdleInTransactionTimeout(leaseSeconds: 5) < .seconds(5))
        #expect(WorkerSettings.defaultIdleInTransactionTimeout(leaseSeconds: 1) <= .seconds(1))
        #expect(WorkerSettings.defaultTCPUserTimeout(keepalive: .seconds(10), leaseSeconds: 60) == .seconds(25))
        #expect(WorkerSettings.defaultTCPUserTimeout(keepalive: .seconds(10), leaseSeconds: 5) == .seconds(5))
    }

    // MARK: - Live workers

    /// Two idle worker processes are listed as live and idle; one killed
    /// (SIGKILL: no goodbye) drops out once its row expires (one lease), one
    /// stopped with SIGTERM leaves at once.
    @Test(.timeLimit(.minutes(3)))
    func idleWorkersAreListedAndGoneAfterTheyDie() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let arguments = ["--lease-seconds", "3", "--poll-interval-seconds", "1"]
            let killed = try WorkerProcess(id: "reg-killed", url: db.url, arguments: arguments)
            let stopped = try WorkerProcess(id: "reg-stopped", url: db.url, arguments: arguments)
            var live: [String: String] = [:]
            let listed = try await eventually(within: .seconds(60)) {
                live = try await Self.liveWorkers(db.url)
                return live["reg-killed"] != nil && live["reg-stopped"] != nil
            }
            #expect(listed, "live: \(live)")
            #expect(live["reg-killed"] == "idle" && live["reg-stopped"] == "idle", "\(live)")
            let workers = try await Self.status(db.url)["workers"] as? [[String: Any]] ?? []
            let row = try #require(workers.first { $0["worker_id"] as? String == "reg-killed" })
            #expect(row["host"] is String && row["version"] is String && row["started_at"] is String && row["last_heartbeat"] is String)
            #expect((row["jobs_held"] as? NSNumber)?.intValue == 0)

            killed.signal(SIGKILL)
            let killedAt = ContinuousClock.now
            let gone = try await eventually(within: .seconds(30)) {
                live = try await Self.liveWorkers(db.url)
                return live["reg-killed"] == nil
            }
            print("a killed worker left the registry after \(ContinuousClock.now - killedAt) (lease 3 s)")
            #expect(gone, "live: \(live)")
            #expect(live["reg-stopped"] != nil, "the live worker dropped out too: \(live)")

            stopped.signal(SIGTERM)
            #expect(await stopped.waitForExit(timeout: .seconds(30)) == 0, "\(stopped.log.suffix(2000))")
            #expect(try await db.int("SELECT count(*) FROM integration.worker WHERE worker_id = 'reg-stopped'") == 0)
        }
    }

    // MARK: - Progress of a running job

    /// A long job's progress (items done, total, rate, ETA) shows in `status
    /// --json` while it runs, and the worker holding it is busy.
    @Test(.timeLimit(.minutes(4)))
    func aRunningJobsProgressIsInStatus() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let items = 4000
            let job = try await Self.submitBulk(db, key: "long", prefix: "L", items: items)
            let worker = try WorkerProcess(
                id: "progress", url: db.url,
                arguments: ["--lease-seconds", "3", "--chunk-size", "5", "--parallel-chunks", "1", "--concurrency", "1"])
            var seen: [String: Any]?
            var busy = false
            let reported = try await eventually(within: .seconds(120)) {
                let status = try await Self.status(db.url)
                let running = status["running"] as? [[String: Any]] ?? []
                guard let entry = running.first(where: { ($0["job_id"] as? NSNumber)?.int64Value == job }),
                    let done = (entry["items_done"] as? NSNumber)?.intValue, done > 0, done < items
                else { return false }
                let workers = status["workers"] as? [[String: Any]] ?? []
                busy = workers.contains { $0["worker_id"] as? String == "progress" && $0["state"] as? String == "busy" }
                seen = entry
                return true
            }
            #expect(reported, "no progress while the job ran; log:\n\(worker.log.suffix(3000))")
            if let seen {
                #expect((seen["items_total"] as? NSNumber)?.intValue == items, "\(seen)")
                #expect(seen["items_per_second"] is NSNumber, "\(seen)")
                #expect(seen.keys.contains("eta_seconds"), "\(seen)")
                #expect(seen["lease_owner"] as? String == "progress")
            }
            #expect(busy, "the worker holding the job was not busy")
            worker.signal(SIGTERM)
            #expect(await worker.waitForExit(timeout: .seconds(30)) == 0, "\(worker.log.suffix(2000))")
        }
    }

    // MARK: - /readyz with the database stopped

    /// A worker process with a metrics port, the database stopped: `/readyz`
    /// answers within a second and names the cause (the connection is
    /// refused), and is ready again when the database is back.
    @Test(.timeLimit(.minutes(4)), .enabled(if: (ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "").isEmpty))
    func readyzNamesTheCauseWithinASecondWithTheDatabaseStopped() async throws {
        let logger = TestCluster.logger
        let postgres = try await EmbeddedPostgres.start(logger: logger)
        defer { postgres.stop() }
        try await Database.createDatabase("readyz", on: postgres.url, logger: logger)
        let url = postgres.url.with(database: "readyz")
        let migrator = try Migrator(directory: Migrator.locateDirectory())
        try await Database.withClient(url, maximumConnections: 2, logger: logger) { client in
            _ = try await migrator.migrate(client: client, logger: logger)
        }
        let port = try LoopbackPort.unused()
        let worker = try WorkerProcess(
            id: "readyz", url: url, arguments: ["--metrics-port", "\(port)", "--poll-interval-seconds", "1", "--watchdog-seconds", "300"])
        let ready = await HTTPProbe.wait(port: port, path: "/readyz", bound: .seconds(60)) { $0.status == 200 }
        #expect(ready != nil, "\(worker.log.suffix(2000))")

        try postgres.stopServer()
        try await Task.sleep(for: .seconds(2))
        var times: [Duration] = []
        var last: HTTPProbe.Response?
        for _ in 0..<5 {
            let start = ContinuousClock.now
            last = await HTTPProbe.get(port: port, path: "/readyz")
            times.append(ContinuousClock.now - start)
            try await Task.sleep(for: .milliseconds(300))
        }
        times.sort()
        print("/readyz with the database stopped: answers in \(times.map { "\($0)" }.joined(separator: ", ")): \(last?.body ?? "none")")
        #expect(last?.status == 503)
        #expect(last?.body.contains("refused") == true, "\(String(describing: last))")
        // The server bounds its answer at 0.9 s; the test allows for a
        // loaded machine (the suite runs in parallel), well short of the 5 s
        // the pool used to wait before answering without a cause.
        #expect(times[0] < .milliseconds(1500) && times[2] < .milliseconds(2500), "/readyz answers took \(times)")

        try postgres.startServer()
        let back = await HTTPProbe.wait(port: port, path: "/readyz", bound: .seconds(90)) { $0.status == 200 }
        #expect(back != nil, "\(worker.log.suffix(3000))")
        worker.signal(SIGTERM)
        #expect(await worker.waitForExit(timeout: .seconds(30)) == 0, "\(worker.log.suffix(2000))")
    }
}
