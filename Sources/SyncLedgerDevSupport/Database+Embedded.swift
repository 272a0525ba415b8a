import Logging
import SyncLedgerPostgres

extension Database {
    /// `DATABASE_URL` if given, otherwise a throwaway embedded cluster that is
    /// stopped and deleted when `body` ends (the demo and the benchmark).
    public static func withDefaultDatabase<T: Sendable>(
        _ url: DatabaseURL?, logger: Logger, _ body: @Sendable (DatabaseURL) async throws -> T
    ) async throws -> T {
        if let url { return try await body(url) }
        return try await EmbeddedPostgres.withCluster(logger: logger, body)
    }
}
