import Logging
import PostgresNIO

extension PostgresRowSequence {
    /// Every row decoded, reading the result to its end. Never leave a result
    /// half-read: the next query on the same connection could stall behind it.
    func collect<each Column: PostgresDecodable & Sendable>(_ columns: (repeat each Column).Type) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in decode((repeat each Column).self) { rows.append(row) }
        return rows
    }

    /// The first row decoded (after reading the whole result), or nil.
    func single<each Column: PostgresDecodable & Sendable>(_ columns: (repeat each Column).Type) async throws -> (repeat each Column)? {
        try await collect((repeat each Column).self).first
    }
}

extension PostgresConnection {
    /// Runs a statement and reads its result to the end, whatever it returns.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.checkedQuery(query, logger: logger) {}
    }
}

extension PostgresClient {
    /// Runs a statement on a pooled connection and reads its result to the end.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        try await withConnection { conn in try await conn.run(query, logger: logger) }
    }

    /// Runs a query on a pooled connection and decodes every row, guarding
    /// against a connection that closes under the query (see `checkedQuery`).
    func collect<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        try await withConnection { conn in
            try await conn.checkedQuery(query, logger: logger).collect((repeat each Column).self)
        }
    }
}
