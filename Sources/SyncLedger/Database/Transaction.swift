import Logging
import PostgresNIO
import Synchronization

/// The connection closed under us: the server restarted or the network
/// dropped it. Whatever was in flight was rolled back by the server.
public struct ConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the database connection was closed (server restart or network failure)" }
}

extension PostgresConnection {
    /// `query`, its whole result read, failing with ``ConnectionClosed`` when
    /// the connection closes before that, and with ``QueryTimedOut`` (closing
    /// the connection) when ``QueryDeadline/limit`` passes first.
    ///
    /// - postgres-nio 1.33.2 writes a query to its channel with no write
    ///   promise: when the channel has just closed (a server restart kills the
    ///   backend between two statements of a chunk) the query is dropped and its
    ///   result promise is never completed, so `query` would wait forever and
    ///   hold the job's lease alive through the heartbeat. Racing the
    ///   connection's close future bounds that wait.
    /// - A connection whose peer is gone without a word (a network partition,
    ///   a half-open TCP connection) answers nothing and closes never; the
    ///   deadline closes it.
    /// - Reading the result to its end here, at once, keeps postgres-nio's row
    ///   stream out of its back-pressure states, in which a connection closing
    ///   with rows still buffered trips a precondition (see deploy/README.md,
    ///   "PostgreSQL restarts").
    /// - A query still unanswered when the task is cancelled closes the
    ///   connection: it must not go back to the pool with a statement in flight.
    ///
    /// The racing task is the one unstructured task in syncledger, and exists
    /// only for this: when postgres-nio drops the query it stays suspended (a
    /// few hundred bytes) until the process exits.
    func checkedRows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        guard !isClosed else { throw ConnectionClosed() }
        let race = QueryRace()
        let limit = QueryDeadline.limit
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[PostgresRow], any Error>) in
                    race.start(continuation: continuation) {
                        Task {
                            do {
                                let rows = try await self.query(query, logger: logger).collect()
                                race.finish(.success(rows))
                            } catch {
                                race.finish(.failure(error))
                            }
                        }
                    }
                    self.closeFuture.whenComplete { _ in race.finish(.failure(ConnectionClosed())) }
                    if let limit {
                        let timer = self.eventLoop.scheduleTask(
                            in: .nanoseconds(limit.components.seconds * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000)
                        ) {
                            if race.finish(.failure(QueryTimedOut(limit: limit))) { race.close(self) }
                        }
                        race.whenFinished { timer.cancel() }
                    }
                }
            } onCancel: {
                if race.cancel() { race.close(self) }
            }
        } catch {
            // Closed above: let the close finish before the connection goes back
            // to the pool, so the pool never hands it out as if it were open.
            if race.closedConnection { try? await closeFuture.get() }
            throw error
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

/// The first of "answered", "connection closed", "deadline passed" and
/// "cancelled" wins.
private final class QueryRace: Sendable {
    private struct State {
        var continuation: CheckedContinuation<[PostgresRow], any Error>?
        var task: Task<Void, Never>?
        var cancelled = false
        var finished = false
        var closedConnection = false
        var onFinish: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    func start(continuation: CheckedContinuation<[PostgresRow], any Error>, _ makeTask: () -> Task<Void, Never>) {
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

    /// Whether the race closed the connection (deadline, cancellation).
    var closedConnection: Bool { state.withLock { $0.closedConnection } }

    /// Closes `connection`: its query is abandoned.
    func close(_ connection: PostgresConnection) {
        state.withLock { $0.closedConnection = true }
        let _: EventLoopFuture<Void> = connection.close()
    }

    /// Runs `action` once the race is decided (at once if it is).
    func whenFinished(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state in
            if state.finished { return true }
            state.onFinish.append(action)
            return false
        }
        if now { action() }
    }

    /// Settles the race with `result` unless it is settled; true if this call settled it.
    @discardableResult
    func finish(_ result: sending Result<[PostgresRow], any Error>) -> Bool {
        let (continuation, actions, won) = state.withLock { state -> (CheckedContinuation<[PostgresRow], any Error>?, [@Sendable () -> Void], Bool) in
            guard !state.finished, let continuation = state.continuation else { return (nil, [], false) }
            state.finished = true
            state.continuation = nil
            defer { state.onFinish = [] }
            return (continuation, state.onFinish, true)
        }
        continuation?.resume(with: result)
        for action in actions { action() }
        return won
    }

    /// Cancels the query; true if it was still unanswered.
    func cancel() -> Bool {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
        return finish(.failure(CancellationError()))
    }
}
