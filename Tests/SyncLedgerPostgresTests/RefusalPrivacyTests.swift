import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// Issue 19 (SPEC §6): what the database says about a refused row reaches the
/// upstream that sent it only as names — the trigger or constraint, the field
/// and the SQLSTATE — never as a message that may quote another system's data.
/// The full text is kept in `integration.item_refusal`, which stewards read and
/// upstreams cannot.
@Suite("Refusals: an upstream reads who refused, never the row's data")
struct RefusalPrivacyTests {
    @Test func aTriggerThatInterpolatesAnotherColumnDoesNotLeakItToTheUpstream() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // Payroll's salary for P1 (another system's data) ...
            try await db.submit(source: "payroll", items: [.set("P1", "salary", "98765.43"), .set("P1", "given_name", "Paula")])
            try await db.runWorker()
            let record = try await db.recordID("P1", source: "payroll")
            // ... and a trigger whose message quotes it, and a CHECK that quotes nothing.
            try await db.exec(
                """
                CREATE FUNCTION core.guard_email() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.email LIKE '%@blocked.example' THEN
                    RAISE EXCEPTION 'blocked address for % earning %', NEW.given_name, NEW.salary
                      USING DETAIL = format('salary %s', NEW.salary);
                  END IF;
                  RETURN NEW;
                END $$;
                CREATE TRIGGER guard_email BEFORE UPDATE ON core.person FOR EACH ROW EXECUTE FUNCTION core.guard_email();
                ALTER TABLE core.person ADD CONSTRAINT family_name_short CHECK (length(family_name) < 20);
                """)

            try await withLoginRole(db, "hr_loader", in: ["syncledger_upstream"], for: "hr") { hr, _ async throws in
                // HR knows the same person (its key hinted at the record) and sends a blocked address.
                let job = try await hr.transaction(logger: TestCluster.logger) { conn -> Int64 in
                    var jobID: Int64 = 0
                    for try await id in try await conn.query(
                        "INSERT INTO integration.sync_job (source_system_key, entity_type, job_key) VALUES ('hr', 'core.person', 'hr-1') RETURNING job_id",
                        logger: TestCluster.logger
                    ).decode(Int64.self) { jobID = id }
                    try await conn.query(
                        """
                        INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value, target_id) VALUES
                          (\(jobID), 1, 'E1', 'email', 'paula@blocked.example', \(record)),
                          (\(jobID), 2, 'E1', 'family_name', 'Aaaaaaaaaaaaaaaaaaaaaaaaa', \(record))
                        """, logger: TestCluster.logger)
                    return jobID
                }
                try await db.runWorker()

                let messages = try await hr.query(
                    "SELECT seq, item_status, coalesce(process_message, '') FROM integration.sync_item WHERE job_id = \(job) ORDER BY seq",
                    logger: TestCluster.logger
                ).collect().map { try $0.decode((Int64, String, String).self) }
                #expect(messages.map(\.1) == ["Failed", "Failed"], "\(messages)")
                #expect(
                    messages[0].2
                        == "rejected by the database: trigger guard_email on core.person refused field email (SQLSTATE P0001); "
                        + "the full message is kept for stewards (integration.item_refusal)", "\(messages)")
                #expect(messages[1].2.contains("check constraint family_name_short refused field family_name (SQLSTATE 23514)"), "\(messages)")
                for (_, _, message) in messages {
                    #expect(!message.contains("98765") && !message.contains("Paula"), "\(message)")
                }
                // The upstream cannot read the full text ...
                let refused = await SecurityTests.refusal(hr, "SELECT message FROM integration.item_refusal")
                #expect(refused?.isPermissionDenied == true, "\(String(describing: refused))")
                // ... nor the job's last error (none), nor any row of it elsewhere.
                let lastError = try await SecurityTests.text(hr, "SELECT coalesce(last_error, '') FROM integration.sync_job WHERE job_id = \(job)")
                #expect(lastError?.contains("98765") == false)
            }

            // Stewards and operators read what the database said in full.
            let full = try await db.rows(
                "SELECT sql_state, message, detail, context FROM integration.item_refusal ORDER BY item_id")
            #expect(full.count == 2)
            #expect(full[0][0] == "P0001")
            #expect(full[0][1] == "blocked address for Paula earning 98765.43")
            #expect(full[0][2] == "salary 98765.43")
            #expect(full[0][3]?.contains("guard_email") == true)
            #expect(full[1][0] == "23514")
            // Requeued: the refusals go with the failures they explain.
            let job = try await db.int("SELECT max(job_id) FROM integration.sync_job")
            try await db.exec("SELECT integration.requeue_failed(\(job))")
            #expect(try await db.int("SELECT count(*) FROM integration.item_refusal") == 0)
        }
    }
}
