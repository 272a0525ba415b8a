import Foundation
import Testing

@testable import SyncLedger

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
            #expect(try await db.int("SELECT count(*) FROM integration.ledger_event WHERE actor = 'policy'") == 2)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}
