import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §6: hostile input gets a clear per-item error and changes nothing else.
/// Each test sends the hostile item between two good ones and checks that the
/// good ones are processed, the hostile one fails with its own message, and
/// nothing else was written for it.
@Suite("Hostile input on PostgreSQL")
struct HostileInputTests {
    // MARK: - Helpers

    /// Submits `good E1`, the hostile item, `good E2` (as `source`), runs the
    /// worker, and checks the outcome: the hostile item failed with `message`,
    /// the two good items were applied, and the hostile item left no ledger row,
    /// identifier or record behind.
    static func expectRefused(
        _ hostile: TestDatabase.Item, message: String, source: String = "hr", entity: String? = "core.person",
        in db: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let job = try await db.submit(
            source: source, entity: entity,
            items: [
                .set("E1", "given_name", "Ada", table: "core.person"), hostile, .set("E2", "given_name", "Grace", table: "core.person"),
            ])
        try await db.runWorker()

        let results = try await db.itemResults(job)
        #expect(results.map(\.status) == ["Applied", "Failed", "Applied"], sourceLocation: sourceLocation)
        #expect(results[1].message == message, sourceLocation: sourceLocation)
        #expect(try await db.int("SELECT count(*) FROM core.person") == 2, sourceLocation: sourceLocation)
        #expect(try await db.int("SELECT count(*) FROM integration.identifier") == 2, sourceLocation: sourceLocation)
        #expect(
            try await db.int(
                """
                SELECT count(*) FROM integration.ledger l JOIN integration.sync_item i ON i.item_id = l.sync_item_id
                 WHERE i.job_id = \(job) AND i.seq = 2
                """) == 0, sourceLocation: sourceLocation)
        #expect(
            try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job) AND seq = 2 AND ledger_id IS NOT NULL")
                == 0, sourceLocation: sourceLocation)
        #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 3, applied: 2, failed: 1), sourceLocation: sourceLocation)
        #expect(try await db.person("E1", "given_name", source: source) == "Ada", sourceLocation: sourceLocation)
        #expect(try await db.person("E2", "given_name", source: source) == "Grace", sourceLocation: sourceLocation)
    }

    /// The constraint that refused a statement, looking through the transaction wrapper.
    static func constraint(of error: any Error) -> String? {
        PostgresErrors.serverError(error)?.serverInfo?[.constraintName]
    }

    /// Submits items that the staging tables must refuse; returns the constraint named in the error.
    static func refusedConstraint(_ db: TestDatabase, _ item: TestDatabase.Item) async throws -> String? {
        do {
            try await db.submit(items: [item])
        } catch {
            #expect(String(reflecting: error).contains("violates check constraint"))
            return constraint(of: error)
        }
        Issue.record("the item was accepted")
        return nil
    }

    /// A catalogue fingerprint of the schemas a hostile name might reach.
    static func fingerprint(_ db: TestDatabase) async throws -> [[String?]] {
        try await db.rows(
            """
            SELECT n.nspname::text, count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('core', 'integration', 'public') GROUP BY n.nspname ORDER BY n.nspname
            """)
    }

    // MARK: - Sources

    @Test func jobFromUnknownSourceSystemFailsEveryItemAndWritesNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(source: "nosuch", items: [.set("E1", "given_name", "Ada"), .delete("E2")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed", "Failed"])
            #expect(results.allSatisfy { $0.message == "unknown source system 'nosuch': register it in integration.source_system" })
            #expect(try await db.int("SELECT count(*) FROM core.person") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger") == 0)
            #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 2, failed: 2))
        }
    }

    @Test func jobFromInactiveSourceSystemFailsEveryItemAndWritesNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(source: "legacy", items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed"])
            #expect(results[0].message == "source system 'legacy' is inactive")
            #expect(try await db.int("SELECT count(*) FROM core.person") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger") == 0)
        }
    }

    // MARK: - Tables

    @Test func unregisteredTableIsRefusedAndLeftUntouched() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                CREATE TABLE core.secret (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), code text);
                INSERT INTO core.secret (code) VALUES ('original');
                """)
            try await Self.expectRefused(
                .set("S1", "code", "stolen", table: "core.secret"),
                message: "target table 'core.secret' is not registered in integration.target_table", in: db)
            #expect(try await db.rows("SELECT code FROM core.secret") == [["original"]])
        }
    }

    @Test(arguments: ["integration.ledger", "integration.sync_job", "pg_catalog.pg_class", "INTEGRATION.identifier", "pg_temp.x", "information_schema.tables"])
    func protectedSchemaAsTargetTableIsRefused(table: String) async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let before = try await Self.fingerprint(db)
            try await Self.expectRefused(
                .set("X1", "ledger_status", "Certified", table: table),
                message: "'\(table)' is not a target: syncledger never writes the integration schema or system catalogs", in: db)
            #expect(try await Self.fingerprint(db) == before)
        }
    }

    @Test func integrationSchemaCannotBeRegisteredAsATargetTable() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            for table in ["integration.ledger", "pg_catalog.pg_class", "core.person; DROP TABLE core.person", "Core.Person"] {
                do {
                    try await db.exec("INSERT INTO integration.target_table (target_table) VALUES ('\(table.replacingOccurrences(of: "'", with: "''"))')")
                    Issue.record("registered \(table)")
                } catch {
                    let name = Self.constraint(of: error)
                    #expect(name == "target_table_not_a_system_schema" || name == "target_table_is_schema_qualified_lowercase")
                }
            }
            #expect(try await db.int("SELECT count(*) FROM integration.target_table") == 2)
        }
    }

    @Test func registeredViewOverTheLedgerIsNotWritten() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                CREATE VIEW core.ledger_view AS SELECT target_id AS id, value, notes FROM integration.ledger;
                INSERT INTO integration.target_table (target_table) VALUES ('core.ledger_view');
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
                  ('core.ledger_view', NULL, 'OnIngest', true), ('core.ledger_view', 'notes', 'OnIngest', true);
                """)
            try await Self.expectRefused(
                .set("L1", "notes", "tampered", table: "core.ledger_view"),
                message: "target table core.ledger_view is registered but does not exist in the database", in: db)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE notes IS NOT NULL") == 0)
        }
    }

    @Test func injectionInTableNameIsRefusedAsUnregistered() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("CREATE TABLE core.x (id int)")
            try await Self.expectRefused(
                .set("X1", "given_name", "Eve", table: "core.person; DROP TABLE core.x"),
                message: "target table 'core.person; DROP TABLE core.x' is not registered in integration.target_table", in: db)
            #expect(try await db.int("SELECT count(*) FROM pg_class WHERE oid = 'core.x'::regclass") == 1)
        }
    }

    @Test func registeredTableThatDoesNotExistIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("INSERT INTO integration.target_table (target_table) VALUES ('core.ghost')")
            try await Self.expectRefused(
                .set("G1", "name", "Boo", table: "core.ghost"),
                message: "target table core.ghost is registered but does not exist in the database", in: db)
        }
    }

    @Test func inactiveTargetTableIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("UPDATE integration.target_table SET is_active = false WHERE target_table = 'core.organisation'")
            try await Self.expectRefused(
                .set("O1", "name", "Acme", table: "core.organisation"), message: "target table core.organisation is inactive", in: db)
            #expect(try await db.int("SELECT count(*) FROM core.organisation") == 0)
        }
    }

    @Test func itemWithoutTargetTableOrEntityTypeIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // The job has no entity_type; the good items name their table, the hostile one does not.
            try await Self.expectRefused(
                .set("E3", "given_name", "Nobody"),
                message: "no target table: set sync_item.target_table or the job's entity_type", entity: nil, in: db)
        }
    }

    // MARK: - Fields

    @Test func unknownColumnIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.expectRefused(.set("E3", "nickname", "Addy"), message: "unknown field 'nickname' on core.person", in: db)
        }
    }

    @Test func idColumnIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.expectRefused(
                .set("E1", "id", UUID().uuidString), message: "field 'id' is the id column of core.person and cannot be set", in: db)
        }
    }

    @Test func generatedColumnIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.expectRefused(
                .set("E1", "full_name", "Ada Lovelace"),
                message: "field 'full_name' on core.person is a generated column and cannot be set", in: db)
        }
    }

    @Test func activeColumnCannotBeSetDirectly() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.expectRefused(
                .set("E1", "is_active", "false"),
                message: "field 'is_active' is the active column of core.person: send a Delete item to deactivate the record", in: db)
            #expect(try await db.int("SELECT count(*) FROM core.person WHERE NOT is_active") == 0)
        }
    }

    @Test func realColumnWithQuotesAndSpacesInItsNameIsWrittenThroughQuoting() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let column = #"Nick "Name"; x"#
            try await db.exec(
                """
                ALTER TABLE core.person ADD COLUMN "Nick ""Name""; x" text;
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify)
                VALUES ('core.person', 'Nick "Name"; x', 'OnIngest', true);
                """)
            let job = try await db.submit(items: [.set("E1", column, "Addy"), .set("E1", column, "Ada")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Applied"])
            #expect(try await db.person("E1", column) == "Ada")
            #expect(try await db.rows("SELECT value FROM integration.ledger WHERE aspect_key = \(column) ORDER BY ledger_id") == [["Addy"], ["Ada"]])
        }
    }

    @Test func nullForANotNullColumnIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                ALTER TABLE core.person ADD COLUMN grade text NOT NULL DEFAULT 'none';
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify)
                VALUES ('core.person', 'grade', 'OnIngest', true);
                """)
            try await Self.expectRefused(
                .set("E1", "grade", nil), message: "field 'grade' on core.person is NOT NULL: a NULL value cannot clear it", in: db)
            #expect(try await db.person("E1", "grade") == "none")
        }
    }

    @Test func fieldWithoutCommitPolicyIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("DELETE FROM integration.commit_policy WHERE field_name = 'email'")
            try await Self.expectRefused(
                .set("E3", "email", "a@b.c"),
                message: "no commit policy governs core.person.email: add one to integration.commit_policy", in: db)
        }
    }

    @Test func quotesAndSemicolonsInFieldNameAreAnUnknownField() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let field = #"given_name"; DROP TABLE core.person; --"#
            try await Self.expectRefused(.set("E1", field, "Eve"), message: "unknown field '\(field)' on core.person", in: db)
            #expect(try await db.person("E1", "given_name") == "Ada")
        }
    }

    @Test func veryLongHostileFieldNameIsShortenedInTheMessage() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let field = String(repeating: "x", count: 5000)
            try await Self.expectRefused(
                .set("E1", field, "Eve"), message: "unknown field '\(String(repeating: "x", count: 60))…' on core.person", in: db)
        }
    }

    // MARK: - Values

    @Test func oneMegabyteValueIsRefusedByTheDefaultLimit() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let value = String(repeating: "a", count: 1 << 20)
            try await Self.expectRefused(
                .set("E3", "email", value),
                message: "value for core.person.email is 1048576 bytes; the maximum is 65536 (SYNCLEDGER_MAX_VALUE_BYTES)", in: db)
        }
    }

    @Test func valueOfExactlyTheDefaultLimitIsAccepted() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let value = String(repeating: "b", count: 65_536)
            let job = try await db.submit(items: [.set("E1", "email", value), .set("E2", "email", value + "c")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Failed"])
            #expect(results[1].message == "value for core.person.email is 65537 bytes; the maximum is 65536 (SYNCLEDGER_MAX_VALUE_BYTES)")
            #expect(try await db.person("E1", "email") == value)
            #expect(try await db.int("SELECT octet_length(value) FROM integration.ledger WHERE aspect_key = 'email'") == 65_536)
        }
    }

    @Test func limitCountsBytesNotCharacters() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let value = String(repeating: "é", count: 6)  // 6 characters, 12 bytes
            let job = try await db.submit(items: [.set("E1", "email", value)])
            try await db.runWorker { $0.maxValueBytes = 10 }

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed"])
            #expect(results[0].message == "value for core.person.email is 12 bytes; the maximum is 10 (SYNCLEDGER_MAX_VALUE_BYTES)")
        }
    }

    @Test func valueOverConfiguredMaximumIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "given_name", "Ada"), .set("E1", "email", "ada@example.org"), .set("E2", "given_name", "0123456789"),
            ])
            try await db.runWorker { $0.maxValueBytes = 10 }

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Failed", "Applied"])
            #expect(results[1].message == "value for core.person.email is 15 bytes; the maximum is 10 (SYNCLEDGER_MAX_VALUE_BYTES)")
            #expect(try await db.person("E1", "email") == nil)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'email'") == 0)
        }
    }

    @Test func valuesThatLookLikeSQLAreStoredVerbatim() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let values = ["x'); DROP TABLE core.person; --", #"Robert"); DROP TABLE core.person;--"#, "$$; DROP TABLE core.person; $$", #"\'; --"#]
            let job = try await db.submit(items: values.enumerated().map { .set("E\($0.offset)", "given_name", $0.element) })
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == Array(repeating: "Applied", count: values.count))
            for (index, value) in values.enumerated() {
                #expect(try await db.person("E\(index)", "given_name") == value)
            }
            let ledger = try await db.rows(
                """
                SELECT l.value FROM integration.ledger l JOIN integration.sync_item i ON i.item_id = l.sync_item_id
                 WHERE l.aspect_key = 'given_name' ORDER BY i.seq
                """)
            #expect(ledger == values.map { [$0] })
        }
    }

    @Test func externalKeysThatLookLikeSQLAreStoredVerbatim() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let key = "E1'; DROP TABLE core.person; --"
            let job = try await db.submit(items: [.set(key, "given_name", "Ada"), .link(key, "employer_id", to: "O'; DELETE FROM core.organisation; --")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Applied"])
            #expect(try await db.person(key, "given_name") == "Ada")
            #expect(
                try await db.rows("SELECT external_key FROM integration.identifier ORDER BY target_table")
                    == [["O'; DELETE FROM core.organisation; --"], [key]])
            #expect(try await db.int("SELECT count(*) FROM core.organisation") == 1)
        }
    }

    @Test func valueThatLooksLikeSQLInATypedColumnFailsItsCastAndNothingElse() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let value = "1990-01-01'::date; DROP TABLE core.person; --"
            try await Self.expectRefused(
                .set("E3", "birth_date", value),
                message: "value '\(value)' does not fit core.person.birth_date of type date: invalid input syntax for type date: \"\(value)\"",
                in: db)
        }
    }

    /// BUG: external keys have no size limit. A key too large for the btree
    /// index of integration.identifier makes PostgreSQL refuse the identifier
    /// INSERT with SQLSTATE 54000 (program_limit_exceeded), which
    /// JobProcessor.processIsolatingBadItems does not bisect (only classes 22
    /// and 23): the whole chunk fails, the job is retried and never completes,
    /// and the good neighbours are never applied. Expected: that item fails
    /// alone with a clear message (like a value over maxValueBytes).
    @Test func externalKeyTooLargeForTheCrosswalkFailsThatItemAlone() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            var generator = SystemRandomNumberGenerator()
            let key = String((0..<20_000).map { _ in Character(Unicode.Scalar(UInt8.random(in: 33...126, using: &generator))) })
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada"), .set(key, "given_name", "Eve")])
            try await db.runWorker { $0.parallelChunks = 1 }

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Failed"])
            #expect(results[1].message?.isEmpty == false)
            #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 2, applied: 1, failed: 1))
            let lastError = try await db.text("SELECT last_error FROM integration.sync_job WHERE job_id = \(job)")
            #expect(lastError == nil)
            #expect(try await db.int("SELECT count(*) FROM core.person") == 1)
        }
    }

    // MARK: - Refused at INSERT

    @Test func itemWithoutExternalKeyIsRefusedByTheStagingTable() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let missing = try await Self.refusedConstraint(db, TestDatabase.Item(key: nil, field: "given_name", value: "Ada"))
            #expect(missing == "sync_item_external_key_required")
            let blank = try await Self.refusedConstraint(db, .set("   ", "given_name", "Ada"))
            #expect(blank == "sync_item_external_key_required")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 0)
        }
    }

    /// BUG (sql/schema/001_baseline.sql, sync_item_external_key_required): btrim() trims
    /// spaces only, so a key of tabs or newlines passes the constraint, while the
    /// worker (ItemPreparer) treats it as missing. Blank should be refused at INSERT.
    @Test func externalKeyOfTabsAndNewlinesIsRefusedAtInsertLikeSpaces() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let name = try await Self.refusedConstraint(db, .set(" \t\n ", "given_name", "Ada"))
            #expect(name == "sync_item_external_key_required")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 0)
        }
    }

    /// BUG (sql/schema/001_baseline.sql, sync_item_field_name_required_for_set_and_link):
    /// the same btrim() gap for field_name.
    @Test func fieldNameOfTabsIsRefusedAtInsertLikeSpaces() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let name = try await Self.refusedConstraint(db, .set("E1", "\t", "Ada"))
            #expect(name == "sync_item_field_name_required_for_set_and_link")
        }
    }

    /// The worker refuses such a key in any case: it never creates a record for it.
    @Test func externalKeyOfWhitespaceThatReachesTheWorkerFailsAsMissing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            guard let job = try? await db.submit(items: [.set("\t", "given_name", "Ada"), .set("E1", "given_name", "Ada")]) else {
                return  // refused at INSERT: nothing can reach the worker
            }
            try await db.runWorker()
            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed", "Applied"])
            #expect(results[0].message == "missing external_key: every item needs the source's key for its record")
            #expect(try await db.int("SELECT count(*) FROM core.person") == 1)
        }
    }

    @Test func setOrLinkWithoutFieldNameIsRefusedByTheStagingTable() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let set = try await Self.refusedConstraint(db, TestDatabase.Item(key: "E1", field: nil, value: "Ada"))
            #expect(set == "sync_item_field_name_required_for_set_and_link")
            let blank = try await Self.refusedConstraint(db, .set("E1", " ", "Ada"))
            #expect(blank == "sync_item_field_name_required_for_set_and_link")
            let link = try await Self.refusedConstraint(db, TestDatabase.Item(key: "E1", field: nil, value: "O1", operation: "Link"))
            #expect(link == "sync_item_field_name_required_for_set_and_link")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 0)
        }
    }

    @Test func unknownOperationIsRefusedByTheStagingTable() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let name = try await Self.refusedConstraint(db, TestDatabase.Item(key: "E1", field: "given_name", value: "Ada", operation: "Drop"))
            #expect(name == "sync_item_operation_valid")
        }
    }

    @Test func deleteNeedsNoFieldName() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.delete("E1")])
            try await db.runWorker()
            #expect(try await db.itemResults(job).map(\.status) == ["Skipped"])
        }
    }
}
