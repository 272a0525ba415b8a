import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerPostgres
import SyncLedgerWorker
import Testing

/// One test's database: a running client and helpers to set up scenarios,
/// submit jobs as an upstream would (plain SQL), run the worker and read back.
package struct TestDatabase: Sendable {
    package let url: DatabaseURL
    package let client: PostgresClient
    package var logger: Logger { TestCluster.logger }

    /// Runs `body` against a fresh, migrated database.
    package static func with<T: Sendable>(
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
    package func exec(_ sql: String) async throws {
        try await Database.runScript(sql, on: client, logger: logger)
    }

    /// The first column of the first row, as text (NULL → nil).
    package func text(_ query: PostgresQuery) async throws -> String? {
        let rows = try await client.query(query, logger: logger)
        for try await row in rows { return try row.makeRandomAccess()[0].decode(String?.self) }
        return nil
    }

    /// The first column of the first row as an integer.
    package func int(_ query: PostgresQuery) async throws -> Int {
        let rows = try await client.query(query, logger: logger)
        for try await value in rows.decode(Int64.self) { return Int(value) }
        return 0
    }

    /// All rows, every column as text (cast non-text columns in the query).
    package func rows(_ query: PostgresQuery) async throws -> [[String?]] {
        try await TextTable.query(query, on: client, logger: logger).rows
    }

    /// Runs one worker in this process until there is nothing left to do.
    package func runWorker(id: String = "test-worker", configure: (inout WorkerSettings) -> Void = { _ in }) async throws {
        var settings = WorkerSettings(workerID: id)
        settings.exitWhenIdle = true
        settings.chunkSize = 50
        configure(&settings)
        try await Worker(url: url, settings: settings, logger: logger).run()
    }

    /// Submits an inbound job with items, as one upstream transaction; returns its id.
    @discardableResult
    package func submit(source: String = "hr", entity: String? = "core.person", key: String? = nil, priority: Int = 0, items: [Item]) async throws -> Int64 {
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
    package struct Item: Sendable {
        package var key: String?
        package var field: String?
        package var value: String?
        package var operation = "Set"
        package var table: String? = nil
        package var timestamp: Date? = nil
        package var hint: UUID? = nil

        package init(
            key: String?, field: String?, value: String?, operation: String = "Set", table: String? = nil, timestamp: Date? = nil,
            hint: UUID? = nil
        ) {
            self.key = key
            self.field = field
            self.value = value
            self.operation = operation
            self.table = table
            self.timestamp = timestamp
            self.hint = hint
        }

        package static func set(_ key: String, _ field: String, _ value: String?, table: String? = nil, at timestamp: Date? = nil) -> Item {
            Item(key: key, field: field, value: value, table: table, timestamp: timestamp)
        }

        package static func link(_ key: String, _ field: String, to related: String?, table: String? = nil) -> Item {
            Item(key: key, field: field, value: related, operation: "Link", table: table)
        }

        package static func delete(_ key: String, table: String? = nil) -> Item {
            Item(key: key, field: nil, value: nil, operation: "Delete", table: table)
        }
    }

    /// `item_status` and `process_message` of a job's items, in `seq` order.
    package func itemResults(_ jobID: Int64) async throws -> [(status: String, message: String?)] {
        try await rows("SELECT item_status, process_message FROM integration.sync_item WHERE job_id = \(jobID) ORDER BY seq, item_id")
            .map { ($0[0]!, $0[1]) }
    }

    /// A job's final status and counts.
    package struct JobSummary: Equatable, Sendable {
        package var status: String
        package var total = 0
        package var applied = 0
        package var held = 0
        package var skipped = 0
        package var failed = 0

        package init(status: String, total: Int = 0, applied: Int = 0, held: Int = 0, skipped: Int = 0, failed: Int = 0) {
            self.status = status
            self.total = total
            self.applied = applied
            self.held = held
            self.skipped = skipped
            self.failed = failed
        }
    }

    /// The job's status and counts.
    package func job(_ jobID: Int64) async throws -> JobSummary {
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
    package func person(_ key: String, _ column: String, source: String = "hr") async throws -> String? {
        try await text(
            """
            SELECT (to_jsonb(p) ->> \(column)) FROM core.person p
              JOIN integration.identifier i ON i.target_id = p.id AND i.target_table = 'core.person'
             WHERE i.source_system_key = \(source) AND i.external_key = \(key)
            """)
    }

    /// The provenance invariant: every governed value holds the value of the
    /// entry that owns its aspect, and none is non-null without one.
    package func provenanceViolations() async throws -> [[String?]] {
        try await rows(
            "SELECT target_table, target_id::text, aspect_key, current_value, expected_value FROM integration.provenance_violations()")
    }

    /// What `integration.verify_ledger()` finds: "finding ledger_id detail".
    package func chainFindings() async throws -> [String] {
        try await rows("SELECT finding || ' ' || coalesce(ledger_id::text, '-') || ' ' || detail FROM integration.verify_ledger()")
            .map { $0[0] ?? "" }
    }
}
