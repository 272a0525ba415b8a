import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// Applies the numbered SQL files of `sql/` that a database has not recorded
/// yet, each in its own transaction, under an advisory lock so that two
/// `migrate` runs at once are safe. Running it twice changes nothing.
public struct Migrator: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Equatable {
        /// The file name, e.g. `001_schema.sql`; also the recorded version.
        public var name: String
        public var sql: String

        /// FNV-1a of the file, recorded to notice an applied file that changed.
        public var checksum: String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in sql.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return String(hash, radix: 16)
        }
    }

    /// A problem with the migration files themselves.
    public struct MigrationError: Error, CustomStringConvertible {
        public var description: String
    }

    public var migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations
    }

    /// Loads `NNN_name.sql` files from `directory`, in name order.
    public init(directory: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
            .sorted()
        guard !names.isEmpty else {
            throw MigrationError(description: "no migrations (NNN_name.sql) in \(directory.path)")
        }
        migrations = try names.map { Migration(name: $0, sql: try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Finds the `sql/` directory: `explicit` (from `--sql-dir` or
    /// `SYNCLEDGER_SQL_DIR`), then `../share/syncledger/sql` beside the
    /// executable, then the source tree this binary was built from, then `./sql`.
    public static func locateDirectory(explicit: String? = nil) throws -> URL {
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../share/syncledger/sql").standardized)
        candidates.append(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../sql").standardized)
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("sql"))
        if let explicit { candidates = [URL(fileURLWithPath: explicit)] }
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("001_schema.sql").path) {
            return candidate
        }
        throw MigrationError(
            description: "cannot find the migrations (001_schema.sql) in \(candidates.map(\.path).joined(separator: ", ")); pass --sql-dir or set SYNCLEDGER_SQL_DIR")
    }

    /// The migrations of this binary that `applied` (the versions recorded in
    /// `integration.schema_migration`) lacks, in order. Recorded versions
    /// this binary does not know (a newer schema) are not a concern here.
    public func missing(applied: some Sequence<String>) -> [String] {
        let recorded = Set(applied)
        return migrations.map(\.name).filter { !recorded.contains($0) }
    }

    private static let lockKey: Int64 = 0x5379_6e63_4c65_6467  // "SyncLedg"

    /// Applies pending migrations; returns the names applied.
    @discardableResult
    public func migrate(client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withTransaction(logger: logger) { conn in
            try await conn.run("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await conn.run("CREATE SCHEMA IF NOT EXISTS integration", logger: logger)
            try await conn.run(
                """
                CREATE TABLE IF NOT EXISTS integration.schema_migration (
                  version    text PRIMARY KEY,
                  checksum   text NOT NULL,
                  applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
        }
        var applied: [String] = []
        for migration in migrations {
            let didApply = try await client.withTransaction(logger: logger) { conn -> Bool in
                try await conn.run("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                let rows = try await conn.query(
                    "SELECT checksum FROM integration.schema_migration WHERE version = \(migration.name)", logger: logger)
                if let recorded = try await rows.single(String.self) {
                    if recorded != migration.checksum {
                        logger.warning(
                            "applied migration changed on disk since; new migrations go into new files",
                            metadata: ["migration": "\(migration.name)"])
                    }
                    return false
                }
                for statement in SQLScript.statements(migration.sql) {
                    do {
                        try await conn.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                    } catch {
                        throw MigrationError(
                            description: "migration \(migration.name) failed: \(PostgresErrors.message(error))\nin statement:\n\(statement.prefix(500))")
                    }
                }
                try await conn.run(
                    "INSERT INTO integration.schema_migration (version, checksum) VALUES (\(migration.name), \(migration.checksum))",
                    logger: logger)
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
                applied.append(migration.name)
            }
        }
        return applied
    }
}
