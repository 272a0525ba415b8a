import Foundation
import PostgresNIO
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §3 "Who acts" and §6: who acted is provable, the ledger is
/// tamper-evident, and upstreams cannot interfere with others' work. Every
/// test acts as a real login role (the harness itself is a superuser).
@Suite("Trust boundaries")
struct TrustBoundaryTests {
    /// A held birth date and an applied, pending email of E1.
    static func withEntries(_ label: String = #function, _ body: @Sendable @escaping (TestDatabase, Int64, Int64) async throws -> Void)
        async throws
    {
        try await TestDatabase.with(label) { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "birth_date", "1990-01-02"), .set("E1", "email", "ada@example.org")])
            try await db.runWorker()
            try await body(db, try await db.entryID("birth_date"), try await db.entryID("email"))
        }
    }

    // MARK: Steward identity

    @Test func aStewardActsOnlyInTheirOwnName() async throws {
        try await Self.withEntries { db, held, applied in
            try await withLoginRole(db, "mallory", in: ["syncledger_steward"]) { client, url in
                let login = url.username
                try await db.exec(
                    "INSERT INTO integration.app_user (user_name, display_name, is_steward, login_role) VALUES ('mallory', 'Mallory', true, '\(login)')")
                let steward = StewardQueries(client: client, logger: db.logger)

                // In another steward's name: refused, naming both.
                for (ledger, name) in [(held, "alice"), (applied, "bob")] {
                    await expectRefusal("SL023", "session role \"\(login)\" may not act as \"\(name)\"") {
                        _ = try await steward.certify(ledger, as: name)
                    }
                    await expectRefusal("SL023", "may not act as \"\(name)\"") { _ = try await steward.reject(ledger, as: name) }
                }
                #expect(try await db.entry(held) == ["Pending", "false", nil])

                // The CLI's --as follows the same rule.
                let refused = try await CommandProcess.run(["steward", "certify", "\(held)", "--as", "alice"], url: url)
                #expect(refused.status == 1)
                #expect(refused.stderr.contains("may not act as \"alice\""), "\(refused.stderr)")
                #expect(try await db.entry(held) == ["Pending", "false", nil])

                // In their own name (by name, or by default): certified, and the
                // event records the login role that acted.
                let result = try await steward.certify(held)
                #expect(result.actor == "mallory")
                #expect(result.entry.value("certified_by") == "mallory")
                let viaCLI = try await CommandProcess.run(["steward", "reject", "\(applied)", "--as", "mallory"], url: url)
                #expect(viaCLI.status == 0, "\(viaCLI.stderr)")
                let events = try await db.rows(
                    "SELECT ledger_id::text, actor, acting_role::text FROM integration.ledger_event WHERE ledger_id IN (\(held), \(applied)) ORDER BY event_id")
                #expect(events == [["\(held)", "mallory", login], ["\(applied)", "mallory", login]])
            }
            #expect(try await db.chainFindings().isEmpty)
        }
    }

    @Test func anAdministratorActsForAnotherUserAndBothNamesAreRecorded() async throws {
        try await Self.withEntries { db, held, _ in
            try await withLoginRole(db, "relay", in: ["syncledger_admin"]) { client, url in
                let steward = StewardQueries(client: client, logger: db.logger)
                let result = try await steward.certify(held, as: "alice", notes: "relayed from the web form")
                #expect(result.actor == "alice")
                #expect(result.entry.value("certified_by") == "alice")
                #expect(
                    try await db.rows("SELECT actor, acting_role::text FROM integration.ledger_event WHERE ledger_id = \(held)")
                        == [["alice", url.username]])
            }
            // Every event names its role.
            #expect(try await db.int("SELECT count(*) FROM integration.ledger_event WHERE acting_role IS NULL") == 0)
        }
    }

    /// The worker says what happened to an item (applied, held, skipped,
    /// failed), never an entry's status: that is the policy's, decided in the
    /// database. So it cannot certify what the policy leaves to a steward, nor
    /// in anybody's name, nor write without a claim, nor move the clock.
    @Test func theWorkerCannotCertifyWhatThePolicyLeavesToAStewardNorMoveTheClock() async throws {
        try await Self.withEntries { db, held, applied in
            let job = try await db.submit(items: [.set("E1", "email", "mallory@example.org")])
            let item = try await db.int("SELECT item_id FROM integration.sync_item WHERE job_id = \(job)")
            let ada = try #require(try await db.text("SELECT target_id::text FROM integration.identifier WHERE external_key = 'E1'"))
            try await withLoginRole(db, "worker", in: ["syncledger_worker"]) { client, _ in
                // The record asks for more than a worker may say: a status, a certifier.
                let record = """
                    [{"item_id": \(item), "job_id": \(job), "verdict": "applied", "status": "Certified", "certified_by": 1,
                      "table": "core.person", "target_id": "\(ada)", "aspect": "Field", "aspect_key": "email", "column": "email",
                      "source": "hr", "value": "mallory@example.org", "previous": "ada@example.org"}]
                    """
                // Without a claim of the job: nothing is written.
                await expectRefusal("SL060", "the claim no longer holds job(s) \(job)") {
                    for try await _ in try await client.query(
                        "SELECT integration.apply_chunk(\(UUID()), ARRAY[\(job)]::int8[], '[]', \(record)::jsonb)", logger: db.logger) {}
                }
                // With one: applied, and Pending, as email's policy (OnIngest, no auto-certify) says.
                let token = UUID()
                for try await _ in try await client.query(
                    "SELECT * FROM integration.claim_jobs('w', \(token), 60, 1, 10)", logger: db.logger) {}
                for try await _ in try await client.query(
                    "SELECT integration.apply_chunk(\(token), ARRAY[\(job)]::int8[], '[]', \(record)::jsonb)", logger: db.logger) {}
                for statement: PostgresQuery in [
                    "UPDATE integration.ledger SET confirmed_at = now() + interval '10 years' WHERE ledger_id = \(applied)",
                    "UPDATE integration.ledger SET ledger_status = 'Certified', certified_by = 1 WHERE ledger_id = \(held)",
                    "INSERT INTO integration.ledger_event (ledger_id, to_status, actor, chain_seq, row_hash, chain_hash) VALUES (\(held), 'Certified', 'alice', 9, '', '')",
                    "SELECT integration.certify(\(held), 'alice')",
                ] {
                    await expectRefusal("42501", "permission denied") {
                        for try await _ in try await client.query(statement, logger: db.logger) {}
                    }
                }
            }
            #expect(
                try await db.rows("SELECT ledger_status, is_applied::text, certified_by::text FROM integration.ledger WHERE sync_item_id = \(item)")
                    == [["Pending", "true", nil]])
            #expect(try await db.int("SELECT count(*) FROM integration.ledger_event e JOIN integration.ledger l USING (ledger_id) WHERE l.sync_item_id = \(item)") == 0)
            #expect(try await db.entry(held) == ["Pending", "false", nil])
            #expect(try await db.chainFindings().isEmpty)
        }
    }

    // MARK: Tamper evidence

    enum Tamper: String, CaseIterable, Sendable {
        case updateInReplicaMode, deleteWithTriggersDisabled, swappedValues, deletedEvent, statusWithoutEvent
    }

    /// A superuser who goes around the triggers is found out, with the entry named.
    @Test(arguments: Tamper.allCases)
    func tamperingAsASuperuserIsReported(_ tamper: Tamper) async throws {
        try await TestDatabase.with("tamper_\(tamper.rawValue)") { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [
                .set("E1", "given_name", "Ada"), .set("E1", "email", "ada@example.org"), .set("E2", "given_name", "Bea"),
                .set("E1", "birth_date", "1990-01-02"),
            ])
            try await db.runWorker()
            #expect(try await db.chainFindings().isEmpty)
            let ada = try await db.entryID("given_name")
            let bea = try await db.entryID("given_name", key: "E2")
            let email = try await db.entryID("email")
            let held = try await db.entryID("birth_date")

            let expected: Int64
            switch tamper {
            case .updateInReplicaMode:
                try await db.client.transaction(logger: db.logger) { conn in
                    try await conn.query("SET LOCAL session_replication_role = replica", logger: db.logger)
                    try await conn.query(
                        "UPDATE integration.ledger SET value = 'Eve', source_system_key = 'payroll' WHERE ledger_id = \(ada)", logger: db.logger)
                }
                expected = ada
            case .deleteWithTriggersDisabled:
                try await db.exec(
                    """
                    ALTER TABLE integration.ledger DISABLE TRIGGER ALL;
                    DELETE FROM integration.ledger WHERE ledger_id = \(email);
                    ALTER TABLE integration.ledger ENABLE TRIGGER ALL;
                    """)
                expected = email
            case .swappedValues:
                try await db.exec(
                    """
                    ALTER TABLE integration.ledger DISABLE TRIGGER ALL;
                    UPDATE integration.ledger SET value = CASE ledger_id WHEN \(ada) THEN 'Bea' ELSE 'Ada' END
                     WHERE ledger_id IN (\(ada), \(bea));
                    ALTER TABLE integration.ledger ENABLE TRIGGER ALL;
                    """)
                expected = ada
            case .deletedEvent:
                // A steward's certification, erased: the entry says Certified,
                // its hashed history no longer does.
                _ = try await db.int("SELECT ledger_id FROM integration.certify(\(held), 'alice')")
                try await db.exec(
                    """
                    ALTER TABLE integration.ledger_event DISABLE TRIGGER ALL;
                    DELETE FROM integration.ledger_event WHERE ledger_id = \(held) AND actor = 'alice';
                    ALTER TABLE integration.ledger_event ENABLE TRIGGER ALL;
                    """)
                expected = held
            case .statusWithoutEvent:
                // The owner itself, through the trigger: a transition it allows,
                // but that no event explains.
                try await db.exec("UPDATE integration.ledger SET ledger_status = 'Certified', certified_by = 1 WHERE ledger_id = \(held)")
                expected = held
            }

            let findings = try await db.rows("SELECT finding, ledger_id::text, detail FROM integration.verify_ledger()")
            #expect(!findings.isEmpty)
            #expect(findings.contains { $0[1] == "\(expected)" }, "\(findings)")
            #expect(findings.contains { ($0[2] ?? "").contains("\(expected)") }, "\(findings)")
            if tamper == .swappedValues {
                #expect(findings.contains { $0[0] == "content" && $0[1] == "\(bea)" }, "\(findings)")
            }

            // `syncledger verify` exits 1 and prints the findings.
            let verify = try await CommandProcess.run(["verify"], url: db.url)
            #expect(verify.status == 1, "\(verify.stdout)\n\(verify.stderr)")
            #expect(verify.stdout.contains("ledger entry \(expected)"), "\(verify.stdout)\n\(verify.stderr)")
        }
    }

    /// A healthy database, after the demo, verifies clean; the CLI exits 0.
    @Test func aHealthyDatabaseVerifiesClean() async throws {
        let url = try await TestCluster.shared.freshDatabase(label: "verify_demo")
        try await Demo(migrator: try Migrator(directory: Migrator.locateDirectory()), logger: TestCluster.logger).run(url: url) { _ in }
        let verify = try await CommandProcess.run(["verify"], url: url)
        #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
        #expect(verify.stdout.contains("== Anchor"))
        let json = try await CommandProcess.run(["verify", "--json"], url: url)
        #expect(json.status == 0)
        #expect(json.stdout.split(separator: "\n").count == 1)
        #expect(json.stdout.contains("\"check\":\"anchor\""))
    }

    // MARK: Generated names

    /// An upstream that inserts jobs with every key shape the system itself
    /// generates cannot make another system's job or a steward's action fail.
    @Test func upstreamsCannotSquatOnGeneratedNames() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                INSERT INTO integration.subscription (source_system_key, target_table, field_names) VALUES ('hr', 'core.person', NULL)
                ON CONFLICT (source_system_key, target_table) DO UPDATE SET field_names = NULL
                """)
            try await db.submit(source: "payroll", items: [.set("P1", "birth_date", "1990-01-02")])
            let current = try await db.int("SELECT pg_current_xact_id()::text::bigint")
            try await withLoginRole(db, "squatter", in: ["syncledger_upstream"], for: "hr") { client, _ in
                // 'outbound-<xid>' for the transactions to come, and the other
                // names the system generates, as this upstream's own job keys.
                try await client.query(
                    """
                    INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
                    SELECT 'hr', 'core.person', 'Draft', k FROM (
                      SELECT 'outbound-' || x AS k FROM generate_series(\(current), \(current) + 2000) x
                      UNION ALL SELECT 'claim-' || x FROM generate_series(1, 50) x
                      UNION ALL SELECT NULL) keys
                    """, logger: db.logger)
            }
            // Other systems' jobs still complete, and their values still go out.
            let payroll = try await db.submit(source: "payroll", items: [.set("P2", "email", "p2@example.org")])
            try await db.runWorker()
            #expect(try await db.job(payroll).status == "Completed")
            let held = try await db.entryID("birth_date", key: "P1", source: "payroll")
            let result = try await db.stewardship.certify(held, as: "alice")
            #expect(result.status == "Certified")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job WHERE job_status = 'Failed'") == 0)
        }
    }

    // MARK: Messages upstreams read

    /// A refused row's message names the constraint, not the other columns' data.
    @Test func aRefusedRowsMessageCarriesNoOtherColumnsData() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "family_name", "SECRET-SURNAME"), .set("E1", "email", "secret@example.org")])
            try await db.runWorker()
            let job = try await db.submit(items: [.set("E1", "salary", "-5")])
            try await db.runWorker()
            let message = try #require(try await db.itemResults(job).first?.message)
            #expect(message.contains("person_salary_check"), "\(message)")
            #expect(message.contains("23514"))
            #expect(!message.contains("SECRET"), "\(message)")
            #expect(!message.contains("secret@"), "\(message)")
            #expect(!message.contains("Failing row"), "\(message)")
        }
    }
}
