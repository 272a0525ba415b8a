/// What the worker knows about the database it writes to: registered source
/// systems and target tables, with the columns PostgreSQL reports for them.
/// Loaded once per job by the shell; the core only reads it.
public struct Catalog: Sendable {
    public var sources: [String: SourceSystem]
    public var tables: [String: TargetTable]

    public init(sources: [SourceSystem] = [], tables: [TargetTable] = []) {
        self.sources = Dictionary(sources.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        self.tables = Dictionary(tables.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }
}

/// A row of `integration.source_system`.
public struct SourceSystem: Sendable, Equatable {
    public var key: String
    public var isActive: Bool

    public init(key: String, isActive: Bool = true) {
        self.key = key
        self.isActive = isActive
    }
}

/// A row of `integration.target_table`, joined with the table's real columns.
public struct TargetTable: Sendable, Equatable {
    /// `schema.table`, as registered.
    public var name: String
    public var idColumn: String
    /// Boolean column cleared by `Delete`; `nil` refuses Delete.
    public var activeColumn: String?
    public var isActive: Bool
    /// `false` when the table is registered but PostgreSQL has no such table.
    public var exists: Bool
    public var columns: [String: Column]

    public init(
        name: String, idColumn: String = "id", activeColumn: String? = nil, isActive: Bool = true,
        exists: Bool = true, columns: [Column] = []
    ) {
        self.name = name
        self.idColumn = idColumn
        self.activeColumn = activeColumn
        self.isActive = isActive
        self.exists = exists
        self.columns = Dictionary(columns.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }
}

/// A column as `pg_attribute` describes it.
public struct Column: Sendable, Equatable {
    public var name: String
    /// `format_type(atttypid, atttypmod)`, e.g. `date`, `numeric(10,2)`.
    public var sqlType: String
    public var isNotNull: Bool
    public var isGenerated: Bool
    /// For a single-column foreign key: the referenced table as `schema.table`.
    public var references: String?

    public init(name: String, sqlType: String = "text", isNotNull: Bool = false, isGenerated: Bool = false, references: String? = nil) {
        self.name = name
        self.sqlType = sqlType
        self.isNotNull = isNotNull
        self.isGenerated = isGenerated
        self.references = references
    }

    /// Values for a `text` column need no cast check.
    public var needsCastCheck: Bool { sqlType != "text" }
}

/// Schemas that are never a target, whatever the registry says.
public enum ProtectedSchemas {
    public static let names: Set<String> = ["integration", "pg_catalog", "information_schema", "pg_toast"]

    /// Whether `table` (`schema.table`) lives in a protected schema.
    public static func contains(table: String) -> Bool {
        let schema = table.split(separator: ".", maxSplits: 1).first.map(String.init) ?? table
        return names.contains(schema.lowercased()) || schema.lowercased().hasPrefix("pg_temp")
    }
}
