import Foundation
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

@Suite("Inbound pipeline on PostgreSQL")
struct InboundPipelineTests {
    @Test func eachOutcomeWithItsLedgerRowsAndJobCounts() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "given_name", "Ada"),  // Applied, certified by policy
                .set("E1", "email", "ada@example.org"),  // Applied, pending (no auto-certify)
                .set("E1", "birth_date", "1990-1-2"),  // Held: OnCertify
                .set("E1", "given_name", "Ada"),  // Skipped: unchanged
                .set("E1", "emial", "x"),  // Failed: unknown field
            ])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Applied", "Held", "Skipped", "Failed"])
            #expect(results[4].message == "unknown field 'emial' on core.person")
            let summary = try await db.job(job)
            #expect(summary == .init(status: "CompletedWithErrors", total: 5, applied: 2, held: 1, skipped: 1, failed: 1))

            // Ledger: the record creation, two applied values, one held value; nothing for skipped or failed items.
            let ledger = try await db.rows(
                """
                SELECT aspect_key, ledger_status, value, is_applied::text FROM integration.ledger
                 WHERE job_id = \(job) ORDER BY ledger_id
                """)
            let expected: [[String?]] = [
                ["record", "Certified", "created", "true"],
                ["given_name", "Certified", "Ada", "true"],
                ["email", "Pending", "ada@example.org", "true"],
                ["birth_date", "Pending", "1990-01-02", "false"],
            ]
            #expect(ledger == expected)
            #expect(try await db.person("E1", "given_name") == "Ada")
            let birthDate = try await db.person("E1", "birth_date")
            #expect(birthDate == nil)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE birth_status = 'Certified' AND aspect_key <> 'record'") == 1)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger_event") == 0)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    // MARK: - Casting

    @Test func valueThatDoesNotCastFailsEvenWhenHeld() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // birth_date is OnCertify: a castable value would be held, this one fails.
            let job = try await db.submit(items: [.set("E1", "birth_date", "1990-02-30")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed"])
            let message = try #require(results[0].message)
            #expect(message.hasPrefix("value '1990-02-30' does not fit core.person.birth_date of type date: "))
            #expect(message.contains("date/time field value out of range"))
            #expect(try await db.int("SELECT count(*) FROM core.person") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger") == 0)
            #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 1, failed: 1))
        }
    }

    @Test func uncastableValueFailsAloneAmongItsNeighbours() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "birth_date", "1990-1-2"),
                .set("E1", "birth_date", "yesterday-ish"),
                .set("E1", "given_name", "Ada"),
            ])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Held", "Failed", "Applied"])
            #expect(results[1].message?.contains("core.person.birth_date of type date") == true)
            #expect(try await db.rows("SELECT aspect_key, value FROM integration.ledger WHERE job_id = \(job) AND ledger_aspect = 'Field' ORDER BY ledger_id")
                == [["birth_date", "1990-01-02"], ["given_name", "Ada"]])
        }
    }

    @Test func numericValueIsStoredInItsCanonicalForm() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(source: "payroll", items: [.set("P1", "salary", "1520.5")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.rows("SELECT value FROM integration.ledger WHERE aspect_key = 'salary'") == [["1520.50"]])
            #expect(try await db.text("SELECT salary::text FROM core.person") == "1520.50")
        }
    }

    @Test func numericValueTooLargeForItsPrecisionFailsWithTheColumnType() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(source: "payroll", items: [.set("P1", "salary", "123456789012")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed"])
            #expect(results[0].message?.hasPrefix("value '123456789012' does not fit core.person.salary of type numeric(10,2): ") == true)
            #expect(try await db.int("SELECT count(*) FROM core.person") == 0)
        }
    }

    /// BUG (sql/code/10_targets.sql canonical_values, and ChunkWriter.writeTargets):
    /// both convert with an explicit cast, `(v)::character varying(5)`, and an
    /// explicit cast to varchar(n)/char(n) silently truncates instead of failing
    /// as an assignment would. The upstream's value is cut down and the ledger
    /// records the cut value: a value that does not fit is not refused.
    @Test func valueTooLongForAVarcharColumnFailsInsteadOfBeingTruncated() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                ALTER TABLE core.person ADD COLUMN badge varchar(5);
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify)
                VALUES ('core.person', 'badge', 'OnIngest', true);
                """)
            let job = try await db.submit(items: [.set("E1", "badge", "AB123"), .set("E2", "badge", "ABCDEFGH")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Failed"])
            #expect(results[1].message?.hasPrefix("value 'ABCDEFGH' does not fit core.person.badge of type character varying(5): ") == true)
            #expect(try await db.person("E1", "badge") == "AB123")
            let truncated = try await db.person("E2", "badge")
            #expect(truncated == nil)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'badge' AND value = 'ABCDE'") == 0)
        }
    }

    // MARK: - Constraints only the database sees

    @Test func checkConstraintViolationFailsThatItemAloneWhileNeighboursApply() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(source: "payroll", items: [
                .set("P1", "salary", "100"),
                .set("P2", "salary", "-5"),
                .set("P3", "salary", "200"),
                .set("P1", "given_name", "Ada"),
            ])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Failed", "Applied", "Applied"])
            let message = try #require(results[1].message)
            #expect(message.hasPrefix("rejected by the database: "))
            #expect(message.contains("check constraint person_salary_check refused field salary (SQLSTATE 23514)"), "\(message)")
            #expect(try await db.person("P1", "salary", source: "payroll") == "100.00")
            #expect(try await db.person("P3", "salary", source: "payroll") == "200.00")
            #expect(try await db.person("P1", "given_name", source: "payroll") == "Ada")
            #expect(try await db.int("SELECT count(*) FROM core.person WHERE salary < 0") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE value = '-5.00' OR value = '-5'") == 0)
            #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 4, applied: 3, failed: 1))
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func checkConstraintViolationIsIsolatedInALargeChunk() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            var items = (1...40).map { TestDatabase.Item.set("P\($0)", "salary", "\($0)") }
            items[26] = .set("P27", "salary", "-1")
            let job = try await db.submit(source: "payroll", items: items)
            try await db.runWorker { $0.parallelChunks = 1 }

            let results = try await db.itemResults(job)
            #expect(results.filter { $0.status == "Applied" }.count == 39)
            #expect(results[26].status == "Failed")
            #expect(results[26].message?.hasPrefix("rejected by the database: ") == true)
            #expect(try await db.int("SELECT count(*) FROM core.person") == 39)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'salary'") == 39)
        }
    }

    @Test func foreignKeyViolationFailsThatItemAlone() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "given_name", "Ada"),
                .set("E1", "employer_id", UUID().uuidString),  // a Set, not a Link: no such organisation
            ])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Failed"])
            #expect(results[1].message?.hasPrefix("rejected by the database: ") == true)
            #expect(results[1].message?.contains("person_employer_id_fkey") == true)
            #expect(try await db.person("E1", "employer_id") == nil)
            #expect(try await db.person("E1", "given_name") == "Ada")
        }
    }

    @Test func recordThatCannotBeCreatedFailsItsItemsWithTheDatabaseReason() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                CREATE TABLE core.account (id uuid PRIMARY KEY, code text NOT NULL, label text);
                INSERT INTO integration.target_table (target_table) VALUES ('core.account');
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
                  ('core.account', NULL, 'OnIngest', true), ('core.account', 'label', 'OnIngest', true);
                """)
            let job = try await db.submit(items: [.set("A1", "label", "Main", table: "core.account"), .set("E1", "given_name", "Ada")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed", "Applied"])
            #expect(results[0].message?.hasPrefix("rejected by the database: ") == true)
            #expect(results[0].message?.contains("not-null constraint on column code refused field label") == true)
            #expect(try await db.int("SELECT count(*) FROM core.account") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier WHERE target_table = 'core.account'") == 0)
        }
    }

    // MARK: - Delete

    @Test func deleteClearsTheActiveColumnWithARecordLedgerRow() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()

            let job = try await db.submit(items: [.delete("E1")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied"])
            #expect(try await db.person("E1", "is_active") == "false")
            #expect(try await db.person("E1", "given_name") == "Ada")
            let ledger = try await db.rows(
                """
                SELECT ledger_aspect, aspect_key, value, previous_value, ledger_status, is_applied::text
                  FROM integration.ledger WHERE job_id = \(job)
                """)
            #expect(ledger == [["Record", "record", "deleted", nil, "Certified", "true"]])
            #expect(try await db.job(job) == .init(status: "Completed", total: 1, applied: 1))
        }
    }

    @Test func deleteOfADeletedRecordIsSkippedAsUnchanged() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .delete("E1")])
            try await db.runWorker()

            let job = try await db.submit(items: [.delete("E1")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Skipped"])
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE value = 'deleted'") == 1)
        }
    }

    @Test func deleteOfAnUnknownKeyIsSkippedAndCreatesNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.delete("NOPE")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Skipped"])
            #expect(results[0].message == "skipped: no core.person record for external key 'NOPE' from 'hr'; nothing to delete")
            #expect(try await db.int("SELECT count(*) FROM core.person") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger") == 0)
            #expect(try await db.job(job) == .init(status: "Completed", total: 1, skipped: 1))
        }
    }

    @Test func deleteOnATableWithoutActiveColumnFails() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                CREATE TABLE core.account (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), label text);
                INSERT INTO integration.target_table (target_table) VALUES ('core.account');
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
                  ('core.account', NULL, 'OnIngest', true), ('core.account', 'label', 'OnIngest', true);
                """)
            try await db.submit(entity: "core.account", items: [.set("A1", "label", "Main")])
            try await db.runWorker()

            let job = try await db.submit(entity: "core.account", items: [.delete("A1")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed"])
            #expect(results[0].message == "Delete refused: core.account has no active_column in integration.target_table")
            #expect(try await db.int("SELECT count(*) FROM core.account") == 1)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job)") == 0)
        }
    }
}
