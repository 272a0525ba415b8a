import Foundation
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// Issue 11: `--version`, `help` in every command group, examples in the
/// help, `status` (text and `--json`), and the demo's failure reasons in full.
@Suite("Command line")
struct CommandLineTests {
    @Test func versionComesFromOnePlace() async throws {
        let run = try await CommandRun.run(["--version"], bound: .seconds(30))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "\(SyncLedgerVersion.current)\n")
    }

    @Test(arguments: [
        (["steward", "help"], "syncledger steward <subcommand>"),
        (["steward", "help", "certify"], "syncledger steward certify"),
        (["outbound", "help"], "syncledger outbound <subcommand>"),
        (["outbound", "help", "next"], "syncledger outbound next"),
        (["help", "steward"], "syncledger steward <subcommand>"),
        (["help"], "syncledger <subcommand>"),
    ])
    func helpWorksInEveryGroup(arguments: [String], usage: String) async throws {
        let run = try await CommandRun.run(arguments, bound: .seconds(30))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("USAGE: \(usage)"), "\(run)")
    }

    @Test(arguments: [
        ["steward", "--help"], ["status", "--help"], ["migrate", "--help"], ["verify", "--help"], ["worker", "--help"], ["submit", "--help"],
        ["prune", "--help"],
    ])
    func helpShowsExamples(arguments: [String]) async throws {
        let run = try await CommandRun.run(arguments, bound: .seconds(30))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("Examples:"), "\(run)")
        #expect(run.stdout.contains("syncledger \(arguments[0]) "), "\(run)")
    }

    @Test func statusShowsQueuesLagBacklogAndFailuresAsJSON() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(source: "payroll", items: [.set("P1", "birth_date", "1990-01-02"), .set("P1", "emial", "x")])
            try await db.runWorker()
            try await db.submit(items: [.set("E1", "given_name", "Ann")])
            try await db.exec(
                """
                INSERT INTO integration.sync_job (source_system_key, entity_type, job_key, job_status, lease_owner, lease_expires_at)
                VALUES ('crm', 'core.person', 'leased', 'Processing', 'host-a:1', now() + interval '1 minute')
                """)

            let run = try await CommandRun.run(["status", "--json"], environment: ["DATABASE_URL": CommandRun.databaseURL(db.url)])
            #expect(run.status == 0, "\(run)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run)")
            #expect(report["version"] as? String == SyncLedgerVersion.current)
            let inbound = try #require(report["inbound"] as? [[String: Any]])
            let hr = try #require(inbound.first { $0["source"] as? String == "hr" })
            #expect(hr["ready"] as? Int == 1)
            #expect((hr["lag_seconds"] as? Double ?? -1) >= 0)
            let crm = try #require(inbound.first { $0["source"] as? String == "crm" })
            #expect(crm["processing"] as? Int == 1)
            #expect(crm["lag_seconds"] is NSNull)
            let leases = try #require(report["leases"] as? [[String: Any]])
            #expect(leases.contains { $0["owner"] as? String == "host-a:1" && $0["jobs"] as? Int == 1 })
            let backlog = try #require(report["review_backlog"] as? [[String: Any]])
            #expect(backlog.contains { $0["target_table"] as? String == "core.person" && $0["pending"] as? Int == 1 })
            let failed = try #require(report["failed_items"] as? [[String: Any]])
            #expect(failed.contains { $0["source"] as? String == "payroll" && $0["items"] as? Int == 1 })
            let jobs = try #require(report["jobs"] as? [[String: Any]])
            #expect(jobs.contains { $0["status"] as? String == "CompletedWithErrors" && $0["jobs"] as? Int == 1 })

            let text = try await CommandRun.run(["status"], environment: ["DATABASE_URL": CommandRun.databaseURL(db.url)])
            #expect(text.status == 0, "\(text)")
            for heading in ["== Inbound queue by source", "== Workers and their leases", "== Review backlog", "== Failed items by source"] {
                #expect(text.stdout.contains(heading), "\(text)")
            }
            #expect(text.stdout.contains("host-a:1"), "\(text)")
        }
    }

    /// The demo prints failure reasons whole, hint included.
    @Test(.timeLimit(.minutes(5)))
    func demoPrintsFailureReasonsInFull() async throws {
        let server = try await TestCluster.shared.serverURL()
        let run = try await CommandRun.run(
            ["demo"], environment: ["DATABASE_URL": CommandRun.databaseURL(server.with(database: "postgres"))], bound: .seconds(240))
        #expect(run.status == 0, "\(run)")
        let failures = try #require(run.stdout.components(separatedBy: "== Items that failed, and why\n").dropFirst().first, "\(run)")
            .components(separatedBy: "\n== ")[0]
        #expect(failures.contains("then call integration.requeue_failed(job_id)"), "\(failures)")
        #expect(!failures.contains("…"), "a reason was cut: \(failures)")
    }
}
