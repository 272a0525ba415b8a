import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §2: "A job's counts are always true", whichever of a steward's
/// decision on a held item and the job's finish commits first. Both
/// interleavings are forced, not hoped for: locks held by the test decide
/// the order.
@Suite("Job counts when a steward decides while the job finishes")
struct JobCountsTests {
    /// A 300-item job whose first item is held for certification; E150's
    /// record exists already, so the test can hold its row and stop the
    /// worker in the middle of the job.
    static func stage(_ db: TestDatabase) async throws -> Int64 {
        try await db.exec(Scenario.standard)
        try await db.submit(items: [.set("E150", "given_name", "Before")])
        try await db.runWorker()
        var items: [TestDatabase.Item] = [.set("E1", "birth_date", "1990-01-02")]
        items += (2...300).map { .set("E\($0)", "given_name", "Person \($0)") }
        return try await db.submit(key: "counted", items: items)
    }

    /// Whether some backend of this database waits for a lock.
    static func someoneWaits(_ db: TestDatabase) async throws -> Bool {
        try await db.int(
            """
            SELECT count(*) FROM pg_locks k JOIN pg_stat_activity a ON a.pid = k.pid
             WHERE NOT k.granted AND a.datname = current_database()
            """) > 0
    }

    static func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        if try await !eventually(within: .seconds(60), every: .milliseconds(20), condition) {
            Issue.record("gave up waiting until \(what)")
        }
    }

    static func counts(_ db: TestDatabase, _ job: Int64) async throws -> [String?] {
        try await db.rows(
            "SELECT job_status, items_applied::text, items_held::text FROM integration.sync_job WHERE job_id = \(job)")[0]
    }

    /// The steward certifies the held item while the job runs, and commits
    /// only after the job's finish has started (and waits for it).
    @Test func aCertifyThatCommitsWhileTheJobFinishesIsCounted() async throws {
        try await TestDatabase.with { db in
            let job = try await Self.stage(db)
            try await db.client.withConnection { blocker in
                try await db.client.withConnection { steward in
                    // Stop the worker at E150's chunk: hold its record's row.
                    try await blocker.run("BEGIN", logger: db.logger)
                    try await blocker.run(
                        """
                        SELECT 1 FROM core.person WHERE id = (SELECT target_id FROM integration.identifier
                                                                WHERE external_key = 'E150') FOR UPDATE
                        """, logger: db.logger)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            try await db.runWorker { $0.chunkSize = 5; $0.parallelChunks = 1 }
                        }
                        try await Self.waitUntil("the held entry exists and the worker waits for E150") {
                            let held = try await db.int(
                                "SELECT count(*) FROM integration.ledger WHERE aspect_key = 'birth_date' AND ledger_status = 'Pending'")
                            let waits = try await Self.someoneWaits(db)
                            return held == 1 && waits
                        }
                        let held = try await db.entryID("birth_date")
                        try await steward.run("BEGIN", logger: db.logger)
                        try await steward.run("SELECT 1 FROM integration.certify(\(held), 'alice')", logger: db.logger)
                        // Let the worker go on; it reaches the finish and waits for the steward.
                        try await blocker.run("COMMIT", logger: db.logger)
                        try await Self.waitUntil("the job's finish waits for the steward") {
                            let pending = try await db.int(
                                "SELECT count(*) FROM integration.sync_item WHERE job_id = \(job) AND item_status = 'Pending'")
                            let waits = try await Self.someoneWaits(db)
                            return pending == 0 && waits
                        }
                        #expect(try await Self.counts(db, job)[0] == "Processing")
                        try await steward.run("COMMIT", logger: db.logger)
                        try await group.waitForAll()
                    }
                }
            }
            #expect(try await Self.counts(db, job) == ["Completed", "300", "0"])
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job) AND item_status = 'Applied'") == 300)
        }
    }

    /// The job finishes with the item held; the certification commits after
    /// the finish, and the counts follow.
    @Test func aCertifyAfterTheJobFinishedRecountsIt() async throws {
        try await TestDatabase.with { db in
            let job = try await Self.stage(db)
            try await db.runWorker { $0.chunkSize = 5 }
            #expect(try await Self.counts(db, job) == ["Completed", "299", "1"])
            _ = try await db.stewardship.certify(try await db.entryID("birth_date"), as: "alice")
            #expect(try await Self.counts(db, job) == ["Completed", "300", "0"])
            // A rejection moves a finished job's held item to skipped, in its counts too.
            let second = try await db.submit(key: "second", items: [.set("E2", "birth_date", "1990-01-03")])
            try await db.runWorker()
            #expect(try await db.job(second) == .init(status: "Completed", total: 1, held: 1))
            _ = try await db.stewardship.reject(try await db.entryID("birth_date", key: "E2"), as: "alice")
            #expect(try await db.job(second) == .init(status: "Completed", total: 1, skipped: 1))
        }
    }
}
