import Foundation
import PostgresNIO
import SyncLedgerPostgres
import SyncLedgerTestSupport
import Testing

/// `integration.add_staged_items` (intake.sql): `submit`'s way, for an
/// upstream login, to move what it staged into its job with the upstream
/// insert policy's rule checked once. It must refuse everything the policy
/// refuses, and add exactly the staged items with an operation.
@Suite("Staged items: an upstream's file moves into its own job, and nowhere else")
struct StagedItemsTests {
    /// As the upstream, in one transaction: stages three items (one without
    /// an operation, which is not an item), then moves them into `job`
    /// (`nil`: a new Draft job of `source`) as `role` (`nil`: its own).
    static func stageAndAdd(
        _ client: PostgresClient, job: Int64?, source: String = "hr", role: String? = nil, logger: Logger
    ) async throws -> (job: Int64, added: Int) {
        try await client.withConnection { conn in
            try await conn.query("BEGIN", logger: logger)
            do {
                let outcome = try await stageAndAdd(on: conn, job: job, source: source, role: role, logger: logger)
                try await conn.query("COMMIT", logger: logger)
                return outcome
            } catch {
                _ = try? await conn.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    static func stageAndAdd(
        on conn: PostgresConnection, job: Int64?, source: String, role: String?, logger: Logger
    ) async throws -> (job: Int64, added: Int) {
        try await conn.query(
            """
            CREATE TEMPORARY TABLE intake_item (seq bigint, external_key text, operation text, field_name text, new_value text,
                                                source_timestamp timestamptz, line bigint) ON COMMIT DROP
            """, logger: logger)
        try await conn.query(
            """
            INSERT INTO pg_temp.intake_item VALUES (1, 'E1', 'Set', 'given_name', 'Ada', NULL, 2), (2, 'E1', 'Set', 'email', 'a@x', NULL, 2),
                                                   (3, 'E2', NULL, 'given_name', 'Superseded', NULL, 3), (4, 'E3', 'Delete', NULL, NULL, NULL, 4)
            """, logger: logger)
        var target = job ?? 0
        if job == nil {
            for try await id in try await conn.query(
                "INSERT INTO integration.sync_job (source_system_key, entity_type, job_status) VALUES (\(source), 'core.person', 'Draft') RETURNING job_id",
                logger: logger
            ).decode(Int64.self) { target = id }
        }
        var added = 0
        let call: PostgresQuery = role.map { "SELECT integration.add_staged_items(\(target), \($0))::int" }
            ?? "SELECT integration.add_staged_items(\(target), current_user)::int"
        for try await n in try await conn.query(call, logger: logger).decode(Int.self) { added = n }
        return (target, added)
    }

    @Test func anUpstreamMovesItsStagedItemsIntoItsOwnDraftJobOnly() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let payrollJob = Int64(try await db.int(
                "INSERT INTO integration.sync_job (source_system_key, entity_type, job_status) VALUES ('payroll', 'core.person', 'Draft') RETURNING job_id"))
            let startedJob = Int64(try await db.int(
                "INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, started_at) VALUES ('hr', 'core.person', 'Submitted', now()) RETURNING job_id"))
            let logger = db.logger
            try await withLoginRole(db, "payroll_loader", in: ["syncledger_upstream"], for: "payroll") { _, _ in
                try await withLoginRole(db, "hr_loader", in: ["syncledger_upstream"], for: "hr") { client, _ in
                    // Its own new Draft job: the three staged items with an operation.
                    let (own, added) = try await Self.stageAndAdd(client, job: nil, logger: logger)
                    #expect(added == 3)
                    #expect(try await db.rows("SELECT seq::text, external_key, operation FROM integration.sync_item WHERE job_id = \(own) ORDER BY seq")
                            == [["1", "E1", "Set"], ["2", "E1", "Set"], ["4", "E3", "Delete"]])

                    // What the policy refuses, refused here too.
                    await expectRefusal("42501", "may not add items to job \(payrollJob)") {
                        _ = try await Self.stageAndAdd(client, job: payrollJob, logger: logger)
                    }
                    await expectRefusal("42501", "may not add items to job \(startedJob)") {
                        _ = try await Self.stageAndAdd(client, job: startedJob, logger: logger)
                    }
                    await expectRefusal("42501", "may not add items to job 999999") {
                        _ = try await Self.stageAndAdd(client, job: 999_999, logger: logger)
                    }
                    // Naming payroll's login role (which this session is not) does not make payroll's job its own.
                    let payrollRole = try await db.text("SELECT login_role::text FROM integration.source_system WHERE source_system_key = 'payroll'") ?? "?"
                    await expectRefusal("42501", "role \(payrollRole) may not add items to job \(payrollJob)") {
                        _ = try await Self.stageAndAdd(client, job: payrollJob, role: payrollRole, logger: logger)
                    }
                    // The policy agrees: the same items by plain INSERT into payroll's job are refused.
                    await expectRefusal("42501", "row-level security") {
                        try await client.query(
                            "INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value) VALUES (\(payrollJob), 1, 'E1', 'given_name', 'Ada')",
                            logger: logger)
                    }
                }
            }
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id IN (\(payrollJob), \(startedJob))") == 0)
        }
    }
}
