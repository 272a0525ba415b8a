import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// Brings a database's `integration` schema to what the files of `sql/` say
/// (SPEC §1; `sql/README.md` describes the layout):
///
/// - **versioned files**, `sql/schema/NNN_name.sql`, change the schema
///   (tables, columns, indexes, backfills). Each runs once, in order, in its
///   own transaction, and is recorded as `schema/NNN_name.sql` with its checksum.
/// - **code files**, `sql/code/NN_concern.sql`, hold the functions, views,
///   triggers, policies and grants, one file per concern. Whenever any of them
///   changed (or a file appeared or went), all of them are applied again, in
///   order, in one transaction, after the versioned files; functions and views
///   that no file defines any more are dropped in that transaction. Each is
///   recorded as `code/NN_concern.sql` with its checksum.
///
/// Everything runs under an advisory lock, so two `migrate` runs at once are
/// safe; running it twice changes nothing. A database migrated by the releases
/// whose migrations were `001_schema.sql` … `014_observability.sql` is
/// recognised by that record and continues from the baseline (see
/// ``legacyRelease``).
public struct Migrator: Sendable {
    /// One SQL file of `sql/`.
    public struct File: Sendable, Equatable {
        /// The name recorded in `integration.schema_migration`: its path below
        /// `sql/`, e.g. `schema/001_baseline.sql` or `code/20_jobs.sql`.
        public var name: String
        public var sql: String

        public init(name: String, sql: String) {
            self.name = name
            self.sql = sql
        }

