import Foundation
import Logging
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

/// SPEC §6 on the real database: the roles, grants and row-level security of
/// `sql/code/95_roles.sql`, exercised by login roles connected as themselves
/// (the harness connects as a superuser, which bypasses all of it).
///
/// Roles are cluster-wide and tests run in parallel in one cluster: every
/// login role gets a unique name and is dropped when its test ends. Grants
/// made here to the group roles (on `core.*`) live in the test's own database.
@Suite("Roles and row-level security on PostgreSQL")
struct SecurityTests {
    // MARK: - Helpers

    /// Runs a statement to completion.
    static func run(_ client: PostgresClient, _ query: PostgresQuery) async throws {
        let rows = try await client.query(query, logger: TestCluster.logger)
        for try await _ in rows {}
    }

    /// All values of the first (bigint) column.
    static func ids(_ client: PostgresClient, _ query: PostgresQuery) async throws -> [Int64] {
        var result: [Int64] = []
        for try await id in try await client.query(query, logger: TestCluster.logger).decode(Int64.self) { result.append(id) }
        return result
    }

    /// The first column of the first row, as text.
    static func text(_ client: PostgresClient, _ query: PostgresQuery) async throws -> String? {
        let rows = try await client.query(query, logger: TestCluster.logger)
        for try await row in rows { return try row.makeRandomAccess()[0].decode(String?.self) }
        return nil
    }

    /// How a statement that must fail was refused.
    struct Refusal: CustomStringConvertible {
        var state: String
        var message: String
        var description: String { "\(state): \(message)" }
        /// Refused by a privilege (no grant on the table, column or function).
        var isPermissionDenied: Bool { state == "42501" && message.contains("permission denied") }
        /// Refused by a row-level security policy's WITH CHECK.
        var isRowSecurity: Bool { state == "42501" && message.contains("row-level security") }
    }

    /// Runs `query`; returns how the server refused it, or nil when it succeeded.
    static func refusal(_ client: PostgresClient, _ query: PostgresQuery) async -> Refusal? {
        do {
            try await run(client, query)
            return nil
        } catch {
            return Refusal(state: PostgresErrors.sqlState(error)?.code ?? "none", message: PostgresErrors.message(error))
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs one worker connected through `client` until there is nothing left
    /// to do. A worker whose privileges are missing would retry forever, so
    /// it is given a deadline.
    static func runWorker(_ client: PostgresClient, _ url: DatabaseURL, id: String) async throws {
        var settings = WorkerSettings(workerID: id)
        settings.exitWhenIdle = true
        settings.chunkSize = 50
        let worker = Worker(url: url, settings: settings, logger: TestCluster.logger)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await worker.run()
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return false
            }
            defer { group.cancelAll() }
            if try await group.next() != true {
                throw TimedOut(description: "the worker did not finish within 60 seconds")
            }
        }
    }

