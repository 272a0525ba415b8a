import Foundation
import Logging
import PostgresNIO
import Synchronization
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// The ledger tells the truth: ownership by apply order, order within a
/// source, canonical values, held duplicates, per-item isolation and the
/// provenance check (SPEC §2 "Ownership, order and canonical values").
@Suite("The ledger tells the truth")
struct LedgerTruthTests {
    // MARK: Order within a source

    /// Two jobs of one source without timestamps on the same field: the later
    /// job's value wins even when the worker takes the later job first
    /// (forced: the earlier job's row is locked, so claims skip it).
    @Test(arguments: [false, true])
    func laterJobOfASourceWinsWhicheverRunsFirst(equalTimestamps: Bool) async throws {
        try await TestDatabase.with("order\(equalTimestamps)") { db in
            try await db.exec(Scenario.standard)
            let stamp: Date? = equalTimestamps ? Date(timeIntervalSince1970: 1_750_000_000) : nil
            let earlier = try await db.submit(key: "earlier", items: [.set("E1", "email", "old@example.org", at: stamp)])
            let later = try await db.submit(key: "later", items: [.set("E1", "email", "new@example.org", at: stamp)])

            // Hold the earlier job's row: the worker's SKIP LOCKED claim passes over it.
            try await db.client.withConnection { holder in
                try await holder.query("BEGIN", logger: db.logger)
                try await holder.query("SELECT 1 FROM integration.sync_job WHERE job_id = \(earlier) FOR UPDATE", logger: db.logger)
                try await db.runWorker(id: "first")
                try await holder.query("COMMIT", logger: db.logger)
            }
            #expect(try await db.job(later).status == "Completed")
            #expect(try await db.job(earlier).status == "Submitted")
            try await db.runWorker(id: "second")

            #expect(try await db.person("E1", "email") == "new@example.org")
            let results = try await db.itemResults(earlier)
            #expect(results.map(\.status) == ["Skipped"])
            #expect(results[0].message?.contains("skipped: out of order; 'hr' already sent a later submission") == true)
            #expect(try await db.provenanceViolations().isEmpty)
            #expect(try await db.chainFindings().isEmpty)
        }
    }

