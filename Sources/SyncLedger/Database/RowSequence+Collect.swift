import Logging
import PostgresNIO

extension PostgresRowSequence {
    /// The first row decoded, after reading the whole result (never leave a
    /// result half-read: the next query on the connection would stall behind it).
    func single<each Column: PostgresDecodable & Sendable>(_ columns: (repeat each Column).Type) async throws -> (repeat each Column)? {
        var first: (repeat each Column)?
        for try await row in decode((repeat each Column).self) where first == nil { first = row }
        return first
    }
}

extension Array where Element == PostgresRow {
    /// Every row decoded.
    func decoded<each Column: PostgresDecodable & Sendable>(_ columns: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode((repeat each Column).self) }
    }
}

extension PostgresConnection {
    /// Runs a statement and reads its result to the end, whatever it returns.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await checkedRows(query, logger: logger)
    }
}

extension PostgresClient {
    /// Runs a statement on a pooled connection and reads its result to the end.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        try await withConnection { conn in try await conn.run(query, logger: logger) }
    }

    /// Runs a query on a pooled connection and decodes every row, guarding
    /// against a connection that closes under the query (see `checkedRows`).
    func collect<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        try await withConnection { conn in
            try await conn.checkedRows(query, logger: logger).decoded((repeat each Column).self)
        }
    }
}
