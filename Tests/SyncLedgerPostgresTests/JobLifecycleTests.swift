import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// Jobs from submission to their final status: counts, all-failed jobs,
/// requeueing after a fix, idempotent resubmission, drafts.
@Suite("Job lifecycle on PostgreSQL")
struct JobLifecycleTests {
    @Test func jobWhoseItemsAllFailEndsCompletedWithErrors() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "emial", "x"), .set("E1", "birth_date", "not a date"), .set("E2", "marital_status", "Q"),
            ])
            try await db.runWorker()

            #expect(try await db.itemResults(job).map(\.status) == ["Failed", "Failed", "Failed"])
            #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 3, failed: 3))
            #expect(
                try await db.rows(
                    """
                    SELECT attempts::text, (finished_at IS NOT NULL)::text, lease_owner, last_error FROM integration.sync_job
                     WHERE job_id = \(job)
                    """) == [["1", "true", nil, nil]])
            #expect(try await db.int("SELECT count(*) FROM core.person") == 0)
        }
    }

    @Test func jobWithoutFailuresEndsCompletedWithItsCounts() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [
                .set("E1", "given_name", "Ada"), .set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1815-12-10"),
            ])
            try await db.runWorker()

            #expect(try await db.job(job) == .init(status: "Completed", total: 3, applied: 1, held: 1, skipped: 1))
        }
    }

    @Test func emptyJobEndsCompleted() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [])
            try await db.runWorker()
            #expect(try await db.job(job) == .init(status: "Completed"))
        }
    }

    @Test func unmappedCodeFailsAndIsAppliedAfterTheMappingIsAddedAndTheJobRequeued() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "marital_status", "X")])
            try await db.runWorker()

            let first = try await db.itemResults(job)
            #expect(first.map(\.status) == ["Applied", "Failed"])
            #expect(
                first[1].message
                    == "no mapping for 'X' in code list 'marital_status' from source 'hr': add it to integration.value_map, then call integration.requeue_failed(job_id)"
            )
            #expect(first[1].message?.hasPrefix("no mapping for 'X' in code list 'marital_status' from source 'hr'") == true)
            #expect(try await db.job(job) == .init(status: "CompletedWithErrors", total: 2, applied: 1, failed: 1))

            try await db.exec(
                """
                INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value)
                VALUES ('hr', 'marital_status', 'X', 'widowed')
                """)
            #expect(try await db.int("SELECT integration.requeue_failed(\(job))") == 1)
            #expect(
                try await db.rows("SELECT job_status, items_failed::text FROM integration.sync_job WHERE job_id = \(job)")
                    == [["Submitted", "0"]])
            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Pending"])
            try await db.runWorker()

            let second = try await db.itemResults(job)
            #expect(second.map(\.status) == ["Applied", "Applied"])
            #expect(second[1].message == nil)
            #expect(try await db.person("E1", "marital_status") == "widowed")
            #expect(try await db.job(job) == .init(status: "Completed", total: 2, applied: 2))
            // The first item was not processed again.
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE job_id = \(job) AND ledger_aspect = 'Field'") == 2)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE ledger_aspect = 'Record'") == 1)
        }
    }

    @Test func requeueOfAJobThatIsNotFinishedIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada")])
            do {
                _ = try await db.int("SELECT integration.requeue_failed(\(job))")
                Issue.record("requeued a submitted job")
            } catch {
                #expect(PostgresErrors.message(error).contains("only finished (Completed, CompletedWithErrors, Failed) jobs can be requeued"))
            }
            #expect(try await db.job(job).status == "Submitted")
        }
    }

    @Test func resubmittingTheSameJobKeyFromTheSameSourceIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let first = try await db.submit(key: "batch-2024-06-01", items: [.set("E1", "given_name", "Ada")])
            do {
                try await db.submit(key: "batch-2024-06-01", items: [.set("E1", "given_name", "Ada")])
                Issue.record("the second job was accepted")
            } catch {
                #expect(PostgresErrors.serverError(error)?.serverInfo?[.constraintName] == "sync_job_job_key_unique_per_source")
            }
            // Another source may use the same key.
            try await db.submit(source: "payroll", key: "batch-2024-06-01", items: [.set("P1", "salary", "1")])
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 2)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id <> \(first)") == 1)
            try await db.runWorker()
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'given_name'") == 1)
        }
    }

    @Test func draftJobIsNotProcessedUntilSubmitted() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.exec("UPDATE integration.sync_job SET job_status = 'Draft' WHERE job_id = \(job)")
            try await db.runWorker()

            #expect(try await db.job(job).status == "Draft")
            #expect(try await db.itemResults(job).map(\.status) == ["Pending"])

            try await db.exec("UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_id = \(job)")
            try await db.runWorker()
            #expect(try await db.job(job) == .init(status: "Completed", total: 1, applied: 1))
        }
    }

    @Test func itemsOfOneRecordApplyInSeqOrderAcrossChunks() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let items = (1...30).map { TestDatabase.Item.set("E1", "email", "v\($0)@example.org") }
            let job = try await db.submit(items: items)
            try await db.runWorker { $0.chunkSize = 7 }

            #expect(try await db.itemResults(job).allSatisfy { $0.status == "Applied" })
            #expect(try await db.person("E1", "email") == "v30@example.org")
            let values = try await db.rows("SELECT value FROM integration.ledger WHERE aspect_key = 'email' ORDER BY ledger_id")
            #expect(values == (1...30).map { ["v\($0)@example.org"] })
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}
