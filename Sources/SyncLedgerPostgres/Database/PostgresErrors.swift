import PostgresNIO

/// Classification of errors from PostgreSQL.
public enum PostgresErrors {
    /// The server error inside `error`, if there is one.
    public static func serverError(_ error: any Error) -> PSQLError? {
        guard let psql = error as? PSQLError, psql.code == .server else { return nil }
        return psql
    }

    /// The SQLSTATE of a server error.
    public static func sqlState(_ error: any Error) -> SQLState? {
        serverError(error)?.serverInfo?[.sqlState].map(SQLState.init)
    }

    /// The server's message with its DETAIL, e.g. `duplicate key value
    /// violates unique constraint "x" (Key (id)=(1) already exists.)`. For logs
    /// and for people with access to the data, never for `process_message`
    /// (``DatabaseRefusal`` writes that).
    public static func message(_ error: any Error) -> String {
        if let server = serverError(error), let message = server.serverInfo?[.message] {
            if let detail = server.serverInfo?[.detail] { return "\(message) (\(detail))" }
            return message
        }
        if let psql = error as? PSQLError {
            // Not a server error: its code and underlying cause carry no row data.
            var text = "\(psql.code)"
            if let underlying = psql.underlying { text += ": \(underlying)" }
            return text
        }
        return String(describing: error)
    }

    /// Deadlock, serialization failure or a lock timeout: the chunk is retried
    /// as it is.
    public static func isRetryableConflict(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state == .deadlockDetected || state == .serializationFailure || state == .lockNotAvailable
    }

    /// The claim no longer holds a job of the chunk (`SL060`).
    public static func isLeaseLost(_ error: any Error) -> Bool { sqlState(error) == .leaseLost }

    /// The configuration changed since the worker loaded it (`SL061`).
    public static func isConfigurationChanged(_ error: any Error) -> Bool { sqlState(error) == .configurationChanged }

    /// Refused for a reason no retry changes: a missing privilege, function
    /// or object (class 42), or an authorisation failure (class 28).
    public static func isRefusedForGood(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state.errorClass == .syntaxErrorOrAccessRuleViolation || state.errorClass == .invalidAuthorizationSpecification
    }

    /// SQLSTATE classes that are about the connection, the server, the
    /// session, privileges or syncledger itself, not about one row's data.
    private static let notAboutARow: Set<SQLState.Class> = [
        .connectionException, .invalidTransactionState, .invalidSQLStatementName, .invalidAuthorizationSpecification,
        .invalidTransactionTermination, .savepointException, .invalidCatalogName, .invalidSchemaName, .transactionRollback,
        .syntaxErrorOrAccessRuleViolation, .insufficientResources, .objectNotInPrerequisiteState, .operatorIntervention,
        .systemError, .configurationFileError, .internalError, .syncledger,
    ]

    /// An error PostgreSQL raised for some item's row: a cast, a CHECK, a
    /// foreign key, a unique index, a trigger's RAISE (P0001) or any other
    /// SQLSTATE raised for the data, but not a connection, resource, privilege
    /// or transaction failure. The chunk is split to find the item, which then
    /// fails alone.
    public static func isAboutARow(_ error: any Error) -> Bool {
        guard let state = sqlState(error), state.code.count == 5 else { return false }
        return !notAboutARow.contains(state.errorClass)
    }
}
