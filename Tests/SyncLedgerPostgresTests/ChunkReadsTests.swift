import Foundation
import PostgresNIO
import SyncLedgerPostgres
import SyncLedgerTestSupport
import Testing

/// A chunk reads the rows it names, never a whole table: its cost must not
/// grow with the size of the target table (SPEC: a flat curve). Measured by
/// PostgreSQL's own counters of the index entries and heap tuples read, not
/// by time.
@Suite("Chunks read only the rows they name")
struct ChunkReadsTests {
    static let tables = ["core.person", "integration.identifier", "integration.sync_item"]

    @Test func writingFiveRecordsReadsTheirRowsNotTheTables() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // 20,000 records that no item names, their identifiers, and the
            // items of an earlier job that wrote them.
            // Written by a session of its own that then ends: a session's
            // counters are flushed when it ends, so these reads are counted
            // before the measurement starts.
            try await Database.withClient(db.url, maximumConnections: 1, logger: db.logger) { client in
                for statement: PostgresQuery in [
                    "INSERT INTO core.person (id, given_name) SELECT gen_random_uuid(), 'Other ' || n FROM generate_series(1, 20000) n",
                    """
                    INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
                    SELECT 'hr', 'core.person', 'O' || row_number() OVER (), id FROM core.person
                    """,
                    """
                    WITH j AS (INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, finished_at)
                               VALUES ('hr', 'core.person', 'Completed', now()) RETURNING job_id)
                    INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value, item_status, target_id)
                    SELECT j.job_id, row_number() OVER (), i.external_key, 'given_name', 'Other', 'Applied', i.target_id
                      FROM integration.identifier i CROSS JOIN j
                    """,
                    "ANALYZE core.person, integration.identifier, integration.sync_item",
                ] {
                    try await client.query(statement, logger: db.logger)
                }
            }
            // Counters arrive asynchronously: wait until the setup's inserts show.
            for _ in 0..<100 {
                try await db.exec("SELECT pg_stat_clear_snapshot()")
                let shown = try await db.int(
                    "SELECT count(*) FROM pg_stat_user_tables WHERE relid = 'integration.sync_item'::regclass AND n_tup_ins >= 20000")
                if shown == 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            var before: [String: Int] = [:]
            for table in Self.tables { before[table] = try await Self.reads(db, table) }
            try await db.submit(items: (1...5).flatMap { n in
                [.set("E\(n)", "given_name", "Ada \(n)"), .set("E\(n)", "family_name", "Lovelace")]
            })
            // The worker's sessions end when it stops, and a session's
            // counters are flushed when it ends.
            try await db.runWorker()
            for table in Self.tables {
                // Five records created, locked, compared and written, a few
                // times each; reading a table once would be 20,000.
                let read = try await Self.reads(db, table) - before[table, default: 0]
                #expect(read < 1000, "the worker read \(read) rows of \(table) for 5 records")
            }
            #expect(try await db.int("SELECT count(*) FROM core.person WHERE family_name = 'Lovelace'") == 5)
        }
    }

    /// Index entries and heap tuples read from `table` so far.
    static func reads(_ db: TestDatabase, _ table: String) async throws -> Int {
        // Counters of other sessions arrive asynchronously; wait until two
        // readings a moment apart agree.
        var last = -1
        for _ in 0..<50 {
            try await db.exec("SELECT pg_stat_clear_snapshot()")
            let now = try await db.int(
                """
                SELECT (coalesce(t.seq_tup_read, 0) + coalesce(sum(i.idx_tup_read), 0))::int
                  FROM pg_stat_user_tables t LEFT JOIN pg_stat_user_indexes i ON i.relid = t.relid
                 WHERE t.relid = \(table)::regclass GROUP BY t.seq_tup_read
                """)
            if now == last { return now }
            last = now
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }
}