        /// FNV-1a of the file, recorded to notice a file that changed.
        public var checksum: String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in sql.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return String(hash, radix: 16)
        }
    }

    /// A problem with the migration files, or a database they cannot migrate.
    public struct MigrationError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Versioned files, in order.
    public var versions: [File]
    /// Code files, in order.
    public var code: [File]

    public init(versions: [File], code: [File]) {
        self.versions = versions
        self.code = code
    }

    /// Every file, versioned then code: what a fresh database runs, in order.
    public var files: [File] { versions + code }

    /// Loads `schema/NNN_*.sql` and `code/NN_*.sql` below `directory`, each in name order.
    public init(directory: URL) throws {
        func load(_ folder: String) throws -> [File] {
            let url = directory.appendingPathComponent(folder)
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
                .filter { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
                .sorted()
            return try names.map {
                File(name: "\(folder)/\($0)", sql: try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8))
            }
        }
        versions = try load("schema")
        code = try load("code")
        guard versions.first?.name == Self.baseline else {
            throw MigrationError(description: "no \(Self.baseline) in \(directory.path)")
        }
    }

    /// The first versioned file.
    public static let baseline = "schema/001_baseline.sql"

    /// The migrations the releases before the baseline recorded, all of which
    /// a database must hold to continue from the baseline.
    public static let legacyRelease = [
        "001_schema.sql", "002_worker_support.sql", "003_stewardship.sql", "004_outbound.sql", "005_roles.sql", "006_jobs.sql",
        "007_ledger_guard.sql", "008_aspects.sql", "009_stewardship.sql", "010_outbound.sql", "011_roles.sql", "012_retention.sql",
        "013_intake.sql", "014_observability.sql",
    ]

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
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent(baseline).path) {
            return candidate
        }
        throw MigrationError(
            description: "cannot find the migrations (\(baseline)) in \(candidates.map(\.path).joined(separator: ", ")); pass --sql-dir or set SYNCLEDGER_SQL_DIR")
    }

    // MARK: - Comparing with a database

    /// How a database's record compares with these files.
    public struct Comparison: Sendable, Equatable {
        /// Versioned files not recorded: the schema is older than this binary.
        public var missingVersions: [String] = []
        /// Code files recorded with another checksum, or not at all: the
        /// schema's code differs from this binary's (older, or newer).
        public var changedCode: [String] = []
        /// Recorded versioned files this binary does not know: a newer schema.
        public var newerVersions: [String] = []
        /// The record is the legacy release's (migrate continues from the baseline).
        public var isLegacyRelease = false

        /// Whether `migrate` has nothing to do.
        public var isCurrent: Bool { missingVersions.isEmpty && changedCode.isEmpty && !isLegacyRelease }
    }

    /// Compares `recorded` (version → checksum, from `integration.schema_migration`).
    public func compare(recorded: [String: String]) -> Comparison {
        var comparison = Comparison()
        comparison.isLegacyRelease = recorded[Self.baseline] == nil && Self.legacyRelease.allSatisfy { recorded[$0] != nil }
        let known = Set(files.map(\.name))
        comparison.missingVersions = versions.map(\.name).filter { recorded[$0] == nil }
        if comparison.isLegacyRelease { comparison.missingVersions.removeAll { $0 == Self.baseline } }
        comparison.changedCode = code.filter { recorded[$0.name] != $0.checksum }.map(\.name)
        comparison.newerVersions = recorded.keys.filter { $0.hasPrefix("schema/") && !known.contains($0) }.sorted()
        return comparison
    }

    private static let lockKey: Int64 = 0x5379_6e63_4c65_6467  // "SyncLedg"

    // MARK: - Migrating

    /// Applies what the database lacks; returns the names of the files applied.
    @discardableResult
    public func migrate(client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withOpenConnection { conn in try await migrate(on: conn, logger: logger) }
    }

    /// ``migrate(client:logger:)`` on one connection.
    public func migrate(on conn: PostgresConnection, logger: Logger) async throws -> [String] {
        var applied: [String] = []
        var recorded = try await conn.transaction(logger: logger) { conn in
            try await lock(conn, logger: logger)
            try await conn.run("CREATE SCHEMA IF NOT EXISTS integration", logger: logger)
            try await conn.run(
                """
                CREATE TABLE IF NOT EXISTS integration.schema_migration (
                  version    text PRIMARY KEY,
                  checksum   text NOT NULL,
                  applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            return try await Self.record(conn, logger: logger)
        }
        if compare(recorded: recorded).isLegacyRelease {
            try await conn.transaction(logger: logger) { conn in
                try await lock(conn, logger: logger)
                try await adoptLegacyRelease(conn, logger: logger)
            }
            logger.info("continuing from the baseline: this database was migrated by the release of 001_schema.sql … 014_observability.sql")
            recorded = try await Self.record(conn, logger: logger)
        } else if recorded[Self.baseline] == nil, let some = Self.legacyRelease.first(where: { recorded[$0] != nil }) {
            let lacking = Self.legacyRelease.filter { recorded[$0] == nil }
            throw MigrationError(
                description: "this database was migrated by an older release (it records \(some) but not \(lacking.joined(separator: ", "))): run that release's `syncledger migrate` first, then this one")
        }

        for file in versions where recorded[file.name] == nil {
            let didApply = try await conn.transaction(logger: logger) { conn -> Bool in
                try await lock(conn, logger: logger)
                if try await Self.record(conn, logger: logger)[file.name] != nil { return false }  // another migrate was first
                try await run(file, on: conn, logger: logger)
                try await Self.remember(file, on: conn, logger: logger)
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["migration": "\(file.name)"])
                applied.append(file.name)
            }
        }
        for file in versions where recorded[file.name].map({ $0 != file.checksum }) ?? false {
            logger.warning("applied migration changed on disk since; schema changes go into new files", metadata: ["migration": "\(file.name)"])
        }

        let codeApplied = try await conn.transaction(logger: logger) { conn -> [String] in
            try await lock(conn, logger: logger)
            let current = try await Self.record(conn, logger: logger)
            let stale = Set(current.keys.filter { $0.hasPrefix("code/") })
            guard !compare(recorded: current).changedCode.isEmpty || !stale.isSubset(of: Set(code.map(\.name))) else { return [] }
            try await conn.run("SET LOCAL check_function_bodies = off", logger: logger)
            // Definitions first, then what is obsolete goes, then the privileges
            // (GRANT and REVOKE statements, run in file order after the rest):
            // a REVOKE over all functions would otherwise touch the obsolete ones too.
            var privileges: [(File, String)] = []
            for file in code {
                for statement in SQLScript.statements(file.sql) {
                    if Self.isPrivilegeStatement(statement) {
                        privileges.append((file, statement))
                    } else {
                        try await run(statement, of: file, on: conn, logger: logger)
                    }
                }
            }
            try await dropObsoleteCode(conn, logger: logger)
            for (file, statement) in privileges { try await run(statement, of: file, on: conn, logger: logger) }
            try await conn.run("DELETE FROM integration.schema_migration WHERE version LIKE 'code/%'", logger: logger)
            for file in code { try await Self.remember(file, on: conn, logger: logger) }
            return code.filter { current[$0.name] != $0.checksum }.map(\.name)
        }
        if !codeApplied.isEmpty {
            logger.info("applied the code files again", metadata: ["changed": "\(codeApplied.joined(separator: ", "))"])
            applied += codeApplied
        }
        return applied
    }

    private func lock(_ conn: PostgresConnection, logger: Logger) async throws {
        try await conn.run("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
    }

    /// version → checksum as recorded.
    static func record(_ conn: PostgresConnection, logger: Logger) async throws -> [String: String] {
        let rows = try await conn.checkedRows("SELECT version, checksum FROM integration.schema_migration", logger: logger)
            .decoded((String, String).self)
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    private static func remember(_ file: File, on conn: PostgresConnection, logger: Logger) async throws {
        try await conn.run(
            "INSERT INTO integration.schema_migration (version, checksum) VALUES (\(file.name), \(file.checksum))", logger: logger)
    }

    private func run(_ file: File, on conn: PostgresConnection, logger: Logger) async throws {
        for statement in SQLScript.statements(file.sql) { try await run(statement, of: file, on: conn, logger: logger) }
    }

    private func run(_ statement: String, of file: File, on conn: PostgresConnection, logger: Logger) async throws {
        do {
            try await conn.run(PostgresQuery(unsafeSQL: statement), logger: logger)
        } catch {
            throw MigrationError(
                description: "migration \(file.name) failed: \(PostgresErrors.message(error))\nin statement:\n\(statement.prefix(500))")
        }
    }

    /// A GRANT or REVOKE (after any leading comments).
    static func isPrivilegeStatement(_ statement: String) -> Bool {
        let code = statement.split(separator: "\n").drop { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
            .joined(separator: " ").trimmingCharacters(in: .whitespaces).uppercased()
        return code.hasPrefix("GRANT ") || code.hasPrefix("REVOKE ")
    }

    /// A database of the legacy release holds the baseline's tables already:
    /// its record is replaced by the baseline's, and the code files (applied
    /// next, as every code file is missing from its record) bring the rest.
    /// The only differences in its tables are comments that named the old
    /// files; they are brought up to date here.
    private func adoptLegacyRelease(_ conn: PostgresConnection, logger: Logger) async throws {
        guard let baseline = versions.first else { return }
        for comment in SQLScript.statements(baseline.sql) where comment.hasPrefix("COMMENT ON") {
            try await conn.run(PostgresQuery(unsafeSQL: comment), logger: logger)
        }
        try await conn.run("DELETE FROM integration.schema_migration WHERE version = ANY (\(Self.legacyRelease))", logger: logger)
        try await Self.remember(baseline, on: conn, logger: logger)
    }

    /// Drops the functions, views, triggers and policies of `integration` that
    /// the code files did not (re)create in this transaction: what an earlier
    /// version defined and this one does not. Nothing is dropped in cascade:
    /// an object of someone else's that still depends on one stops the
    /// migration with PostgreSQL's message naming it.
    private func dropObsoleteCode(_ conn: PostgresConnection, logger: Logger) async throws {
        let obsolete = try await conn.checkedRows(
            """
            WITH me AS (SELECT (pg_current_xact_id()::text::numeric % 4294967296)::text AS xid)
            SELECT 'DROP FUNCTION ' || p.oid::regprocedure::text
              FROM pg_proc p, me
             WHERE p.pronamespace = 'integration'::regnamespace AND p.xmin::text <> me.xid
               AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            UNION ALL
            SELECT 'DROP VIEW ' || c.oid::regclass::text
              FROM pg_class c JOIN pg_rewrite r ON r.ev_class = c.oid, me
             WHERE c.relnamespace = 'integration'::regnamespace AND c.relkind = 'v' AND r.xmin::text <> me.xid
            UNION ALL
            SELECT format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass)
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid, me
             WHERE c.relnamespace = 'integration'::regnamespace AND NOT t.tgisinternal AND t.xmin::text <> me.xid
            UNION ALL
            SELECT format('DROP POLICY %I ON %s', p.polname, p.polrelid::regclass)
              FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid, me
             WHERE c.relnamespace = 'integration'::regnamespace AND p.xmin::text <> me.xid
            """, logger: logger
        ).decoded(String.self)
        // Views, triggers and policies first: they may depend on the functions.
        for statement in obsolete.sorted(by: { !$0.hasPrefix("DROP FUNCTION") && $1.hasPrefix("DROP FUNCTION") }) {
            logger.info("dropping what no code file defines any more", metadata: ["statement": "\(statement)"])
            do {
                try await conn.run(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch {
                throw MigrationError(
                    description: "cannot drop an object no code file defines any more (\(statement)): \(PostgresErrors.message(error))")
            }
        }
    }
}
