import PostgresNIO

/// Classification of errors from PostgreSQL, looking through the transaction
/// wrapper that `withTransaction` adds.
public enum PostgresErrors {
    /// The server error inside `error`, if there is one.
    public static func serverError(_ error: any Error) -> PSQLError? {
        if let psql = error as? PSQLError { return psql.code == .server ? psql : nil }
        if let transaction = error as? PostgresTransactionError {
            for inner in [transaction.closureError, transaction.beginError, transaction.commitError] {
                if let inner, let found = serverError(inner) { return found }
            }
        }
        return nil
    }

    /// The SQLSTATE of a server error.
    public static func sqlState(_ error: any Error) -> String? {
        serverError(error)?.serverInfo?[.sqlState]
    }

    /// The server's message, e.g. `invalid input syntax for type date: "x"`.
    public static func message(_ error: any Error) -> String {
        if let server = serverError(error), let message = server.serverInfo?[.message] {
            if let detail = server.serverInfo?[.detail] { return "\(message) (\(detail))" }
            return message
        }
        if let transaction = error as? PostgresTransactionError {
            for inner in [transaction.closureError, transaction.beginError, transaction.commitError, transaction.rollbackError] {
                if let inner { return message(inner) }
            }
        }
        if let psql = error as? PSQLError {
            // Not a server error: its code and underlying cause carry no row data.
            var text = "\(psql.code)"
            if let underlying = psql.underlying { text += ": \(underlying)" }
            return text
        }
        return String(describing: error)
    }

    /// Deadlock or serialization failure: the chunk is retried as it is.
    public static func isRetryableConflict(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state == "40P01" || state == "40001"
    }

    /// An error caused by the data of some item (classes 22 data exception,
    /// 23 integrity constraint violation, 54 program limit exceeded, e.g. a key
    /// too large for an index): the chunk is split to find the item.
    public static func isDataError(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23") || state.hasPrefix("54")
    }
}