    /// An inbound job with items, inserted in one transaction through `client`.
    static func submit(
        _ client: PostgresClient, source: String = "hr", status: String = "Submitted", key: String,
        items: [(key: String, field: String, value: String)], links: [(key: String, field: String, related: String)] = []
    ) async throws -> Int64 {
        try await client.transaction(logger: TestCluster.logger) { conn in
            var jobID: Int64 = 0
            for try await id in try await conn.query(
                """
                INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
                VALUES (\(source), 'core.person', \(status), \(key)) RETURNING job_id
                """, logger: TestCluster.logger
            ).decode(Int64.self) { jobID = id }
            for (seq, item) in items.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
                    VALUES (\(jobID), \(seq + 1), \(item.key), \(item.field), \(item.value))
                    """, logger: TestCluster.logger)
            }
            for (n, link) in links.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO integration.sync_item (job_id, seq, external_key, operation, field_name, new_value)
                    VALUES (\(jobID), \(items.count + n + 1), \(link.key), 'Link', \(link.field), \(link.related))
                    """, logger: TestCluster.logger)
            }
            return jobID
        }
    }

    static let upstream = ["syncledger_upstream"]
    static let connector = ["syncledger_connector"]

    // MARK: - Upstream systems

    @Test func upstreamSubmitsForItsOwnSourceAndReadsOnlyItsOwnJobs() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let payrollJob = try await db.submit(source: "payroll", items: [.set("P1", "salary", "1000")])

            let job = try await withLoginRole(db, "hr_loader", in: Self.upstream, for: "hr") { hr, _ async throws in
                let job = try await Self.submit(
                    hr, key: "batch-1", items: [("E1", "given_name", "Ada"), ("E1", "family_name", "Lovelace")])

                // Its own job and items, and nothing of payroll's.
                #expect(try await Self.ids(hr, "SELECT job_id FROM integration.sync_job ORDER BY job_id") == [job])
                #expect(try await Self.ids(hr, "SELECT item_id FROM integration.sync_item WHERE job_id = \(job)").count == 2)
                #expect(try await Self.ids(hr, "SELECT job_id FROM integration.sync_job WHERE job_id = \(payrollJob)").isEmpty)
                #expect(try await Self.ids(hr, "SELECT item_id FROM integration.sync_item WHERE job_id = \(payrollJob)").isEmpty)
                #expect(try await Self.text(hr, "SELECT count(*)::text FROM integration.sync_item") == "2")
                // The mapping the policies use: this login speaks for hr.
                #expect(try await Self.text(hr, "SELECT integration.my_source_systems()::text") == "{hr}")
                return job
            }

            // The job is an ordinary job for the worker.
            try await db.runWorker()
            #expect(try await db.job(job).status == "Completed")
            #expect(try await db.person("E1", "family_name") == "Lovelace")
        }
    }

    @Test func upstreamCannotSubmitForAnotherSystemOrForgeResults() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let payrollJob = try await db.submit(source: "payroll", items: [.set("P1", "salary", "1000")])
            let payrollDraft = try await db.int(
                """
                INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
                VALUES ('payroll', 'core.person', 'Draft', 'payroll-draft') RETURNING job_id
                """)

            try await withLoginRole(db, "hr_loader", in: Self.upstream, for: "hr") { hr, _ async throws in
                // A job for another source, an outbound job, a job already Processing.
                let forPayroll = await Self.refusal(
                    hr, "INSERT INTO integration.sync_job (source_system_key, entity_type) VALUES ('payroll', 'core.person')")
                #expect(forPayroll?.isRowSecurity == true, "\(String(describing: forPayroll))")
                let unknown = await Self.refusal(
                    hr, "INSERT INTO integration.sync_job (source_system_key, entity_type) VALUES ('nobody', 'core.person')")
                #expect(unknown?.isRowSecurity == true, "\(String(describing: unknown))")
                let outbound = await Self.refusal(
                    hr, "INSERT INTO integration.sync_job (source_system_key, direction) VALUES ('hr', 'Outbound')")
                #expect(outbound?.isRowSecurity == true, "\(String(describing: outbound))")
                let processing = await Self.refusal(
                    hr, "INSERT INTO integration.sync_job (source_system_key, job_status) VALUES ('hr', 'Processing')")
                #expect(processing?.isRowSecurity == true, "\(String(describing: processing))")

                // Items into payroll's jobs, submitted or draft.
                for target in [payrollJob, Int64(payrollDraft)] {
                    let item = await Self.refusal(
                        hr,
                        """
                        INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value)
                        VALUES (\(target), 'P1', 'salary', '0')
                        """)
                    #expect(item?.isRowSecurity == true, "\(String(describing: item))")
                }

                // Lease and result columns are not the upstream's to write.
                let lease = await Self.refusal(
                    hr, "INSERT INTO integration.sync_job (source_system_key, lease_owner) VALUES ('hr', 'me')")
                #expect(lease?.isPermissionDenied == true, "\(String(describing: lease))")
                let own = try await Self.submit(hr, key: "batch-1", items: [("E1", "given_name", "Ada")])
                let result = await Self.refusal(
                    hr,
                    """
                    INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value, item_status)
                    VALUES (\(own), 'E2', 'given_name', 'Bea', 'Applied')
                    """)
                #expect(result?.isPermissionDenied == true, "\(String(describing: result))")
                let deleted = await Self.refusal(hr, "DELETE FROM integration.sync_item WHERE job_id = \(own)")
                #expect(deleted?.isPermissionDenied == true, "\(String(describing: deleted))")
            }
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(payrollJob)") == 1)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(payrollDraft)") == 0)
        }
    }

    @Test func upstreamCannotAddItemsOnceAWorkerStartedTheJob() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await withLoginRole(db, "hr_loader", in: Self.upstream, for: "hr") { hr, _ async throws in
                let job = try await Self.submit(hr, key: "batch-1", items: [("E1", "given_name", "Ada")])
                try await db.runWorker()
                #expect(try await db.job(job).status == "Completed")
                let late = await Self.refusal(
                    hr,
                    "INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value) VALUES (\(job), 'E2', 'given_name', 'Bea')"
                )
                #expect(late?.isRowSecurity == true, "\(String(describing: late))")

                // Requeued by a steward: Submitted again, but started before, so still closed.
                try await db.exec("UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_id = \(job)")
                let requeued = await Self.refusal(
                    hr,
                    "INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value) VALUES (\(job), 'E2', 'given_name', 'Bea')"
                )
                #expect(requeued?.isRowSecurity == true, "\(String(describing: requeued))")
            }
        }
    }

    @Test func upstreamSubmitsItsOwnDraftJobAndChangesNothingElse() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let payrollDraft = try await db.int(
                """
                INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
                VALUES ('payroll', 'core.person', 'Draft', 'payroll-draft') RETURNING job_id
                """)

            try await withLoginRole(db, "hr_loader", in: Self.upstream, for: "hr") { hr, _ async throws in
                // Staged over two transactions, as a Draft.
                let job = try await Self.submit(hr, status: "Draft", key: "staged", items: [("E1", "given_name", "Ada")])
                try await Self.run(
                    hr,
                    "INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value) VALUES (\(job), 2, 'E1', 'email', 'ada@example.org')"
                )
                try await db.runWorker()
                #expect(try await db.job(job).status == "Draft")

                // Only Draft → Submitted.
                let claim = await Self.refusal(hr, "UPDATE integration.sync_job SET job_status = 'Processing' WHERE job_id = \(job)")
                #expect(claim?.isRowSecurity == true, "\(String(describing: claim))")
                let lease = await Self.refusal(hr, "UPDATE integration.sync_job SET lease_owner = 'me' WHERE job_id = \(job)")
                #expect(lease?.isPermissionDenied == true, "\(String(describing: lease))")
                #expect(
                    try await Self.ids(
                        hr, "UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_id = \(job) RETURNING job_id")
                        == [job])

                try await db.runWorker()
                #expect(try await db.job(job) == .init(status: "Completed", total: 2, applied: 2))

                // A finished job is not reopened, another system's draft not submitted: no row matches.
                #expect(
                    try await Self.ids(hr, "UPDATE integration.sync_job SET job_status = 'Draft' WHERE job_id = \(job) RETURNING job_id")
                        .isEmpty)
                #expect(
                    try await Self.ids(
                        hr, "UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_id = \(payrollDraft) RETURNING job_id"
                    ).isEmpty)
            }
            #expect(try await db.text("SELECT job_status FROM integration.sync_job WHERE job_id = \(payrollDraft)") == "Draft")
        }
    }

    @Test func upstreamCannotTouchTheLedgerTheCrosswalkOrTheConfiguration() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-01-02")])
            try await db.runWorker()
            let held = try await db.int("SELECT ledger_id FROM integration.ledger WHERE aspect_key = 'birth_date'")

            try await withLoginRole(db, "payroll_loader", in: Self.upstream, for: "payroll") { _, payrollURL async throws in
                try await withLoginRole(db, "hr_loader", in: Self.upstream, for: "hr") { hr, _ async throws in
                    let statements: [PostgresQuery] = [
                        "SELECT count(*) FROM integration.ledger",
                        "UPDATE integration.ledger SET notes = 'x'",
                        "DELETE FROM integration.ledger",
                        "INSERT INTO integration.ledger_event (ledger_id, to_status, actor) VALUES (\(held), 'Certified', 'hr')",
                        "SELECT count(*) FROM integration.identifier",
                        "UPDATE integration.source_system SET login_role = current_user",
                        "INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value) VALUES ('hr', 'marital_status', 'X', 'married')",
                        "UPDATE integration.commit_policy SET auto_certify = true",
                        "SELECT integration.certify(\(held), 'alice')",
                        "SELECT integration.current_value('core.person', gen_random_uuid(), 'given_name')",
                    ]
                    for statement in statements {
                        let refused = await Self.refusal(hr, statement)
                        #expect(refused?.isPermissionDenied == true, "\(statement.sql): \(String(describing: refused))")
                    }
                    // Asking for another login's systems by name answers nothing.
                    #expect(
                        try await Self.text(hr, "SELECT integration.my_source_systems(\(payrollURL.username))::text") == "{}")
                }
            }
            #expect(try await db.text("SELECT ledger_status FROM integration.ledger WHERE ledger_id = \(held)") == "Pending")
            #expect(
                try await db.text("SELECT login_role FROM integration.source_system WHERE source_system_key = 'payroll'")?
                    .hasPrefix("payroll_loader_") == true)
        }
    }

    @Test func upstreamLoginNotRegisteredForAnySystemSeesAndSubmitsNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await withLoginRole(db, "stray_loader", in: Self.upstream) { stray, _ async throws in
                #expect(try await Self.ids(stray, "SELECT job_id FROM integration.sync_job").isEmpty)
                #expect(try await Self.ids(stray, "SELECT item_id FROM integration.sync_item").isEmpty)
                let job = await Self.refusal(stray, "INSERT INTO integration.sync_job (source_system_key) VALUES ('hr')")
                #expect(job?.isRowSecurity == true, "\(String(describing: job))")
            }
        }
    }

    // MARK: - Connectors

    @Test func connectorClaimsAndAcknowledgesOnlyItsOwnOutboundJobs() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let crmJob = try await db.int(
                """
                WITH j AS (INSERT INTO integration.sync_job (source_system_key, direction, job_key) VALUES ('crm', 'Outbound', 'o-crm')
                           RETURNING job_id)
                INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value)
                SELECT job_id, 'C1', 'email', 'ada@example.org' FROM j RETURNING job_id
                """)
            let payrollJob = try await db.int(
                """
                WITH j AS (INSERT INTO integration.sync_job (source_system_key, direction, job_key) VALUES ('payroll', 'Outbound', 'o-pay')
                           RETURNING job_id)
                INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value)
                SELECT job_id, 'P1', 'given_name', 'Ada' FROM j RETURNING job_id
                """)

            try await withLoginRole(db, "crm_connector", in: Self.connector, for: "crm") { crm, _ async throws in
                // Payroll's job is not found, whichever way it is asked for.
                #expect(try await Self.ids(crm, "SELECT job_id FROM integration.claim_outbound('payroll', 'crm-1')").isEmpty)
                #expect(try await Self.ids(crm, "SELECT job_id FROM integration.sync_job") == [Int64(crmJob)])
                #expect(try await Self.ids(crm, "SELECT item_id FROM integration.sync_item WHERE job_id = \(payrollJob)").isEmpty)
                let foreignAck = await Self.refusal(crm, "SELECT integration.ack_outbound(\(payrollJob))")
                #expect(foreignAck?.state == "SL040", "\(String(describing: foreignAck))")
                // An UPDATE that names payroll's job, or no job at all, leaves payroll's alone.
                #expect(
                    try await Self.ids(
                        crm, "UPDATE integration.sync_job SET job_status = 'Completed' WHERE job_id = \(payrollJob) RETURNING job_id"
                    ).isEmpty)
                try await Self.run(crm, "UPDATE integration.sync_job SET last_error = 'seen by crm'")
                try await Self.run(crm, "UPDATE integration.sync_item SET process_message = 'seen by crm'")

                // Its own: claimed, read, acknowledged.
                #expect(try await Self.ids(crm, "SELECT job_id FROM integration.claim_outbound('crm', 'crm-1')") == [Int64(crmJob)])
                #expect(
                    try await Self.text(crm, "SELECT new_value FROM integration.sync_item WHERE job_id = \(crmJob)") == "ada@example.org")
                let token = try #require(try await Self.text(crm, "SELECT claim_token::text FROM integration.sync_job WHERE job_id = \(crmJob)"))
                #expect(try await Self.text(crm, "SELECT (integration.ack_outbound(\(crmJob), \(token)::uuid)).job_status") == "Completed")

                // A connector submits nothing and cannot turn its job into an inbound one.
                let inbound = await Self.refusal(crm, "INSERT INTO integration.sync_job (source_system_key) VALUES ('crm')")
                #expect(inbound?.isPermissionDenied == true, "\(String(describing: inbound))")
                let turned = await Self.refusal(crm, "UPDATE integration.sync_job SET direction = 'Inbound' WHERE job_id = \(crmJob)")
                #expect(turned?.isPermissionDenied == true, "\(String(describing: turned))")

                // The CLI's way (`syncledger outbound next`), which also checks the source system exists.
                try await db.exec(
                    """
                    WITH j AS (INSERT INTO integration.sync_job (source_system_key, direction, job_key) VALUES ('crm', 'Outbound', 'o-crm-2')
                               RETURNING job_id)
                    INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value)
                    SELECT job_id, 'C1', 'given_name', 'Ada' FROM j
                    """)
                let queries = OutboundQueries(client: crm, logger: TestCluster.logger)
                #expect(try await queries.claim(source: "payroll", owner: "crm-2") == nil)
                let claim = try #require(try await queries.claim(source: "crm", owner: "crm-2"))
                #expect(claim.items.values("new_value") == ["Ada"])
                #expect(try await queries.acknowledge(claim.jobID, claim: claim.token).value("job_status") == "Completed")
            }
            #expect(
                try await db.rows("SELECT job_status, last_error FROM integration.sync_job WHERE job_id = \(payrollJob)")
                    == [["Submitted", nil]])
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE process_message IS NOT NULL") == 1)
            #expect(try await db.job(Int64(crmJob)) == .init(status: "Completed", total: 1, applied: 1))
        }
    }

    // MARK: - Stewards and administrators

    @Test func stewardCertifiesThroughTheFunctionsButCannotWriteTheLedger() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "birth_date", "1990-01-02"), .set("E1", "emial", "x")])
            try await db.runWorker()
            let held = Int64(try await db.int("SELECT ledger_id FROM integration.ledger WHERE aspect_key = 'birth_date'"))

            try await withLoginRole(db, "steward", in: ["syncledger_steward"], as: "alice") { steward, _ async throws in
                // Reads everything: every source's jobs, the review queue (with current values).
                #expect(try await Self.ids(steward, "SELECT job_id FROM integration.sync_job") == [job])
                #expect(try await Self.ids(steward, "SELECT item_id FROM integration.sync_item").count == 2)
                #expect(try await Self.ids(steward, "SELECT ledger_id FROM integration.review_queue") == [held])
                // current_value is what the review queue reads the target through.
                #expect(
                    try await Self.text(steward, "SELECT coalesce(current_value, 'none') FROM integration.review_queue") == "none")
                #expect(try await Self.ids(steward, "SELECT count(*) FROM integration.field_provenance") == [2])

                // Not directly.
                let statements: [PostgresQuery] = [
                    "UPDATE integration.ledger SET ledger_status = 'Certified' WHERE ledger_id = \(held)",
                    "DELETE FROM integration.ledger WHERE ledger_id = \(held)",
                    "INSERT INTO integration.ledger_event (ledger_id, to_status, actor) VALUES (\(held), 'Certified', 'alice')",
                    "UPDATE integration.sync_item SET item_status = 'Applied' WHERE job_id = \(job)",
                    "INSERT INTO integration.sync_job (source_system_key) VALUES ('hr')",
                    "UPDATE core.person SET birth_date = '1990-01-02'",
                    "INSERT INTO integration.app_user (user_name, is_steward) VALUES ('mallory', true)",
                ]
                for statement in statements {
                    let refused = await Self.refusal(steward, statement)
                    #expect(refused?.isPermissionDenied == true, "\(statement.sql): \(String(describing: refused))")
                }

                // Through the functions.
                #expect(try await Self.text(steward, "SELECT (integration.certify(\(held), 'alice')).ledger_status") == "Certified")
                #expect(try await Self.text(steward, "SELECT integration.requeue_failed(\(job))::text") == "1")
                #expect(try await Self.ids(steward, "SELECT count(*) FROM integration.provenance_violations()") == [0])
            }
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            #expect(try await db.text("SELECT actor FROM integration.ledger_event WHERE ledger_id = \(held)") == "alice")
        }
    }

    @Test func adminWritesTheConfigurationAndOnlyReadsTheRest() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "marital_status", "W")])
            try await db.runWorker()
            #expect(try await db.itemResults(job).map(\.status) == ["Failed"])

            try await withLoginRole(db, "admin", in: ["syncledger_admin"]) { admin, _ async throws in
                try await Self.run(
                    admin,
                    """
                    INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value)
                    VALUES ('hr', 'marital_status', 'W', 'widowed')
                    """)
                try await Self.run(
                    admin, "UPDATE integration.source_system SET display_name = 'Human Resources' WHERE source_system_key = 'hr'")
                try await Self.run(admin, "DELETE FROM integration.subscription WHERE source_system_key = 'crm'")
                #expect(try await Self.ids(admin, "SELECT job_id FROM integration.sync_job") == [job])
                #expect(try await Self.text(admin, "SELECT integration.requeue_failed(\(job))::text") == "1")

                let statements: [PostgresQuery] = [
                    "UPDATE integration.sync_job SET priority = 10",
                    "INSERT INTO integration.sync_job (source_system_key) VALUES ('hr')",
                    "UPDATE integration.identifier SET external_key = 'E2'",
                    "UPDATE integration.ledger SET notes = 'x'",
                    "TRUNCATE integration.value_map",
                ]
                for statement in statements {
                    let refused = await Self.refusal(admin, statement)
                    #expect(refused?.isPermissionDenied == true, "\(statement.sql): \(String(describing: refused))")
                }
            }
            try await db.runWorker()
            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.person("E1", "marital_status") == "widowed")
        }
    }

    // MARK: - The worker

    @Test func workerRoleRunsTheStandardScenarioEndToEnd() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // The worker needs no grant on the target tables: its functions
            // write them as the owner of the integration schema.

            try await withLoginRole(db, "worker", in: ["syncledger_worker"]) { worker, workerURL async throws in
                try await withLoginRole(db, "hr_loader", in: Self.upstream, for: "hr") { hr, _ async throws in
                    let first = try await Self.submit(
                        hr, key: "batch-1",
                        items: [
                            ("E1", "given_name", "Ada"),  // Applied, certified by policy
                            ("E1", "email", "ada@example.org"),  // Applied, pending
                            ("E1", "birth_date", "1990-1-2"),  // Held: OnCertify, cast-checked
                            ("E1", "marital_status", "M"),  // Applied through the value map
                            ("E1", "emial", "x"),  // Failed: unknown field
                        ])
                    try await Self.runWorker(worker, workerURL, id: "secure-worker-1")
                    #expect(try await db.job(first) == .init(status: "CompletedWithErrors", total: 5, applied: 3, held: 1, failed: 1))
                    #expect(try await db.person("E1", "marital_status") == "married")

                    // CRM knows the record: the next change is sent out to it.
                    try await db.exec(
                        """
                        INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
                        SELECT 'crm', 'core.person', 'C1', target_id FROM integration.identifier
                         WHERE source_system_key = 'hr' AND external_key = 'E1'
                        """)
                    let second = try await Self.submit(
                        hr, key: "batch-2",
                        items: [
                            ("E1", "given_name", "Augusta"),  // Applied, sent to CRM
                            ("E1", "email", "ada@example.org"),  // Skipped: unchanged, hr's confirmation refreshed
                        ],
                        links: [("E2", "employer_id", "O1")])  // creates a person and a stub organisation
                    let confirmedBefore = try await db.text(
                        "SELECT confirmed_at::text FROM integration.ledger WHERE aspect_key = 'email'")
                    try await Self.runWorker(worker, workerURL, id: "secure-worker-2")
                    let secondResults = try await db.itemResults(second)
                    #expect(
                        try await db.job(second) == .init(status: "Completed", total: 3, applied: 2, skipped: 1),
                        "\(secondResults)")
                    #expect(
                        try await db.text("SELECT confirmed_at::text FROM integration.ledger WHERE aspect_key = 'email'")
                            != confirmedBefore)
                    #expect(
                        try await db.rows(
                            """
                            SELECT j.job_status, i.external_key, i.field_name, i.new_value
                              FROM integration.sync_job j JOIN integration.sync_item i USING (job_id)
                             WHERE j.direction = 'Outbound' AND j.source_system_key = 'crm'
                            """) == [["Submitted", "C1", "given_name", "Augusta"]])
                }

                // The worker writes only through the functions: it can neither
                // certify nor move a staleness clock nor insert an entry itself.
                for statement: PostgresQuery in [
                    "UPDATE integration.ledger SET ledger_status = 'Certified' WHERE ledger_status = 'Pending'",
                    "UPDATE integration.ledger SET confirmed_at = now() + interval '10 years'",
                    """
                    INSERT INTO integration.ledger (target_table, target_id, ledger_aspect, aspect_key, source_system_key,
                      ledger_status, certified_by, chain_seq, row_hash, chain_hash)
                    VALUES ('core.person', gen_random_uuid(), 'Field', 'given_name', 'hr', 'Certified', 1, 1, '', '')
                    """,
                    "INSERT INTO integration.ledger_event (ledger_id, to_status, actor, chain_seq, row_hash, chain_hash) VALUES (1, 'Certified', 'alice', 1, '', '')",
                    "UPDATE integration.sync_job SET lease_owner = 'me'",
                ] {
                    let refused = await Self.refusal(worker, statement)
                    #expect(refused?.isPermissionDenied == true, "\(statement.sql): \(String(describing: refused))")
                }
                let certify = await Self.refusal(worker, "SELECT integration.certify(1, 'alice')")
                #expect(certify?.isPermissionDenied == true, "\(String(describing: certify))")
                let config = await Self.refusal(worker, "UPDATE integration.commit_policy SET auto_certify = true")
                #expect(config?.isPermissionDenied == true, "\(String(describing: config))")
            }
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE ledger_status = 'Pending'") == 2)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}
