import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

/// Retention (`sql/code/80_retention.sql`, `syncledger prune`, the worker's
/// `--retention`) on the real database: old finished work goes, unfinished
/// work and every piece of provenance stay.
@Suite("Retention: prune finished jobs, keep provenance")
struct PruneTests {
    static let thirtyDays = RetentionAge(parsing: "30d")!

    /// Makes jobs look finished (and submitted) `days` ago.
    static func age(_ db: TestDatabase, _ jobs: [Int64], days: Int) async throws {
        try await db.client.query(
            """
            UPDATE integration.sync_job
               SET submitted_at = now() - make_interval(days => \(Int32(days))),
                   finished_at = CASE WHEN finished_at IS NULL THEN NULL ELSE now() - make_interval(days => \(Int32(days))) END
             WHERE job_id = ANY (\(jobs))
            """, logger: db.logger)
    }

    static func jobIDs(_ db: TestDatabase, _ condition: String = "true") async throws -> [Int64] {
        try await db.rows("SELECT job_id::text AS id FROM integration.sync_job WHERE \(unescaped: condition) ORDER BY job_id").map { Int64($0[0]!)! }
    }

    /// What provenance is made of, counted.
    static func provenance(_ db: TestDatabase) async throws -> [String?] {
        try await db.rows(
            """
            SELECT (SELECT count(*) FROM integration.ledger)::text, (SELECT count(*) FROM integration.ledger_event)::text,
                   (SELECT count(*) FROM integration.identifier)::text, (SELECT count(*) FROM integration.source_order)::text,
                   (SELECT anchor FROM integration.ledger_anchor())
            """)[0]
    }

