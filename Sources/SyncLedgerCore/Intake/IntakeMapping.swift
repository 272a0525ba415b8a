import Foundation

/// How the columns of a submitted file become items: which source speaks,
/// which table the records are, which column holds the external key, and
/// what each other column is. From flags for the simple case
/// (`--source hr --table core.person --key employee_id`: every other column
/// is the field of the same name) or from a mapping file (``parse(json:file:)``);
/// flags win over the file.
public struct IntakeMapping: Sendable, Equatable {
    /// What a column of the file is.
    public enum Target: Sendable, Equatable {
        /// A `Set` item for this field.
        case field(String)
        /// A `Link` item for this foreign-key field: the cell is the related
        /// record's external key in the same source. `relatedTable`, when
        /// given, must be the table the foreign key references.
        case link(field: String, relatedTable: String?)
        /// Not submitted.
        case ignore
    }

    /// What to do with columns the mapping does not name.
    public enum OtherColumns: String, Sendable, Equatable {
        /// Each is the field of the same name (an unknown name is an error).
        case fields
        /// Each is ignored.
        case ignore
    }

    public var source: String?
    /// `schema.table`, registered in `integration.target_table`.
    public var table: String?
    /// The column holding the source's external key of each record.
    public var keyColumn: String?
    /// The column holding when the source changed the record (optional).
    public var sourceTimestampColumn: String?
    /// Columns named explicitly.
    public var columns: [String: Target]
    public var otherColumns: OtherColumns
    /// What an empty cell means; `nil` until decided (default ``EmptyCells/leave``).
    public var emptyCells: EmptyCells?

    public init(
        source: String? = nil, table: String? = nil, keyColumn: String? = nil, sourceTimestampColumn: String? = nil,
        columns: [String: Target] = [:], otherColumns: OtherColumns = .fields, emptyCells: EmptyCells? = nil
    ) {
        self.source = source
        self.table = table
        self.keyColumn = keyColumn
        self.sourceTimestampColumn = sourceTimestampColumn
        self.columns = columns
        self.otherColumns = otherColumns
        self.emptyCells = emptyCells
    }

    /// The keys a mapping file may hold.
    public static let fileKeys = ["source", "table", "key", "source_timestamp", "columns", "ignore", "other_columns", "empty_cells"]

