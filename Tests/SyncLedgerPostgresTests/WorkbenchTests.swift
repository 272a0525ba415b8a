import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §3 "The steward's workbench" on PostgreSQL, as stewards and
/// upstreams use it: logged in as their own roles.
@Suite("Steward's workbench on PostgreSQL")
struct WorkbenchTests {
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["SYNCLEDGER_STRESS_ROUNDS"] ?? "") ?? 2 }

    /// The queue's rows as `field source state reason`, in entry order.
    static func queueLines(_ client: PostgresClient) async throws -> [String] {
        try await TextTable.query(
            """
            SELECT concat_ws(' ', aspect_key, source_system_key, state, hold_reason) FROM integration.review_queue
             ORDER BY ledger_id
            """, on: client, logger: TestCluster.logger
        ).rows.map { $0[0] ?? "" }
    }

    static func text(_ client: PostgresClient, _ query: PostgresQuery) async throws -> String? {
        try await TextTable.query(query, on: client, logger: TestCluster.logger).rows.first?[0] ?? nil
    }

    // MARK: The queue says why

    @Test func theQueueSaysWhyEachEntryWaitsAndFiltersByReason() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [
                .set("E1", "family_name", "Okafor"), .set("E1", "marital_status", "P"), .set("E1", "birth_date", "1990-01-02"),
                .set("E1", "email", "a@example.org"),
            ])
            try await db.runWorker()
            let person = try await db.recordID("E1")
            try await db.link("P1", source: "payroll", to: person, field: "family_name", value: "Okafor-Reyes")

            try await withLoginRole(db, "alice", in: ["syncledger_steward"], as: "alice") { steward, _ async throws in
                // A steward's own proposal, as herself (no steward argument).
                _ = try await Self.text(
                    steward, "SELECT integration.propose('core.person', \(person), 'email', 'okafor@example.org', 'typo')::text")
                #expect(
                    try await Self.queueLines(steward) == [
                        "marital_status hr held confidence", "birth_date hr held on_certify",
                        "email hr applied not_auto_certified", "family_name payroll held authority", "email steward held proposal",
                    ])
                let row = try await TextTable.query(
                    """
                    SELECT record_keys, reason, current_value, proposed_value, owner_source FROM integration.review_queue
                     WHERE hold_reason = 'authority'
                    """, on: steward, logger: db.logger
                ).rows[0]
                #expect(row[0] == "hr:E1, payroll:P1")
                #expect(row[1] == "held: the current value from hr outranks payroll and is not stale")
                #expect(row[2] == "Okafor" && row[3] == "Okafor-Reyes" && row[4] == "hr")

                let counts = try await TextTable.query(
                    "SELECT state, hold_reason, entries::text FROM integration.queue_counts('{\"table\": \"core.person\"}')",
                    on: steward, logger: db.logger
                ).rows.map { $0.map { $0 ?? "" }.joined(separator: " ") }
                #expect(
                    counts == [
                        "applied not_auto_certified 1", "held authority 1", "held confidence 1", "held on_certify 1", "held proposal 1",
                    ])
                let queries = StewardQueries(client: steward, logger: db.logger)
                #expect(try await queries.queue(.init(reason: "authority")).entries.values("aspect_key") == ["family_name"])
                #expect(try await queries.queue(.init(state: .applied)).entries.values("aspect_key") == ["email"])
                #expect(try await queries.queue(.init(field: "email", state: .held)).entries.values("source_system_key") == ["steward"])
                #expect(try await queries.queue(.init(olderThan: "1 hour")).total == 0)
            }
            // A misspelt filter is refused, never read as "everything".
            await expectRefusal("SL017", "unknown queue filter key: tabel") {
                _ = try await db.rows("SELECT * FROM integration.queue_counts('{\"tabel\": \"core.person\"}')")
            }
            await expectRefusal("SL017", "unknown hold reason") {
                _ = try await db.stewardship.queue(.init(reason: "authorityy"))
            }
        }
    }

    @Test func relatedRecordsShowTheirExternalKeys() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("UPDATE integration.commit_policy SET commit_mode = 'OnCertify' WHERE field_name = 'employer_id'")
            try await db.submit(entity: "core.organisation", items: [.set("ORG-7", "name", "Acme")])
            try await db.submit(items: [.link("E1", "employer_id", to: "ORG-7")])
            try await db.runWorker()
            let queue = try await db.stewardship.queue(.init(field: "employer_id"))
            #expect(queue.entries.values("proposed_value") == ["hr:ORG-7"])
            #expect(queue.entries.values("record_keys") == ["hr:E1"])
        }
    }

    // MARK: Myself by default

    @Test func actionsActAsTheSessionsOwnUserWhenNoStewardIsNamed() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "birth_date", "1990-01-02"), .set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date")
            let applied = try await db.entryID("email")
            try await withLoginRole(db, "bob", in: ["syncledger_steward"], as: "bob") { steward, _ async throws in
                #expect(try await Self.text(steward, "SELECT ledger_status FROM integration.certify(\(held))") == "Certified")
                #expect(
                    try await Self.text(steward, "SELECT outcome FROM integration.reject(\(applied), p_reason_code => 'wrong_value')")
                        == "rejected")
            }
            #expect(try await db.entry(held) == ["Certified", "true", "bob"])
            #expect(try await db.events(applied).last == "Pending→Rejected bob")
        }
    }

    // MARK: Four eyes

    @Test func fourEyesNeedTwoDifferentStewards() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("UPDATE integration.commit_policy SET approvals_required = 2 WHERE field_name = 'birth_date'")
            try await db.submit(items: [.set("E1", "birth_date", "1990-01-02")])
            try await db.runWorker()
            let entry = try await db.entryID("birth_date")
            try await withLoginRole(db, "alice", in: ["syncledger_steward"], as: "alice") { alice, _ async throws in
                #expect(try await Self.text(alice, "SELECT outcome || ' ' || ledger_status FROM integration.certify(\(entry))") == "approved Pending")
                await expectRefusal("SL012", "alice approved this entry already") {
                    _ = try await Self.text(alice, "SELECT outcome FROM integration.certify(\(entry))")
                }
            }
            #expect(try await db.person("E1", "birth_date") == nil)
            try await withLoginRole(db, "bob", in: ["syncledger_steward"], as: "bob") { bob, _ async throws in
                #expect(try await Self.text(bob, "SELECT outcome || ' ' || ledger_status FROM integration.certify(\(entry))") == "certified Certified")
            }
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            #expect(try await db.entry(entry) == ["Certified", "true", "bob"])
            #expect(
                try await db.rows("SELECT kind, actor FROM integration.ledger_event WHERE ledger_id = \(entry) ORDER BY event_id")
                    == [["approval", "alice"], ["status", "bob"]])
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    // MARK: Proposals

    @Test func aProposalIsCertifiedByAnotherStewardThenGoesToEverySubscriber() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("INSERT INTO integration.subscription (source_system_key, target_table) VALUES ('hr', 'core.person')")
            try await db.submit(items: [.set("E1", "birth_date", "1990-01-02")])
            try await db.runWorker()
            _ = try await db.stewardship.certify(try await db.entryID("birth_date"), as: "alice")
            let person = try await db.recordID("E1")
            try await db.link("P1", source: "payroll", to: person, field: "given_name", value: "Ada")
            try await db.link("C1", source: "crm", to: person, field: "given_name", value: "Ada")
            let before = try await db.int("SELECT count(*) FROM integration.sync_job WHERE direction = 'Outbound'")

            let proposal = try await withLoginRole(db, "alice", in: ["syncledger_steward"], as: "alice") { alice, _ -> Int64 in
                let id = Int64(try await Self.text(
                    alice, "SELECT integration.propose('core.person', \(person), 'birth_date', '1990-2-1', 'see the passport')::text") ?? "") ?? 0
                await expectRefusal("SL013", "alice proposed this value") {
                    _ = try await Self.text(alice, "SELECT outcome FROM integration.certify(\(id))")
                }
                // A value that does not fit the column is refused at once.
                await expectRefusal("SL016", "cannot propose") {
                    _ = try await Self.text(alice, "SELECT integration.propose('core.person', \(person), 'birth_date', 'soon')::text")
                }
                return id
            }
            #expect(try await db.entry(proposal) == ["Pending", "false", nil])
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            try await withLoginRole(db, "bob", in: ["syncledger_steward"], as: "bob") { bob, _ async throws in
                #expect(try await Self.text(bob, "SELECT ledger_status FROM integration.certify(\(proposal))") == "Certified")
            }
            #expect(try await db.person("E1", "birth_date") == "1990-02-01")
            let sent = try await db.rows(
                """
                SELECT j.source_system_key, i.external_key, i.new_value FROM integration.sync_item i
                  JOIN integration.sync_job j ON j.job_id = i.job_id
                 WHERE j.direction = 'Outbound' AND i.field_name = 'birth_date' AND i.new_value = '1990-02-01'
                 ORDER BY 1
                """)
            #expect(sent == [["crm", "C1", "1990-02-01"], ["hr", "E1", "1990-02-01"], ["payroll", "P1", "1990-02-01"]])
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job WHERE direction = 'Outbound'") > before)
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    // MARK: Reasons that travel

    @Test func rejectReasonsReachTheUpstreamAndNoOtherSource() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let person = try await db.recordID("E1")
            try await db.link("P1", source: "payroll", to: person, field: "email", value: "p@example.org")
            let hrEntry = try await db.entryID("email")
            let payrollEntry = try await db.entryID("email", from: "payroll")
            _ = try await db.stewardship.reject(hrEntry, as: "alice", notes: "the address bounces", reason: "wrong_value")
            _ = try await db.stewardship.certify(payrollEntry, as: "bob")
            await expectRefusal("SL014", "unknown or inactive reject reason") {
                _ = try await db.stewardship.reject(payrollEntry, as: "alice", reason: "because")
            }

            let hrView = try await withLoginRole(db, "hr", in: ["syncledger_upstream"], for: "hr") { hr, _ async throws in
                try await TextTable.query(
                    "SELECT external_key, field, value, decision, reason_code, reason, notes, decided_by FROM integration.my_decisions",
                    on: hr, logger: db.logger
                ).rows
            }
            #expect(
                hrView == [[
                    "E1", "email", "a@example.org", "Rejected", "wrong_value",
                    "The value is wrong: correct it in the source system.", "the address bounces", "alice",
                ]])
            let payrollView = try await withLoginRole(db, "pay", in: ["syncledger_upstream"], for: "payroll") { payroll, _ async throws in
                try await TextTable.query(
                    "SELECT external_key, value, decision, reason_code FROM integration.my_decisions", on: payroll, logger: db.logger
                ).rows
            }
            #expect(payrollView == [["P1", "p@example.org", "Certified", nil]])
        }
    }

    // MARK: Explain

    @Test func explainNamesTheOwnerAndWhyEachOtherEntryLost() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let steward = db.stewardship
            try await db.submit(items: [.set("E1", "birth_date", "1990-01-01")])
            try await db.runWorker()
            let older = try await db.entryID("birth_date")
            try await db.submit(items: [.set("E1", "birth_date", "1990-01-02")])
            try await db.runWorker()
            let owner = try await db.entryID("birth_date")
            _ = try await steward.certify(owner, as: "alice")
            let person = try await db.recordID("E1")
            try await db.link("C1", source: "crm", to: person, field: "birth_date", value: "1991-01-01")
            let heldForAuthority = try await db.entryID("birth_date", from: "crm")
            try await db.submit(source: "crm", items: [.set("C1", "birth_date", "1992-02-02")])
            try await db.runWorker()
            let rejected = try await db.entryID("birth_date", from: "crm")
            _ = try await steward.reject(rejected, as: "bob", notes: "not hers", reason: "wrong_record")
            try await db.submit(items: [.set("E1", "birth_date", "1990-01-03")])
            try await db.runWorker()
            let revoked = try await db.entryID("birth_date")
            _ = try await steward.certify(revoked, as: "alice")
            _ = try await steward.revoke(revoked, as: "bob", notes: "typo in the extract")

            let subject = StewardQueries.Subject.external(source: "hr", key: "E1", table: nil)
            let birth = try await steward.explain(subject, in: "core.person", field: "birth_date")
            let verdicts = Dictionary(
                uniqueKeysWithValues: birth.rows.indices.map { (Int64(birth.value("ledger_id", row: $0) ?? "") ?? 0, $0) })
            func verdict(_ id: Int64) -> String? { verdicts[id].flatMap { birth.value("verdict", row: $0) } }
            func reason(_ id: Int64) -> String { verdicts[id].flatMap { birth.value("reason", row: $0) } ?? "" }
            #expect(verdict(owner) == "owner")
            #expect(verdict(older) == "older")
            #expect(reason(older).contains("ledger entry \(owner)"))
            #expect(verdict(heldForAuthority) == "held")
            #expect(reason(heldForAuthority) == "held: the current value from hr outranks crm and is not stale")
            #expect(verdict(rejected) == "rejected")
            #expect(reason(rejected).hasPrefix("rejected by bob (wrong_record: "))
            #expect(reason(rejected).hasSuffix(": not hers"))
            #expect(verdict(revoked) == "revoked")
            #expect(reason(revoked) == "certified, then revoked by bob: typo in the extract")
            #expect(birth.rows.count == 5)

            // Superseded: applied, then another entry was applied after it.
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let first = try await db.entryID("email")
            try await db.submit(source: "crm", items: [.set("C1", "email", "c@example.org")])
            try await db.runWorker()
            let second = try await db.entryID("email", from: "crm")
            let email = try await steward.explain(subject, in: "core.person", field: "email")
            #expect(email.values("verdict") == ["owner", "superseded"])
            #expect(email.values("ledger_id") == [String(second), String(first)])
            #expect(email.value("reason", row: 1)?.contains("ledger entry \(second) (from crm)") == true)
        }
    }

    // MARK: Bulk decisions

    /// The scenario of the bulk tests: hr sends 40 people's birth dates
    /// (held: OnCertify) and emails (applied, awaiting certification); crm
    /// then sends a second birth date for every fourth person (held behind
    /// hr's, in conflict once hr's is applied).
    static func bulkScenario(_ db: TestDatabase) async throws {
        try await db.exec(Scenario.standard)
        try await db.exec("UPDATE integration.commit_policy SET authoritative_sources = '{}' WHERE field_name = 'birth_date'")
        var items: [TestDatabase.Item] = []
        for n in 1...40 {
            items.append(.set("E\(n)", "birth_date", "1980-01-\(10 + n % 18)"))
            items.append(.set("E\(n)", "email", "e\(n)@example.org"))
        }
        try await db.submit(items: items)
        try await db.runWorker()
        var linking: [TestDatabase.Item] = []
        for n in stride(from: 4, through: 40, by: 4) {
            linking.append(TestDatabase.Item(key: "C\(n)", field: "birth_date", value: "1981-02-\(10 + n % 18)", hint: try await db.recordID("E\(n)")))
        }
        try await db.submit(source: "crm", items: linking)
        try await db.runWorker()
    }

    /// What a bulk decision must leave equal: every person's values by key,
    /// and every entry's outcome by (key, field, source, value).
    static func outcome(_ db: TestDatabase) async throws -> [[String?]] {
        let people = try await db.rows(
            """
            SELECT i.external_key, p.birth_date::text, p.email FROM core.person p
              JOIN integration.identifier i ON i.target_id = p.id AND i.source_system_key = 'hr' ORDER BY 1
            """)
        let entries = try await db.rows(
            """
            SELECT i.external_key, l.aspect_key, l.source_system_key, l.value, l.ledger_status, l.is_applied::text, u.user_name
              FROM integration.ledger l
              JOIN integration.identifier i ON i.target_id = l.target_id AND i.source_system_key = 'hr'
              LEFT JOIN integration.app_user u ON u.user_id = l.certified_by
             WHERE l.ledger_aspect <> 'Record'
             ORDER BY 1, 2, 3, 4
            """)
        return people + [["--"]] + entries
    }

    @Test func aBulkCertifyEqualsCertifyingEachEntryAndRevokingTheBatchUndoesIt() async throws {
        let bulk = try await TestDatabase.with("bulk") { db -> [[String?]] in
            try await Self.bulkScenario(db)
            let pending = try await db.int("SELECT count(*) FROM integration.ledger WHERE ledger_status = 'Pending'")
            let before = try await db.rows(
                "SELECT target_id::text, aspect_key, ledger_id::text, ledger_value FROM integration.field_provenance ORDER BY 1, 2")
            let beforeValues = try await db.rows("SELECT id::text, birth_date::text FROM core.person ORDER BY 1")
            let result = try await db.stewardship.decide(
                .certify, where: .init(table: "core.person", state: .held), as: "alice", notes: "extract checked", chunk: 7)
            // 40 hr birth dates certified; crm's 10 in conflict behind them, passed over.
            #expect(result.decided == 40)
            #expect(result.passedOver == 10)
            #expect(result.approved == 0)
            #expect(
                try await db.int("SELECT count(*) FROM integration.ledger_event WHERE batch_id = \(result.batchID)") == 40)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE ledger_status = 'Pending'") == pending - 40)
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
            let outcome = try await Self.outcome(db)

            // Undo: what the batch applied leaves the targets, the earlier state comes back.
            let undo = try await db.stewardship.revoke(batch: result.batchID, as: "bob", notes: "wrong extract", chunk: 9)
            #expect(undo.decided == 40)
            #expect(try await db.rows("SELECT id::text, birth_date::text FROM core.person ORDER BY 1") == beforeValues)
            #expect(
                try await db.rows(
                    "SELECT target_id::text, aspect_key, ledger_id::text, ledger_value FROM integration.field_provenance ORDER BY 1, 2")
                    == before)
            await expectRefusal("SL015", "cannot be revoked") { _ = try await db.stewardship.revoke(batch: undo.batchID, as: "bob") }
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
            return outcome
        }
        let oneByOne = try await TestDatabase.with("oneByOne") { db -> [[String?]] in
            try await Self.bulkScenario(db)
            let ids = try await db.rows(
                "SELECT l.ledger_id::text FROM integration.ledger l WHERE l.ledger_status = 'Pending' AND NOT l.is_applied ORDER BY l.ledger_id")
            var conflicts = 0
            for row in ids {
                do {
                    _ = try await db.stewardship.certify(Int64(row[0] ?? "") ?? 0, as: "alice", notes: "extract checked")
                } catch {
                    #expect(PostgresErrors.sqlState(error)?.code == "SL030")
                    conflicts += 1
                }
            }
            #expect(conflicts == 10)
            #expect(try await db.chainFindings().isEmpty)
            return try await Self.outcome(db)
        }
        #expect(bulk == oneByOne)
    }

    @Test func aBulkDecisionNeedsAFilterAndADryRunChangesNothing() async throws {
        try await TestDatabase.with { db in
            try await Self.bulkScenario(db)
            await #expect(throws: StewardError.self) {
                _ = try await db.stewardship.decide(.certify, where: .init(), as: "alice")
            }
            await expectRefusal("SL017", "at least one filter key") {
                _ = try await db.rows("SELECT integration.open_batch('certify', '{}', 'alice')::text")
            }
            let events = try await db.int("SELECT count(*) FROM integration.ledger_event")
            let preview = try await db.stewardship.preview(.init(field: "email", state: .applied), sample: 3)
            #expect(preview.total == 40)
            #expect(preview.entries.rows.count == 3)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger_event") == events)
        }
    }

    /// A bulk certify and reject while two workers process jobs on the same
    /// records, several rounds: the batches pass over what moved under them,
    /// nothing surfaces as a deadlock, and the ledger explains every value.
    @Test(.timeLimit(.minutes(10)))
    func bulkDecisionsWhileTwoWorkersProcessTheSameRecords() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("UPDATE integration.commit_policy SET authoritative_sources = '{}' WHERE field_name = 'birth_date'")
            let people = 30
            try await db.submit(items: (1...people).map { .set("E\($0)", "given_name", "P\($0)") })
            try await db.runWorker()
            for round in 1...Self.rounds {
                for job in 1...4 {
                    var items: [TestDatabase.Item] = []
                    for n in 1...people {
                        items.append(.set("E\(n)", "birth_date", "19\(60 + (n + job + round) % 30)-0\(1 + job)-1\(n % 9)"))
                        items.append(.set("E\(n)", "email", "r\(round)j\(job)n\(n)@example.org"))
                    }
                    try await db.submit(key: "w\(round)-\(job)", items: items)
                }
                let arguments = [
                    "--exit-when-idle", "--concurrency", "2", "--parallel-chunks", "2", "--chunk-size", "15", "--lease-seconds", "30",
                    "--poll-interval-seconds", "1",
                ]
                let workers = [
                    try WorkerProcess(id: "b\(round)a", url: db.url, arguments: arguments),
                    try WorkerProcess(id: "b\(round)b", url: db.url, arguments: arguments),
                ]
                var batches = 0
                while workers.contains(where: \.isRunning) || batches < 2 {
                    batches += 1
                    let filter: StewardQueries.QueueFilter =
                        batches % 2 == 0 ? .init(field: "birth_date", state: .held) : .init(field: "email", state: .applied)
                    let action: StewardQueries.Action = batches % 3 == 0 ? .reject : .certify
                    let outcome = try await db.stewardship.decide(
                        action, where: filter, as: batches % 2 == 0 ? "alice" : "bob", notes: "round \(round)",
                        reason: action == .reject ? "other" : nil, chunk: 8)
                    _ = outcome
                }
                for worker in workers {
                    let status = await worker.waitForExit(timeout: .seconds(120))
                    #expect(status == 0, "worker \(worker.id) exit \(String(describing: status)):\n\(worker.log.suffix(3000))")
                }
                #expect(try await db.provenanceViolations().isEmpty, "round \(round)")
                #expect(try await db.chainFindings().isEmpty, "round \(round)")
                // Each batch's counts are its events.
                let mismatched = try await db.rows(
                    """
                    SELECT b.batch_id::text FROM integration.decision_batch b
                     WHERE b.decided + b.approved
                           <> (SELECT count(*) FROM integration.ledger_event e WHERE e.batch_id = b.batch_id)
                    """)
                #expect(mismatched.isEmpty, "batches whose counts are not their events: \(mismatched)")
            }
        }
    }

    // MARK: As of

    /// record_as_of(M) equals field_provenance as a snapshot taken at M
    /// showed it, for hundreds of (record, moment) pairs taken while workers
    /// and a steward work. A pair is compared unless a transaction that was
    /// under way at M (it began before M, and had not committed when the
    /// snapshot was taken) wrote to that record's ledger: such a
    /// transaction's rows carry its start time, before M, but the snapshot
    /// could not see them (ledger_link records which transaction touched
    /// which record).
    @Test(.timeLimit(.minutes(10)))
    func recordAsOfEqualsFieldProvenanceSnapshotsTakenDuringARun() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec("UPDATE integration.commit_policy SET authoritative_sources = '{}' WHERE field_name IN ('birth_date', 'family_name')")
            let people = 12
            try await db.submit(items: (1...people).map { .set("E\($0)", "given_name", "P\($0)") })
            try await db.runWorker()
            for job in 1...10 {
                var items: [TestDatabase.Item] = []
                for n in 1...people {
                    items.append(.set("E\(n)", "family_name", "F\(job)-\(n)"))
                    items.append(.set("E\(n)", "birth_date", "19\(60 + (n + job) % 30)-0\(1 + job % 9)-1\(n % 9)"))
                    items.append(.set("E\(n)", "email", "j\(job)n\(n)@example.org"))
                }
                try await db.submit(key: "asof-\(job)", items: items)
            }
            struct Snapshot: Sendable {
                var moment: String
                var xmax: String
                var xip: [String]
                var rows: [[String?]]
            }
            let arguments = ["--exit-when-idle", "--concurrency", "2", "--chunk-size", "6", "--poll-interval-seconds", "1"]
            let workers = [
                try WorkerProcess(id: "asof-a", url: db.url, arguments: arguments),
                try WorkerProcess(id: "asof-b", url: db.url, arguments: arguments),
            ]
            var snapshots: [Snapshot] = []
            var turn = 0
            var duringRun = 0
            while workers.contains(where: \.isRunning) || snapshots.count < 14 {
                if workers.contains(where: \.isRunning) { duringRun += 1 }
                turn += 1
                // A steward at work.
                if let id = try await db.rows(
                    "SELECT ledger_id::text FROM integration.ledger WHERE ledger_status = 'Pending' ORDER BY random() LIMIT 1"
                ).first?[0].flatMap({ Int64($0) }) {
                    _ = try? await (turn % 3 == 0
                        ? db.stewardship.reject(id, as: "alice") : db.stewardship.certify(id, as: "bob"))
                }
                // A snapshot: its moment is its statement's start.
                let snapshot = try await db.client.withConnection { conn -> Snapshot in
                    _ = try await Listing.query("BEGIN ISOLATION LEVEL REPEATABLE READ", on: conn, logger: db.logger)
                    let head = try await Listing.query(
                        """
                        SELECT statement_timestamp()::text, pg_snapshot_xmax(pg_current_snapshot())::text,
                               coalesce((SELECT string_agg(x::text, ',') FROM pg_snapshot_xip(pg_current_snapshot()) x), '')
                        """, on: conn, logger: db.logger
                    ).rows[0]
                    let rows = try await Listing.query(
                        """
                        SELECT target_id::text, aspect_key, ledger_id::text, ledger_value, source_system_key, ledger_status
                          FROM integration.field_provenance WHERE target_table = 'core.person' ORDER BY 1, 2
                        """, on: conn, logger: db.logger
                    ).rows
                    _ = try await Listing.query("COMMIT", on: conn, logger: db.logger)
                    return Snapshot(
                        moment: head[0] ?? "", xmax: head[1] ?? "0",
                        xip: (head[2] ?? "").split(separator: ",").map(String.init), rows: rows)
                }
                snapshots.append(snapshot)
                try await Task.sleep(for: .milliseconds(30))
            }
            for worker in workers {
                let status = await worker.waitForExit(timeout: .seconds(120))
                #expect(status == 0, "worker \(worker.id) exit \(String(describing: status)):\n\(worker.log.suffix(3000))")
            }

            var compared = 0
            for snapshot in snapshots {
                let records = Set(snapshot.rows.compactMap { $0[0] })
                let xip = "{" + snapshot.xip.joined(separator: ",") + "}"
                for record in records.sorted() {
                    let inFlight = try await db.int(
                        """
                        SELECT count(*) FROM integration.ledger_link k
                         WHERE k.target_table = 'core.person' AND k.target_id = \(record)::uuid
                           AND (k.txid = ANY (\(xip)::xid8[])
                                OR (k.txid >= \(snapshot.xmax)::xid8
                                    AND (EXISTS (SELECT FROM integration.ledger l
                                                  WHERE l.target_table = k.target_table AND l.target_id = k.target_id
                                                    AND l.chain_seq = k.chain_seq AND l.recorded_at < \(snapshot.moment)::timestamptz)
                                         OR EXISTS (SELECT FROM integration.ledger_event e
                                                      JOIN integration.ledger l ON l.ledger_id = e.ledger_id
                                                     WHERE l.target_table = k.target_table AND l.target_id = k.target_id
                                                       AND e.chain_seq = k.chain_seq
                                                       AND e.occurred_at < \(snapshot.moment)::timestamptz))))
                        """)
                    if inFlight > 0 { continue }
                    let expected = snapshot.rows.filter { $0[0] == record }.map { Array($0.dropFirst()) }
                    let asOf = try await db.rows(
                        """
                        SELECT aspect_key, ledger_id::text, value, source_system_key, ledger_status
                          FROM integration.record_as_of('core.person', \(record)::uuid, \(snapshot.moment)::timestamptz)
                         ORDER BY aspect_key
                        """)
                    #expect(asOf == expected, "record \(record) as of \(snapshot.moment)")
                    compared += 1
                }
            }
            #expect(compared >= 100, "only \(compared) (record, moment) pairs could be compared")
            #expect(duringRun >= 2, "only \(duringRun) snapshots were taken while the workers ran")
        }
    }

    // MARK: The command line

    @Test func theCommandLineDecidesInBulkAndAnswersAsOfAndExplain() async throws {
        try await TestDatabase.with { db in
            try await Self.bulkScenario(db)
            let env = ["DATABASE_URL": CommandRun.databaseURL(db.url)]
            func steward(_ arguments: String...) async throws -> CommandRun {
                let run = try await CommandRun.run(["steward"] + arguments, environment: env, bound: .seconds(120))
                #expect(run.status == 0, "\(arguments): \(run)")
                return run
            }
            let queue = try await steward("queue", "--reason", "on_certify", "--limit", "3")
            #expect(queue.stdout.contains("3 of 50 matching entries"), "\(queue)")
            #expect(queue.stdout.contains("50 pending: held 50 (on_certify 50)"), "\(queue)")
            let json = try await steward("queue", "--field", "email", "--limit", "2", "--json")
            #expect(json.stdout.split(separator: "\n").count == 2)
            #expect(json.stdout.contains("\"state\":\"applied\""), "\(json)")

            let dry = try await steward("certify", "--table", "core.person", "--field", "birth_date", "--held", "--dry-run")
            #expect(dry.stdout.hasPrefix("dry run: certify would decide 50 entries; nothing changed"), "\(dry)")
            #expect(try await db.int("SELECT count(*) FROM integration.decision_batch") == 0)

            let bulk = try await steward("certify", "--table", "core.person", "--field", "birth_date", "--held", "--as", "alice")
            let batch = try #require(bulk.stdout.firstMatch(of: /batch (\d+): 40 entries certified, 10 passed over/)?.1)
            let undo = try await steward("revoke", "--batch", String(batch), "--as", "bob", "--notes", "wrong extract")
            #expect(undo.stdout.contains(": 40 entries revoked"), "\(undo)")

            let asOf = try await steward("asof", "core.person", "--key", "hr:E4", "--at", "now", "--json")
            #expect(asOf.stdout.contains("\"aspect_key\":\"email\""), "\(asOf)")
            let explain = try await steward("explain", "core.person", "--key", "hr:E4", "--field", "birth_date")
            #expect(explain.stdout.contains("revoked"), "\(explain)")
            #expect(explain.stdout.contains("held"), "\(explain)")

            let refused = try await CommandRun.run(["steward", "certify", "--as", "alice"], environment: env, bound: .seconds(60))
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("name a ledger entry, or filter the entries to decide"), "\(refused)")
        }
    }
}
