import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §2 step 4 on the real database: commit modes, authority, confidence,
/// order and staleness, each observed through item results, ledger rows and
/// target values.
@Suite("Governance on PostgreSQL")
struct GovernanceTests {
    // MARK: - Helpers

    /// A payroll item for a new payroll key, linked through the hint to an existing record.
    static func hinted(_ key: String, _ field: String, _ value: String?, record: UUID) -> TestDatabase.Item {
        TestDatabase.Item(key: key, field: field, value: value, hint: record)
    }

    /// The ledger rows of one aspect of a record, oldest first.
    static func ledger(_ db: TestDatabase, _ record: UUID, _ aspect: String) async throws -> [[String?]] {
        try await db.rows(
            """
            SELECT source_system_key, ledger_status, value, previous_value, is_applied::text FROM integration.ledger
             WHERE target_table = 'core.person' AND target_id = \(record) AND aspect_key = \(aspect) ORDER BY ledger_id
            """)
    }

    /// Moves the staleness clock of a ledger row back. The harness connects as
    /// the owner of the ledger, whose UPDATE of confirmed_at the guard lets
    /// through (time passing, without waiting for it).
    static func backdateConfirmation(_ db: TestDatabase, record: UUID, aspect: String, days: Int) async throws {
        _ = try await db.client.transaction(logger: db.logger) { conn in
            try await conn.query(
                """
                UPDATE integration.ledger SET confirmed_at = now() - make_interval(days => \(days)::int)
                 WHERE target_table = 'core.person' AND target_id = \(record) AND aspect_key = \(aspect) AND is_applied
                """, logger: db.logger)
        }
    }

    static let earlier = Date(timeIntervalSince1970: 1_714_521_600)  // 2024-05-01
    static let later = Date(timeIntervalSince1970: 1_717_200_000)  // 2024-06-01

    // MARK: - Commit mode

