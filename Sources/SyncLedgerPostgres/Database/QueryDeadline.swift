/// How long one query may go unanswered on the current task before its
/// connection is closed (see `PostgresConnection.checkedRows`). The worker
/// sets it per kind of statement; outside it, queries are unbounded (a
/// migration, a steward's command).
public enum QueryDeadline {
    @TaskLocal public static var limit: Duration?
}

/// A query was not answered within its ``QueryDeadline``: a dead connection, a
/// network partition, or a server too busy to answer. Its connection was
/// closed, so the server rolls back whatever it was doing.
public struct QueryTimedOut: Error, CustomStringConvertible {
    public var limit: Duration
    public var description: String {
        "the database did not answer within \(limit) (a dead connection, a network partition or an overloaded server); closed the connection"
    }
}
