import Foundation
import PostgresNIO
import SyncLedgerCore
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Worker fleet: leases, fencing, shutdown")
struct WorkerFleetTests {
    /// A worker whose lease was taken over writes nothing more for that job.
    @Test func workerThatLostItsLeaseWritesNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: (1...20).map { .set("F\($0)", "given_name", "Name \($0)") })

            let slow = JobStore(client: db.client, workerID: "slow", leaseSeconds: 60, logger: db.logger)
            let claimed = try #require(try await slow.claim(maxJobs: 10, itemBudget: 1000))
            #expect(claimed.jobIDs == [job])

            // The slow worker pauses past its lease; another worker rescues the job.
            try await db.exec("UPDATE integration.sync_job SET lease_expires_at = now() - interval '1 second' WHERE job_id = \(job)")
            let rescuer = JobStore(client: db.client, workerID: "rescuer", leaseSeconds: 60, logger: db.logger)
            let rescued = try #require(try await rescuer.claim(maxJobs: 10, itemBudget: 1000))
            #expect(rescued.jobs.map(\.rescuedFrom) == ["slow"])
            #expect(rescued.jobs.map(\.attempts) == [2])
            #expect(rescued.token != claimed.token)

            // The slow worker wakes up and carries on: nothing it does commits.
            var settings = WorkerSettings(workerID: "slow")
            settings.chunkSize = 5
            let configuration = ConfigurationCache(client: db.client, logger: db.logger)
            let stale = ClaimProcessor(
                client: db.client, store: slow, claim: claimed, settings: settings, configuration: configuration, logger: db.logger)
            await #expect(throws: LeaseLost.self) { _ = try await stale.run() }
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job) AND item_status <> 'Pending'") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger") == 0)
            #expect(try await db.int("SELECT count(*) FROM core.person") == 0)
            // Nor can it finish, release or retry the job the other claim holds.
            #expect(try await slow.finish(claimed).isEmpty)
            #expect(try await slow.release(claimed).isEmpty)
            #expect(try await slow.retryOrFail(claimed, error: "x", maxAttempts: 1, backoff: .zero).isEmpty)
            #expect(try await db.text("SELECT job_status || ' ' || lease_owner FROM integration.sync_job WHERE job_id = \(job)") == "Processing rescuer")

            // The rescuer finishes it, exactly once.
            settings.workerID = "rescuer"
            let result = try await ClaimProcessor(
                client: db.client, store: rescuer, claim: rescued, settings: settings, configuration: configuration, logger: db.logger
            ).run()
            guard case .finished(let results) = result else {
                Issue.record("unexpected result \(result)")
                return
            }
            #expect(results.map(\.status) == [.completed])
            #expect(results.first?.counts.applied == 20)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE sync_item_id IS NOT NULL") == 20)
            #expect(try await db.text("SELECT lease_owner FROM integration.sync_job WHERE job_id = \(job)") == nil)
        }
    }

    /// A job rescued after a crash continues from its Pending items: finished
    /// items are not redone and get no second ledger row.
    @Test func rescuedJobContinuesWhereCommittedWorkEnded() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: (1...30).map { .set("R\($0)", "email", "r\($0)@example.org") })
            // A worker that crashed after committing one chunk: run one chunk
            // under its claim, then let the lease expire.
            let crashed = JobStore(client: db.client, workerID: "crashed", leaseSeconds: 60, logger: db.logger)
            let claimed = try #require(try await crashed.claim(maxJobs: 1, itemBudget: 1000))
            let snapshot = try await db.client.withConnection { try await ConfigurationSnapshot.load(on: $0, logger: db.logger) }
            let chunk = ChunkTransaction(claim: claimed, snapshot: snapshot, logger: db.logger)
            let preparer = ItemPreparer(catalog: snapshot.catalog, policies: snapshot.policies, valueMaps: snapshot.valueMaps)
            let firstTen = try await crashed.pendingItems(of: claimed, after: ItemCursor(), limit: 10)
            #expect(firstTen.count == 10)
            _ = try await db.client.withConnection {
                try await chunk.run(firstTen.map { ChunkEntry(item: $0, prepared: preparer.prepare($0)) }, on: $0)
            }
            try await db.exec("UPDATE integration.sync_job SET lease_expires_at = now() - interval '1 second' WHERE job_id = \(job)")

            try await db.runWorker(id: "survivor")
            #expect(try await db.job(job) == .init(status: "Completed", total: 30, applied: 30))
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE sync_item_id IS NOT NULL") == 30)
            #expect(try await db.int("SELECT attempts FROM integration.sync_job WHERE job_id = \(job)") == 2)
        }
    }

    /// SIGTERM during a long job: the worker exits 0 and the job is claimable
    /// at once (Submitted, lease cleared), with its committed items kept.
    @Test(.timeLimit(.minutes(3)))
    func sigtermDuringALongJobReleasesItAtOnce() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.client.query(
                """
                WITH j AS (INSERT INTO integration.sync_job (source_system_key, entity_type, job_key)
                           VALUES ('hr', 'core.person', 'long') RETURNING job_id)
                INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
                SELECT j.job_id, r, 'L' || r, 'email', 'l' || r || '@example.org' FROM j, generate_series(1, 20000) r
                """, logger: db.logger)
            let worker = try WorkerProcess(
                id: "long", url: db.url, arguments: ["--chunk-size", "20", "--parallel-chunks", "1", "--concurrency", "1"])
            let deadline = ContinuousClock.now + .seconds(60)
            while try await db.int("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Applied'") < 100 {
                if ContinuousClock.now > deadline { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            worker.signal(SIGTERM)
            let status = await worker.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "exit status \(String(describing: status)); log:\n\(worker.log.suffix(2000))")

            let row = try await db.rows("SELECT job_status, lease_owner, attempts::text FROM integration.sync_job WHERE job_key = 'long'")[0]
            #expect(row[0] == "Submitted")
            #expect(row[1] == nil)
            #expect(row[2] == "0")
            let applied = try await db.int("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Applied'")
            #expect(applied > 0 && applied < 20000)
            // Claimable at once by another worker.
            let next = JobStore(client: db.client, workerID: "next", leaseSeconds: 60, logger: db.logger)
            #expect(try await next.claim(maxJobs: 1, itemBudget: 10)?.jobs.first?.attempts == 1)
            #expect(worker.log.contains("released unfinished jobs on shutdown"))
        }
    }

    /// Transient trouble is retried with backoff, and a job that keeps failing
    /// ends Failed with last_error after max attempts.
    @Test func jobThatKeepsFailingEndsFailedAfterMaxAttempts() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("X1", "given_name", "X")])
            // Break every attempt with an error that is not about any one item
            // (a resource failure; a plain RAISE would fail the item alone).
            try await db.exec(
                """
                CREATE FUNCTION core.frozen() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'core.person is frozen for maintenance' USING ERRCODE = 'disk_full'; END $$;
                CREATE TRIGGER frozen BEFORE INSERT ON core.person FOR EACH ROW EXECUTE FUNCTION core.frozen();
                """)
            try await db.runWorker { settings in
                settings.maxAttempts = 3
                settings.retryBackoffBase = .milliseconds(1)
            }
            // Retries are scheduled with run_after; keep running until the job settles.
            for _ in 0..<10 where try await db.text("SELECT job_status FROM integration.sync_job WHERE job_id = \(job)") != "Failed" {
                try await db.exec("UPDATE integration.sync_job SET run_after = NULL WHERE job_id = \(job)")
                try await db.runWorker { settings in
                    settings.maxAttempts = 3
                    settings.retryBackoffBase = .milliseconds(1)
                }
            }
            let row = try await db.rows("SELECT job_status, attempts::text, last_error FROM integration.sync_job WHERE job_id = \(job)")[0]
            #expect(row[0] == "Failed")
            #expect(row[1] == "3")
            #expect(row[2]?.contains("gave up after 3 attempts: core.person is frozen for maintenance") == true)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job) AND item_status = 'Pending'") == 1)
        }
    }

    /// One notification per job that becomes Submitted, never per item.
    @Test func oneNotificationPerSubmittedJob() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let configuration = try db.url.connectionConfiguration()
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: db.logger)
            defer { Task { try? await connection.close() } }
            try await connection.listen(on: Worker.channel) { notifications in
                try await db.submit(items: (1...50).map { .set("N\($0)", "given_name", "N") })  // one job, 50 items
                try await db.exec(
                    """
                    INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key) VALUES ('hr', 'core.person', 'Draft', 'd1');
                    INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value)
                      SELECT job_id, 'D' || g, 'given_name', 'D' FROM integration.sync_job, generate_series(1, 10) g WHERE job_key = 'd1';
                    UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_key = 'd1';
                    """)
                var received: [String] = []
                for try await notification in notifications {
                    received.append(notification.payload)
                    if received.count == 2 { break }
                }
                #expect(received.count == 2)
                // Nothing more arrives for the items.
                try await db.exec("NOTIFY syncledger_job_submitted, 'marker'")
                var next = notifications.makeAsyncIterator()
                #expect(try await next.next()?.payload == "marker")
            }
        }
    }
}
