import Foundation
import Logging
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// The migrator and the layout of `sql/` (SPEC §1), on databases of their own
/// (not copies of the migrated template).
@Suite("Migrations on PostgreSQL")
struct MigrationTests {
    /// An empty database on the shared server, unique to this test.
    static func emptyDatabase(_ label: String) async throws -> DatabaseURL {
        let server = try await TestCluster.shared.serverURL()
        let name = "mig_\(label)_\(ProcessInfo.processInfo.processIdentifier)"
        try await Database.createDatabase(name, on: server, replace: true, logger: TestCluster.logger)
        return server.with(database: name)
    }

    static func withClient<T: Sendable>(_ url: DatabaseURL, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await Database.withClient(url, maximumConnections: 2, logger: TestCluster.logger, body)
    }

    static func rows(_ client: PostgresClient, _ query: PostgresQuery) async throws -> [[String?]] {
        try await TextTable.query(query, on: client, logger: TestCluster.logger).rows
    }

    /// What the migrations recorded.
    static func recorded(_ client: PostgresClient) async throws -> [[String?]] {
        try await rows(client, "SELECT version, checksum, applied_at::text FROM integration.schema_migration ORDER BY version")
    }

    static let shipped: Migrator = try! Migrator(directory: Migrator.locateDirectory())

    @Test func migratingTwiceAppliesEverythingOnceAndNothingTheSecondTime() async throws {
        let url = try await Self.emptyDatabase("twice")
        let migrator = Self.shipped
        try await Self.withClient(url) { client in
            let first = try await migrator.migrate(client: client, logger: TestCluster.logger)
            #expect(first == migrator.files.map(\.name))
            let recorded = try await Self.recorded(client)
            #expect(recorded.map { $0[0] } == migrator.files.map(\.name).sorted())
            #expect(Set(recorded.map { $0[1] }) == Set(migrator.files.map(\.checksum)))
            let schema = try SchemaDump.of(url)

            let second = try await migrator.migrate(client: client, logger: TestCluster.logger)
            #expect(second.isEmpty)
            #expect(try await Self.recorded(client) == recorded)
            #expect(try SchemaDump.of(url) == schema)
        }
    }

    @Test func aNewVersionedFileIsAppliedAlone() async throws {
        let url = try await Self.emptyDatabase("newfile")
        try await Self.withClient(url) { client in
            try await Self.shipped.migrate(client: client, logger: TestCluster.logger)
            let before = try await Self.recorded(client)

            let extended = Migrator(
                versions: Self.shipped.versions + [.init(name: "schema/999_test_extra.sql", sql: "CREATE TABLE integration.test_extra (x int);")],
                code: Self.shipped.code)
            let applied = try await extended.migrate(client: client, logger: TestCluster.logger)
            #expect(applied == ["schema/999_test_extra.sql"])
            let after = try await Self.recorded(client)
            #expect(after.filter { $0[0] != "schema/999_test_extra.sql" } == before)
            #expect(try await Self.rows(client, "SELECT to_regclass('integration.test_extra')::text") == [["integration.test_extra"]])
        }
    }

