import Foundation
import Logging
import PostgresNIO

/// Rows read for the steward and outbound commands: every cell as text, with
/// each column's kind kept, so that the same rows render as an aligned table
/// for a terminal and as JSON with numbers, booleans and nulls for scripts.
///
/// Rendering is pure (``renderTable(columns:maxWidth:)``, ``jsonObject(row:extra:)``,
/// ``jsonLines(extra:)``); only ``query(_:on:logger:)`` touches the database.
public struct Listing: Sendable, Equatable {
    /// How a column's values are written in JSON.
    public enum Kind: Sendable, Equatable {
        /// A JSON string.
        case text
        /// A JSON number, written as it is (integers from the database).
        case number
        /// `true` or `false`.
        case boolean
        /// Already JSON text (from a `json`/`jsonb` column), embedded as it is.
        case json
    }

    /// One column: its name and kind.
    public struct Column: Sendable, Equatable {
        public var name: String
        public var kind: Kind

        public init(_ name: String, _ kind: Kind = .text) {
            self.name = name
            self.kind = kind
        }
    }

    public var columns: [Column]
    /// Cells as text, `nil` for SQL NULL; one array per row, in column order.
    public var rows: [[String?]]

    public init(columns: [Column], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The index of a column by name.
    public func index(of column: String) -> Int? {
        columns.firstIndex { $0.name == column }
    }

    /// The value of `column` in row `row` (nil when NULL or no such column).
    public func value(_ column: String, row: Int = 0) -> String? {
        guard let index = index(of: column), rows.indices.contains(row) else { return nil }
        return rows[row][index]
    }

    /// All values of one column.
    public func values(_ column: String) -> [String?] {
        guard let index = index(of: column) else { return [] }
        return rows.map { $0[index] }
    }

    /// The rows restricted to `keep` (in that order; unknown names are skipped).
    public func selecting(_ keep: [String]) -> Listing {
        let indices = keep.compactMap(index(of:))
        return Listing(columns: indices.map { columns[$0] }, rows: rows.map { row in indices.map { row[$0] } })
    }

    /// The rows whose `column` equals `value`.
    public func filter(_ column: String, equals value: String?) -> Listing {
        guard let index = index(of: column) else { return Listing(columns: columns, rows: []) }
        return Listing(columns: columns, rows: rows.filter { $0[index] == value })
    }

    // MARK: Rendering

    /// An aligned table for a terminal (see ``TextTable/render(maxWidth:)``):
    /// NULL as `NULL`, values longer than `maxWidth` cut with `…`, newlines
    /// as `⏎`, `(none)` when there are no rows. `columns` picks and orders
    /// the columns shown (all when nil); `headers` renames some in the header
    /// line; `maxWidth` nil shows values whole.
    public func renderTable(columns keep: [String]? = nil, headers: [String: String] = [:], maxWidth: Int? = 32) -> String {
        let shown = keep.map(selecting) ?? self
        return TextTable(columns: shown.columns.map { headers[$0.name] ?? $0.name }, rows: shown.rows)
            .render(maxWidth: maxWidth ?? Int.max)
    }

    /// One row as a JSON object on one line, keys in column order, followed by
    /// `extra` members whose values are JSON text already.
    public func jsonObject(row: Int, extra: [(key: String, json: String)] = []) -> String {
        var members = zip(columns, rows[row]).map { column, value in
            JSONText.quoted(column.name) + ":" + Self.jsonValue(value, kind: column.kind)
        }
        members += extra.map { JSONText.quoted($0.key) + ":" + $0.json }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Every row as a JSON object, one per line (JSON Lines); `extra` adds
    /// members to each row. Empty string when there are no rows.
    public func jsonLines(extra: (Int) -> [(key: String, json: String)] = { _ in [] }) -> String {
        rows.indices.map { jsonObject(row: $0, extra: extra($0)) }.joined(separator: "\n")
    }

    /// Every row as a JSON object, in one JSON array on one line.
    public func jsonArray() -> String {
        "[" + rows.indices.map { jsonObject(row: $0) }.joined(separator: ",") + "]"
    }

    /// A cell as a JSON value of its kind; NULL as `null`.
    public static func jsonValue(_ value: String?, kind: Kind) -> String {
        guard let value else { return "null" }
        switch kind {
        case .text: return JSONText.quoted(value)
        case .number: return Double(value) != nil ? value : JSONText.quoted(value)
        case .boolean: return value == "true" || value == "t" ? "true" : "false"
        case .json: return value
        }
    }

    // MARK: Reading

    /// Runs `query` and reads every row. Column kinds come from the result's
    /// types: integers are numbers, booleans booleans, json/jsonb JSON, uuids
    /// text (lower case), timestamps ISO 8601 text in UTC to the second; text
    /// types are text. Other types must be cast to text in the query.
    public static func query(_ query: PostgresQuery, on client: PostgresClient, logger: Logger) async throws -> Listing {
        try await client.withConnection { try await Self.query(query, on: $0, logger: logger) }
    }

    /// ``query(_:on:logger:)`` on one connection (e.g. inside a transaction).
    public static func query(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Listing {
        var columns: [Column] = []
        var rows: [[String?]] = []
        for try await row in try await connection.query(query, logger: logger) {
            let cells = row.makeRandomAccess()
            if columns.isEmpty {
                columns = try (0..<cells.count).map { Column(cells[$0].columnName, try kind(of: cells[$0])) }
            }
            rows.append(try (0..<cells.count).map { try text(of: cells[$0]) })
        }
        return Listing(columns: columns, rows: rows)
    }

    /// Thrown for a result column whose type the reader does not convert.
    public struct UnsupportedColumn: Error, CustomStringConvertible {
        public var column: String
        public var type: PostgresDataType
        public var description: String { "column \(column) has type \(type); cast it to text in the query" }
    }

    static func kind(of cell: PostgresCell) throws -> Kind {
        switch cell.dataType {
        case .int2, .int4, .int8: return .number
        case .bool: return .boolean
        case .json, .jsonb: return .json
        case .text, .varchar, .name, .bpchar, .uuid, .timestamptz, .timestamp: return .text
        default: throw UnsupportedColumn(column: cell.columnName, type: cell.dataType)
        }
    }

    static func text(of cell: PostgresCell) throws -> String? {
        guard cell.bytes != nil else { return nil }
        switch cell.dataType {
        case .int2, .int4, .int8: return String(try cell.decode(Int64.self))
        case .bool: return try cell.decode(Bool.self) ? "true" : "false"
        case .uuid: return try cell.decode(UUID.self).uuidString.lowercased()
        case .timestamptz, .timestamp: return Self.timestamp(try cell.decode(Date.self))
        default: return try cell.decode(String.self)
        }
    }

    /// `date` as `2024-05-01T12:30:00Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }
}
