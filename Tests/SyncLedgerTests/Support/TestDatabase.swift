import Foundation
import Logging
import PostgresNIO
import SyncLedger
import SyncLedgerCore
import Testing

/// One test's database: a running client and helpers to set up scenarios,
/// submit jobs as an upstream would (plain SQL), run the worker and read back.
struct TestDatabase: Sendable {
    let url: DatabaseURL
    let client: PostgresClient
    var logger: Logger { TestCluster.logger }

    /// Runs `body` against a fresh, migrated database.
    static func with<T: Sendable>(
        _ label: String = #function, _ body: @Sendable (TestDatabase) async throws -> T
    ) async throws -> T {
        let url = try await TestCluster.shared.freshDatabase(label: label)
        return try await Database.withClient(url, maximumConnections: 12, logger: TestCluster.logger) { client in
            do {
                return try await body(TestDatabase(url: url, client: client))
            } catch let error as PSQLError {
                // The server's message, not postgres-nio's redacted description.
                Issue.record("database error: \(String(reflecting: error))")
                throw error
            }
        }
    }

    /// Runs a multi-statement SQL script.
    func exec(_ sql: String) async throws {
        try await Database.runScript(sql, on: client, logger: logger)
    }

    /// The first column of the first row, as text (NULL → nil).
    func text(_ query: PostgresQuery) async throws -> String? {
        let rows = try await client.query(query, logger: logger)
        for try await row in rows { return try row.makeRandomAccess()[0].decode(String?.self) }
        return nil
    }

    /// The first column of the first row as an integer.
    func int(_ query: PostgresQuery) async throws -> Int {
        let rows = try await client.query(query, logger: logger)
        for try await value in rows.decode(Int64.self) { return Int(value) }
        return 0
    }

    /// All rows, every column as text (cast non-text columns in the query).
    func rows(_ query: PostgresQuery) async throws -> [[String?]] {
        try await TextTable.query(query, on: client, logger: logger).rows
    }

    /// Runs one worker in this process until there is nothing left to do.
    func runWorker(id: String = "test-worker", configure: (inout WorkerSettings) -> Void = { _ in }) async throws {
        var settings = WorkerSettings(workerID: id)
        settings.exitWhenIdle = true
        settings.chunkSize = 50
        configure(&settings)
        try await Worker(url: url, settings: settings, logger: logger).run()
    }

    /// Submits an inbound job with items, as one upstream transaction; returns its id.
    @discardableResult
    func submit(source: String = "hr", entity: String? = "core.person", key: String? = nil, priority: Int = 0, items: [Item]) async throws -> Int64 {
        try await client.transaction(logger: logger) { conn in
            let rows = try await conn.query(
                """
                INSERT INTO integration.sync_job (source_system_key, entity_type, job_key, priority)
                VALUES (\(source), \(entity), \(key), \(priority)) RETURNING job_id
                """, logger: logger)
            var jobID: Int64 = 0
            for try await id in rows.decode(Int64.self) { jobID = id }
            for (index, item) in items.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO integration.sync_item
                      (job_id, seq, external_key, target_table, operation, field_name, new_value, source_timestamp, target_id)
                    VALUES (\(jobID), \(index + 1), \(item.key), \(item.table), \(item.operation), \(item.field), \(item.value),
                            \(item.timestamp), \(item.hint))
                    """, logger: logger)
            }
            return jobID
        }
    }

    /// One inbound item.
    struct Item: Sendable {
        var key: String?
        var field: String?
        var value: String?
        var operation = "Set"
        var table: String? = nil
        var timestamp: Date? = nil
        var hint: UUID? = nil

        static func set(_ key: String, _ field: String, _ value: String?, table: String? = nil, at timestamp: Date? = nil) -> Item {
            Item(key: key, field: field, value: value, table: table, timestamp: timestamp)
        }

        static func link(_ key: String, _ field: String, to related: String?, table: String? = nil) -> Item {
            Item(key: key, field: field, value: related, operation: "Link", table: table)
        }

        static func delete(_ key: String, table: String? = nil) -> Item {
            Item(key: key, field: nil, value: nil, operation: "Delete", table: table)
        }
    }

    /// `item_status` and `process_message` of a job's items, in `seq` order.
    func itemResults(_ jobID: Int64) async throws -> [(status: String, message: String?)] {
        try await rows("SELECT item_status, process_message FROM integration.sync_item WHERE job_id = \(jobID) ORDER BY seq, item_id")
            .map { ($0[0]!, $0[1]) }
    }

    /// A job's final status and counts.
    struct JobSummary: Equatable, Sendable {
        var status: String
        var total = 0
        var applied = 0
        var held = 0
        var skipped = 0
        var failed = 0
    }

    /// The job's status and counts.
    func job(_ jobID: Int64) async throws -> JobSummary {
        let row = try await rows(
            """
            SELECT job_status, items_total::text, items_applied::text, items_held::text, items_skipped::text, items_failed::text
              FROM integration.sync_job WHERE job_id = \(jobID)
            """)[0]
        return JobSummary(
            status: row[0]!, total: Int(row[1]!)!, applied: Int(row[2]!)!, held: Int(row[3]!)!, skipped: Int(row[4]!)!,
            failed: Int(row[5]!)!)
    }

    /// A person's column, by HR's external key.
    func person(_ key: String, _ column: String, source: String = "hr") async throws -> String? {
        try await text(
            """
            SELECT (to_jsonb(p) ->> \(column)) FROM core.person p
              JOIN integration.identifier i ON i.target_id = p.id AND i.target_table = 'core.person'
             WHERE i.source_system_key = \(source) AND i.external_key = \(key)
            """)
    }

    /// The provenance invariant: every governed value holds the value of the
    /// entry that owns its aspect, and none is non-null without one.
    func provenanceViolations() async throws -> [[String?]] {
        try await rows(
            "SELECT target_table, target_id::text, aspect_key, current_value, expected_value FROM integration.provenance_violations()")
    }

    /// What `integration.verify_ledger()` finds: "finding ledger_id detail".
    func chainFindings() async throws -> [String] {
        try await rows("SELECT finding || ' ' || coalesce(ledger_id::text, '-') || ' ' || detail FROM integration.verify_ledger()")
            .map { $0[0] ?? "" }
    }
}
