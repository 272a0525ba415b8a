import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerPostgres
import SyncLedgerWorker

/// `syncledger demo`: migrates, sets up the ``DemoScenario``, submits the
/// upstream jobs with SQL, runs the worker until idle, and prints what happened.
public struct Demo: Sendable {
    public var migrator: Migrator
    public var logger: Logger

    public init(migrator: Migrator, logger: Logger) {
        self.migrator = migrator
        self.logger = logger
    }

    /// Runs the scenario against the (empty) database of `url`, printing as it goes.
    public func run(url: DatabaseURL, print: @escaping @Sendable (String) -> Void) async throws {
        try await Database.withClient(url, applicationName: "syncledger demo", logger: logger) { client in
            try await migrator.migrate(client: client, logger: logger)
            try await Database.runScript(DemoScenario.setup, on: client, logger: logger)
            print("Set up: sources hr and payroll; core.organisation, core.person and core.account; policies, value maps, subscriptions.\n")

            var settings = WorkerSettings(workerID: "demo-worker")
            settings.exitWhenIdle = true
            let worker = Worker(url: url, settings: settings, logger: logger)

            try await Database.runScript(DemoScenario.hrJob, on: client, logger: logger)
            print("HR submitted job hr-2026-11-24-001 (15 items) with plain SQL; running the worker until idle…")
            try await worker.run()
            try await Database.runScript(DemoScenario.payrollJob, on: client, logger: logger)
            print("Payroll submitted job payroll-run-2026-47 (11 items); running the worker until idle…\n")
            try await worker.run()

            try await section("Jobs", client: client, print: print) {
                """
                SELECT job_id::text, source_system_key AS source, job_key, job_status AS status, items_total::text AS total,
                       items_applied::text AS applied, items_held::text AS held, items_skipped::text AS skipped,
                       items_failed::text AS failed
                  FROM integration.sync_job WHERE direction = 'Inbound' ORDER BY job_id
                """
            }
            try await section("Items that failed, and why", client: client, print: print, width: .max) {
                """
                SELECT j.source_system_key AS source, i.seq::text, i.external_key, coalesce(i.field_name, i.operation) AS field,
                       i.process_message AS message
                  FROM integration.sync_item i JOIN integration.sync_job j USING (job_id)
                 WHERE i.item_status = 'Failed' ORDER BY i.job_id, i.seq
                """
            }
            try await section("Values held for certification", client: client, print: print, width: 60) {
                """
                SELECT l.ledger_id::text AS ledger, l.target_table || '.' || l.aspect_key AS field, i.external_key,
                       l.source_system_key AS source, l.value AS proposed, l.previous_value AS current, i.process_message AS why
                  FROM integration.ledger l JOIN integration.sync_item i ON i.item_id = l.sync_item_id
                 WHERE l.ledger_status = 'Pending' AND NOT l.is_applied ORDER BY l.source_system_key, i.external_key, l.aspect_key
                """
            }

            if try await hasStewardship(client) {
                try await certifyOne(client: client, print: print)
            }

            try await section("Provenance of person E100 (hr), field by field", client: client, print: print) {
                """
                SELECT l.aspect_key AS field, l.value, l.source_system_key AS source, l.ledger_status AS status,
                       CASE WHEN l.is_applied THEN 'yes' ELSE 'no' END AS applied,
                       coalesce(u.user_name, (SELECT e.actor FROM integration.ledger_event e
                                               WHERE e.ledger_id = l.ledger_id AND e.to_status = 'Certified' LIMIT 1)) AS certified_by,
                       to_char(l.recorded_at, 'YYYY-MM-DD HH24:MI:SS') AS recorded
                  FROM integration.ledger l
                  JOIN integration.identifier x ON x.target_table = l.target_table AND x.target_id = l.target_id
                  LEFT JOIN integration.app_user u ON u.user_id = l.certified_by
                 WHERE x.source_system_key = 'hr' AND x.external_key = 'E100'
                 ORDER BY l.aspect_key, l.ledger_id
                """
            }
            try await section("Person records now", client: client, print: print) {
                """
                SELECT coalesce(h.external_key, '-') AS hr_key, coalesce(p.external_key, '-') AS payroll_key, r.given_name,
                       r.family_name, r.email, r.birth_date::text, r.marital_status, o.name AS employer
                  FROM core.person r
                  LEFT JOIN integration.identifier h ON h.target_id = r.id AND h.source_system_key = 'hr'
                  LEFT JOIN integration.identifier p ON p.target_id = r.id AND p.source_system_key = 'payroll'
                  LEFT JOIN core.organisation o ON o.id = r.employer_id
                 ORDER BY hr_key, payroll_key
                """
            }
        }
    }

    private func hasStewardship(_ client: PostgresClient) async throws -> Bool {
        let rows = try await client.query("SELECT to_regproc('integration.certify') IS NOT NULL", logger: logger)
        return try await rows.single(Bool.self) ?? false
    }

    /// A steward certifies E100's held birth date; the certified value goes out
    /// to payroll, translated and under payroll's own key.
    private func certifyOne(client: PostgresClient, print: @escaping @Sendable (String) -> Void) async throws {
        let rows = try await client.query(
            """
            SELECT l.ledger_id FROM integration.ledger l JOIN integration.sync_item i ON i.item_id = l.sync_item_id
             WHERE l.ledger_status = 'Pending' AND NOT l.is_applied AND l.aspect_key = 'birth_date' AND i.external_key = 'E100'
            """, logger: logger)
        guard let ledgerID = try await rows.single(Int64.self) else { return }
        try await client.run(
            "SELECT integration.certify(\(ledgerID), 'dana', 'checked against the birth certificate')", logger: logger)
        print("Steward dana ran: SELECT integration.certify(\(ledgerID), 'dana', 'checked against the birth certificate');\n")
        try await section("Outbound items created by that certification", client: client, print: print) {
            """
            SELECT j.job_id::text AS job, j.source_system_key AS to_system, j.job_status AS status, i.external_key,
                   i.field_name, i.new_value, i.ledger_id::text AS ledger
              FROM integration.sync_item i JOIN integration.sync_job j USING (job_id)
             WHERE j.direction = 'Outbound' AND i.ledger_id = \(ledgerID)
             ORDER BY j.job_id, i.seq
            """
        }
    }

    private func section(
        _ title: String, client: PostgresClient, print: @escaping @Sendable (String) -> Void, width: Int = 44,
        _ query: () -> PostgresQuery
    ) async throws {
        let table = try await TextTable.query(query(), on: client, logger: logger)
        print("== \(title)\n\(table.render(maxWidth: width))\n")
    }
}
