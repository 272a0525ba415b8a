import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs `body` in a transaction begun as `mode` says: COMMIT when it
    /// returns, ROLLBACK when it throws. Errors from `body` come out as they are.
    /// Behind a transaction pooler, the transaction first sets its own
    /// timeouts (``SessionSetup/transactionStatement``).
    ///
    /// The connection never goes back to the pool inside a transaction: when
    /// the task was cancelled (a sibling chunk failed, or shutdown) a query
    /// may still be in flight and a ROLLBACK could not be awaited, so the
    /// connection is closed instead, and the server rolls back. A closed
    /// connection needs nothing: the server has already rolled back.
    package func transaction<T>(
        _ mode: TransactionMode = .readWrite, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await run(mode.begin, logger: logger)
        let value: T
        do {
            if let bounds = SessionSetup.current?.transactionStatement { try await run(bounds, logger: logger) }
            value = try await body(self)
        } catch {
            if isClosed {
                // nothing to undo here
            } else if Task.isCancelled {
                try? await close()
            } else {
                do { try await run("ROLLBACK", logger: logger) } catch { try? await close() }
            }
            throw error
        }
        do {
            try await run("COMMIT", logger: logger)
        } catch {
            // Whether the COMMIT happened is unknown to us only if the
            // connection failed; either way this connection is not reused.
            if !isClosed && Task.isCancelled { try? await close() }
            throw error
        }
        return value
    }
}

/// How a transaction begins.
package enum TransactionMode: Sendable {
    /// `BEGIN`: the server's default isolation, read-write.
    case readWrite
    /// `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`: every statement
    /// reads one snapshot.
    case readOnlySnapshot

    package var begin: PostgresQuery {
        switch self {
        case .readWrite: "BEGIN"
        case .readOnlySnapshot: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        }
    }
}

extension PostgresClient {
    /// ``PostgresConnection/transaction(_:logger:_:)`` on a pooled connection
    /// (passing over one that closed in the pool).
    package func transaction<T: Sendable>(
        _ mode: TransactionMode = .readWrite, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withOpenConnection { conn in try await conn.transaction(mode, logger: logger, body) }
    }
}
