import Foundation
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11: the worker checks the database before it starts. Fatal causes
/// (password, schema) end it after a short bounded retry with exit 78, so
/// systemd does not restart it into an account lockout; an unreachable
/// server is waited for, without end by a long-running worker, for a bounded
/// time with `--exit-when-idle`; `/readyz` says why it is not ready while it
/// waits, and SIGTERM ends the wait.
///
/// The bounds on each run only catch a hang; they are not timing assertions.
@Suite("Worker start-up: fail fast on configuration, wait for the server")
struct WorkerStartupTests {
    static func worker(_ databaseURL: String, _ arguments: [String]) async throws -> CommandRun {
        try await CommandRun.run(
            ["worker", "--worker-id", "startup"] + arguments, environment: ["DATABASE_URL": databaseURL], bound: .seconds(90))
    }

    /// A wrong password: three attempts, then exit 78 naming the user; not
    /// the pool's minute of retries and ~25 logins a minute for ever.
    @Test(arguments: [[], ["--exit-when-idle"]])
    func wrongPasswordEndsTheWorkerWith78(arguments: [String]) async throws {
        let server = try await TestCluster.shared.passwordServerURL()
        let url = CommandRun.databaseURL(
            DatabaseURL(host: server.host, port: server.port, username: TestCluster.passwordRole, database: "postgres"), password: "wrong")
        let run = try await Self.worker(url, arguments)
        #expect(run.status == 78, "\(run)")
        #expect(run.stderr.contains("refused user \"\(TestCluster.passwordRole)\""), "\(run)")
        #expect(run.stderr.contains("attempts=\(Worker.fatalAttempts)"), "\(run)")
        #expect(!run.stderr.contains("wrong"), "the password must not be printed: \(run)")
        #expect(!run.stderr.contains("CircuitBreaker"), "\(run)")
    }

    /// An unmigrated database: exit 78 with "run `syncledger migrate`",
    /// also without `--exit-when-idle` (it used to wait for ever).
    @Test func unmigratedDatabaseEndsTheWorkerWith78() async throws {
        let server = try await TestCluster.shared.serverURL()
        let name = "worker_unmigrated_\(ProcessInfo.processInfo.processIdentifier)"
        try await Database.createDatabase(name, on: server, replace: true, logger: TestCluster.logger)
        let run = try await Self.worker(CommandRun.databaseURL(server.with(database: name)), [])
        #expect(run.status == 78, "\(run)")
        #expect(run.stderr.contains("database \"\(name)\" has no syncledger schema"), "\(run)")
        #expect(run.stderr.contains("run `syncledger migrate`"), "\(run)")
    }

    /// A schema older than the binary (the next release's binary before its
    /// `migrate`) is named by its missing migrations.
    @Test func schemaOlderThanTheBinaryEndsTheWorkerNamingTheMissingMigrations() async throws {
        try await TestDatabase.with { db in
            let next = try Migrator.nextRelease()
            defer { try? FileManager.default.removeItem(at: next.directory) }
            let run = try await CommandRun.run(
                ["worker", "--worker-id", "startup", "--exit-when-idle"],
                environment: ["DATABASE_URL": CommandRun.databaseURL(db.url), "SYNCLEDGER_SQL_DIR": next.directory.path],
                bound: .seconds(90))
            #expect(run.status == 78, "\(run)")
            #expect(run.stderr.contains("1 migration(s) not applied: \(next.missing)"), "\(run)")
        }
    }

    /// A login that may not run the worker's functions (here a steward's):
    /// the server refuses for good, so the worker exits 78 naming the grant,
    /// with or without `--exit-when-idle`, rather than retrying for ever.
    @Test(arguments: [[], ["--exit-when-idle"]])
    func aLoginWithoutTheWorkerRoleEndsTheWorkerWith78(arguments: [String]) async throws {
        try await TestDatabase.with { db in
            try await withLoginRole(db, "not_a_worker", in: ["syncledger_steward"]) { _, url in
                let run = try await Self.worker(CommandRun.databaseURL(url), arguments)
                #expect(run.status == 78, "\(run)")
                #expect(run.stderr.contains("refuses this role's statements"), "\(run)")
                #expect(run.stderr.contains("permission denied"), "\(run)")
                #expect(run.stderr.contains("GRANT syncledger_worker"), "\(run)")
            }
        }
    }

    /// `--exit-when-idle` against a port nobody listens on gives up after
    /// its patience, with exit 69 (retrying later may help).
    @Test func exitWhenIdleGivesUpOnAnUnreachableServer() async throws {
        let port = try LoopbackPort.unused()
        let run = try await Self.worker(
            "postgres://postgres@127.0.0.1:\(port)/app?sslmode=disable", ["--exit-when-idle", "--start-patience-seconds", "3"])
        #expect(run.status == 69, "\(run)")
        #expect(run.stderr.contains("connection refused by 127.0.0.1:\(port)"), "\(run)")
        #expect(run.stderr.contains("giving up after"), "\(run)")
    }

    /// A long-running worker waits for a server that cannot be reached: it
    /// stays alive (`/healthz` 200), not ready (`/readyz` 503, saying it has
    /// not started and why), and SIGTERM ends the wait with exit 0.
    @Test(.timeLimit(.minutes(3)))
    func aWaitingWorkerIsAliveNotReadyAndStopsOnSIGTERM() async throws {
        let closed = try LoopbackPort.unused()
        let metrics = try LoopbackPort.unused()
        let worker = try WorkerProcess(
            id: "waiting", url: DatabaseURL(host: "127.0.0.1", port: closed, username: "postgres", database: "app"),
            arguments: ["--metrics-port", "\(metrics)"])
        defer { worker.signal(SIGKILL) }

        let unready = await HTTPProbe.wait(port: metrics, path: "/readyz") { $0.status == 503 && $0.body.contains("not started") }
        #expect(unready != nil, "no /readyz 503 'not started'; log:\n\(worker.log.suffix(3000))")
        #expect(unready?.body.contains("database") == true, "\(String(describing: unready))")
        #expect(await HTTPProbe.get(port: metrics, path: "/healthz")?.status == 200)
        #expect(worker.isRunning, "the worker gave up on a transient cause; log:\n\(worker.log.suffix(3000))")
        #expect(worker.log.contains("connection refused by 127.0.0.1:\(closed)"), "\(worker.log.suffix(3000))")

        worker.signal(SIGTERM)
        #expect(await worker.waitForExit(timeout: .seconds(60)) == 0, "log:\n\(worker.log.suffix(3000))")
    }
}
