import ArgumentParser
import Foundation
import Logging
import SyncLedgerDevSupport
import SyncLedgerPostgres

/// How every command reaches the database: one connection attempt first
/// (``ConnectionCheck``), which names the cause of a failure within seconds
/// (refused, unreachable, authentication, TLS, missing database, schema not
/// migrated or older than this binary), and only then its pool.
enum CheckedDatabase {
    /// The migrations this binary ships, to compare the schema with; nil when
    /// the `sql/` directory cannot be found (the schema's presence is still checked).
    static func migrator(_ connection: ConnectionOptions, logger: Logger) -> Migrator? {
        do {
            return try connection.migrator()
        } catch {
            logger.debug("schema version not compared: \(error)")
            return nil
        }
    }

    /// Checks `url`; on failure prints what happened and what to do on stderr
    /// and throws the exit code: 78 (EX_CONFIG) when retrying cannot help
    /// (password, TLS, database name, schema), 69 (EX_UNAVAILABLE) when it may
    /// (refused, unreachable, server starting up).
    @discardableResult
    static func check(_ url: DatabaseURL, requireSchema: Bool, migrator: Migrator?, logger: Logger) async throws -> ConnectionCheck.Outcome {
        do {
            return try await ConnectionCheck.run(url: url, requireSchema: requireSchema, migrator: migrator, logger: logger)
        } catch let failure as ConnectionCheck.Failure {
            report(failure)
            throw ExitCode(failure.exitCode)
        }
    }

    /// The demo's and the bench's database: with `DATABASE_URL`, a database
    /// `name` created afresh on that server (after the connection check);
    /// without it, a throwaway embedded cluster, deleted when `body` ends.
    static func withScratchDatabase(
        _ name: String, _ connection: ConnectionOptions, logger: Logger, _ body: @Sendable (DatabaseURL) async throws -> Void
    ) async throws {
        let given = try connection.url()
        if let given { try await check(given, requireSchema: false, migrator: nil, logger: logger) }
        try await Database.withDefaultDatabase(given, logger: logger) { url in
            guard given != nil else { return try await body(url) }
            try await Database.createDatabase(name, on: url, replace: true, logger: logger)
            try await body(url.with(database: name))
        }
    }

    static func report(_ failure: ConnectionCheck.Failure) {
        FileHandle.standardError.write(Data("error: \(failure.message)\nhint: \(failure.hint)\n".utf8))
    }
}
