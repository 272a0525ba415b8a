import Foundation
import Logging
import PostgresNIO
import Testing

@testable import SyncLedger

/// The migrator on databases of its own (not copies of the migrated template).
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

    /// A fingerprint of the schema: relations, functions, triggers, constraints and policies of `integration`.
    static func fingerprint(_ client: PostgresClient) async throws -> [[String?]] {
        try await rows(
            client,
            """
            SELECT 'class', count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'integration'
            UNION ALL
            SELECT 'proc', count(*)::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'integration'
            UNION ALL
            SELECT 'trigger', count(*)::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'integration' AND NOT t.tgisinternal
            UNION ALL
            SELECT 'constraint', count(*)::text FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'integration'
            UNION ALL
            SELECT 'policy', count(*)::text FROM pg_policies WHERE schemaname = 'integration'
            UNION ALL
            SELECT 'columns', string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY c.relname, a.attnum)
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'integration' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            """)
    }

    @Test func migratingTwiceAppliesEverythingOnceAndNothingTheSecondTime() async throws {
        let url = try await Self.emptyDatabase("twice")
        let migrator = try Migrator(directory: Migrator.locateDirectory())
        try await Self.withClient(url) { client in
            let first = try await migrator.migrate(client: client, logger: TestCluster.logger)
            #expect(first == migrator.migrations.map(\.name))
            #expect(!first.isEmpty)
            let recorded = try await Self.recorded(client)
            #expect(recorded.map { $0[0] } == first)
            #expect(recorded.map { $0[1] } == migrator.migrations.map(\.checksum))
            let fingerprint = try await Self.fingerprint(client)

            let second = try await migrator.migrate(client: client, logger: TestCluster.logger)
            #expect(second.isEmpty)
            #expect(try await Self.recorded(client) == recorded)
            #expect(try await Self.fingerprint(client) == fingerprint)
        }
    }

    @Test func aNewMigrationFileIsAppliedAlone() async throws {
        let url = try await Self.emptyDatabase("newfile")
        let shipped = try Migrator(directory: Migrator.locateDirectory())
        try await Self.withClient(url) { client in
            try await shipped.migrate(client: client, logger: TestCluster.logger)
            let before = try await Self.recorded(client)

            let extended = Migrator(
                migrations: shipped.migrations + [.init(name: "999_test_extra.sql", sql: "CREATE TABLE integration.test_extra (x int);")])
            let applied = try await extended.migrate(client: client, logger: TestCluster.logger)
            #expect(applied == ["999_test_extra.sql"])
            let after = try await Self.recorded(client)
            #expect(Array(after.prefix(before.count)) == before)
            #expect(after.last?[0] == "999_test_extra.sql")
            #expect(try await Self.rows(client, "SELECT to_regclass('integration.test_extra')::text") == [["integration.test_extra"]])
        }
    }

    @Test func aFailingMigrationIsRolledBackAndNotRecorded() async throws {
        let url = try await Self.emptyDatabase("failing")
        let shipped = try Migrator(directory: Migrator.locateDirectory())
        try await Self.withClient(url) { client in
            try await shipped.migrate(client: client, logger: TestCluster.logger)
            let fingerprint = try await Self.fingerprint(client)
            let broken = Migrator(
                migrations: shipped.migrations + [
                    .init(name: "998_broken.sql", sql: "CREATE TABLE integration.half_done (x int);\nSELECT 1 / 0;")
                ])
            do {
                try await broken.migrate(client: client, logger: TestCluster.logger)
                Issue.record("the broken migration was applied")
            } catch {
                // The migrator's error, inside the transaction wrapper; what the CLI prints.
                let message = PostgresErrors.message(error)
                #expect(message.contains("migration 998_broken.sql failed: division by zero"))
            }
            #expect(try await Self.rows(client, "SELECT to_regclass('integration.half_done')::text") == [[nil]])
            #expect(
                try await Self.rows(client, "SELECT count(*)::text FROM integration.schema_migration WHERE version = '998_broken.sql'")
                    == [["0"]])
            #expect(try await Self.fingerprint(client) == fingerprint)
        }
    }

    @Test func migrationFilesAreNumberedAndLoadedInOrder() throws {
        let migrator = try Migrator(directory: Migrator.locateDirectory())
        let names = migrator.migrations.map(\.name)
        #expect(names == names.sorted())
        #expect(names.first == "001_schema.sql")
        #expect(names.allSatisfy { $0.prefix(3).allSatisfy(\.isNumber) && $0.hasSuffix(".sql") })
        #expect(Set(names.map { $0.prefix(3) }).count == names.count)
    }
}
