import ArgumentParser
import SyncLedgerPostgres

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the pending numbered migrations of sql/, each in a transaction.",
        discussion: """
            Applies the sql/NNN_*.sql files the database has not recorded in integration.schema_migration, in order, \
            each in its own transaction, under an advisory lock (safe to run on several hosts at once; idempotent). \
            Connects once first and names the cause if the database cannot be used (exit 69: unreachable, retry later; \
            exit 78: password, TLS or database name wrong).

            Examples:
              syncledger migrate
              DATABASE_URL='postgres://owner@db:5432/appdb?sslmode=verify-full&sslrootcert=/etc/syncledger/db-ca.pem' syncledger migrate
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let logger = Logs.bootstrap()
        let url = try connection.requiredURL()
        let migrator = try connection.migrator()
        try await CheckedDatabase.check(url, requireSchema: false, migrator: nil, logger: logger)
        let applied = try await Database.withClient(url, applicationName: "syncledger migrate", maximumConnections: 1, logger: logger) {
            try await migrator.migrate(client: $0, logger: logger)
        }
        print(applied.isEmpty ? "schema is up to date (\(migrator.versions.count) versioned files, \(migrator.code.count) code files)" : "applied \(applied.joined(separator: ", "))")
    }
}
