import Foundation
import PostgresNIO
import Synchronization
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#endif

/// SPEC §2 "Ownership, order and canonical values" under real concurrency:
/// two sources, several jobs each on the same records and fields, two worker
/// processes with several slots and parallel chunks, and a steward
/// certifying and rejecting all the while. Run for several rounds
/// (`SYNCLEDGER_STRESS_ROUNDS`, default 2).
@Suite("Concurrency: workers and stewards at once")
struct ConcurrencyTests {
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["SYNCLEDGER_STRESS_ROUNDS"] ?? "") ?? 2 }
    static let records = 24
    static let jobsPerSource = 4

    /// What went wrong in the steward's loop.
    final class StewardLog: Sendable {
        private let state = Mutex((actions: 0, unexpected: [String]()))

        func record(_ error: (any Error)?) {
            let unexpected = error.flatMap { error -> String? in
                let state = PostgresErrors.sqlState(error)
                // Refusals a steward racing the worker may meet: the entry moved
                // on (SL011), the target changed since (SL030).
                if state == .ledgerEntryWrongStatus || state == .targetChanged { return nil }
                return "\(state?.code ?? "none"): \(PostgresErrors.message(error))"
            }
            state.withLock { log in
                log.actions += 1
                if let unexpected { log.unexpected.append(unexpected) }
            }
        }

        var actions: Int { state.withLock { $0.actions } }

        var failures: [String] { state.withLock { $0.unexpected } }
    }

    @Test(.timeLimit(.minutes(15)))
    func twoSourcesTwoWorkerProcessesAndAStewardKeepTheLedgerTrue() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                """
                -- Both sources may change family names: the last applied wins.
                UPDATE integration.commit_policy SET authoritative_sources = '{}' WHERE field_name = 'family_name';
                """)
            // The records: created by hr, linked by payroll through the hint.
            try await db.submit(items: (1...Self.records).map { .set("E\($0)", "given_name", "Person \($0)") })
            try await db.runWorker()
            var linking: [TestDatabase.Item] = []
            for n in 1...Self.records {
                linking.append(TestDatabase.Item(key: "P\(n)", field: "given_name", value: "Person \(n)", hint: try await db.recordID("E\(n)")))
            }
            try await db.submit(source: "payroll", items: linking)
            try await db.runWorker()
            #expect(try await db.int("SELECT count(*) FROM core.person") == Self.records)

            let log = StewardLog()
            for round in 1...Self.rounds {
                // Several jobs per source, every one touching every record's fields.
                for job in 1...Self.jobsPerSource {
                    for source in ["hr", "payroll"] {
                        let prefix = source == "hr" ? "E" : "P"
                        var items: [TestDatabase.Item] = []
                        for n in 1...Self.records {
                            let tag = "\(source)-\(round)-\(job)-\(n)"
                            items.append(.set("\(prefix)\(n)", "given_name", "G \(tag)"))
                            items.append(.set("\(prefix)\(n)", "family_name", "F \(tag)"))
                            items.append(.set("\(prefix)\(n)", "email", "\(tag)@example.org"))
                            items.append(.set("\(prefix)\(n)", "birth_date", "19\(50 + (n + job + round) % 49)-0\(1 + job % 9)-1\(n % 9)"))
                        }
                        try await db.submit(source: source, key: "r\(round)-\(source)-\(job)", items: items)
                    }
                }

                let arguments = [
                    "--exit-when-idle", "--concurrency", "2", "--parallel-chunks", "2", "--chunk-size", "20", "--batch-jobs", "3",
                    "--lease-seconds", "30", "--poll-interval-seconds", "1",
                ]
                let workers = [
                    try WorkerProcess(id: "c\(round)a", url: db.url, arguments: arguments),
                    try WorkerProcess(id: "c\(round)b", url: db.url, arguments: arguments),
                ]
                // The steward, meanwhile: certify or reject what waits, in a loop.
                let steward = db.stewardship
                var turn = 0
                while workers.contains(where: \.isRunning) {
                    let pending = try await db.rows(
                        "SELECT ledger_id::text FROM integration.ledger WHERE ledger_status = 'Pending' ORDER BY random() LIMIT 4")
                    for row in pending {
                        guard let id = Int64(row[0] ?? "") else { continue }
                        turn += 1
                        do {
                            if turn % 3 == 0 {
                                _ = try await steward.reject(id, as: turn % 2 == 0 ? "alice" : "bob", notes: "round \(round)")
                            } else {
                                _ = try await steward.certify(id, as: turn % 2 == 0 ? "alice" : "bob", notes: "round \(round)")
                            }
                            log.record(nil)
                        } catch {
                            log.record(error)
                        }
                    }
                    if pending.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
                }
                for worker in workers {
                    let status = await worker.waitForExit(timeout: .seconds(60))
                    #expect(status == 0, "worker \(worker.id) exit \(String(describing: status)):\n\(worker.log.suffix(3000))")
                }

                // After every round:
                #expect(
                    try await db.int(
                        "SELECT count(*) FROM integration.sync_job WHERE direction = 'Inbound' AND job_status NOT IN ('Completed', 'CompletedWithErrors')")
                        == 0, "round \(round): unfinished jobs")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_item i JOIN integration.sync_job j USING (job_id) WHERE j.direction = 'Inbound' AND i.item_status IN ('Pending', 'Failed')") == 0)
                // The provenance invariant, all three aspects, orphans included.
                let violations = try await db.provenanceViolations()
                #expect(violations.isEmpty, "round \(round): \(violations.prefix(5))")
                // field_provenance agrees with every target column.
                #expect(
                    try await db.int(
                        """
                        SELECT count(*) FROM integration.field_provenance
                         WHERE ledger_aspect <> 'Record' AND ledger_id IS NOT NULL AND current_value IS DISTINCT FROM ledger_value
                        """) == 0, "round \(round): field_provenance disagrees with the target")
                // Every non-null governed value is the value of an applied entry that still stands.
                for column in ["given_name", "family_name", "email", "birth_date"] {
                    #expect(
                        try await db.int(
                            PostgresQuery(
                                unsafeSQL: """
                                    SELECT count(*) FROM core.person p
                                     WHERE p.\(column) IS NOT NULL
                                       AND NOT EXISTS (SELECT FROM integration.aspect_owner o
                                                        WHERE o.target_table = 'core.person' AND o.target_id = p.id
                                                          AND o.aspect_key = '\(column)' AND o.value = p.\(column)::text)
                                    """)) == 0, "round \(round): \(column) not explained by a standing entry")
                }
                // At most one ledger row per item; the chain intact.
                #expect(try await db.int("SELECT count(*) FROM (SELECT sync_item_id FROM integration.ledger WHERE sync_item_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d") == 0)
                let findings = try await db.chainFindings()
                #expect(findings.isEmpty, "round \(round): \(findings.prefix(5))")
                // Every job's stored counts are its items' statuses, whatever
                // order the steward's decisions and the jobs' finish committed in.
                let wrongCounts = try await db.rows(
                    """
                    SELECT j.job_id::text FROM integration.sync_job j
                      JOIN integration.job_item_counts(ARRAY(SELECT job_id FROM integration.sync_job WHERE direction = 'Inbound')) c
                        USING (job_id)
                     WHERE (j.items_total, j.items_applied, j.items_held, j.items_skipped, j.items_failed)
                           IS DISTINCT FROM (c.total, c.applied, c.held, c.skipped, c.failed)
                    """)
                #expect(wrongCounts.isEmpty, "round \(round): jobs whose counts are not their items': \(wrongCounts.prefix(5))")
                // No steward call failed with a deadlock or serialization error (or anything else unexpected).
                #expect(log.failures.isEmpty, "round \(round): \(log.failures.prefix(5))")
            }
            #expect(log.actions > 0, "the steward never acted while the workers ran")
        }
    }
}
