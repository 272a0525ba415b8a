import ArgumentParser
import SyncLedgerPostgres

/// Where the database is.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL, e.g. postgres://user:pass@host:5432/db?sslmode=require (env: DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "Directory of the numbered migrations (env: SYNCLEDGER_SQL_DIR).")
    var sqlDir: String?

    /// The URL from the flag or `DATABASE_URL`, or `nil` when neither is set.
    func url() throws -> DatabaseURL? {
        guard let text = databaseURL ?? Environment.string("DATABASE_URL") else { return nil }
        do {
            return try DatabaseURL(parsing: text)
        } catch {
            throw ValidationError(String(describing: error))
        }
    }

    /// The URL, required (commands that must not start a throwaway cluster).
    func requiredURL() throws -> DatabaseURL {
        guard let url = try url() else {
            throw ValidationError("DATABASE_URL is not set: pass --database-url or set DATABASE_URL=postgres://user@host:5432/db")
        }
        return url
    }

    func migrator() throws -> Migrator {
        try Migrator(directory: Migrator.locateDirectory(explicit: sqlDir ?? Environment.string("SYNCLEDGER_SQL_DIR")))
    }
}
