import Logging
import PostgresNIO

extension PostgresRowSequence {
    /// The first row decoded, after reading the whole result (never leave a
    /// result half-read: the next query on the connection would stall behind it).
    package func single<each Column: PostgresDecodable & Sendable>(_ columns: (repeat each Column).Type) async throws -> (repeat each Column)? {
        var first: (repeat each Column)?
        for try await row in decode((repeat each Column).self) where first == nil { first = row }
        return first
    }
}

extension Array where Element == PostgresRow {
    /// Every row decoded.
    package func decoded<each Column: PostgresDecodable & Sendable>(_ columns: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode((repeat each Column).self) }
    }
}

extension PostgresConnection {
    /// Runs a statement and reads its result to the end, whatever it returns.
    package func run(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await checkedRows(query, logger: logger)
    }
}

extension PostgresClient {
    /// `withConnection`, passing over a connection that closed while it sat
    /// in the pool (the server ended it, or it was closed after a deadline or
    /// a cancellation before the pool noticed): nothing has been sent on it
    /// yet, so taking the next one is safe. A new connection gets the task's
    /// session settings first (``SessionSetup/current``), when they are not
    /// startup parameters.
    package func withOpenConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let setup = SessionSetup.current
        for _ in 0..<3 {
            let outcome: Leased<T> = try await withConnection { conn in
                if conn.isClosed { return .closed }
                try await setup?.prepare(conn)
                return .used(try await body(conn))
            }
            if case .used(let value) = outcome { return value }
        }
        return try await withConnection { conn in
            try await setup?.prepare(conn)
            return try await body(conn)
        }
    }

    /// Runs a statement on a pooled connection and reads its result to the end.
    package func run(_ query: PostgresQuery, logger: Logger) async throws {
        try await withOpenConnection { conn in try await conn.run(query, logger: logger) }
    }

    /// Runs a query on a pooled connection and decodes every row, guarding
    /// against a connection that closes under the query (see `checkedRows`).
    package func collect<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        try await withOpenConnection { conn in
            try await conn.checkedRows(query, logger: logger).decoded((repeat each Column).self)
        }
    }
}

private enum Leased<T: Sendable>: Sendable {
    case closed
    case used(T)
}