    @Test func oldFinishedJobsGoUnfinishedWorkAndTheLedgerStay() async throws {
        try await TestDatabase.with { db in
            // Three finished HR jobs and two outbound jobs for payroll.
            let (outboundDone, outboundOpen) = try await db.twoPayrollJobs()
            _ = try await db.text("SELECT job_id::text FROM integration.claim_outbound('payroll', 'connector')")
            _ = try await db.text("SELECT job_id::text FROM integration.ack_outbound(\(outboundDone))")
            // A job with a held value (birth_date is OnCertify) and a failed item.
            let held = try await db.submit(items: [.set("E1", "birth_date", "1990-01-02"), .set("E1", "emial", "x")])
            try await db.runWorker()
            #expect(try await db.job(held).status == "CompletedWithErrors")
            let finishedOld = try await Self.jobIDs(db, "job_status IN ('Completed', 'CompletedWithErrors')")
            // Finished, but recent.
            let recent = try await db.submit(items: [.set("E9", "given_name", "Ivy")])
            try await db.runWorker()
            // Unfinished work, old: a Draft an upstream is still staging, and a Submitted job no worker took yet.
            let draft = try #require(
                try await db.text(
                    """
                    WITH j AS (INSERT INTO integration.sync_job (source_system_key, entity_type, job_status)
                               VALUES ('hr', 'core.person', 'Draft') RETURNING job_id)
                    INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
                    SELECT job_id, 1, 'E7', 'given_name', 'Gus' FROM j RETURNING job_id::text
                    """).flatMap { Int64($0) })
            let waiting = try await db.submit(items: [.set("E8", "given_name", "Hal")])
            try await Self.age(db, finishedOld + [draft, waiting, outboundOpen], days: 40)
            let before = try await Self.provenance(db)
            #expect(try await db.chainFindings().isEmpty)

            // The held job also has a failed item that waits for a fix and
            // requeue_failed: it is kept, with all its items.
            let preview = try await Pruner(client: db.client, logger: db.logger).preview(olderThan: Self.thirtyDays)
            #expect(preview.jobs == finishedOld.count - 1)
            #expect(preview.keptForRequeue == 1)
            let totals = try await Pruner(client: db.client, logger: db.logger).prune(olderThan: Self.thirtyDays, batch: 2)
            #expect(totals.jobs == finishedOld.count - 1)
            #expect(totals.batches > 1)
            #expect(try await Self.jobIDs(db) == [held, outboundOpen, draft, waiting, recent].sorted())
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(held)") == 2)
            #expect(try await db.job(held).status == "CompletedWithErrors")
            // On purpose, it goes too.
            let forced = try await Pruner(client: db.client, includeFailed: true, logger: db.logger).prune(olderThan: Self.thirtyDays)
            #expect(forced.jobs == 1)
            #expect(try await Self.jobIDs(db) == [outboundOpen, draft, waiting, recent].sorted())
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = ANY (\(finishedOld))") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(draft)") == 1)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(outboundOpen)") > 0)

            // Provenance is untouched and still checks out.
            #expect(try await Self.provenance(db) == before)
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
            #expect(try await db.int("SELECT count(*) FROM integration.field_provenance") > 0)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(held)") == 1)

            // The held value's job and item are gone; a steward certifies it all the same.
            let entry = try #require(
                try await db.text("SELECT ledger_id::text FROM integration.review_queue WHERE aspect_key = 'birth_date'").flatMap { Int64($0) })
            _ = try await db.stewardship.certify(entry, as: "alice", notes: "checked")
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            #expect(try await db.provenanceViolations().isEmpty)
            #expect(try await db.chainFindings().isEmpty)

            // The unfinished work carries on as if nothing happened.
            try await db.exec("UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_id = \(draft)")
            try await db.runWorker()
            #expect(try await db.job(draft) == .init(status: "Completed", total: 1, applied: 1))
            #expect(try await db.job(waiting) == .init(status: "Completed", total: 1, applied: 1))
            #expect(try await db.person("E8", "given_name") == "Hal")
            #expect(try await db.provenanceViolations().isEmpty)

            // Nothing in the ledger points at staging rows with a key that pruning would have to respect.
            let foreignKeys = try await db.int(
                """
                SELECT count(*) FROM pg_constraint
                 WHERE contype = 'f' AND confrelid IN ('integration.sync_item'::regclass, 'integration.sync_job'::regclass)
                   AND conrelid <> 'integration.sync_item'::regclass
                """)
            #expect(foreignKeys == 0)
        }
    }

    /// A job whose failed items wait for a fix keeps them through retention,
    /// and requeue_failed brings them back once the cause is fixed.
    @Test func failedItemsWaitingForRequeueSurviveRetention() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // W is not mapped yet: the item fails, its neighbour applies.
            let job = try await db.submit(items: [.set("E1", "given_name", "Ann"), .set("E1", "marital_status", "W")])
            try await db.runWorker()
            #expect(try await db.job(job).status == "CompletedWithErrors")
            try await Self.age(db, [job], days: 40)
            let totals = try await Pruner(client: db.client, logger: db.logger).prune(olderThan: Self.thirtyDays)
            #expect(totals.jobs == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job)") == 2)

            // The mapping is fixed; the failed item is requeued and applied.
            try await db.exec(
                """
                INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value, confidence)
                VALUES ('hr', 'marital_status', 'W', 'widowed', 1)
                """)
            #expect(try await db.int("SELECT integration.requeue_failed(\(job))") == 1)
            try await db.runWorker()
            #expect(try await db.job(job).status == "Completed")
            #expect(try await db.person("E1", "marital_status") == "widowed")
        }
    }

    @Test func outOfOrderIsStillDecidedAfterTheJobsAreGone() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let changed = Date(timeIntervalSince1970: 1_800_000_000)
            let newer = try await db.submit(items: [.set("E1", "given_name", "New", at: changed)])
            try await db.runWorker()
            try await Self.age(db, [newer], days: 40)
            _ = try await Pruner(client: db.client, logger: db.logger).prune(olderThan: Self.thirtyDays)
            #expect(try await Self.jobIDs(db).isEmpty)

            // An older statement of the same source arrives late: the order
            // marks (integration.source_order) still know the newer one.
            let older = try await db.submit(items: [.set("E1", "given_name", "Old", at: changed - 3600)])
            try await db.runWorker()
            #expect(try await db.itemResults(older).map(\.status) == ["Skipped"])
            #expect(try await db.person("E1", "given_name") == "New")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func commandShowsThenRemoves() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let old = try await db.submit(items: [.set("E1", "given_name", "Ann"), .set("E1", "family_name", "Lee")])
            let young = try await db.submit(items: [.set("E2", "given_name", "Bob")])
            try await db.runWorker()
            try await Self.age(db, [old], days: 31)

            let dry = try await CommandProcess.run(["prune", "--older-than", "30d", "--dry-run"], url: db.url)
            #expect(dry.status == 0, "\(dry.output)")
            #expect(dry.stdout.contains("would prune 1 job(s) and 2 item(s)"), "\(dry.output)")
            #expect(dry.stdout.contains("nothing removed"), "\(dry.output)")
            #expect(try await Self.jobIDs(db) == [old, young])

            let run = try await CommandProcess.run(["prune", "--older-than", "30d", "--batch", "1"], url: db.url)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.stdout.contains("pruned 1 job(s) and 2 item(s) finished more than 30d ago"), "\(run.output)")
            #expect(try await Self.jobIDs(db) == [young])
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 1)

            let bad = try await CommandProcess.run(["prune", "--older-than", "30"], url: db.url)
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("--older-than must be an age such as 30d"), "\(bad.output)")
        }
    }

    @Test func whatOthersHoldIsSkippedNotWaitedFor() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let lockedJob = try await db.submit(items: [.set("E1", "given_name", "Ann")])
            let lockedItem = try await db.submit(items: [.set("E2", "given_name", "Bob"), .set("E2", "family_name", "Bo")])
            let free = try await db.submit(items: [.set("E3", "given_name", "Cy")])
            try await db.runWorker()
            try await Self.age(db, [lockedJob, lockedItem, free], days: 40)
            let itemID = try await db.int("SELECT min(item_id) FROM integration.sync_item WHERE job_id = \(lockedItem)")

            // Another session holds one job row and one item row (as requeue_failed or certify would).
            try await db.client.transaction(logger: db.logger) { holder in
                for try await _ in try await holder.query("SELECT 1 FROM integration.sync_job WHERE job_id = \(lockedJob) FOR UPDATE", logger: db.logger) {}
                for try await _ in try await holder.query("SELECT 1 FROM integration.sync_item WHERE item_id = \(itemID) FOR UPDATE", logger: db.logger) {}
                // A waiting prune would fail on its lock timeout instead of returning.
                let result = try await db.client.withConnection { conn -> (Int32, Int32, Bool) in
                    for try await _ in try await conn.query("SET lock_timeout = '5s'", logger: db.logger) {}
                    let rows = try await conn.query(
                        "SELECT jobs_pruned, items_pruned, more FROM integration.prune_jobs(interval '30 days', 100)", logger: db.logger)
                    var result: (Int32, Int32, Bool) = (0, 0, true)
                    for try await row in rows.decode((Int32, Int32, Bool).self) { result = row }
                    return result
                }
                #expect(result.0 == 1)  // free
                #expect(result.1 == 2)  // free's item, and lockedItem's unlocked one
                #expect(try await Self.jobIDs(db) == [lockedJob, lockedItem])
            }
            let rest = try await Pruner(client: db.client, logger: db.logger).prune(olderThan: Self.thirtyDays)
            #expect(rest.jobs == 2)
            #expect(try await Self.jobIDs(db).isEmpty)
        }
    }

    @Test func workerRetentionPrunesInTheBackground() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let old = try await db.submit(items: [.set("E1", "given_name", "Ann")])
            let young = try await db.submit(items: [.set("E2", "given_name", "Bob")])
            try await db.runWorker()
            try await Self.age(db, [old], days: 40)

            var settings = WorkerSettings(workerID: "retention-worker")
            settings.retention = Self.thirtyDays
            settings.pollInterval = .seconds(1)
            let worker = Worker(url: db.url, settings: settings, logger: db.logger)
            let remaining = try await withThrowingTaskGroup(of: [Int64]?.self) { group in
                group.addTask {
                    try await worker.run()
                    return nil
                }
                group.addTask {
                    for _ in 0..<600 {
                        let jobs = try await Self.jobIDs(db)
                        if !jobs.contains(old) { return jobs }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    return try await Self.jobIDs(db)
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let jobs = result { return jobs }
                }
                return []
            }
            #expect(remaining == [young])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func administratorsPruneUpstreamsDoNot() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let old = try await db.submit(items: [.set("E1", "given_name", "Ann")])
            try await db.runWorker()
            try await Self.age(db, [old], days: 40)
            try await withLoginRole(db, "hr_loader", in: ["syncledger_upstream"], for: "hr") { _, url in
                let refused = try await CommandProcess.run(["prune", "--older-than", "30d"], url: url)
                #expect(refused.status == 1, "\(refused.output)")
                #expect(refused.stderr.contains("permission denied for function prune_jobs"), "\(refused.output)")
            }
            #expect(try await Self.jobIDs(db) == [old])
            try await withLoginRole(db, "admin", in: ["syncledger_admin"]) { _, url in
                let run = try await CommandProcess.run(["prune", "--older-than", "30d"], url: url)
                #expect(run.status == 0, "\(run.output)")
                #expect(run.stdout.contains("pruned 1 job(s) and 1 item(s)"), "\(run.output)")
            }
            #expect(try await Self.jobIDs(db).isEmpty)
        }
    }
}