    /// The unchanged case: the later job says what the target already holds
    /// (from another source) and produces no entry; the earlier job, run
    /// after it, must still not win.
    @Test func anUnchangedLaterStatementStillOutranksAnEarlierOne() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(source: "payroll", items: [.set("P1", "email", "same@example.org")])
            try await db.runWorker()
            let record = try await db.recordID("P1", source: "payroll")
            let earlier = try await db.submit(key: "earlier", items: [Self.hinted("E1", "email", "other@example.org", record)])
            let later = try await db.submit(key: "later", items: [Self.hinted("E1", "email", "same@example.org", record)])
            try await db.client.withConnection { holder in
                try await holder.query("BEGIN", logger: db.logger)
                try await holder.query("SELECT 1 FROM integration.sync_job WHERE job_id = \(earlier) FOR UPDATE", logger: db.logger)
                try await db.runWorker(id: "first")
                try await holder.query("COMMIT", logger: db.logger)
            }
            #expect(try await db.itemResults(later).map(\.status) == ["Skipped"])
            try await db.runWorker(id: "second")
            #expect(try await db.itemResults(earlier).map(\.status) == ["Skipped"])
            #expect(try await db.person("P1", "email", source: "payroll") == "same@example.org")
        }
    }

    static func hinted(_ key: String, _ field: String, _ value: String, _ record: UUID) -> TestDatabase.Item {
        TestDatabase.Item(key: key, field: field, value: value, hint: record)
    }

    // MARK: Held duplicates

    /// A nightly extract re-sent while the steward has not decided: one
    /// pending entry, refreshed, and the re-sent item says which.
    @Test func aReSentHeldValueLeavesOnePendingEntry() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let first = try await db.submit(key: "night-1", items: [.set("E1", "birth_date", "1990-01-02")])
            try await db.runWorker()
            let entry = try await db.entryID("birth_date")
            let confirmedBefore = try await db.text("SELECT confirmed_at::text FROM integration.ledger WHERE ledger_id = \(entry)")
            #expect(try await db.itemResults(first).map(\.status) == ["Held"])

            // Re-sent twice more, once written differently (same date).
            let second = try await db.submit(key: "night-2", items: [.set("E1", "birth_date", "1990-01-02")])
            let third = try await db.submit(key: "night-3", items: [.set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()

            #expect(try await db.int("SELECT count(*) FROM integration.review_queue") == 1)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'birth_date'") == 1)
            for job in [second, third] {
                let results = try await db.itemResults(job)
                #expect(results.map(\.status) == ["Skipped"])
                #expect(results[0].message?.contains("held duplicate; ledger entry \(entry) from 'hr' already proposes this value") == true)
                #expect(try await db.job(job) == .init(status: "Completed", total: 1, skipped: 1))
            }
            #expect(try await db.text("SELECT confirmed_at::text FROM integration.ledger WHERE ledger_id = \(entry)") != confirmedBefore)
            #expect(try await db.text("SELECT (confirmed_at IS NOT NULL)::text FROM integration.ledger WHERE ledger_id = \(entry)") == "true")

            // 2,000 people sent twice: still one entry each.
            let records = 200
            try await db.client.query(
                """
                WITH j AS (INSERT INTO integration.sync_job (source_system_key, entity_type, job_key)
                           SELECT 'hr', 'core.person', 'bulk-' || n FROM generate_series(1, 2) n RETURNING job_id)
                INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
                SELECT j.job_id, r, 'B' || r, 'birth_date', ('1980-01-01'::date + r::integer)::text FROM j, generate_series(1, \(records)) r
                """, logger: db.logger)
            try await db.runWorker()
            #expect(try await db.int("SELECT count(*) FROM integration.review_queue") == records + 1)
        }
    }

    // MARK: Per-item isolation

    /// A target trigger that raises (P0001) for one row fails that item alone,
    /// in a large chunk too, and the job's counts are true.
    @Test func aTriggersRaiseFailsOneItemOnly() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                CREATE FUNCTION core.no_example_net() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.email LIKE '%@example.net' THEN RAISE EXCEPTION 'example.net addresses are not accepted'; END IF;
                  RETURN NEW;
                END $$;
                CREATE TRIGGER no_example_net BEFORE UPDATE ON core.person FOR EACH ROW EXECUTE FUNCTION core.no_example_net();
                """)
            var items = (1...120).map { TestDatabase.Item.set("T\($0)", "email", "t\($0)@example.org") }
            items[77] = .set("T78", "email", "t78@example.net")
            let job = try await db.submit(items: items)
            try await db.runWorker { $0.chunkSize = 100 }

            #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 120, applied: 119, failed: 1))
            let results = try await db.itemResults(job)
            #expect(results[77].status == "Failed")
            #expect(
                results[77].message
                    == "rejected by the database: trigger no_example_net on core.person refused field email (SQLSTATE P0001); "
                    + "the full message is kept for stewards (integration.item_refusal)")
            #expect(try await db.int("SELECT count(*) FROM core.person WHERE email LIKE '%@example.org'") == 119)
            #expect(try await db.provenanceViolations().isEmpty)
            #expect(try await db.chainFindings().isEmpty)
        }
    }

    // MARK: Canonical values

    /// Stewards whose sessions use other TimeZone and DateStyle settings than
    /// the worker's see the same queue and get the same results.
    @Test func sessionSettingsChangeNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                ALTER TABLE core.person ADD COLUMN reviewed_at timestamptz;
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode) VALUES ('core.person', 'reviewed_at', 'OnCertify');
                """)
            try await db.submit(items: [
                .set("E1", "reviewed_at", "2026-03-01 10:00:00+01"), .set("E1", "birth_date", "1990-01-02"),
            ])
            try await db.runWorker()
            let stamp = try await db.entryID("reviewed_at")
            let date = try await db.entryID("birth_date")
            // Canonical: UTC and ISO, whatever the worker's session had.
            #expect(try await db.text("SELECT value FROM integration.ledger WHERE ledger_id = \(stamp)") == "2026-03-01 09:00:00+00")

            func inSession(_ settings: String, _ query: PostgresQuery) async throws -> [[String?]] {
                try await db.client.transaction(logger: db.logger) { conn in
                    for set in settings.split(separator: ";") {
                        try await conn.query(PostgresQuery(unsafeSQL: String(set)), logger: db.logger)
                    }
                    return try await Listing.query(query, on: conn, logger: db.logger).rows
                }
            }
            // The review queue reads the same under any settings.
            let queue: PostgresQuery = "SELECT ledger_id::text, proposed_value, has_conflict::text FROM integration.review_queue ORDER BY ledger_id"
            let plain = try await db.rows(queue)
            #expect(try await inSession("SET LOCAL TimeZone = 'Europe/Berlin'; SET LOCAL DateStyle = 'German'", queue) == plain)
            #expect(plain.allSatisfy { $0[2] == "false" })

            // Certify in Berlin time: no false conflict.
            let certified = try await inSession(
                "SET LOCAL TimeZone = 'Europe/Berlin'", "SELECT (integration.certify(\(stamp), 'alice')).ledger_status")
            #expect(certified == [["Certified"]])
            #expect(try await db.text("SELECT (reviewed_at = '2026-03-01 09:00:00+00')::text FROM core.person") == "true")
            // Certify and revoke a date under the German DateStyle: the target really changes back.
            _ = try await inSession("SET LOCAL DateStyle = 'German'", "SELECT (integration.certify(\(date), 'alice')).ledger_status")
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            let revoked = try await inSession(
                "SET LOCAL DateStyle = 'German'", "SELECT (integration.revoke(\(date), 'alice')).ledger_status")
            #expect(revoked == [["Revoked"]])
            #expect(try await db.person("E1", "birth_date") == nil)
            #expect(try await db.provenanceViolations().isEmpty)

            // And the provenance check notices a tampered date under that DateStyle too.
            try await db.exec("UPDATE core.person SET reviewed_at = reviewed_at + interval '1 hour'")
            let violations = try await inSession(
                "SET LOCAL DateStyle = 'German'; SET LOCAL TimeZone = 'America/New_York'",
                "SELECT aspect_key, current_value, expected_value, violation FROM integration.provenance_violations()")
            #expect(violations == [["reviewed_at", "2026-03-01 10:00:00+00", "2026-03-01 09:00:00+00", "mismatch"]])
        }
    }

    // MARK: The provenance check

    /// A wrong relationship and an orphan value are reported, with the Record
    /// aspect checked too.
    @Test func provenanceCoversRelationshipsRecordsAndOrphans() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [
                .set("E1", "given_name", "Ada"), .link("E1", "employer_id", to: "O1"), .link("E2", "employer_id", to: "O2"),
            ])
            try await db.runWorker()
            #expect(try await db.provenanceViolations().isEmpty)
            let e1 = try await db.recordID("E1")
            let o2 = try await db.recordID("O2")

            try await db.exec(
                """
                UPDATE core.person SET employer_id = '\(o2.uuidString)' WHERE id = '\(e1.uuidString)';
                UPDATE core.person SET family_name = 'Lovelace' WHERE id = '\(e1.uuidString)';
                UPDATE core.person SET is_active = false WHERE id = '\(e1.uuidString)';
                """)
            let found = try await db.rows(
                "SELECT aspect_key, violation, expected_value FROM integration.provenance_violations() ORDER BY aspect_key")
            #expect(found.map { [$0[0], $0[1]] } == [["employer_id", "mismatch"], ["family_name", "orphan"], ["record", "mismatch"]])
            #expect(found[2][2] == "created")
        }
    }

    // MARK: Deadlocks

    /// A steward acting on a record while a worker's chunk holds it (and will
    /// refresh the owner entry the steward acts on) waits; neither fails. The
    /// interleaving is forced, whatever the load: the chunk stops inside its
    /// update of the record (a trigger waits for an advisory lock this test
    /// holds) until the certify is seen waiting for the record.
    @Test(.timeLimit(.minutes(2)))
    func aStewardAndAWorkerOnOneRecordWaitInsteadOfDeadlocking() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let entry = try await db.entryID("email")  // applied, pending
            // The next chunk re-sends the email (refreshing entry's clock) and
            // changes the name, which waits in a trigger while the row is locked.
            try await db.exec(
                """
                CREATE FUNCTION core.gate() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.given_name = 'Slow' THEN PERFORM pg_advisory_xact_lock_shared(4242); END IF; RETURN NEW; END $$;
                CREATE TRIGGER gate BEFORE UPDATE ON core.person FOR EACH ROW EXECUTE FUNCTION core.gate();
                """)
            let job = try await db.submit(items: [.set("E1", "email", "a@example.org"), .set("E1", "given_name", "Slow")])
            let lockWaiters: PostgresQuery =
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            try await db.client.withConnection { gate in
                try await gate.query("SELECT pg_advisory_lock(4242)", logger: db.logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await db.runWorker(id: "slow-worker") }
                    // The chunk waits at the gate, holding the row.
                    #expect(try await eventually(within: .seconds(60), every: .milliseconds(20)) { try await db.int(lockWaiters) >= 1 }, "the chunk never reached the gate")
                    group.addTask {
                        let result = try await db.stewardship.certify(entry, as: "alice")
                        #expect(result.status == "Certified")
                    }
                    // The certify waits for the record; then the chunk goes on.
                    #expect(try await eventually(within: .seconds(60), every: .milliseconds(20)) { try await db.int(lockWaiters) >= 2 }, "the certify never waited")
                    try await gate.query("SELECT pg_advisory_unlock(4242)", logger: db.logger)
                    try await group.waitForAll()
                }
            }
            #expect(try await db.job(job).status == "Completed")
            #expect(try await db.entry(entry) == ["Certified", "true", "alice"])
            #expect(try await db.provenanceViolations().isEmpty)
            #expect(try await db.chainFindings().isEmpty)
        }
    }

    // MARK: True counts

    @Test func aFailedJobKeepsTrueCounts() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("X1", "given_name", "X"), .set("X1", "emial", "x")])
            try await db.exec(
                """
                CREATE FUNCTION core.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the disk is full' USING ERRCODE = 'disk_full'; END $$;
                CREATE TRIGGER disk_full BEFORE INSERT ON core.person FOR EACH ROW EXECUTE FUNCTION core.disk_full();
                """)
            for _ in 0..<5 where try await db.text("SELECT job_status FROM integration.sync_job WHERE job_id = \(job)") != "Failed" {
                try await db.exec("UPDATE integration.sync_job SET run_after = NULL WHERE job_id = \(job)")
                try await db.runWorker { settings in
                    settings.maxAttempts = 2
                    settings.retryBackoffBase = .milliseconds(1)
                }
            }
            // The item whose record cannot be created stays Pending; the item
            // about an unknown field may have been failed by a chunk of its
            // own that committed before the other failed, or rolled back with
            // it: either way the job's counts say what the items are.
            let state = try await db.rows("SELECT job_status, attempts::text, last_error, run_after::text FROM integration.sync_job WHERE job_id = \(job)")
            let summary = try await db.job(job)
            let actual = try await db.rows(
                """
                SELECT count(*)::text, count(*) FILTER (WHERE item_status = 'Failed')::text,
                       count(*) FILTER (WHERE item_status = 'Pending')::text
                  FROM integration.sync_item WHERE job_id = \(job)
                """)[0]
            #expect(summary.status == "Failed", "\(state)")
            #expect(state[0][1] == "2")
            #expect(summary.total == 2 && summary.applied == 0 && summary.held == 0 && summary.skipped == 0)
            #expect(actual[0] == "\(summary.total)" && actual[1] == "\(summary.failed)", "counts \(summary), items \(actual)")
            #expect(try await db.text("SELECT item_status FROM integration.sync_item WHERE job_id = \(job) AND field_name = 'given_name'") == "Pending")
        }
    }

    // MARK: The demo

    /// `syncledger demo` prints the same summary on every run (apart from
    /// times and generated ids).
    @Test func theDemoIsDeterministic() async throws {
        var outputs: [String] = []
        for run in 0..<4 {
            let url = try await TestCluster.shared.freshDatabase(label: "demo\(run)")
            let lines = Lines()
            try await Demo(migrator: try Migrator(directory: Migrator.locateDirectory()), logger: TestCluster.logger)
                .run(url: url) { lines.append($0) }
            outputs.append(Self.normalised(lines.text))
        }
        let differing = outputs.first { $0 != outputs[0] } ?? ""
        #expect(Set(outputs).count == 1, "\(outputs[0])\n---\n\(differing)")
        #expect(outputs[0].contains("Outbound items created by that certification"))
        #expect(outputs[0].contains("E100    P-0001"))
    }

    /// The output without times and generated ids (uuids, and the ledger ids
    /// that lead the held-values table, the certify call and the outbound row).
    static func normalised(_ text: String) -> String {
        text.replacingOccurrences(of: #"(?m)^\d+\s+(core\.)"#, with: "<id> $1", options: .regularExpression)
            .replacingOccurrences(of: #"certify\(\d+"#, with: "certify(<id>", options: .regularExpression)
            .replacingOccurrences(of: #"(?m)(payroll\s+Submitted.*\s)\d+$"#, with: "$1<id>", options: .regularExpression)
            .replacingOccurrences(of: #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, with: "<uuid>", options: .regularExpression)
            .replacingOccurrences(of: #"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"#, with: "<time>", options: .regularExpression)
    }
}

/// Collects printed lines from concurrent code.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}
