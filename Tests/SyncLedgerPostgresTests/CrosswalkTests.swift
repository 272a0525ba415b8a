import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §2 step 2 and Link items: resolving external keys through
/// `integration.identifier`, creating records, stubs and identifiers, hints,
/// and concurrent jobs naming the same new keys.
@Suite("Crosswalk on PostgreSQL")
struct CrosswalkTests {
    // MARK: - New and known keys

    @Test func newKeyCreatesOneRecordOneIdentifierAndACreatedLedgerRow() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "family_name", "Lovelace")])
            try await db.runWorker()

            #expect(try await db.int("SELECT count(*) FROM core.person") == 1)
            let record = try await db.recordID("E1")
            #expect(
                try await db.rows(
                    """
                    SELECT target_table, external_key, (first_seen_at = last_seen_at)::text FROM integration.identifier
                    """) == [["core.person", "E1", "true"]])
            let created = try await db.rows(
                """
                SELECT target_id::text, source_system_key, ledger_status, value, sync_item_id::text FROM integration.ledger
                 WHERE ledger_aspect = 'Record'
                """)
            #expect(created == [[record.uuidString.lowercased(), "hr", "Certified", "created", nil]])
            #expect(
                try await db.int("SELECT count(DISTINCT target_id) FROM integration.sync_item WHERE job_id = \(job) AND target_id = \(record)")
                    == 1)
        }
    }

    @Test func knownKeyReusesItsRecordAndBumpsLastSeenAt() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            try await db.exec(
                "UPDATE integration.identifier SET first_seen_at = now() - interval '2 days', last_seen_at = now() - interval '2 days'")

            let job = try await db.submit(items: [.set("E1", "family_name", "Lovelace")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.int("SELECT count(*) FROM core.person") == 1)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE ledger_aspect = 'Record'") == 1)
            #expect(
                try await db.rows(
                    """
                    SELECT (first_seen_at < now() - interval '1 day')::text, (last_seen_at > now() - interval '1 hour')::text
                      FROM integration.identifier
                    """) == [["true", "true"]])
        }
    }

    @Test func sameKeyFromAnotherSourceIsAnotherRecord() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("K1", "email", "hr@example.org")])
            try await db.submit(source: "crm", items: [.set("K1", "email", "crm@example.org")])
            try await db.runWorker()

            #expect(try await db.int("SELECT count(*) FROM core.person") == 2)
            #expect(try await db.person("K1", "email") == "hr@example.org")
            #expect(try await db.person("K1", "email", source: "crm") == "crm@example.org")
        }
    }

    // MARK: - Hints

    @Test func hintNamingAnExistingRecordLinksTheNewKeyToIt() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let record = try await db.recordID("E1")

            let job = try await db.submit(
                source: "payroll", items: [TestDatabase.Item(key: "P1", field: "salary", value: "1000", hint: record)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.int("SELECT count(*) FROM core.person") == 1)
            #expect(try await db.recordID("P1", source: "payroll") == record)
            #expect(try await db.person("E1", "salary") == "1000.00")
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND ledger_aspect = 'Record'") == 0)
            #expect(try await db.text("SELECT target_id::text FROM integration.sync_item WHERE job_id = \(job)") == record.uuidString.lowercased())
        }
    }

    @Test func hintNamingNoRecordCreatesANewRecord() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let record = try await db.recordID("E1")
            let nowhere = UUID()

            let job = try await db.submit(
                source: "payroll", items: [TestDatabase.Item(key: "P1", field: "salary", value: "1000", hint: nowhere)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.int("SELECT count(*) FROM core.person") == 2)
            let created = try await db.recordID("P1", source: "payroll")
            #expect(created != record)
            #expect(try await db.person("P1", "salary", source: "payroll") == "1000.00")
            #expect(try await db.person("E1", "salary") == nil)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND ledger_aspect = 'Record'") == 1)
        }
    }

    @Test func hintNamingARecordThatAlreadyHasAnIdentifierFromThatSourceFails() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let record = try await db.recordID("E1")

            let job = try await db.submit(items: [
                TestDatabase.Item(key: "E2", field: "given_name", value: "Grace", hint: record),
                .set("E3", "given_name", "Edith"),
            ])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed", "Applied"])
            #expect(
                results[0].message
                    == "cannot link external key 'E2' from 'hr': the hinted core.person record already carries another identifier from that source")
            #expect(try await db.person("E1", "given_name") == "Ada")
            #expect(try await db.int("SELECT count(*) FROM core.person") == 2)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier WHERE external_key = 'E2'") == 0)
        }
    }

    // MARK: - Links

    @Test func linkToAnUnknownKeyCreatesAStubThatALaterItemFills() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.link("E1", "employer_id", to: "ORG1")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            let organisation = try await db.recordID("ORG1", table: "core.organisation")
            #expect(try await db.rows("SELECT id::text, name FROM core.organisation") == [[organisation.uuidString.lowercased(), nil]])
            #expect(try await db.person("E1", "employer_id") == organisation.uuidString.lowercased())
            #expect(
                try await db.rows(
                    """
                    SELECT target_table, target_id::text, ledger_aspect, aspect_key, value FROM integration.ledger
                     WHERE job_id = \(job) ORDER BY target_table, ledger_id
                    """) == [
                        ["core.organisation", organisation.uuidString.lowercased(), "Record", "record", "created"],
                        ["core.person", try await db.recordID("E1").uuidString.lowercased(), "Record", "record", "created"],
                        [
                            "core.person", try await db.recordID("E1").uuidString.lowercased(), "Relationship", "employer_id",
                            organisation.uuidString.lowercased(),
                        ],
                    ])

            let fill = try await db.submit(entity: "core.organisation", items: [.set("ORG1", "name", "Acme")])
            try await db.runWorker()

            #expect(try await db.itemResults(fill).map(\.status) == ["Applied"])
            #expect(try await db.rows("SELECT id::text, name FROM core.organisation") == [[organisation.uuidString.lowercased(), "Acme"]])
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(fill) AND ledger_aspect = 'Record'") == 0)
        }
    }

    @Test func linkToAKnownKeyUsesItsRecord() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(entity: "core.organisation", items: [.set("ORG1", "name", "Acme")])
            try await db.runWorker()

            let job = try await db.submit(items: [.link("E1", "employer_id", to: "ORG1"), .link("E2", "employer_id", to: "ORG1")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Applied"])
            #expect(try await db.int("SELECT count(*) FROM core.organisation") == 1)
            let organisation = try await db.recordID("ORG1", table: "core.organisation").uuidString.lowercased()
            #expect(try await db.person("E1", "employer_id") == organisation)
            #expect(try await db.person("E2", "employer_id") == organisation)
        }
    }

    @Test func linkWithNullClearsTheForeignKey() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.link("E1", "employer_id", to: "ORG1")])
            try await db.runWorker()
            let organisation = try await db.recordID("ORG1", table: "core.organisation").uuidString.lowercased()

            let job = try await db.submit(items: [.link("E1", "employer_id", to: nil)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.person("E1", "employer_id") == nil)
            #expect(
                try await db.rows("SELECT ledger_aspect, value, previous_value FROM integration.ledger WHERE job_id = \(job)")
                    == [["Relationship", nil, organisation]])
            #expect(try await db.int("SELECT count(*) FROM core.organisation") == 1)
        }
    }

    @Test func linkThroughAColumnReferencingAnUnregisteredTableFails() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                CREATE TABLE core.country (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text);
                ALTER TABLE core.person ADD COLUMN country_id uuid REFERENCES core.country;
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify)
                VALUES ('core.person', 'country_id', 'OnIngest', true);
                """)
            let job = try await db.submit(items: [.link("E1", "country_id", to: "NL"), .set("E1", "given_name", "Ada")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed", "Applied"])
            #expect(results[0].message == "field 'country_id' on core.person references core.country, which is not a registered target table")
            #expect(try await db.int("SELECT count(*) FROM core.country") == 0)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier WHERE external_key = 'NL'") == 0)
        }
    }

    @Test func linkThroughAColumnThatIsNotAForeignKeyFails() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.link("E1", "email", to: "ORG1")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Failed"])
            #expect(results[0].message == "field 'email' on core.person is not a single-column foreign key: Link needs one")
            #expect(try await db.int("SELECT count(*) FROM core.organisation") == 0)
        }
    }

    // MARK: - Concurrency

    @Test func concurrentJobsNamingTheSameNewKeysCreateOneRecordAndOneIdentifierEach() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let keys = (1...10).map { "K\($0)" }
            var jobs: [Int64] = []
            for _ in 1...6 {
                jobs.append(
                    try await db.submit(items: keys.flatMap { [.set($0, "given_name", "Name \($0)"), .link($0, "employer_id", to: "ORG1")] }))
            }

            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 1...3 {
                    group.addTask { try await db.runWorker(id: "worker-\(worker)") { $0.concurrency = 2 } }
                }
                try await group.waitForAll()
            }

            #expect(try await db.int("SELECT count(*) FROM core.person") == keys.count)
            #expect(try await db.int("SELECT count(*) FROM core.organisation") == 1)
            #expect(try await db.int("SELECT count(*) FROM integration.identifier WHERE target_table = 'core.person'") == keys.count)
            #expect(try await db.int("SELECT count(DISTINCT target_id) FROM integration.identifier") == keys.count + 1)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE ledger_aspect = 'Record'") == keys.count + 1)
            let statuses = try await db.rows(
                "SELECT item_status, count(*)::text FROM integration.sync_item GROUP BY item_status ORDER BY item_status")
            // Each key's value is applied once; the other five jobs find it unchanged.
            #expect(statuses == [["Applied", "\(keys.count * 2)"], ["Skipped", "\(keys.count * 2 * 5)"]])
            for job in jobs {
                #expect(try await db.job(job).status == "Completed")
            }
            for key in keys {
                #expect(try await db.person(key, "given_name") == "Name \(key)")
            }
            #expect(
                try await db.int("SELECT count(*) FROM core.person WHERE employer_id = (SELECT id FROM core.organisation)") == keys.count)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}