    /// Reads a mapping file (JSON):
    ///
    /// ```json
    /// {
    ///   "source": "hr", "table": "core.person", "key": "employee_id",
    ///   "source_timestamp": "changed_at",
    ///   "columns": {
    ///     "first_name": "given_name",
    ///     "employer": {"field": "employer_id", "link": "core.organisation"},
    ///     "internal_note": null
    ///   },
    ///   "ignore": ["payroll_ref"],
    ///   "other_columns": "fields",
    ///   "empty_cells": "leave"
    /// }
    /// ```
    ///
    /// Every key is optional; unknown keys are refused (a typo would otherwise
    /// be silently ignored). `file` names the file in messages.
    public static func parse(json: Data, file: String) throws -> IntakeMapping {
        func bad(_ message: String) -> IntakeError {
            IntakeError(
                .badMapping, "mapping file \(file): \(message)",
                hint: "a mapping file is a JSON object with the keys \(fileKeys.joined(separator: ", ")); see `syncledger submit --help`")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            throw bad("not valid JSON")
        }
        guard let top = object as? [String: Any] else { throw bad("expected a JSON object") }
        if let unknown = top.keys.sorted().first(where: { !fileKeys.contains($0) }) {
            throw bad("unknown key \(Quote.short(unknown))")
        }
        func text(_ key: String) throws -> String? {
            guard let value = top[key], !(value is NSNull) else { return nil }
            guard let string = value as? String else { throw bad("\(Quote.short(key)) must be a string") }
            return string
        }
        var mapping = IntakeMapping(
            source: try text("source"), table: try text("table"), keyColumn: try text("key"),
            sourceTimestampColumn: try text("source_timestamp"))
        if let columns = top["columns"], !(columns is NSNull) {
            guard let columns = columns as? [String: Any] else { throw bad("'columns' must be an object of column: field") }
            for (column, target) in columns {
                switch target {
                case is NSNull:
                    mapping.columns[column] = .ignore
                case let field as String:
                    mapping.columns[column] = .field(field)
                case let spec as [String: Any]:
                    if let unknown = spec.keys.sorted().first(where: { $0 != "field" && $0 != "link" }) {
                        throw bad("column \(Quote.short(column)): unknown key \(Quote.short(unknown)) (use \"field\" and \"link\")")
                    }
                    guard let field = spec["field"] as? String else {
                        throw bad("column \(Quote.short(column)): \"field\" must name the field")
                    }
                    switch spec["link"] {
                    case nil, is NSNull:
                        mapping.columns[column] = .field(field)
                    case let related as String:
                        mapping.columns[column] = .link(field: field, relatedTable: related)
                    default:
                        throw bad("column \(Quote.short(column)): \"link\" must name the related table, e.g. \"core.organisation\"")
                    }
                default:
                    throw bad(
                        "column \(Quote.short(column)): expected a field name, null (ignore it) or {\"field\": ..., \"link\": ...}")
                }
            }
        }
        if let ignore = top["ignore"], !(ignore is NSNull) {
            guard let names = ignore as? [String] else { throw bad("'ignore' must be a list of column names") }
            for name in names {
                if let target = mapping.columns[name], target != .ignore {
                    throw bad("column \(Quote.short(name)) is both mapped and ignored")
                }
                mapping.columns[name] = .ignore
            }
        }
        if let other = try text("other_columns") {
            guard let value = OtherColumns(rawValue: other) else { throw bad("'other_columns' is \"fields\" or \"ignore\"") }
            mapping.otherColumns = value
        }
        if let empty = try text("empty_cells") {
            guard let value = EmptyCells(rawValue: empty) else { throw bad("'empty_cells' is \"leave\" or \"clear\"") }
            mapping.emptyCells = value
        }
        return mapping
    }

    /// Checks the mapping against the catalogue: the source exists and is
    /// active, the table is registered, active, present and not protected,
    /// and every field the mapping names is a writable column of it (a `Link`
    /// column a foreign key to a registered table). Columns of the file are
    /// checked as they are met (``ResolvedMapping/plan(forColumn:line:)``).
    public func resolve(in catalog: Catalog) throws -> ResolvedMapping {
        guard let sourceKey = source, !sourceKey.isEmpty else {
            throw IntakeError(.badMapping, "no source system: pass --source (e.g. --source hr) or set \"source\" in the mapping file")
        }
        guard let tableName = table, !tableName.isEmpty else {
            throw IntakeError(.badMapping, "no target table: pass --table (e.g. --table core.person) or set \"table\" in the mapping file")
        }
        guard let keyColumn, !keyColumn.isEmpty else {
            throw IntakeError(
                .badMapping, "no key column: pass --key with the column that holds each record's external key (e.g. --key employee_id)")
        }
        let target: TargetTable
        do {
            _ = try catalog.activeSource(sourceKey)
            target = try catalog.writableTable(tableName)
        } catch {
            throw IntakeError(error, column: nil, line: nil)
        }
        if let timestamp = sourceTimestampColumn, timestamp == keyColumn {
            throw IntakeError(.badMapping, column: timestamp, "the key column cannot also be the source_timestamp column")
        }
        var resolved = ResolvedMapping(
            source: sourceKey, table: target, keyColumn: keyColumn, sourceTimestampColumn: sourceTimestampColumn,
            explicit: [:], otherColumns: otherColumns, emptyCells: emptyCells ?? .leave, catalog: catalog)
        for (column, target) in columns.sorted(by: { $0.key < $1.key }) {
            resolved.explicit[column] = try resolved.check(target, column: column, line: nil)
        }
        return resolved
    }
}

/// What an empty cell (an empty CSV field, a JSON `null` or `""`) means.
public enum EmptyCells: String, Sendable, Equatable, CaseIterable {
    /// No item: the field keeps whatever value it has (the default).
    case leave
    /// An item that clears the field (`new_value` NULL).
    case clear
}

