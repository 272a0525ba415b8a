import Foundation
import Logging
import PostgresNIO
import SyncLedgerDevSupport
import SyncLedgerPostgres

/// The PostgreSQL server the integration tests share: `DATABASE_URL` when set,
/// otherwise one throwaway embedded cluster for the whole test process (stopped
/// and deleted at exit). The schema is migrated once into a template database;
/// each test gets a fresh database copied from it, so tests run in parallel
/// without seeing each other.
package actor TestCluster {
    package static let shared = TestCluster()

    package static let logger: Logger = {
        var logger = Logger(label: "syncledger-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["SYNCLEDGER_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// Started once; concurrent first callers share the same start-up (an
    /// actor method that awaits can be re-entered, so a plain optional would
    /// let every early test start its own cluster).
    private var server: Task<DatabaseURL, any Error>?
    private var counter = 0
    private let template = "syncledger_template_\(ProcessInfo.processInfo.processIdentifier)"

    /// The server, started and templated on first use.
    package func serverURL() async throws -> DatabaseURL {
        if let server { return try await server.value }
        let template = self.template
        let task = Task { try await Self.start(template: template) }
        server = task
        return try await task.value
    }

    private static func start(template: String) async throws -> DatabaseURL {
        let url: DatabaseURL
        if let given = ProcessInfo.processInfo.environment["DATABASE_URL"], !given.isEmpty {
            url = try DatabaseURL(parsing: given)
        } else {
            // Stopped by EmbeddedPostgres's exit handler (and its supervisor).
            // One role authenticates with a password (SCRAM), for the tests of
            // a wrong password; every other connection is trusted as before.
            url = try await EmbeddedPostgres.start(logger: Self.logger, hbaRules: [Self.passwordRule]).url
        }
        try await Database.createDatabase(template, on: url, replace: true, logger: Self.logger)
        let migrator = try Migrator(directory: Migrator.locateDirectory())
        _ = try await Database.withClient(url.with(database: template), maximumConnections: 1, logger: Self.logger) { client in
            try await migrator.migrate(client: client, logger: Self.logger)
        }
        return url
    }

    /// A role of the embedded cluster that must give its password (scram-sha-256).
    package static let passwordRole = "syncledger_password_probe"
    package static let passwordRule = "host all \(passwordRole) 127.0.0.1/32 scram-sha-256"

    private var passwordServer: Task<DatabaseURL, any Error>?

    /// A server on which ``passwordRole`` (password `right-password`) must
    /// authenticate with SCRAM: the shared embedded cluster, or, when the
    /// tests run against `DATABASE_URL`, a private embedded cluster.
    package func passwordServerURL() async throws -> DatabaseURL {
        if let passwordServer { return try await passwordServer.value }
        let external = !(ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "").isEmpty
        // The task is stored before anything awaits, so concurrent callers
        // share one set-up (two CREATE ROLEs at once collide).
        let task = Task {
            let url = external ? try await EmbeddedPostgres.start(logger: Self.logger, hbaRules: [Self.passwordRule]).url : try await self.serverURL()
            try await Database.withClient(url, maximumConnections: 1, logger: Self.logger) { client in
                try await Database.runScript(
                    """
                    SET password_encryption = 'scram-sha-256';
                    DO $$ BEGIN
                      CREATE ROLE \(Self.passwordRole) LOGIN PASSWORD 'right-password';
                    EXCEPTION WHEN duplicate_object THEN
                      ALTER ROLE \(Self.passwordRole) LOGIN PASSWORD 'right-password';
                    END $$;
                    """, on: client, logger: Self.logger)
            }
            return url
        }
        passwordServer = task
        return try await task.value
    }

    /// A new database with the schema migrated, named after `label`.
    package func freshDatabase(label: String) async throws -> DatabaseURL {
        let url = try await serverURL()
        counter += 1
        let safe = label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30)
        let name = "t\(counter)_\(safe)_\(ProcessInfo.processInfo.processIdentifier)"
        try await Database.createDatabase(name, on: url, template: template, replace: true, logger: Self.logger)
        return url.with(database: name)
    }
}
