import Foundation
import SyncLedgerTestSupport
import Testing

/// The built `syncledger` binary, run as a connector or steward would.
@Suite("syncledger steward and outbound commands")
struct StewardOutboundCommandTests {
    @Test func outboundNextPrintsJSONLinesAndAckCompletes() async throws {
        try await TestDatabase.with { db in
            let (first, _) = try await db.twoPayrollJobs()

            let next = try await CommandProcess.run(["outbound", "next", "--source", "payroll", "--owner", "cli", "--lease-seconds", "30"], url: db.url)
            #expect(next.status == 0, "\(next.stderr)")
            let lines = next.stdout.split(separator: "\n")
            #expect(lines.count == 1, "\(next.stdout)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
            #expect(object["job_id"] as? Int == Int(first))
            #expect(object["new_value"] as? String == "Ada Mary")
            #expect(next.stderr.contains("claimed outbound job \(first)"))

            let token = try #require(next.stderr.firstMatch(of: /--claim ([0-9a-f-]{36})/)?.output.1)
            let ack = try await CommandProcess.run(["outbound", "ack", "\(first)", "--claim", String(token)], url: db.url)
            #expect(ack.status == 0, "\(ack.stderr)")
            #expect(ack.stdout.contains("\"job_status\":\"Completed\""))
            #expect(try await db.job(first).status == "Completed")

            let refused = try await CommandProcess.run(["outbound", "ack", "\(first)"], url: db.url)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("sync job \(first) is Completed; only Processing jobs can be acknowledged"), "\(refused.stderr)")

            _ = try await CommandProcess.run(["outbound", "next", "--source", "payroll"], url: db.url)
            let none = try await CommandProcess.run(["outbound", "next", "--source", "payroll"], url: db.url)
            #expect(none.status == 0)
            #expect(none.stdout.isEmpty)
            #expect(none.stderr.contains("no outbound job waiting for payroll"))
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func stewardCommandsPrintTablesJSONAndServerMessages() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date")

            let queue = try await CommandProcess.run(["steward", "queue"], url: db.url)
            #expect(queue.status == 0, "\(queue.stderr)")
            #expect(queue.stdout.hasPrefix("entry  record"), "\(queue.stdout)\n\(queue.stderr)")
            #expect(queue.stdout.contains("1 matching entry"))
            #expect(queue.stdout.contains("1 pending: held 1 (on_certify 1)"))
            let json = try await CommandProcess.run(["steward", "queue", "--json", "--source", "hr"], url: db.url)
            let entry = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(entry["ledger_id"] as? Int == Int(held))
            #expect(entry["is_applied"] as? Bool == false)

            let refused = try await CommandProcess.run(["steward", "certify", "\(held)", "--as", "carol"], url: db.url)
            #expect(refused.status == 1)
            #expect(refused.stderr.hasPrefix("error: user \"carol\" is not a steward"), "\(refused.stderr)")
            #expect(!refused.stderr.contains("PSQLError"))

            let certified = try await CommandProcess.run(["steward", "certify", "\(held)", "--as", "alice", "--notes", "seen"], url: db.url)
            #expect(certified.status == 0, "\(certified.stderr)")
            #expect(certified.stdout.hasPrefix("ledger entry \(held): Pending → Certified by alice"), "\(certified.stdout)")

            let history = try await CommandProcess.run(["steward", "history", "--source", "hr", "--key", "E1", "--field", "birth_date", "--json"], url: db.url)
            #expect(history.status == 0, "\(history.stderr)")
            #expect(history.stdout.contains("\"actor\":\"alice\""))
            let usage = try await CommandProcess.run(["steward", "history", "--source", "hr"], url: db.url)
            #expect(usage.status != 0)
            #expect(usage.stderr.contains("--source and --key go together"))
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}
