import Foundation
import Logging
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// Issue 11: a database that cannot be used is named within seconds, by
/// every command, with the cause and what to do: refused port, wrong
/// password (SCRAM), TLS required by `sslmode` but not offered, missing
/// database, schema not migrated or older than the binary. Exit 69 when
/// retrying may help, 78 when the configuration must change.
///
/// Each run has a bound that only catches a hang (the pool used to retry for
/// about 68 s); it is not a timing assertion.
@Suite("Connection failures are named at once")
struct ConnectionFailureTests {
    static let bound: Duration = .seconds(30)

    func status(_ databaseURL: String, _ arguments: [String] = ["status"]) async throws -> CommandRun {
        try await CommandRun.run(arguments, environment: ["DATABASE_URL": databaseURL], bound: Self.bound)
    }

    @Test func closedPortIsRefusedNamingHostAndPort() async throws {
        let port = try LoopbackPort.unused()
        let run = try await status("postgres://postgres@127.0.0.1:\(port)/app?sslmode=disable")
        #expect(run.status == 69, "\(run)")
        #expect(run.stderr.contains("connection refused by 127.0.0.1:\(port)"), "\(run)")
        #expect(!run.stderr.contains("CircuitBreaker"), "\(run)")
    }

    /// Every command that talks to a database goes through the same check.
    @Test(arguments: [
        ["status"], ["status", "--json"], ["migrate"], ["verify"], ["steward", "queue"], ["steward", "certify", "1", "--as", "alice"],
        ["outbound", "next", "--source", "hr"], ["outbound", "ack", "1"], ["demo"], ["bench"],
    ])
    func everyCommandNamesARefusedConnection(arguments: [String]) async throws {
        let port = try LoopbackPort.unused()
        let run = try await status("postgres://postgres@127.0.0.1:\(port)/app?sslmode=disable", arguments)
        #expect(run.status == 69, "\(run)")
        #expect(run.stderr.contains("connection refused by 127.0.0.1:\(port)"), "\(run)")
        #expect(run.stderr.contains("hint: "), "\(run)")
    }

    @Test func wrongPasswordWithScramNamesTheUser() async throws {
        let server = try await TestCluster.shared.passwordServerURL()
        let url = CommandRun.databaseURL(
            DatabaseURL(host: server.host, port: server.port, username: TestCluster.passwordRole, database: "postgres"), password: "wrong")
        let run = try await status(url)
        #expect(run.status == 78, "\(run)")
        #expect(run.stderr.contains("refused user \"\(TestCluster.passwordRole)\""), "\(run)")
        #expect(run.stderr.contains("password authentication failed"), "\(run)")
        #expect(!run.stderr.contains("wrong"), "the password must not be printed: \(run)")

        // The right password gets past authentication (to the next cause:
        // this database holds no syncledger schema).
        let right = try await status(
            CommandRun.databaseURL(
                DatabaseURL(host: server.host, port: server.port, username: TestCluster.passwordRole, database: "postgres"),
                password: "right-password"))
        #expect(right.status == 78, "\(right)")
        #expect(right.stderr.contains("never migrated"), "\(right)")
    }

    @Test func tlsRequiredAgainstAServerWithoutTLS() async throws {
        let url = try await TestCluster.shared.serverURL()
        let run = try await status(CommandRun.databaseURL(url.with(database: "postgres"), sslMode: "require"))
        #expect(run.status == 78, "\(run)")
        #expect(run.stderr.contains("does not offer TLS, and sslmode=require requires it"), "\(run)")
        #expect(!run.stderr.contains("Generic description"), "\(run)")
    }

    @Test func missingDatabaseIsNamed() async throws {
        let url = try await TestCluster.shared.serverURL()
        let name = "no_such_database_\(ProcessInfo.processInfo.processIdentifier)"
        let run = try await status(CommandRun.databaseURL(url.with(database: name)))
        #expect(run.status == 78, "\(run)")
        #expect(run.stderr.contains("database \"\(name)\" does not exist"), "\(run)")
    }

    @Test func unmigratedDatabaseSaysRunMigrate() async throws {
        let server = try await TestCluster.shared.serverURL()
        let name = "unmigrated_\(ProcessInfo.processInfo.processIdentifier)"
        try await Database.createDatabase(name, on: server, replace: true, logger: TestCluster.logger)
        let url = CommandRun.databaseURL(server.with(database: name))

        for arguments in [["status"], ["steward", "queue"], ["verify"]] {
            let run = try await status(url, arguments)
            #expect(run.status == 78, "\(arguments): \(run)")
            #expect(run.stderr.contains("database \"\(name)\" has no syncledger schema"), "\(arguments): \(run)")
            #expect(run.stderr.contains("run `syncledger migrate`"), "\(arguments): \(run)")
            #expect(!run.stderr.contains("does not exist"), "\(arguments): \(run)")
        }
        // migrate needs the connection only, and fixes it.
        // Migrating applies every file: on a loaded machine that takes longer than a refusal.
        let migrate = try await CommandRun.run(["migrate"], environment: ["DATABASE_URL": url], bound: .seconds(120))
        #expect(migrate.status == 0, "\(migrate)")
        let after = try await status(url)
        #expect(after.status == 0, "\(after)")
    }

