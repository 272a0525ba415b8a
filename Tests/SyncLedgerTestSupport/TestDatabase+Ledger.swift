import Foundation
import PostgresNIO
import SyncLedgerPostgres
import Testing

// Helpers shared by the stewardship, outbound, ledger, concurrency and
// command tests.

extension TestDatabase {
    /// The steward queries on this database.
    package var stewardship: StewardQueries { StewardQueries(client: client, logger: logger) }

    /// The outbound queries on this database.
    package var outbound: OutboundQueries { OutboundQueries(client: client, logger: logger) }

    /// The latest ledger entry for a field of the record `source` knows as
    /// `key`, written from `entrySource` (default: the same source).
    package func entryID(_ field: String, key: String = "E1", source: String = "hr", from entrySource: String? = nil) async throws -> Int64 {
        let entrySource = entrySource ?? source
        return Int64(
            try await int(
                """
                SELECT max(l.ledger_id) FROM integration.ledger l
                  JOIN integration.identifier i ON i.target_id = l.target_id AND i.target_table = l.target_table
                 WHERE i.source_system_key = \(source) AND i.external_key = \(key)
                   AND l.aspect_key = \(field) AND l.source_system_key = \(entrySource)
                """))
    }

    /// The id of the record `source` knows as `key` (in `table`, or in any).
    package func recordID(_ key: String, source: String = "hr", table: String? = nil) async throws -> UUID {
        let text = try await text(
            """
            SELECT target_id::text FROM integration.identifier
             WHERE source_system_key = \(source) AND external_key = \(key)
               AND (\(table)::text IS NULL OR target_table = \(table))
            """)
        return try #require(text.flatMap(UUID.init(uuidString:)))
    }

    /// A ledger entry's status, is_applied and certifier.
    package func entry(_ ledgerID: Int64) async throws -> [String?] {
        try await rows(
            """
            SELECT l.ledger_status, l.is_applied::text, u.user_name FROM integration.ledger l
              LEFT JOIN integration.app_user u ON u.user_id = l.certified_by WHERE l.ledger_id = \(ledgerID)
            """)[0]
    }

    /// A ledger entry's events as "from→to actor".
    package func events(_ ledgerID: Int64) async throws -> [String] {
        try await rows(
            "SELECT from_status || '→' || to_status || ' ' || actor FROM integration.ledger_event WHERE ledger_id = \(ledgerID) ORDER BY event_id"
        ).map { $0[0] ?? "" }
    }

    /// Links an existing record to another system's key, as that system
    /// would: one item with the target_id hint, processed by the worker.
    package func link(_ key: String, source: String, to record: UUID, field: String, value: String?) async throws {
        try await submit(source: source, items: [Item(key: key, field: field, value: value, hint: record)])
        try await runWorker()
    }

    /// Two payroll jobs: E1 linked to P1, then two separate hr changes of given_name.
    package func twoPayrollJobs() async throws -> (first: Int64, second: Int64) {
        try await exec(Scenario.standard)
        try await submit(items: [.set("E1", "given_name", "Ada")])
        try await runWorker()
        try await link("P1", source: "payroll", to: try await recordID("E1"), field: "salary", value: "100")
        try await submit(items: [.set("E1", "given_name", "Ada Mary")])
        try await runWorker()
        try await submit(items: [.set("E1", "given_name", "Ada Marie"), .set("E1", "family_name", "Lovelace")])
        try await runWorker()
        let jobs = try await rows(
            "SELECT job_id::text FROM integration.sync_job WHERE direction = 'Outbound' AND source_system_key = 'payroll' ORDER BY job_id")
        #expect(jobs.count == 2)
        return (Int64(jobs[0][0]!)!, Int64(jobs[1][0]!)!)
    }
}
