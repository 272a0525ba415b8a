import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §8: a steward merges two records (identifiers, values by ownership,
/// relationships, the merged record deactivated, outbound) and unmerge
/// restores all of it exactly, while the worker and another steward go on;
/// the ledger verifies throughout.
@Suite("Identity resolution: merge and unmerge")
struct IdentityMergeTests {
    /// The standard scenario (birth dates held: OnCertify) with one suspect
    /// rule on names, people and organisations from hr and crm.
    static let setup = Scenario.standard + """
        INSERT INTO integration.match_rule (target_table, rule_name, fields, method, min_score, action)
        VALUES ('core.person', 'like_name', '{given_name,family_name}', 'similar', 0.5, 'suspect');
        """

    static func seed(_ db: TestDatabase) async throws {
        try await db.exec(Self.setup)
        try await db.submit(items: [
            .set("O1", "name", "Acme Ltd", table: "core.organisation"),
            .set("E1", "given_name", "Amélie"), .set("E1", "family_name", "Dupont"), .set("E1", "email", "amelie@hr.example"),
            .set("E1", "birth_date", "1980-05-03"), .link("E1", "employer_id", to: "O1"),
            .set("E2", "given_name", "Zoé"), .set("E2", "family_name", "Martin"), .link("E2", "employer_id", to: "O1"),
        ])
        try await db.runWorker()
        try await db.submit(source: "crm", items: [
            .set("O9", "name", "ACME Limited", table: "core.organisation"),
            .set("C1", "given_name", "Amelie"), .set("C1", "family_name", "Dupond"), .set("C1", "email", "amelie@crm.example"),
            .set("C1", "birth_date", "1980-05-03"), .link("C1", "employer_id", to: "O9"),
            .set("C2", "given_name", "Paul"), .set("C2", "family_name", "Durand"), .link("C2", "employer_id", to: "O9"),
        ])
        try await db.runWorker()
        // payroll knows hr's Amélie (through the hint) and pays her.
        try await db.link("P1", source: "payroll", to: try await db.recordID("E1"), field: "salary", value: "52000")
    }

    /// Everything about the records that bystanders do not touch (their keys
    /// start with X): identifiers, rows, the review queue (without its clock),
    /// provenance, suspects and source order marks, as sorted lines.
    static func snapshot(_ db: TestDatabase) async throws -> [String] {
        try await db.rows(
            """
            WITH bystander AS (SELECT target_id FROM integration.identifier WHERE external_key LIKE 'X%')
            SELECT line FROM (
              SELECT 'identifier ' || concat_ws(' ', i.source_system_key, i.target_table, i.external_key, i.target_id) AS line
                FROM integration.identifier i WHERE i.target_id NOT IN (SELECT target_id FROM bystander)
              UNION ALL
              SELECT 'person ' || to_jsonb(p)::text FROM core.person p WHERE p.id NOT IN (SELECT target_id FROM bystander)
              UNION ALL
              SELECT 'organisation ' || to_jsonb(o)::text FROM core.organisation o
              UNION ALL
              SELECT 'queue ' || (to_jsonb(q) - 'age')::text FROM integration.review_queue q
               WHERE q.target_id NOT IN (SELECT target_id FROM bystander)
              UNION ALL
              SELECT 'provenance ' || concat_ws(' ', f.target_table, f.target_id, f.aspect_key, f.current_value, f.ledger_id,
                                                  f.ledger_value, f.source_system_key, f.ledger_status, f.certified_by)
                FROM integration.field_provenance f WHERE f.target_id NOT IN (SELECT target_id FROM bystander)
              UNION ALL
              SELECT 'suspect ' || concat_ws(' ', s.suspect_id, s.target_id, s.candidate_id, s.status, s.merge_id, s.decided_by, s.notes)
                FROM integration.match_suspect s
              UNION ALL
              SELECT 'order ' || to_jsonb(so)::text FROM integration.source_order so
               WHERE so.target_id NOT IN (SELECT target_id FROM bystander)) x
            ORDER BY 1
            """
        ).map { $0[0] ?? "" }
    }

    /// Outbound items created for a system since `after` (job id), as "key field value".
    static func outbound(_ db: TestDatabase, to system: String, after job: Int) async throws -> [String] {
        try await db.rows(
            """
            SELECT concat_ws(' ', i.external_key, i.field_name, i.new_value) FROM integration.sync_item i
              JOIN integration.sync_job j USING (job_id)
             WHERE j.direction = 'Outbound' AND j.source_system_key = \(system) AND j.job_id > \(job)
             ORDER BY 1
            """
        ).map { $0[0] ?? "" }
    }

    @Test(.timeLimit(.minutes(10)))
    func mergeThenUnmergeRestoresEverythingWhileTheWorkerAndAStewardGoOn() async throws {
        try await TestDatabase.with { db in
            try await Self.seed(db)
            let identity = IdentityQueries(client: db.client, logger: db.logger)
            let (e1, c1, c2) = (try await db.recordID("E1"), try await db.recordID("C1", source: "crm"), try await db.recordID("C2", source: "crm"))
            let (o1, o9) = (try await db.recordID("O1"), try await db.recordID("O9", source: "crm"))
            // The rule found crm's Amélie as a suspect of hr's.
            let suspects = try await identity.suspects()
            #expect(suspects.total == 1)
            let suspect = try #require(Int64(suspects.pairs.value("suspect_id") ?? ""))
            #expect(try await identity.pair(ofSuspect: suspect) == (e1, c1))
            // Both records' birth dates are held (OnCertify): in the queue.
            #expect(try await db.int("SELECT count(*) FROM integration.review_queue WHERE aspect_key = 'birth_date'") == 2)
            let before = try await Self.snapshot(db)
            let lastJob = try await db.int("SELECT max(job_id) FROM integration.sync_job")

            // Meanwhile: the worker processes bystanders' jobs, another steward
            // certifies their values.
            let stop = Flag()
            let (rounds, decisions) = (Counter(), Counter())
            @Sendable func runBystanders() async throws {
                var round = 0
                while !stop.isSet {
                    round += 1
                    try await db.submit(source: "payroll", items: (1...8).flatMap { n -> [TestDatabase.Item] in
                        [.set("X\(n)", "given_name", "Bystander \(n) \(round)"), .set("X\(n)", "email", "x\(n).\(round)@example.org")]
                    })
                    try await db.runWorker(id: "bystander-worker")
                    rounds.add()
                }
            }
            @Sendable func runSteward() async throws -> Int {
                var decided = 0
                while !stop.isSet {
                    let pending = try await db.rows(
                        """
                        SELECT q.ledger_id::text FROM integration.review_queue q
                          JOIN integration.identifier i ON i.target_id = q.target_id AND i.external_key LIKE 'X%'
                         ORDER BY q.ledger_id LIMIT 5
                        """)
                    for row in pending {
                        do {
                            _ = try await db.stewardship.certify(Int64(row[0]!)!, as: "bob", notes: "bystander")
                            decided += 1
                            decisions.add()
                        } catch where ["SL011", "SL030"].contains(PostgresErrors.sqlState(error)?.code ?? "") {}
                    }
                    if pending.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
                }
                return decided
            }
            async let bystanders: Void = runBystanders()
            async let steward: Int = runSteward()
            // Both are at work before the merges begin.
            while rounds.value == 0 || decisions.value == 0 { try await Task.sleep(for: .milliseconds(20)) }

            // 1. crm's Amélie into hr's.
            let merged = try await identity.merge(survivor: e1, merged: c1, notes: "same person", as: "alice")
            let personMerge = try #require(Int64(merged.value("merge_id") ?? ""))
            #expect(merged.value("identifiers_moved") == "1")
            #expect(try await db.recordID("C1", source: "crm") == e1)
            #expect(try await db.text("SELECT is_active::text FROM core.person WHERE id = \(c1)") == "false")
            // hr outranks crm for names and the employer: they stay; e-mail has no
            // authority, so the value applied last (crm's) is settled onto hr's
            // record, and waits for certification as it did on crm's.
            #expect(try await db.person("E1", "given_name") == "Amélie")
            #expect(try await db.person("E1", "family_name") == "Dupont")
            #expect(try await db.person("E1", "email") == "amelie@crm.example")
            #expect(try await db.person("E1", "employer_id") == o1.uuidString.lowercased())
            #expect(merged.value("values_settled") == "1")
            #expect(
                try await db.int(
                    "SELECT count(*) FROM integration.review_queue WHERE target_id = \(e1) AND aspect_key = 'email' AND source_system_key = 'crm'") == 1)
            // Held values stay held, on their records, in the queue.
            #expect(try await db.int("SELECT count(*) FROM integration.review_queue WHERE aspect_key = 'birth_date'") == 2)
            // crm's view of its record changed: it hears of hr's names.
            let sent = try await Self.outbound(db, to: "crm", after: lastJob)
            #expect(sent.contains("C1 given_name Amélie") && sent.contains("C1 family_name Dupont"), "\(sent)")
            #expect(try await db.text("SELECT status FROM integration.match_suspect WHERE suspect_id = \(suspect)") == "merged")
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)

            // 2. crm's organisation into hr's: the people employed by it follow.
            let orgMerge = try #require(Int64(try await identity.merge(survivor: o1, merged: o9, as: "alice").value("merge_id") ?? ""))
            #expect(try await db.text("SELECT employer_id::text FROM core.person WHERE id = \(c2)") == o1.uuidString.lowercased())
            #expect(try await db.recordID("O9", source: "crm") == o1)
            #expect(try await db.text("SELECT is_active::text FROM core.organisation WHERE id = \(o9)") == "false")
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
            // Not twice.
            #expect(try await db.sqlState("SELECT * FROM integration.merge(\(o1), \(o9), NULL, 'alice')") == "SL093")

            // 3. Undone, newest first: everything as it was.
            let orgUndone = try await identity.unmerge(orgMerge, notes: "two companies after all", as: "alice")
            #expect(orgUndone.value("relationships_restored") == "2")
            let personUndone = try await identity.unmerge(personMerge, notes: "two people after all", as: "alice")
            #expect(personUndone.value("identifiers_restored") == "1" && personUndone.value("values_restored") == "1")
            #expect(try await db.sqlState("SELECT * FROM integration.unmerge(\(personMerge), NULL, 'alice')") == "SL095")

            stop.set()
            try await bystanders
            let decided = try await steward
            let after = try await Self.snapshot(db)
            #expect(after == before, "differences: \(Set(after).symmetricDifference(Set(before)).sorted().prefix(10))")
            #expect(decided > 0, "the other steward never acted")
            #expect(try await db.int("SELECT count(*) FROM integration.ledger_event WHERE kind = 'identity'") > 0)
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
            // crm hears of its own values again.
            let back = try await Self.outbound(db, to: "crm", after: lastJob)
            #expect(back.contains("C1 given_name Amelie"), "\(back)")
        }
    }

    @Test func mergeRefusesWhatCannotBeMergedWithErrorsThatSayWhy() async throws {
        try await TestDatabase.with { db in
            try await Self.seed(db)
            try await db.exec(
                """
                CREATE TABLE core.note (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text);
                INSERT INTO integration.target_table (target_table) VALUES ('core.note');
                INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
                  ('core.note', NULL, 'OnIngest', true), ('core.note', 'body', 'OnIngest', true);
                """)
            try await db.submit(entity: "core.note", items: [.set("N1", "body", "a"), .set("N2", "body", "b")])
            try await db.runWorker()
            let (e1, e2, c1, o1) = (
                try await db.recordID("E1"), try await db.recordID("E2"), try await db.recordID("C1", source: "crm"), try await db.recordID("O1")
            )
            let (n1, n2) = (try await db.recordID("N1"), try await db.recordID("N2"))
            func merge(_ a: UUID, _ b: UUID, as steward: String = "alice") async throws -> String? {
                try await db.sqlState("SELECT * FROM integration.merge(\(a), \(b), NULL, \(steward))")
            }
            #expect(try await merge(e1, e1) == "SL091")
            #expect(try await merge(e1, o1) == "SL091")
            #expect(try await merge(n1, n2) == "SL092")
            #expect(try await merge(e1, e2) == "SL094")  // both hr's
            #expect(try await merge(e1, c1, as: "carol") == "SL022")
            #expect(try await db.sqlState("SELECT * FROM integration.unmerge(424242, NULL, 'alice')") == "SL095")
            // A deleted record is not merged; nor a record that absorbed another.
            try await db.submit(source: "crm", items: [.delete("C2")])
            try await db.runWorker()
            #expect(try await merge(e1, try await db.recordID("C2", source: "crm")) == "SL093")
            #expect(try await merge(c1, e1) == nil)
            #expect(try await merge(e2, c1) == "SL093")
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}

/// A count tasks add to and others read.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }
}

/// A flag one task sets and others read.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}