/// A mapping checked against the catalogue: what each column of a file becomes.
public struct ResolvedMapping: Sendable {
    /// What one column of the file becomes.
    public enum ColumnPlan: Sendable, Equatable {
        /// A `Set` item for the field.
        case set(field: String)
        /// A `Link` item for the foreign-key field.
        case link(field: String)
        /// Nothing (ignored, or the key or timestamp column).
        case none
    }

    public var source: String
    public var table: TargetTable
    public var keyColumn: String
    public var sourceTimestampColumn: String?
    /// The checked plans of the columns the mapping names.
    public var explicit: [String: ColumnPlan]
    public var otherColumns: IntakeMapping.OtherColumns
    public var emptyCells: EmptyCells
    let catalog: Catalog

    /// The plan for a column of the file met at `line` (the header line for CSV).
    /// A column the mapping does not name is the field of the same name,
    /// unless the mapping ignores other columns.
    public func plan(forColumn column: String, line: Int?) throws -> ColumnPlan {
        if let plan = explicit[column] { return plan }
        if column == keyColumn || column == sourceTimestampColumn { return .none }
        switch otherColumns {
        case .ignore: return .none
        case .fields: return try check(.field(column), column: column, line: line)
        }
    }

    /// Checks one target against the table (the worker's own rules,
    /// ``TargetTable/writableColumn(_:)`` and ``Catalog/linkedTable(_:of:)``);
    /// errors name the column (and line).
    func check(_ target: IntakeMapping.Target, column: String, line: Int?) throws -> ColumnPlan {
        let field: String
        switch target {
        case .ignore: return .none
        case .field(let name), .link(let name, _): field = name
        }
        do {
            let columnInfo = try table.writableColumn(field)
            guard case .link(_, let relatedTable) = target else { return .set(field: field) }
            let related = try catalog.linkedTable(columnInfo, of: table)
            if let relatedTable, relatedTable != related.name {
                throw IntakeError(
                    .badMapping, line: line, column: column, "\(Quote.short(field)) references \(related.name), not \(Quote.short(relatedTable))")
            }
            return .link(field: field)
        } catch let failure as ItemFailure {
            throw IntakeError(failure, column: column, line: line)
        }
    }

    /// The mapping in a stable text form, part of the content key: the same
    /// file submitted with a different mapping is a different submission.
    public var canonicalText: String {
        var lines = [
            "source=\(source)", "table=\(table.name)", "key=\(keyColumn)", "source_timestamp=\(sourceTimestampColumn ?? "")",
            "other_columns=\(otherColumns.rawValue)", "empty_cells=\(emptyCells.rawValue)",
        ]
        for (column, plan) in explicit.sorted(by: { $0.key < $1.key }) {
            switch plan {
            case .set(let field): lines.append("column \(column)=set \(field)")
            case .link(let field): lines.append("column \(column)=link \(field)")
            case .none: lines.append("column \(column)=ignore")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension IntakeError {
    /// A catalogue refusal (what an item naming the same would fail with),
    /// placed at a column of the file, with what to do about it.
    init(_ failure: ItemFailure, column: String?, line: Int?) {
        let ignore = column.map { "map the column to a field with a mapping file, or leave it out with --ignore \($0)" }
        switch failure {
        case .unknownSourceSystem, .inactiveSourceSystem:
            self.init(.unknownSource, line: line, column: column, failure.description, hint: "check the spelling of --source (or \"source\" in the mapping file)")
        case .missingTargetTable, .protectedTable, .unregisteredTable, .inactiveTable, .missingTable:
            self.init(
                .unregisteredTable, line: line, column: column, failure.description,
                hint: "give the table as schema.table (e.g. core.person); an administrator registers target tables")
        case .unknownField, .idColumn, .generatedColumn:
            self.init(.unknownColumn, line: line, column: column, failure.description, hint: ignore)
        case .activeColumn:
            self.init(
                .unknownColumn, line: line, column: column, failure.description,
                hint: "submit the complete set of records with --snapshot to delete those missing" + (ignore.map { ", or \($0)" } ?? ""))
        default:
            self.init(.badMapping, line: line, column: column, failure.description)
        }
    }
}
