import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

extension TestDatabase {
    /// The outbound items produced for a ledger entry, as
    /// [receiver, external_key, operation, field_name, new_value], by receiver.
    func outboundItems(ledger ledgerID: Int64) async throws -> [[String?]] {
        try await rows(
            """
            SELECT j.source_system_key, i.external_key, i.operation, i.field_name, i.new_value
              FROM integration.sync_item i JOIN integration.sync_job j ON j.job_id = i.job_id
             WHERE j.direction = 'Outbound' AND i.ledger_id = \(ledgerID)
             ORDER BY j.source_system_key, i.item_id
            """)
    }

    /// Outbound jobs after `jobID`, as "receiver:items_total", by job id.
    func outboundJobs(after jobID: Int64 = 0) async throws -> [String] {
        try await rows(
            """
            SELECT source_system_key || ':' || items_total FROM integration.sync_job
             WHERE direction = 'Outbound' AND job_id > \(jobID) ORDER BY job_id
            """
        ).map { $0[0] ?? "" }
    }

    /// The largest job id so far.
    func lastJobID() async throws -> Int64 {
        Int64(try await int("SELECT coalesce(max(job_id), 0) FROM integration.sync_job"))
    }
}

@Suite("Outbound synchronisation and connectors on PostgreSQL")
struct OutboundTests {
    @Test func codedValuesAreMappedBackAndNeverEchoed() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let person = try await db.recordID("E1")
            try await db.link("P1", source: "payroll", to: person, field: "salary", value: "100")
            try await db.link("C1", source: "crm", to: person, field: "family_name", value: "Lovelace")

            // crm's family name goes to payroll (subscribed, with its own key), not back to crm.
            let fromCRM = try await db.entryID("family_name", from: "crm")
            #expect(try await db.outboundItems(ledger: fromCRM) == [["payroll", "P1", "Set", "family_name", "Lovelace"]])

