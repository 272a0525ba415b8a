import Logging
import PostgresNIO

/// A single connection attempt before an interactive command starts its
/// client: the pool retries a refused connection for a minute before giving
/// up with a generic error, while a person at a terminal wants the reason at
/// once ("connection refused", "password authentication failed ...").
public enum Preflight {
    /// Connects to `url` once and disconnects; throws a ``StewardError``
    /// naming the server and the reason when that fails.
    public static func connect(_ url: DatabaseURL, logger: Logger) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 0, logger: logger)
        } catch {
            throw StewardError(
                sqlState: PostgresErrors.sqlState(error),
                message: "cannot connect to the database at \(url): \(reason(error))",
                hint: "check DATABASE_URL (or --database-url) and that PostgreSQL is running and accepts connections")
        }
        try? await connection.close()
    }

    /// The most specific description of a connection failure.
    static func reason(_ error: any Error) -> String {
        if PostgresErrors.serverError(error) != nil { return PostgresErrors.message(error) }
        if let psql = error as? PSQLError, let underlying = psql.underlying { return String(describing: underlying) }
        return String(describing: error)
    }
}
