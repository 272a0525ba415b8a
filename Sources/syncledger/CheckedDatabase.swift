import ArgumentParser
import Foundation
import Logging
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

    static func report(_ failure: ConnectionCheck.Failure) {
        FileHandle.standardError.write(Data("error: \(failure.message)\nhint: \(failure.hint)\n".utf8))
    }
}