    @Test func autoCertifiedValueIsCertifiedByPolicyAndOtherAppliedValuesStayPending() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "given_name", "Ada"),  // auto_certify
                .set("E1", "email", "ada@example.org"),  // not auto_certify
            ])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Applied"])
            let rows = try await db.rows(
                """
                SELECT l.aspect_key, l.ledger_status, l.is_applied::text, (l.certified_at IS NOT NULL)::text,
                       (l.applied_at IS NOT NULL)::text, (SELECT count(*) FROM integration.ledger_event e WHERE e.ledger_id = l.ledger_id)::text
                  FROM integration.ledger l WHERE l.job_id = \(job) AND l.ledger_aspect = 'Field' ORDER BY l.ledger_id
                """)
            let expected: [[String?]] = [
                ["given_name", "Certified", "true", "true", "true", "0"],
                ["email", "Pending", "true", "false", "true", "0"],
            ]
            #expect(rows == expected)
            // Certified by the policy at birth: the entry's hashed birth state
            // says so, and no event is needed (none is written).
            let birth = try await db.rows(
                """
                SELECT l.birth_status, (l.birth_apply_seq = l.apply_seq)::text, (l.certified_at = l.recorded_at)::text,
                       (l.certified_by IS NULL)::text,
                       (SELECT count(*) FROM integration.ledger_event e WHERE e.ledger_id = l.ledger_id)::text
                  FROM integration.ledger l WHERE l.aspect_key = 'given_name'
                """)
            #expect(birth == [["Certified", "true", "true", "true", "0"]])
            #expect(try await db.person("E1", "email") == "ada@example.org")
            #expect(try await db.person("E1", "given_name") == "Ada")
        }
    }

    @Test func onCertifyValueIsHeldAsPendingAndNotWritten() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Held"])
            #expect(results[0].message == "held: the policy is OnCertify; a steward must certify the value")
            let record = try await db.recordID("E1")
            #expect(try await Self.ledger(db, record, "birth_date") == [["hr", "Pending", "1990-01-02", nil, "false"]])
            #expect(try await db.person("E1", "birth_date") == nil)
            #expect(try await db.job(job) == .init(status: "Completed", total: 1, held: 1))
            // The held item points at its pending ledger row.
            #expect(
                try await db.int(
                    """
                    SELECT count(*) FROM integration.sync_item i JOIN integration.ledger l ON l.ledger_id = i.ledger_id
                     WHERE i.job_id = \(job) AND l.ledger_status = 'Pending'
                    """) == 1)
        }
    }

    // MARK: - Authority

    @Test func valueFromLowerRankedSourceIsHeldWhileHigherRankedOwnerIsFresh() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "family_name", "Lovelace")])
            try await db.runWorker()
            let record = try await db.recordID("E1")

            let job = try await db.submit(source: "payroll", items: [Self.hinted("P1", "family_name", "Byron", record: record)])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Held"])
            #expect(results[0].message == "held: the current value from 'hr' outranks this source and is not stale")
            #expect(try await db.person("E1", "family_name") == "Lovelace")
            #expect(
                try await Self.ledger(db, record, "family_name") == [
                    ["hr", "Certified", "Lovelace", nil, "true"],
                    ["payroll", "Pending", "Byron", "Lovelace", "false"],
                ])
            #expect(try await db.job(job) == .init(status: "Completed", total: 1, held: 1))
        }
    }

    @Test func valueFromHigherRankedSourceOverridesLowerRankedOwner() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(source: "payroll", items: [.set("P1", "family_name", "Byron")])
            try await db.runWorker()
            let record = try await db.recordID("P1", source: "payroll")

            let job = try await db.submit(items: [Self.hinted("E1", "family_name", "Lovelace", record: record)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.person("E1", "family_name") == "Lovelace")
            #expect(
                try await Self.ledger(db, record, "family_name") == [
                    ["payroll", "Certified", "Byron", nil, "true"],
                    ["hr", "Certified", "Lovelace", "Byron", "true"],
                ])
        }
    }

    @Test func unlistedSourceRanksAfterEveryListedSource() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(source: "payroll", items: [.set("P1", "family_name", "Byron")])
            try await db.runWorker()
            let record = try await db.recordID("P1", source: "payroll")

            // crm is not in {hr,payroll}: payroll, the last listed source, still outranks it.
            let job = try await db.submit(source: "crm", items: [Self.hinted("C1", "family_name", "King", record: record)])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Held"])
            #expect(results[0].message == "held: the current value from 'payroll' outranks this source and is not stale")
            #expect(try await db.person("P1", "family_name", source: "payroll") == "Byron")
        }
    }

    @Test func withNoAuthoritativeSourcesAnySourceReplacesTheValue() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "ada@hr.example")])
            try await db.runWorker()
            let record = try await db.recordID("E1")

            let job = try await db.submit(source: "crm", items: [Self.hinted("C1", "email", "ada@crm.example", record: record)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.person("E1", "email") == "ada@crm.example")
        }
    }

    @Test func staleOwnerNoLongerProtectsItsValue() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let record = try await db.recordID("E1")

            // Fresh hr owner: payroll's value is held.
            let first = try await db.submit(source: "payroll", items: [Self.hinted("P1", "given_name", "Augusta", record: record)])
            try await db.runWorker()
            #expect(try await db.itemResults(first).map(\.status) == ["Held"])

            // given_name goes stale after 30 days: hr last confirmed it 31 days ago.
            try await Self.backdateConfirmation(db, record: record, aspect: "given_name", days: 31)
            let second = try await db.submit(source: "payroll", items: [.set("P1", "given_name", "Augusta")])
            try await db.runWorker()

            let results = try await db.itemResults(second)
            #expect(results.map(\.status) == ["Applied"])
            #expect(results[0].message == nil)
            #expect(try await db.person("E1", "given_name") == "Augusta")
            #expect(
                try await Self.ledger(db, record, "given_name") == [
                    ["hr", "Certified", "Ada", nil, "true"],
                    ["payroll", "Pending", "Augusta", "Ada", "false"],
                    ["payroll", "Certified", "Augusta", "Ada", "true"],
                ])
        }
    }

    @Test func ownerConfirmedWithinStaleAfterDaysStillProtects() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let record = try await db.recordID("E1")
            try await Self.backdateConfirmation(db, record: record, aspect: "given_name", days: 29)

            let job = try await db.submit(source: "payroll", items: [Self.hinted("P1", "given_name", "Augusta", record: record)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Held"])
            #expect(try await db.person("E1", "given_name") == "Ada")
        }
    }

    // MARK: - Confidence

    @Test func lowConfidenceMappingIsHeldAndFullConfidenceIsApplied() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "marital_status", "P"),  // → married, confidence 0.6 < 0.8
                .set("E2", "marital_status", "M"),  // → married, confidence 1
            ])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Held", "Applied"])
            #expect(results[0].message == "held: mapping confidence 0.6 is below the policy minimum 0.8")
            #expect(try await db.person("E1", "marital_status") == nil)
            #expect(try await db.person("E2", "marital_status") == "married")
            let held = try await Self.ledger(db, try await db.recordID("E1"), "marital_status")
            #expect(held == [["hr", "Pending", "married", nil, "false"]])
            #expect(try await db.job(job) == .init(status: "Completed", total: 2, applied: 1, held: 1))
        }
    }

    // MARK: - Order

    @Test func olderValueFromTheSameSourceIsSkippedAsOutOfOrder() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada", at: Self.later)])
            try await db.runWorker()

            let job = try await db.submit(items: [.set("E1", "given_name", "Bea", at: Self.earlier)])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Skipped"])
            #expect(results[0].message?.hasPrefix("skipped: out of order; 'hr' already sent a later source_timestamp (2024-06-01T") == true)
            #expect(results[0].message?.hasSuffix("for this field") == true)
            #expect(try await db.person("E1", "given_name") == "Ada")
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job)") == 0)
            #expect(try await db.job(job) == .init(status: "Completed", total: 1, skipped: 1))
        }
    }

    @Test func olderValueLaterInTheSameJobIsSkippedAsOutOfOrder() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "given_name", "Ada", at: Self.later),
                .set("E1", "given_name", "Bea", at: Self.earlier),
            ])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Skipped"])
            #expect(try await db.person("E1", "given_name") == "Ada")
        }
    }

    @Test func equalSourceTimestampsAreNotOutOfOrder() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada", at: Self.later)])
            try await db.runWorker()

            let job = try await db.submit(items: [.set("E1", "given_name", "Bea", at: Self.later)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.person("E1", "given_name") == "Bea")
        }
    }

    @Test func outOfOrderIsJudgedPerSource() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "ada@hr.example", at: Self.later)])
            try await db.runWorker()
            let record = try await db.recordID("E1")

            // An earlier timestamp from another source is not out of order (email has no authoritative sources).
            let job = try await db.submit(
                source: "crm",
                items: [TestDatabase.Item(key: "C1", field: "email", value: "ada@crm.example", timestamp: Self.earlier, hint: record)])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.person("E1", "email") == "ada@crm.example")
        }
    }

    // MARK: - Unchanged

    @Test func unchangedValueFromItsOwnerIsSkippedAndRefreshesConfirmedAt() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let record = try await db.recordID("E1")
            try await Self.backdateConfirmation(db, record: record, aspect: "given_name", days: 10)

            let job = try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Skipped"])
            #expect(results[0].message == "skipped: unchanged; the target already holds this value")
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'given_name'") == 1)
            #expect(
                try await db.int(
                    "SELECT count(*) FROM integration.ledger WHERE aspect_key = 'given_name' AND confirmed_at > now() - interval '1 hour'")
                    == 1)
        }
    }

    @Test func unchangedValueFromAnotherSourceDoesNotRefreshTheOwnersConfirmedAt() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let record = try await db.recordID("E1")
            try await Self.backdateConfirmation(db, record: record, aspect: "given_name", days: 10)

            let job = try await db.submit(source: "payroll", items: [Self.hinted("P1", "given_name", "Ada", record: record)])
            try await db.runWorker()

            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Skipped"])
            #expect(results[0].message == "skipped: unchanged; the target already holds this value")
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'given_name'") == 1)
            #expect(
                try await db.int(
                    "SELECT count(*) FROM integration.ledger WHERE aspect_key = 'given_name' AND confirmed_at < now() - interval '9 days'")
                    == 1)
        }
    }

    @Test func unchangedIsJudgedOnTheCanonicalValue() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "marital_status", "M")])
            try await db.runWorker()

            // 'M' maps to married, '1520.50' is what numeric(10,2) made of '1520.5': both unchanged when sent again.
            let job = try await db.submit(items: [.set("E1", "marital_status", "M")])
            let payroll = try await db.submit(
                source: "payroll",
                items: [Self.hinted("P1", "salary", "1520.5", record: try await db.recordID("E1"))])
            try await db.runWorker()
            let again = try await db.submit(source: "payroll", items: [.set("P1", "salary", "1520.50")])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Skipped"])
            #expect(try await db.itemResults(payroll).map(\.status) == ["Applied"])
            #expect(try await db.itemResults(again).map(\.status) == ["Skipped"])
        }
    }
}
