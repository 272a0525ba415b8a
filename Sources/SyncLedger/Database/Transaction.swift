import Logging
import PostgresNIO
import Synchronization

/// The connection closed under us: the server restarted or the network
/// dropped it. Whatever was in flight was rolled back by the server.
public struct ConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the database connection was closed (server restart or network failure)" }
}

extension PostgresConnection {
    /// `query`, failing with ``ConnectionClosed`` when the connection closes
    /// before the query is answered.
    ///
    /// postgres-nio 1.33.2 writes a query to its channel with no write promise:
    /// when the channel has just closed (a server restart kills the backend
    /// between two statements of a chunk) the query is dropped and its result
    /// promise is never completed, so `query` would wait forever and hold the
    /// job's lease alive through the heartbeat. Racing the connection's close
    /// future bounds that wait. The racing task is the one unstructured task in
    /// syncledger, and exists only for this: when postgres-nio drops the query
    /// it stays suspended (a few hundred bytes) until the process exits.
    func checkedQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw ConnectionClosed() }
        let outcome = QueryRace()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PostgresRowSequence, any Error>) in
                outcome.start(continuation: continuation) {
                    Task {
                        do {
                            let rows = try await self.query(query, logger: logger)
                            outcome.finish(.success(rows))
                        } catch {
                            outcome.finish(.failure(error))
                        }
                    }
                }
                self.closeFuture.whenComplete { _ in outcome.finish(.failure(ConnectionClosed())) }
            }
        } onCancel: {
            outcome.cancel()
        }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it
    /// throws. Errors from `body` come out as they are.
    ///
    /// The connection never goes back to the pool inside a transaction: when
    /// the task was cancelled (a sibling chunk failed, or shutdown) a query
    /// may still be in flight and a ROLLBACK could not be awaited, so the
    /// connection is closed instead, and the server rolls back. A closed
    /// connection needs nothing (the server has already rolled back, and
    /// postgres-nio's own `withTransaction` would wait forever for its
    /// ROLLBACK there).
    func transaction<T>(logger: Logger, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await run("BEGIN", logger: logger)
        let value: T
        do {
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

/// The first of "answered", "connection closed" and "cancelled" wins.
private final class QueryRace: Sendable {
    private struct State {
        var continuation: CheckedContinuation<PostgresRowSequence, any Error>?
        var task: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func start(continuation: CheckedContinuation<PostgresRowSequence, any Error>, _ makeTask: () -> Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.continuation = continuation
            return state.cancelled
        }
        if cancelled {
            finish(.failure(CancellationError()))
            return
        }
        let task = makeTask()
        state.withLock { $0.task = task }
    }

    func finish(_ result: sending Result<PostgresRowSequence, any Error>) {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
        finish(.failure(CancellationError()))
    }
}