    @Test func schemaOlderThanTheBinaryNamesTheMissingMigrations() async throws {
        try await TestDatabase.with { db in
            let next = try Migrator.nextRelease()
            defer { try? FileManager.default.removeItem(at: next.directory) }
            let environment = ["DATABASE_URL": CommandRun.databaseURL(db.url), "SYNCLEDGER_SQL_DIR": next.directory.path]
            let run = try await CommandRun.run(["steward", "queue"], environment: environment)
            #expect(run.status == 78, "\(run)")
            #expect(run.stderr.contains("older than this syncledger"), "\(run)")
            #expect(run.stderr.contains("1 migration(s) not applied: \(next.missing)"), "\(run)")
            #expect(run.stderr.contains("run `syncledger migrate`"), "\(run)")
            // status is what an operator runs mid-upgrade (issue 21): it shows
            // what the schema holds, with the same news as a warning.
            for arguments in [["status"], ["status", "--json"]] {
                let status = try await CommandRun.run(arguments, environment: environment)
                #expect(status.status == 0, "\(arguments): \(status)")
                #expect(status.stderr.contains("warning: the schema is older than this syncledger"), "\(arguments): \(status)")
                #expect(status.stderr.contains("1 migration(s) not applied: \(next.missing)"), "\(arguments): \(status)")
                #expect(status.stdout.contains("Inbound") || status.stdout.contains("inbound"), "\(arguments): \(status)")
            }
        }
    }

    /// A database migrated by the release before the registry of live
    /// workers (no `integration.worker`, no progress columns): status shows
    /// the queue and says what it could not read, exit 0.
    @Test func statusOnASchemaWithoutTheRegistryShowsWhatItCan() async throws {
        try await TestDatabase.with { db in
            try await db.exec(
                """
                DROP TABLE integration.worker CASCADE;
                ALTER TABLE integration.sync_job DROP COLUMN items_done CASCADE, DROP COLUMN items_per_second CASCADE,
                  DROP COLUMN progress_at CASCADE;
                DELETE FROM integration.schema_migration WHERE version = 'schema/007_operations.sql';
                """)
            try await db.submit(items: [.set("OLD1", "given_name", "Old")])
            for arguments in [["status"], ["status", "--json"]] {
                let run = try await status(CommandRun.databaseURL(db.url), arguments)
                #expect(run.status == 0, "\(arguments): \(run)")
                #expect(run.stderr.contains("warning: the schema is older than this syncledger"), "\(arguments): \(run)")
                #expect(run.stderr.contains("no registry of live workers"), "\(arguments): \(run)")
                #expect(run.stdout.contains("Submitted"), "\(arguments): \(run)")
            }
        }
    }

    /// A schema newer than the binary (a migration it does not know) is fine.
    @Test func newerSchemaIsAccepted() async throws {
        try await TestDatabase.with { db in
            try await db.exec("INSERT INTO integration.schema_migration (version, checksum) VALUES ('schema/999_from_the_future.sql', 'x')")
            let run = try await status(CommandRun.databaseURL(db.url))
            #expect(run.status == 0, "\(run)")
            #expect(run.stderr.contains("warning: the schema is newer than this syncledger"), "\(run)")
            let outcome = try await ConnectionCheck.run(
                url: db.url, requireSchema: true, migrator: Migrator(directory: Migrator.locateDirectory()), logger: db.logger)
            #expect(outcome.schemaVerified)
            #expect(outcome.newerMigrations == ["schema/999_from_the_future.sql"])
        }
    }

    /// The typed causes the worker decides on: which are fatal.
    @Test func causesAndFatality() async throws {
        let logger = TestCluster.logger
        let server = try await TestCluster.shared.serverURL()
        let migrator = try Migrator(directory: Migrator.locateDirectory())

        func cause(_ url: DatabaseURL, requireSchema: Bool = true) async -> ConnectionCheck.Failure? {
            do {
                // A generous connect timeout: the causes are what is tested, and
                // a loaded machine may take more than the default 5 s to answer.
                try await ConnectionCheck.run(
                    url: url, requireSchema: requireSchema, migrator: migrator, connectTimeout: .seconds(60), logger: logger)
                return nil
            } catch {
                return error as? ConnectionCheck.Failure
            }
        }

        let closedPort = try LoopbackPort.unused()
        let refused = await cause(DatabaseURL(host: "127.0.0.1", port: closedPort, username: "postgres", database: "x"))
        #expect(refused?.cause == .refused(host: "127.0.0.1", port: closedPort))
        #expect(refused?.isFatal == false)
        #expect(refused?.exitCode == 69)

        var tls = server.with(database: "postgres")
        tls.sslMode = .require
        #expect(await cause(tls)?.cause == .tlsNotOffered(sslMode: "require"))
        #expect(await cause(tls)?.isFatal == true)

        #expect(await cause(server.with(database: "nope_\(ProcessInfo.processInfo.processIdentifier)"))?.cause
            == .databaseMissing(name: "nope_\(ProcessInfo.processInfo.processIdentifier)"))

        #expect(await cause(server.with(database: "postgres"))?.cause == .schemaMissing(database: "postgres"))
        #expect(await cause(server.with(database: "postgres"), requireSchema: false) == nil)

        let password = try await TestCluster.shared.passwordServerURL()
        var wrong = DatabaseURL(host: password.host, port: password.port, username: TestCluster.passwordRole, database: "postgres")
        wrong.password = "wrong"
        let auth = await cause(wrong)
        guard case .authenticationFailed(let user, _) = auth?.cause else {
            Issue.record("expected authenticationFailed, got \(String(describing: auth))")
            return
        }
        #expect(user == TestCluster.passwordRole)
        #expect(auth?.isFatal == true)
        #expect(auth?.exitCode == 78)
    }
}
