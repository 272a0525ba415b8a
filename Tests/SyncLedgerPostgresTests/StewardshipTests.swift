import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

@Suite("Stewardship: certify, reject, revoke on PostgreSQL")
struct StewardshipTests {
    /// Whether, within ten seconds, a session of the test's database waits for a lock.
    static func aSessionWaitsForALock(_ db: TestDatabase) async throws -> Bool {
        try await eventually(within: .seconds(10), every: .milliseconds(25)) {
            try await db.int("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0
        }
    }

    @Test func certifyHeldValueAppliesItMovesTheItemAndTheJobCounts() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            #expect(try await db.job(job) == .init(status: "Completed", total: 2, applied: 1, held: 1))
            let held = try await db.entryID("birth_date")
            #expect(try await db.entry(held) == ["Pending", "false", nil])

            let result = try await db.stewardship.certify(held, as: "alice", notes: "checked the passport")
            #expect(result.status == "Certified")
            #expect(result.actor == "alice")
            #expect(result.eventNotes == "checked the passport")
            #expect(result.entry.value("is_applied") == "true")
            #expect(result.entry.value("certified_by") == "alice")

            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            #expect(try await db.entry(held) == ["Certified", "true", "alice"])
            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Applied"])
            #expect(try await db.itemResults(job)[1].message?.contains("certified by alice") == true)
            #expect(try await db.job(job) == .init(status: "Completed", total: 2, applied: 2, held: 0))
            #expect(try await db.events(held) == ["Pending→Certified alice"])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func certifyAlreadyAppliedPendingValueOnlyCertifiesIt() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "email", "ada@example.org")])
            try await db.runWorker()
            let pending = try await db.entryID("email")
            #expect(try await db.entry(pending) == ["Pending", "true", nil])
            let appliedAt = try await db.text("SELECT applied_at::text FROM integration.ledger WHERE ledger_id = \(pending)")
            let countsBefore = try await db.job(job)

            let result = try await db.stewardship.certify(pending, as: "bob")
            #expect(result.status == "Certified")
            #expect(result.sentTo.isEmpty)

            #expect(try await db.entry(pending) == ["Certified", "true", "bob"])
            #expect(try await db.person("E1", "email") == "ada@example.org")
            // No write: applied_at, the item and the job are as they were.
            #expect(try await db.text("SELECT applied_at::text FROM integration.ledger WHERE ledger_id = \(pending)") == appliedAt)
            #expect(try await db.job(job) == countsBefore)
            #expect(try await db.itemResults(job).map(\.status) == ["Applied"])
            #expect(try await db.events(pending) == ["Pending→Certified bob"])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func rejectHeldValueSkipsItsItemAndWritesNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date")

            let result = try await db.stewardship.reject(held, as: "alice", notes: "wrong person")
            #expect(result.status == "Rejected")
            #expect(result.eventNotes == "wrong person")
            #expect(try await db.entry(held) == ["Rejected", "false", nil])
            #expect(try await db.person("E1", "birth_date") == nil)
            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Skipped"])
            #expect(try await db.job(job) == .init(status: "Completed", total: 2, applied: 1, held: 0, skipped: 1))
            #expect(try await db.events(held) == ["Pending→Rejected alice"])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func rejectAppliedPendingValueRestoresThePreviousValue() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let person = try await db.recordID("E1")
            // crm's value: email has no authoritative source, so it is applied (Pending, not auto-certified).
            try await db.link("C1", source: "crm", to: person, field: "email", value: "b@example.org")
            let crmEntry = try await db.entryID("email", from: "crm")
            #expect(try await db.person("E1", "email") == "b@example.org")

            let result = try await db.stewardship.reject(crmEntry, as: "alice")
            #expect(result.status == "Rejected")
            #expect(!result.targetLeftAlone)
            #expect(result.eventNotes?.contains("set back to 'a@example.org'") == true, "\(result.eventNotes ?? "")")
            #expect(try await db.person("E1", "email") == "a@example.org")
            // The restored value goes back out to crm (whose value was rejected), not to hr (where it came from).
            #expect(result.sentTo == ["crm"])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func rejectAfterALaterEntryChangedTheTargetLeavesItAloneAndSaysSo() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let hrEntry = try await db.entryID("email")
            try await db.link("C1", source: "crm", to: try await db.recordID("E1"), field: "email", value: "b@example.org")
            let crmEntry = try await db.entryID("email", from: "crm")

            let result = try await db.stewardship.reject(hrEntry, as: "alice")
            #expect(result.status == "Rejected")
            #expect(result.targetLeftAlone)
            #expect(result.eventNotes?.contains("owned by ledger entry \(crmEntry)") == true, "\(result.eventNotes ?? "")")
            #expect(result.sentTo.isEmpty)
            #expect(try await db.person("E1", "email") == "b@example.org")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func rejectAfterTheTargetWasChangedOutsideTheLedgerLeavesItAloneAndSaysSo() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let entry = try await db.entryID("email")
            let person = try await db.recordID("E1")
            try await db.exec("UPDATE core.person SET email = 'z@example.org' WHERE id = '\(person.uuidString)'")

            let result = try await db.stewardship.reject(entry, as: "alice", notes: "typo")
            #expect(result.targetLeftAlone)
            #expect(result.eventNotes?.hasPrefix("typo; target left alone") == true, "\(result.eventNotes ?? "")")
            #expect(result.eventNotes?.contains("now holds 'z@example.org', not this entry's value 'a@example.org'") == true)
            #expect(try await db.person("E1", "email") == "z@example.org")
            #expect(try await db.entry(entry) == ["Rejected", "true", nil])
            // The value written outside the ledger is what the provenance check
            // exists to find: no entry explains it.
            #expect(try await db.provenanceViolations() == [["core.person", person.uuidString.lowercased(), "email", "z@example.org", nil]])
        }
    }

    /// BUG (sql/code/70_stewardship.sql, reject): rolling back restores the entry's
    /// previous_value even when the entry that wrote that value was itself
    /// rejected meanwhile, so the target ends up holding a value a steward
    /// rejected, owned by no entry (provenance_violations does not see it,
    /// as it only checks aspects that have an owner).
    @Test func rejectNeverRestoresAValueThatWasRejected() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let fromHR = try await db.entryID("email")
            try await db.link("C1", source: "crm", to: try await db.recordID("E1"), field: "email", value: "b@example.org")
            let fromCRM = try await db.entryID("email", from: "crm")

            let first = try await db.stewardship.reject(fromHR, as: "alice")
            #expect(first.targetLeftAlone)  // crm's value owns the field
            _ = try await db.stewardship.reject(fromCRM, as: "alice")
            let email = try await db.person("E1", "email")
            // hr's value was rejected: it never comes back.
            #expect(email == nil)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func revokeWithoutAnEarlierCertificationClearsTheValue() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let certified = try await db.entryID("given_name")
            #expect(try await db.entry(certified) == ["Certified", "true", nil])  // by policy

            let result = try await db.stewardship.revoke(certified, as: "bob", notes: "not her name")
            #expect(result.status == "Revoked")
            #expect(result.eventNotes?.hasPrefix("not her name; target core.person.given_name of") == true, "\(result.eventNotes ?? "")")
            #expect(try await db.person("E1", "given_name") == nil)
            #expect(try await db.events(certified) == ["Certified→Revoked bob"])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func revokeChainBringsBackTheEarlierCertifiedValueThenNull() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let a = try await db.entryID("given_name")
            // payroll ranks below hr for given_name: its value is held.
            try await db.link("P1", source: "payroll", to: try await db.recordID("E1"), field: "given_name", value: "Adele")
            let b = try await db.entryID("given_name", from: "payroll")
            #expect(try await db.entry(b) == ["Pending", "false", nil])
            _ = try await db.stewardship.certify(b, as: "alice")
            #expect(try await db.person("E1", "given_name") == "Adele")
            #expect(try await db.provenanceViolations().isEmpty)

            let revokeB = try await db.stewardship.revoke(b, as: "alice")
            #expect(revokeB.eventNotes?.contains("(the value of ledger entry \(a))") == true, "\(revokeB.eventNotes ?? "")")
            #expect(try await db.person("E1", "given_name") == "Ada")
            #expect(try await db.entry(b) == ["Revoked", "true", "alice"])
            #expect(try await db.events(a) == ["Certified→Certified alice"])
            #expect(try await db.provenanceViolations().isEmpty)

            _ = try await db.stewardship.revoke(a, as: "bob")
            #expect(try await db.person("E1", "given_name") == nil)
            #expect(try await db.entry(a) == ["Revoked", "true", nil])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func revokeLeavesTheTargetAloneWhenALaterValueOwnsIt() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "email", "a@example.org")])
            try await db.runWorker()
            let first = try await db.entryID("email")
            _ = try await db.stewardship.certify(first, as: "alice")
            try await db.submit(items: [.set("E1", "email", "b@example.org")])
            try await db.runWorker()
            let later = try await db.entryID("email")
            #expect(try await db.entry(later) == ["Pending", "true", nil])

            let revoked = try await db.stewardship.revoke(first, as: "alice")
            #expect(revoked.status == "Revoked")
            #expect(revoked.targetLeftAlone)
            #expect(revoked.eventNotes?.contains("owned by ledger entry \(later)") == true, "\(revoked.eventNotes ?? "")")
            #expect(try await db.person("E1", "email") == "b@example.org")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func aStewardRoleActsAsItselfAndOnlyThroughTheFunctions() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date")
            let person = try await db.recordID("E1")
            try await withLoginRole(db, "steward", in: ["syncledger_steward"]) { client, url in
                let role = url.username
                try await db.client.query(
                    "INSERT INTO integration.app_user (user_name, display_name, is_steward) VALUES (\(role), 'Role Steward', true)",
                    logger: db.logger)
                let steward = StewardQueries(client: client, logger: db.logger)
                let queue = try await steward.queue()
                #expect(queue.entries.values("ledger_id") == ["\(held)"])
                #expect(queue.entries.values("current_value") == [nil])
                let history = try await steward.history(.record(table: "core.person", id: person))
                #expect(history.current.values("current_value").contains("Ada"))

                // No --as: the app_user named like the login role acts.
                let result = try await steward.certify(held)
                #expect(result.actor == role)
                #expect(result.entry.value("certified_by") == role)
                await expectRefusal("42501", "permission denied") {
                    try await client.query("UPDATE integration.ledger SET notes = 'x' WHERE ledger_id = \(held)", logger: db.logger)
                }
            }
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func revokeWaitingForARevokeOfTheEarlierEntryFallsBackToTheOneBefore() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            var ids: [Int64] = []
            for name in ["Ada", "Ada Mary", "Ada Marie"] {  // C, A, B: each certified by policy
                try await db.submit(items: [.set("E1", "given_name", name)])
                try await db.runWorker()
                ids.append(try await db.entryID("given_name"))
            }
            let (a, b) = (ids[1], ids[2])
            let steward = db.stewardship

            // Revoking A (not the owner: left alone) holds A's row lock until commit;
            // revoking B meanwhile waits for it when it looks for the earlier value.
            let outcome: String? = try await withThrowingTaskGroup(of: String?.self) { group in
                try await db.client.withConnection { first in
                    try await first.query("BEGIN", logger: db.logger)
                    try await first.query("SELECT 1 FROM integration.revoke(\(a), 'bob')", logger: db.logger)
                    group.addTask { try await steward.revoke(b, as: "alice").eventNotes }
                    #expect(try await Self.aSessionWaitsForALock(db), "the second revoke never waited")
                    try await first.query("COMMIT", logger: db.logger)
                }
                return try await group.next() ?? nil
            }
            #expect(try await db.entry(a)[0] == "Revoked")
            #expect(try await db.entry(b)[0] == "Revoked")
            #expect(try await db.person("E1", "given_name") == "Ada", "\(outcome ?? "")")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func refusalsNameTheProblemAndChangeNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date")
            let certified = try await db.entryID("given_name")
            let steward = db.stewardship

            await expectRefusal("SL010", "ledger entry 999999 not found") { _ = try await steward.certify(999_999, as: "alice") }
            await expectRefusal("SL020", "unknown user \"nobody\"") { _ = try await steward.reject(held, as: "nobody") }
            // Without --as, the session's own app_user acts: the test cluster's login role is none.
            let role = try await db.text("SELECT session_user::text") ?? "?"
            await expectRefusal("SL020", "session role \"\(role)\" is not an app_user") { _ = try await steward.certify(held) }
            await expectRefusal("SL021", "user \"dave\" is inactive") { _ = try await steward.certify(held, as: "dave") }
            await expectRefusal("SL022", "user \"carol\" is not a steward") { _ = try await steward.certify(held, as: "carol") }
            await expectRefusal("SL011", "is Pending; only Certified entries can be revoked") {
                _ = try await steward.revoke(held, as: "alice")
            }
            await expectRefusal("SL011", "is Certified; only Pending entries can be certified") {
                _ = try await steward.certify(certified, as: "alice")
            }
            await expectRefusal("SL011", "is Certified; only Pending entries can be rejected") {
                _ = try await steward.reject(certified, as: "alice")
            }
            #expect(try await db.entry(held) == ["Pending", "false", nil])
            #expect(try await db.events(held).isEmpty)
            #expect(try await db.person("E1", "birth_date") == nil)

            _ = try await steward.reject(held, as: "alice")
            await expectRefusal("SL011", "ledger entry \(held) is Rejected; only Pending entries can be certified") {
                _ = try await steward.certify(held, as: "alice")
            }
            await expectRefusal("SL011", "is Rejected; only Certified entries can be revoked") { _ = try await steward.revoke(held, as: "bob") }
            #expect(try await db.events(held) == ["Pending→Rejected alice"])
            #expect(try await db.person("E1", "birth_date") == nil)
            #expect(try await db.events(certified) == [])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func certifyRefusesAConflictUnlessForced() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let hrJob = try await db.submit(items: [.set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            try await db.link("C1", source: "crm", to: try await db.recordID("E1"), field: "birth_date", value: "1991-03-04")
            let fromHR = try await db.entryID("birth_date")
            let fromCRM = try await db.entryID("birth_date", from: "crm")
            _ = try await db.stewardship.certify(fromHR, as: "alice")
            #expect(try await db.job(hrJob).applied == 1)

            // Both were recorded against an empty birth_date; the target now holds hr's value.
            await expectRefusal("SL030", "conflict on ledger entry \(fromCRM)") {
                _ = try await db.stewardship.certify(fromCRM, as: "bob")
            }
            do {
                _ = try await db.stewardship.certify(fromCRM, as: "bob")
            } catch {
                let described = StewardError.describing(error)
                #expect(described.message.contains("now holds '1990-01-02', but the entry expected NULL"), "\(described)")
                #expect(described.hint?.contains("--force") == true)
            }
            #expect(try await db.entry(fromCRM) == ["Pending", "false", nil])
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            #expect(try await db.events(fromCRM).isEmpty)

            let forced = try await db.stewardship.certify(fromCRM, as: "bob", notes: "crm has the certificate", force: true)
            #expect(forced.status == "Certified")
            #expect(
                forced.eventNotes == "crm has the certificate; forced over a conflict: the target held '1990-01-02', the entry expected NULL")
            #expect(try await db.person("E1", "birth_date") == "1991-03-04")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func twoStewardsCertifyingTheSameEntryOneWaitsAndIsRefused() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date")
            let steward = db.stewardship

            let second: String? = try await withThrowingTaskGroup(of: String?.self) { group in
                try await db.client.withConnection { first in
                    try await first.query("BEGIN", logger: db.logger)
                    try await first.query("SELECT 1 FROM integration.certify(\(held), 'alice')", logger: db.logger)
                    // bob's certify on another connection now waits for alice's row lock.
                    group.addTask {
                        do {
                            _ = try await steward.certify(held, as: "bob")
                            return nil
                        } catch {
                            return "\(PostgresErrors.sqlState(error)?.code ?? "?") \(StewardError.describing(error).message)"
                        }
                    }
                    #expect(try await Self.aSessionWaitsForALock(db), "bob's certify never waited for the lock")
                    try await first.query("COMMIT", logger: db.logger)
                }
                return try await group.next() ?? nil
            }
            #expect(second == "SL011 ledger entry \(held) is Certified; only Pending entries can be certified")
            #expect(try await db.entry(held) == ["Certified", "true", "alice"])
            #expect(try await db.events(held) == ["Pending→Certified alice"])
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func twoStewardsRacingExactlyOneSucceeds() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: (1...5).map { .set("E\($0)", "birth_date", "1990-1-\($0)") })
            try await db.runWorker()
            let steward = db.stewardship
            for n in 1...5 {
                let held = try await db.entryID("birth_date", key: "E\(n)")
                let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                    for name in ["alice", "bob"] {
                        group.addTask {
                            do {
                                return "ok \(try await steward.certify(held, as: name).actor ?? "")"
                            } catch {
                                return PostgresErrors.sqlState(error)?.code ?? "\(error)"
                            }
                        }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0.hasPrefix("ok ") }.count == 1, "\(outcomes)")
                #expect(outcomes.filter { $0 == "SL011" }.count == 1, "\(outcomes)")
                let winner = outcomes.first { $0.hasPrefix("ok ") }.map { String($0.dropFirst(3)) }
                #expect(try await db.entry(held) == ["Certified", "true", winner])
                #expect(try await db.int("SELECT count(*) FROM integration.ledger_event WHERE ledger_id = \(held)") == 1)
            }
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func certifyHeldDeletionDeactivatesAndRejectOfAppliedDeletionRestores() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E2", "given_name", "Bea")])
            try await db.runWorker()
            // Deletions of people now wait for a steward.
            try await db.exec(
                "UPDATE integration.commit_policy SET commit_mode = 'OnCertify', auto_certify = false WHERE target_table = 'core.person' AND field_name IS NULL")
            let job = try await db.submit(items: [.delete("E1")])
            try await db.runWorker()
            #expect(try await db.itemResults(job).map(\.status) == ["Held"])
            #expect(try await db.person("E1", "is_active") == "true")
            let deletion = try await db.entryID("record")
            #expect(try await db.entry(deletion) == ["Pending", "false", nil])
            _ = try await db.stewardship.certify(deletion, as: "alice")
            #expect(try await db.person("E1", "is_active") == "false")
            #expect(try await db.job(job) == .init(status: "Completed", total: 1, applied: 1))

            // Applied at once but not certified: a steward's reject brings the record back.
            try await db.exec(
                "UPDATE integration.commit_policy SET commit_mode = 'OnIngest' WHERE target_table = 'core.person' AND field_name IS NULL")
            try await db.submit(items: [.delete("E2")])
            try await db.runWorker()
            #expect(try await db.person("E2", "is_active") == "false")
            let applied = try await db.entryID("record", key: "E2")
            #expect(try await db.entry(applied) == ["Pending", "true", nil])
            let rejected = try await db.stewardship.reject(applied, as: "bob", notes: "still employed")
            #expect(!rejected.targetLeftAlone, "\(rejected.eventNotes ?? "")")
            #expect(try await db.person("E2", "is_active") == "true")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func certifyHeldRelationshipSetsTheForeignKeyAndRevokeClearsIt() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(
                "UPDATE integration.commit_policy SET commit_mode = 'OnCertify', auto_certify = false WHERE target_table = 'core.person' AND field_name = 'employer_id'")
            try await db.submit(entity: "core.organisation", items: [.set("O1", "name", "Analytical Engines")])
            try await db.runWorker()
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada"), .link("E1", "employer_id", to: "O1")])
            try await db.runWorker()
            #expect(try await db.itemResults(job).map(\.status) == ["Applied", "Held"])
            let organisation = try await db.text(
                "SELECT target_id::text FROM integration.identifier WHERE source_system_key = 'hr' AND target_table = 'core.organisation'")
            let link = try await db.entryID("employer_id")
            let certified = try await db.stewardship.certify(link, as: "alice")
            #expect(certified.entry.value("ledger_aspect") == "Relationship")
            #expect(try await db.person("E1", "employer_id") == organisation)

            _ = try await db.stewardship.revoke(link, as: "alice")
            #expect(try await db.person("E1", "employer_id") == nil)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func queueListsPendingEntriesWithFilters() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            try await db.submit(items: [.set("E1", "email", "ada@example.org")])
            try await db.runWorker()
            try await db.link("C1", source: "crm", to: try await db.recordID("E1"), field: "birth_date", value: "1991-03-04")

            let all = try await db.stewardship.queue()
            #expect(all.total == 3)
            #expect(all.entries.values("aspect_key") == ["birth_date", "email", "birth_date"])
            #expect(all.entries.values("source_system_key") == ["hr", "hr", "crm"])
            #expect(all.entries.values("record_keys") == ["crm:C1, hr:E1", "crm:C1, hr:E1", "crm:C1, hr:E1"])
            #expect(all.entries.values("state") == ["held", "applied", "held"])
            #expect(all.entries.values("hold_reason") == ["on_certify", "not_auto_certified", "on_certify"])
            #expect(all.entries.values("proposed_value") == ["1990-01-02", "ada@example.org", "1991-03-04"])
            #expect(all.entries.values("current_value") == [nil, "ada@example.org", nil])
            #expect(all.entries.values("is_applied") == ["false", "true", "false"])
            #expect(all.entries.values("has_conflict") == ["false", "false", "false"])
            #expect(all.entries.columns.map(\.name) == StewardQueries.queueColumns)

            let crm = try await db.stewardship.queue(.init(table: "core.person", source: "crm"))
            #expect(crm.total == 1)
            #expect(crm.entries.values("source_system_key") == ["crm"])
            let first = try await db.stewardship.queue(.init(limit: 1))
            #expect(first.total == 3)
            #expect(first.entries.values("aspect_key") == ["birth_date"])
            let emails = try await db.stewardship.queue(.init(field: "email"))
            #expect(emails.entries.rows.count == 1)

            // Certifying hr's birth date puts crm's in conflict.
            _ = try await db.stewardship.certify(try await db.entryID("birth_date"), as: "alice")
            let after = try await db.stewardship.queue(.init(field: "birth_date"))
            #expect(after.entries.values("has_conflict") == ["true"])
            #expect(after.entries.values("current_value") == ["1990-01-02"])

            let none = try await db.stewardship.queue(.init(source: "payroll"))
            #expect(none.total == 0)
            #expect(StewardFormat.queueTable(none) == "no pending entries")
            #expect(StewardFormat.queueCounts(none) == "0 pending")

            do {
                _ = try await db.stewardship.queue(.init(table: "core.persn"))
                Issue.record("an unregistered table was accepted")
            } catch {
                #expect(StewardError.describing(error).message == "core.persn is not a registered target table")
            }
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func historyByRecordOrExternalKeyWithEvents() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            try await db.submit(items: [.set("E1", "given_name", "Ada Mary")])
            try await db.runWorker()
            let person = try await db.recordID("E1")
            let birth = try await db.entryID("birth_date")
            _ = try await db.stewardship.certify(birth, as: "alice", notes: "seen")

            let byRecord = try await db.stewardship.history(.record(table: "core.person", id: person))
            #expect(byRecord.entries.values("aspect_key") == ["record", "given_name", "birth_date", "given_name"])
            #expect(byRecord.entries.values("ledger_status") == ["Certified", "Certified", "Certified", "Certified"])
            #expect(byRecord.identifiers.values("external_key") == ["E1"])
            // Three were certified by policy at birth, one by a steward (the one event).
            #expect(byRecord.entries.values("birth_status") == ["Certified", "Certified", "Pending", "Certified"])
            #expect(byRecord.events.values("actor") == ["alice"])

            let byKey = try await db.stewardship.history(.external(source: "hr", key: "E1", table: nil), field: "given_name")
            #expect(byKey.records.values("target_id") == [person.uuidString.lowercased()])
            #expect(byKey.entries.values("value") == ["Ada", "Ada Mary"])
            #expect(byKey.entries.values("previous_value") == [nil, "Ada"])
            #expect(byKey.current.values("current_value") == ["Ada Mary"])
            #expect(byKey.events.rows.isEmpty)
            #expect(byKey.entries.values("birth_status") == ["Certified", "Certified"])  // by policy, at birth

            let birthOnly = try await db.stewardship.history(.external(source: "hr", key: "E1", table: "core.person"), field: "birth_date")
            let lines = birthOnly.jsonLines().split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.contains("\"ledger_id\":\(birth),") == true)
            #expect(lines.first?.contains("\"is_applied\":true") == true)
            #expect(
                lines.first?.contains("\"events\":[{\"event_id\":") == true
                    && lines.first?.contains("\"from_status\":\"Pending\",\"to_status\":\"Certified\",\"actor\":\"alice\"") == true,
                "\(lines.first ?? "")")
            let text = StewardFormat.historyText(birthOnly)
            #expect(text.hasPrefix("== Record core.person \(person.uuidString.lowercased())"))
            #expect(text.contains("== Events"))

            for (subject, message) in [
                (StewardQueries.Subject.external(source: "hr", key: "E9", table: nil), "no record has hr key 'E9'"),
                (.external(source: "hq", key: "E1", table: nil), "unknown source system 'hq'"),
                (.record(table: "core.people", id: person), "core.people is not a registered target table"),
            ] {
                do {
                    _ = try await db.stewardship.history(subject)
                    Issue.record("\(subject) was accepted")
                } catch {
                    #expect(StewardError.describing(error).message == message)
                }
            }
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    /// The bad interleaving forced: another session holds the entry's row
    /// and then asks for the record's row, which the certify holds while it
    /// waits for the entry. PostgreSQL breaks the deadlock by failing the
    /// certify (its deadlock_timeout ends first); `retrying` rolls the attempt
    /// back, waits for the other session and certifies: the steward sees no
    /// error. Without the retry the certify fails with 40P01.
    @Test func aDeadlockInACertifyIsRetriedNotSurfaced() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date")
            let person = try await db.recordID("E1")
            let deadlocksBefore = try await db.int("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            let steward = db.stewardship

            let status: String = try await withThrowingTaskGroup(of: String.self) { group in
                try await db.client.withConnection { other in
                    try await other.query("BEGIN", logger: db.logger)
                    // This session is never the one PostgreSQL picks to fail.
                    try await other.query("SET LOCAL deadlock_timeout = '60s'", logger: db.logger)
                    try await other.query(
                        "SELECT 1 FROM integration.ledger WHERE ledger_id = \(held) FOR UPDATE", logger: db.logger)
                    group.addTask { try await steward.certify(held, as: "alice").status ?? "" }
                    #expect(try await Self.aSessionWaitsForALock(db), "the certify never waited for the entry")
                    // Now the cycle: this session waits for the record the certify holds.
                    try await other.query("SELECT 1 FROM core.person WHERE id = \(person) FOR UPDATE", logger: db.logger)
                    try await other.query("COMMIT", logger: db.logger)
                }
                return try await group.next() ?? ""
            }
            #expect(status == "Certified")
            #expect(try await db.entry(held) == ["Certified", "true", "alice"])
            #expect(try await db.person("E1", "birth_date") == "1990-01-02")
            // PostgreSQL did detect the deadlock: the certify was failed once and tried again.
            #expect(try await db.int("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()") > deadlocksBefore)
            #expect(try await db.events(held) == ["Pending→Certified alice"])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}

@Suite("Stewardship: table and JSON rendering")
struct StewardFormattingTests {
    let listing = Listing(
        columns: [.init("ledger_id", .number), .init("value"), .init("is_applied", .boolean), .init("extra", .json)],
        rows: [
            ["7", "Ada \"the\" \\first\\\nline\ttab\u{01}é", "true", "{\"a\":1}"],
            ["8", nil, "false", nil],
        ])

    @Test func jsonLinesKeepKindsAndEscape() {
        #expect(
            listing.jsonLines()
                == """
                {"ledger_id":7,"value":"Ada \\"the\\" \\\\first\\\\\\nline\\ttab\\u0001é","is_applied":true,"extra":{"a":1}}
                {"ledger_id":8,"value":null,"is_applied":false,"extra":null}
                """)
        #expect(listing.jsonArray().hasPrefix("[{\"ledger_id\":7,"))
        #expect(listing.jsonArray().hasSuffix("\"extra\":null}]"))
        #expect(Listing.jsonValue("12x", kind: .number) == "\"12x\"")
        #expect(listing.jsonObject(row: 1, extra: [("events", "[]")]).hasSuffix(",\"events\":[]}"))
        // Every line parses as JSON.
        for line in listing.jsonLines().split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)")
        }
    }

    @Test func tablesAlignTruncateAndRename() {
        let table = Listing(
            columns: [.init("ledger_id", .number), .init("proposed_value"), .init("age")],
            rows: [["1", String(repeating: "x", count: 50), "00:01:00"], ["22", "short\nvalue", nil]])
        let rendered = table.renderTable(columns: ["ledger_id", "proposed_value"], headers: StewardFormat.headers, maxWidth: 10)
        #expect(
            rendered == """
                entry  proposed
                -----  ----------
                1      xxxxxxxxx…
                22     short⏎val…
                """)
        #expect(table.renderTable(maxWidth: nil).contains(String(repeating: "x", count: 50)))
        #expect(table.renderTable().contains("NULL"))
    }

    @Test func queueAndActionText() {
        let entries = Listing(
            columns: StewardQueries.queueColumns.map { Listing.Column($0) },
            rows: [StewardQueries.queueColumns.map { $0 == "ledger_id" ? "5" : $0 == "aspect_key" ? "email" : nil }])
        let counts = Listing(
            columns: [.init("state"), .init("hold_reason"), .init("entries", .number)],
            rows: [["held", "authority", "2"], ["held", "on_certify", "1"], ["applied", "not_auto_certified", "6"]])
        let queue = StewardQueries.Queue(entries: entries, total: 9, counts: counts)
        let text = StewardFormat.queueTable(queue)
        #expect(text.hasPrefix("entry  record  field  source  state  reason  current  proposed  conflict  age"))
        #expect(text.hasSuffix("1 of 9 matching entries (oldest first; --limit shows more)"))
        #expect(
            StewardFormat.queueCounts(queue)
                == "9 pending: held 3 (authority 2, on_certify 1); applied 6 (not_auto_certified 6)")

        let columns = StewardQueries.actionColumns
        let values: [String: String] = [
            "ledger_id": "42", "target_table": "core.person", "target_id": "3f2a", "aspect_key": "birth_date",
            "source_system_key": "hr", "ledger_status": "Certified", "value": "1990-01-02", "is_applied": "true",
            "from_status": "Pending", "to_status": "Certified", "actor": "alice", "event_notes": "checked", "sent_to": "crm,payroll",
        ]
        let result = StewardQueries.ActionResult(
            action: .certify, entry: Listing(columns: columns.map { Listing.Column($0) }, rows: [columns.map { values[$0] }]))
        #expect(result.sentTo == ["crm", "payroll"])
        #expect(
            StewardFormat.actionText(result) == """
                ledger entry 42: Pending → Certified by alice
                  core.person 3f2a birth_date from hr: '1990-01-02' (previous NULL), applied
                  notes: checked
                  sent to: crm, payroll
                """)
    }

    @Test func historyJSONNestsEventsUnderTheirEntry() {
        let entries = Listing(columns: [.init("ledger_id", .number), .init("value")], rows: [["1", "a"], ["2", "b"]])
        let events = Listing(
            columns: [.init("event_id", .number), .init("ledger_id", .number), .init("to_status")],
            rows: [["10", "1", "Certified"], ["11", "2", "Pending"], ["12", "1", "Revoked"]])
        let empty = Listing(columns: [], rows: [])
        let history = StewardQueries.History(records: empty, identifiers: empty, current: empty, entries: entries, events: events)
        #expect(
            history.jsonLines() == """
                {"ledger_id":1,"value":"a","events":[{"event_id":10,"to_status":"Certified"},{"event_id":12,"to_status":"Revoked"}]}
                {"ledger_id":2,"value":"b","events":[{"event_id":11,"to_status":"Pending"}]}
                """)
    }

    @Test func serverRefusalsBecomeWordsWithCommandLineHints() {
        let conflict = StewardError(sqlState: .targetChanged, message: "conflict on ledger entry 1", hint: StewardError.cliHint(sqlState: .targetChanged))
        #expect(conflict.description.hasPrefix("conflict on ledger entry 1\nhint: "))
        #expect(conflict.description.contains("--force"))
        #expect(StewardError.describing(conflict) == conflict)
    }
}