            // hr's 'M' is 'married' canonically; payroll's own code for it is '1', crm has no map and gets 'married'.
            try await db.submit(items: [.set("E1", "marital_status", "M")])
            try await db.runWorker()
            let marital = try await db.entryID("marital_status")
            #expect(try await db.person("E1", "marital_status") == "married")
            #expect(
                try await db.outboundItems(ledger: marital) == [
                    ["crm", "C1", "Set", "marital_status", "married"],
                    ["payroll", "P1", "Set", "marital_status", "1"],
                ])
            // payroll's salary: crm had no identifier yet, hr subscribes to nothing.
            #expect(try await db.outboundItems(ledger: try await db.entryID("salary", key: "P1", source: "payroll")).isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func nothingGoesToASystemWithoutAnIdentifierASubscriptionOrThatIsInactive() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "email", "a@example.org")])
            try await db.runWorker()
            #expect(try await db.outboundJobs().isEmpty)  // nobody else knows E1

            let person = try await db.recordID("E1")
            try await db.link("P1", source: "payroll", to: person, field: "salary", value: "100")
            try await db.exec(
                """
                INSERT INTO integration.subscription (source_system_key, target_table, field_names) VALUES ('legacy', 'core.person', NULL);
                INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
                VALUES ('legacy', 'core.person', 'L1', '\(person.uuidString)');
                """)
            try await db.submit(items: [.set("E1", "email", "b@example.org")])
            try await db.runWorker()
            #expect(try await db.outboundJobs().isEmpty)  // payroll does not subscribe to email; legacy is inactive

            try await db.submit(items: [.set("E1", "given_name", "Ada Mary")])
            try await db.runWorker()
            #expect(try await db.outboundJobs() == ["payroll:1"])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func oneJobPerSystemPerWorkerChunkAndPerStewardTransaction() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: (1...3).map { .set("E\($0)", "given_name", "Person \($0)") })
            try await db.runWorker()
            var links: [TestDatabase.Item] = []
            var crmLinks: [TestDatabase.Item] = []
            for n in 1...3 {
                let id = try await db.recordID("E\(n)")
                links.append(.init(key: "P\(n)", field: "salary", value: "100", hint: id))
                crmLinks.append(.init(key: "C\(n)", field: "email", value: "p\(n)@example.org", hint: id))
            }
            try await db.submit(source: "payroll", items: links)
            try await db.submit(source: "crm", items: crmLinks)
            try await db.runWorker()

            let before = try await db.lastJobID()
            try await db.submit(
                items: (1...3).flatMap { n in [.set("E\(n)", "family_name", "Family \(n)"), .set("E\(n)", "marital_status", "S")] })
            try await db.runWorker { $0.parallelChunks = 1 }
            let afterWorker = try await db.lastJobID()
            #expect(try await db.outboundJobs(after: before).sorted() == ["crm:6", "payroll:6"])
            let payrollCodes = try await db.rows(
                """
                SELECT i.new_value FROM integration.sync_item i JOIN integration.sync_job j USING (job_id)
                 WHERE j.direction = 'Outbound' AND j.source_system_key = 'payroll' AND j.job_id > \(before)
                   AND i.field_name = 'marital_status'
                """)
            #expect(payrollCodes == [["2"], ["2"], ["2"]])

            // A steward's certification is one transaction: one job per receiver, with that one value.
            try await db.submit(items: [.set("E2", "birth_date", "1980-2-2")])
            try await db.runWorker()
            #expect(try await db.outboundJobs(after: afterWorker).isEmpty)  // held: nothing sent yet
            let held = try await db.entryID("birth_date", key: "E2")
            let result = try await db.stewardship.certify(held, as: "alice")
            #expect(result.sentTo == ["crm", "payroll"])
            #expect(try await db.outboundJobs(after: afterWorker).sorted() == ["crm:1", "payroll:1"])
            #expect(
                try await db.outboundItems(ledger: held) == [
                    ["crm", "C2", "Set", "birth_date", "1980-02-02"], ["payroll", "P2", "Set", "birth_date", "1980-02-02"],
                ])

            // Two certifications in one SQL transaction: still one job per receiver, now with two items.
            try await db.submit(items: [.set("E1", "birth_date", "1981-1-1"), .set("E3", "birth_date", "1983-3-3")])
            try await db.runWorker()
            let (one, three) = (try await db.entryID("birth_date", key: "E1"), try await db.entryID("birth_date", key: "E3"))
            let afterCertify = try await db.lastJobID()
            try await db.client.transaction(logger: db.logger) { conn in
                try await conn.query("SELECT 1 FROM integration.certify(\(one), 'alice')", logger: db.logger)
                try await conn.query("SELECT 1 FROM integration.certify(\(three), 'alice')", logger: db.logger)
            }
            #expect(try await db.outboundJobs(after: afterCertify).sorted() == ["crm:2", "payroll:2"])
            let seqs = try await db.rows(
                """
                SELECT string_agg(i.seq::text, ',' ORDER BY i.seq) FROM integration.sync_item i
                  JOIN integration.sync_job j USING (job_id) WHERE j.job_id > \(afterCertify) GROUP BY j.job_id
                """)
            #expect(seqs == [["1,2"], ["1,2"]])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func relationshipsGoOutAsTheReceiversOwnKeyForTheRelatedRecord() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(entity: "core.organisation", items: [.set("O1", "name", "Analytical Engines")])
            try await db.submit(items: [.set("E1", "given_name", "Ada")])
            try await db.runWorker()
            let organisation = try await db.recordID("O1")
            try await db.link("C1", source: "crm", to: try await db.recordID("E1"), field: "email", value: "ada@example.org")
            try await db.submit(
                source: "crm", entity: "core.organisation", items: [.init(key: "CO1", field: "name", value: "Analytical Engines Ltd", hint: organisation)])
            try await db.runWorker()

            try await db.submit(items: [.link("E1", "employer_id", to: "O1")])
            try await db.runWorker()
            let link = try await db.entryID("employer_id")
            let sent = try await db.outboundItems(ledger: link)
            let crosswalk = try await db.rows("SELECT source_system_key, external_key, target_table FROM integration.identifier ORDER BY 1, 2")
            #expect(sent == [["crm", "C1", "Link", "employer_id", "CO1"]], "\(sent) \(crosswalk)")

            // Revoking it clears the link everywhere it was sent (hr has no subscription).
            let revoked = try await db.stewardship.revoke(link, as: "alice")
            #expect(revoked.sentTo == ["crm"])
            #expect(try await db.outboundItems(ledger: link).last == ["crm", "C1", "Link", "employer_id", nil])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }


    @Test func claimTakesTheOldestJobAndAckCompletesIt() async throws {
        try await TestDatabase.with { db in
            let (first, second) = try await db.twoPayrollJobs()
            let outbound = db.outbound

            let claim = try #require(try await outbound.claim(source: "payroll", owner: "conn-1", leaseSeconds: 60))
            #expect(claim.jobID == first)
            #expect(claim.attempts == 1)
            #expect(claim.items.columns.map(\.name) == OutboundQueries.itemColumns)
            #expect(claim.items.values("external_key") == ["P1"])
            #expect(claim.items.values("field_name") == ["given_name"])
            #expect(claim.items.values("new_value") == ["Ada Mary"])
            #expect(claim.items.values("target_id") == [try await db.recordID("E1").uuidString.lowercased()])
            let maryEntry = try await db.text("SELECT ledger_id::text FROM integration.ledger WHERE value = 'Ada Mary'")
            #expect(claim.items.values("ledger_id") == [maryEntry])
            let line = claim.items.jsonLines()
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == Set(OutboundQueries.itemColumns))
            #expect(object["job_id"] as? Int == Int(first))
            #expect(object["seq"] as? Int == 1)
            #expect(object["operation"] as? String == "Set")
            #expect(try await db.text("SELECT job_status || ' ' || lease_owner FROM integration.sync_job WHERE job_id = \(first)") == "Processing conn-1")

            let next = try #require(try await outbound.claim(source: "payroll", owner: "conn-2"))
            #expect(next.jobID == second)
            #expect(next.items.values("field_name") == ["given_name", "family_name"])
            #expect(try await outbound.claim(source: "payroll", owner: "conn-3") == nil)
            #expect(try await outbound.claim(source: "crm", owner: "conn-3") == nil)

            // Fenced by the claim's token: another claim's token is refused.
            await expectRefusal("SL041", "sync job \(first) is held by another claim (leased to conn-1)") {
                _ = try await outbound.acknowledge(first, claim: next.token)
            }
            let acked = try await outbound.acknowledge(first, claim: claim.token)
            #expect(acked.value("job_status") == "Completed")
            #expect(acked.value("items_applied") == "1")
            #expect(try await db.job(first) == .init(status: "Completed", total: 1, applied: 1))
            #expect(try await db.rows("SELECT item_status FROM integration.sync_item WHERE job_id = \(first)") == [["Applied"]])
            await expectRefusal("SL041", "sync job \(first) is Completed; only Processing jobs can be acknowledged") {
                _ = try await outbound.acknowledge(first)
            }
            await expectRefusal("SL040", "sync job 999999 not found") { _ = try await outbound.acknowledge(999_999) }
            let inbound = Int64(try await db.int("SELECT min(job_id) FROM integration.sync_job WHERE direction = 'Inbound'"))
            await expectRefusal("SL041", "only outbound jobs can be acknowledged") { _ = try await outbound.acknowledge(inbound) }
            do {
                _ = try await outbound.claim(source: "payrol", owner: "x")
                Issue.record("an unknown source was accepted")
            } catch {
                #expect(StewardError.describing(error).message == "unknown source system 'payrol'")
            }
            do {
                _ = try await outbound.claim(source: "legacy", owner: "x")
                Issue.record("an inactive source was accepted")
            } catch {
                #expect(StewardError.describing(error).message == "source system 'legacy' is inactive: it receives no outbound jobs")
            }

            // A lease that runs out hands the job to the next claimer.
            try await db.exec("UPDATE integration.sync_job SET lease_expires_at = now() - interval '1 second' WHERE job_id = \(second)")
            let again = try #require(try await outbound.claim(source: "payroll", owner: "conn-3"))
            #expect(again.jobID == second)
            #expect(again.attempts == 2)
            // The connector whose lease ran out cannot complete the new claim's work.
            await expectRefusal("SL041", "held by another claim (leased to conn-3)") { _ = try await outbound.acknowledge(second, claim: next.token) }
            _ = try await outbound.acknowledge(second, claim: again.token)
            #expect(try await db.job(second).status == "Completed")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func aConnectorRoleClaimsAndAcknowledgesOnlyItsOwnSystemsJobs() async throws {
        try await TestDatabase.with { db in
            let (first, second) = try await db.twoPayrollJobs()
            try await db.link("C1", source: "crm", to: try await db.recordID("E1"), field: "email", value: "ada@example.org")
            try await db.submit(items: [.set("E1", "family_name", "Byron")])
            try await db.runWorker()
            #expect(try await db.outboundJobs(after: second).sorted() == ["crm:1", "payroll:1"])

            try await withLoginRole(db, "payroll_connector", in: ["syncledger_connector"], for: "payroll") { client, _ in
                let outbound = OutboundQueries(client: client, logger: db.logger)
                let claim = try #require(try await outbound.claim(source: "payroll", owner: "payroll-1"))
                #expect(claim.jobID == first)
                #expect(claim.items.values("new_value") == ["Ada Mary"])
                let acked = try await outbound.acknowledge(first, claim: claim.token)
                #expect(acked.value("job_status") == "Completed")
                // crm's job is not this connector's to see or take.
                #expect(try await outbound.claim(source: "crm", owner: "payroll-1") == nil)
            }
            #expect(try await db.job(first).status == "Completed")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job WHERE source_system_key = 'crm' AND job_status = 'Submitted' AND direction = 'Outbound'") == 1)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func connectorsClaimingAtOnceGetDifferentJobs() async throws {
        try await TestDatabase.with { db in
            let (first, second) = try await db.twoPayrollJobs()
            let outbound = db.outbound
            let claimed = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for owner in ["conn-a", "conn-b", "conn-c"] {
                    group.addTask { try await outbound.claim(source: "payroll", owner: owner)?.jobID }
                }
                return try await group.reduce(into: [Int64]()) { if let id = $1 { $0.append(id) } }
            }
            #expect(claimed.sorted() == [first, second])
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}
