import Logging
import PostgresNIO

extension TextTable {
    /// Runs `query` and collects every column as text (write `::text` casts in
    /// the query for non-text columns).
    public static func query(_ query: PostgresQuery, on client: PostgresClient, logger: Logger) async throws -> TextTable {
        var columns: [String] = []
        var rows: [[String?]] = []
        for try await row in try await client.query(query, logger: logger) {
            let cells = row.makeRandomAccess()
            if columns.isEmpty { columns = (0..<cells.count).map { cells[$0].columnName } }
            rows.append(try (0..<cells.count).map { try cells[$0].decode(String?.self) })
        }
        return TextTable(columns: columns, rows: rows)
    }
}