    @Test func aFailingMigrationIsRolledBackAndNotRecorded() async throws {
        let url = try await Self.emptyDatabase("failing")
        try await Self.withClient(url) { client in
            try await Self.shipped.migrate(client: client, logger: TestCluster.logger)
            let schema = try SchemaDump.of(url)
            let broken = Migrator(
                versions: Self.shipped.versions + [
                    .init(name: "schema/998_broken.sql", sql: "CREATE TABLE integration.half_done (x int);\nSELECT 1 / 0;")
                ], code: Self.shipped.code)
            do {
                try await broken.migrate(client: client, logger: TestCluster.logger)
                Issue.record("the broken migration was applied")
            } catch {
                #expect(PostgresErrors.message(error).contains("migration schema/998_broken.sql failed: division by zero"))
            }
            #expect(try await Self.rows(client, "SELECT to_regclass('integration.half_done')::text") == [[nil]])
            #expect(
                try await Self.rows(client, "SELECT count(*)::text FROM integration.schema_migration WHERE version = 'schema/998_broken.sql'")
                    == [["0"]])
            #expect(try SchemaDump.of(url) == schema)
        }
    }

    /// A changed code file re-applies the code, and what no file defines any
    /// more (a function, a view, a trigger, a policy) is gone afterwards.
    @Test func changedCodeIsAppliedAgainAndWhatIsGoneIsDropped() async throws {
        let url = try await Self.emptyDatabase("recode")
        let extra = Migrator.File(
            name: "code/97_test_extra.sql",
            sql: """
                CREATE OR REPLACE FUNCTION integration.test_extra(p integer) RETURNS integer LANGUAGE sql AS 'SELECT p + 1';
                CREATE OR REPLACE VIEW integration.test_extra_view AS SELECT integration.test_extra(1) AS two;
                CREATE OR REPLACE FUNCTION integration.test_extra_trigger() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
                CREATE OR REPLACE TRIGGER test_extra BEFORE UPDATE ON integration.app_user
                  FOR EACH ROW EXECUTE FUNCTION integration.test_extra_trigger();
                DROP POLICY IF EXISTS test_extra ON integration.sync_job;
                CREATE POLICY test_extra ON integration.sync_job FOR SELECT TO syncledger_admin USING (false);
                GRANT EXECUTE ON FUNCTION integration.test_extra(integer) TO syncledger_admin;
                """)
        try await Self.withClient(url) { client in
            let with = Migrator(versions: Self.shipped.versions, code: Self.shipped.code + [extra])
            try await with.migrate(client: client, logger: TestCluster.logger)
            #expect(try await Self.rows(client, "SELECT two::text FROM integration.test_extra_view") == [["2"]])
            #expect(try await Self.rows(client, "SELECT has_function_privilege('syncledger_admin', 'integration.test_extra(integer)', 'EXECUTE')::text") == [["true"]])

            // The file goes away: all of it goes; the rest stays as it was.
            let applied = try await Self.shipped.migrate(client: client, logger: TestCluster.logger)
            #expect(applied.isEmpty)  // no shipped file changed; the code was applied again for the one that went
            #expect(
                try await Self.rows(
                    client,
                    """
                    SELECT to_regprocedure('integration.test_extra(integer)')::text, to_regclass('integration.test_extra_view')::text,
                           (SELECT count(*) FROM pg_trigger WHERE tgname = 'test_extra')::text,
                           (SELECT count(*) FROM pg_policy WHERE polname = 'test_extra')::text
                    """) == [[nil, nil, "0", "0"]])
            #expect(
                try await Self.rows(client, "SELECT count(*)::text FROM integration.schema_migration WHERE version = 'code/97_test_extra.sql'")
                    == [["0"]])
            // Exactly the schema a database that never had the file gets.
            let fresh = try await Self.emptyDatabase("recode_fresh")
            _ = try await Self.withClient(fresh) { try await Self.shipped.migrate(client: $0, logger: TestCluster.logger) }
            #expect(try SchemaDump.of(url) == SchemaDump.of(fresh))
        }
    }

    /// SPEC §1: numbered versioned files from the baseline on; code files one
    /// per concern; every function and view created in exactly one file.
    @Test func theFilesAreLaidOutAsTheSpecSays() throws {
        let migrator = Self.shipped
        #expect(migrator.versions.first?.name == Migrator.baseline)
        for files in [migrator.versions, migrator.code] {
            let names = files.map(\.name)
            #expect(names == names.sorted())
            #expect(Set(names.map { $0.split(separator: "/")[1].prefix(while: \.isNumber) }).count == names.count)
        }
        let definition = try Regex(#"(?i)create\s+(?:or\s+replace\s+)?(?:function|view|procedure)\s+([a-z_.]+)"#)
        var homes: [String: Set<String>] = [:]
        for file in migrator.files {
            for match in file.sql.matches(of: definition) {
                homes[String(match.output[1].substring ?? "").lowercased(), default: []].insert(file.name)
            }
        }
        #expect(homes.count > 50)
        let twice = homes.filter { $0.value.count > 1 }
        #expect(twice.isEmpty, "defined in more than one file: \(twice)")
        // Versioned files change the schema only: no functions or views there.
        for file in migrator.versions {
            #expect(file.sql.matches(of: definition).isEmpty, "\(file.name) defines code")
        }
    }

    /// A database migrated by the last release with the old layout (its
    /// dump, with a demo's data and steward actions, is a fixture) upgrades
    /// in place: afterwards its schema is exactly a fresh database's, and its
    /// ledger verifies.
    @Test func aDatabaseOfTheLegacyReleaseUpgradesInPlace() async throws {
        let url = try await Self.emptyDatabase("legacy")
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/release-14.sql.gz")
        let dump = try PostgresTools.run("gzip", ["--decompress", "--stdout", fixture.path], viaPath: true)
        _ = try PostgresTools.run(
            "psql", PostgresTools.connection(url) + ["--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--file", "-"], input: dump,
            password: url.password)
        try await Self.withClient(url) { client in
            let legacy = try await Self.rows(client, "SELECT version FROM integration.schema_migration ORDER BY version")
            #expect(legacy.map { $0[0] ?? "" } == Migrator.legacyRelease)

            let applied = try await Self.shipped.migrate(client: client, logger: TestCluster.logger)
            #expect(applied == Self.shipped.files.dropFirst().map(\.name))
            #expect(try await Self.rows(client, "SELECT version FROM integration.schema_migration ORDER BY version").map { $0[0] ?? "" }
                == Self.shipped.files.map(\.name).sorted())
            #expect(try await Self.rows(client, "SELECT count(*)::text FROM integration.verify_ledger()") == [["0"]])
            #expect(try await Self.rows(client, "SELECT count(*)::text FROM integration.provenance_violations()") == [["0"]])
            // The data is there: the fixture's certification, rejection and revocation.
            #expect(
                try await Self.rows(client, "SELECT string_agg(to_status, ',' ORDER BY event_id) FROM integration.ledger_event WHERE actor = 'dana'")
                    == [["Certified,Certified,Rejected,Revoked,Certified"]])
        }
        let fresh = try await Self.emptyDatabase("legacy_fresh")
        _ = try await Self.withClient(fresh) { try await Self.shipped.migrate(client: $0, logger: TestCluster.logger) }
        #expect(try SchemaDump.of(url) == SchemaDump.of(fresh))
    }

    /// A database that holds only part of the legacy release's migrations is
    /// not guessed at.
    @Test func aPartlyMigratedLegacyDatabaseIsRefused() async throws {
        let url = try await Self.emptyDatabase("legacy_part")
        try await Self.withClient(url) { client in
            try await Database.runScript(
                """
                CREATE SCHEMA integration;
                CREATE TABLE integration.schema_migration (version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO integration.schema_migration (version, checksum) VALUES ('001_schema.sql', 'x'), ('002_worker_support.sql', 'y');
                """, on: client, logger: TestCluster.logger)
            do {
                try await Self.shipped.migrate(client: client, logger: TestCluster.logger)
                Issue.record("a partly migrated legacy database was migrated")
            } catch {
                let message = "\(error)"
                #expect(message.contains("migrated by an older release"), "\(message)")
                #expect(message.contains("003_stewardship.sql"), "\(message)")
            }
        }
    }

    /// `docs/schema.sql` is the schema a fresh database gets. When it drifts,
    /// regenerate it with SYNCLEDGER_UPDATE_SCHEMA_DUMP=1 swift test --filter schemaDump.
    @Test func schemaDumpInDocsIsWhatTheMigrationsMake() async throws {
        let url = try await Self.emptyDatabase("dump")
        _ = try await Self.withClient(url) { try await Self.shipped.migrate(client: $0, logger: TestCluster.logger) }
        let dump = try SchemaDump.of(url)
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/schema.sql").standardized
        if ProcessInfo.processInfo.environment["SYNCLEDGER_UPDATE_SCHEMA_DUMP"] == "1" {
            try dump.write(to: file, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOf: file, encoding: .utf8)
        #expect(committed == dump, "docs/schema.sql differs from a fresh database: regenerate it with SYNCLEDGER_UPDATE_SCHEMA_DUMP=1 swift test --filter schemaDump")
    }
}
