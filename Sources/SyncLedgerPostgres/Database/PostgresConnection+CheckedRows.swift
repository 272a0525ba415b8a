import Logging
import NIOCore
import PostgresNIO
import Synchronization

extension PostgresConnection {
    /// `query`, its whole result read, failing with ``ConnectionClosed`` when
    /// the connection closes before that, with ``QueryTimedOut`` (closing the
    /// connection) when ``QueryDeadline/limit`` passes first, and with
    /// `CancellationError` (closing the connection) when the task is
    /// cancelled first.
    ///
    /// No task of its own: the query is postgres-nio's future-returning
    /// `query`, which collects every row, started on the connection's event
    /// loop.
    ///
    /// - postgres-nio 1.33.2 writes a query to its channel with no write
    ///   promise: a query written to a channel that has just closed (a server
    ///   restart kills the backend between two statements of a chunk) is
    ///   dropped, and its result promise is never completed. Here the check
    ///   that the connection is open and the write happen in one step on the
    ///   event loop, so the write always reaches postgres-nio's channel
    ///   handler, whose state machine runs it, queues it, or fails it at once
    ///   when the connection is closing; and when the connection closes, it
    ///   fails every query it holds (`closeConnectionAndCleanup`). So the
    ///   result's promise is always completed, at the latest by the close.
    /// - A connection whose peer is gone without a word (a network partition,
    ///   a half-open TCP connection) answers nothing and closes never; the
    ///   deadline, a timer on the event loop, closes it.
    /// - Every row is collected as it arrives, which keeps postgres-nio's row
    ///   stream out of its back-pressure states, in which a connection closing
    ///   with rows still buffered trips a precondition (see deploy/README.md,
    ///   "PostgreSQL restarts").
    /// - A query still unanswered when the task is cancelled closes the
    ///   connection: it must not go back to the pool with a statement in flight.
    ///
    /// After closing the connection (deadline, cancellation) it waits for the
    /// close to finish, so the pool never hands the connection out again as
    /// if it were open.
    package func checkedRows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        guard !isClosed else { throw ConnectionClosed() }
        try Task.checkCancellation()  // nothing sent: the connection stays usable
        let watch = QueryWatch()
        let answer = startQuery(query, deadline: QueryDeadline.limit, watch: watch, logger: logger)
        do {
            return try await withTaskCancellationHandler {
                try await answer.get()
            } onCancel: {
                if watch.end(.cancelled) { self.closeWithoutWaiting() }  // postgres-nio fails the query
            }
        } catch {
            if watch.closedConnection { try? await closeFuture.get() }
            throw error
        }
    }

    /// ``checkedRows(_:logger:)`` as a future, with `deadline` instead of
    /// ``QueryDeadline``, for code that must not observe task cancellation
    /// (a worker's last statement after a forced stop).
    package func rowsFuture(_ query: PostgresQuery, deadline: Duration?, logger: Logger) -> EventLoopFuture<[PostgresRow]> {
        startQuery(query, deadline: deadline, watch: QueryWatch(), logger: logger)
    }

    /// Starts `query` on the connection's event loop: the check that the
    /// connection is open and the write are one step there, so the query
    /// reaches postgres-nio's channel handler, which completes its promise
    /// whatever happens (see ``checkedRows(_:logger:)``). The deadline, a
    /// timer on the same loop, closes the connection. The result says how
    /// the query ended first (``QueryWatch``).
    private func startQuery(_ query: PostgresQuery, deadline: Duration?, watch: QueryWatch, logger: Logger)
        -> EventLoopFuture<[PostgresRow]>
    {
        let answer = eventLoop.flatSubmit { () -> EventLoopFuture<[PostgresRow]> in
            guard !self.isClosed else { return self.eventLoop.makeFailedFuture(ConnectionClosed()) }
            let rows = self.query(query, logger: logger).map(\.rows)
            rows.whenComplete { _ in watch.end(.answered) }
            if let deadline {
                let timer = self.eventLoop.scheduleTask(in: TimeAmount(deadline)) {
                    if watch.end(.timedOut) { self.closeWithoutWaiting() }  // postgres-nio fails the query
                }
                rows.whenComplete { _ in timer.cancel() }
            }
            return rows
        }
        let outcome = eventLoop.makePromise(of: [PostgresRow].self)
        answer.whenComplete { result in
            switch watch.ending {
            case .timedOut?: outcome.fail(QueryTimedOut(limit: deadline ?? .zero))
            case .cancelled?: outcome.fail(CancellationError())
            case .answered?, nil: outcome.completeWith(result.mapError { Self.closedUnderUs($0) ? ConnectionClosed() : $0 })
            }
        }
        return outcome.futureResult
    }

    /// Closes the connection and returns at once. The connection is kept until
    /// the close has finished (postgres-nio asserts that a connection it
    /// releases is closed).
    package func closeWithoutWaiting() {
        close().whenComplete { _ in withExtendedLifetime(self) {} }
    }

    /// Whether `error` says the connection closed (rather than that the server
    /// refused the statement).
    private static func closedUnderUs(_ error: any Error) -> Bool {
        if error is ConnectionClosed { return true }
        guard let psql = error as? PSQLError else { return false }
        switch psql.code {
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .connectionError: return true
        default: return false
        }
    }
}

/// How one query of ``PostgresConnection/checkedRows(_:logger:)`` ended
/// first: answered (or failed by the server or the connection), its deadline
/// passed, or its task was cancelled. The first end wins; the others find it
/// ended and do nothing.
private final class QueryWatch: Sendable {
    enum Ending: Sendable {
        case answered, timedOut, cancelled
    }

    private let state = Mutex<Ending?>(nil)

    var ending: Ending? { state.withLock { $0 } }

    /// Whether the query's end closed the connection (deadline, cancellation).
    var closedConnection: Bool { ending == .timedOut || ending == .cancelled }

    /// Ends the query as `ending` unless it has ended; true if this call ended it.
    @discardableResult
    func end(_ ending: Ending) -> Bool {
        state.withLock { state in
            guard state == nil else { return false }
            state = ending
            return true
        }
    }
}
