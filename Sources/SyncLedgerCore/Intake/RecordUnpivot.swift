/// One item of a submitted file, ready to stage: a row of `integration.sync_item`
/// without its job (the SPEC §1 input columns).
public struct StagedItem: Sendable, Equatable {
    /// Order within the job: items in file order, a record's items in column order.
    public var seq: Int64
    public var externalKey: String
    /// `Set`, `Link` or `Delete`; `nil` for a record marker (``RecordUnpivot/markRecords``,
    /// `seq` 0), which stages no item and only says that the file holds the record.
    public var operation: Operation?
    public var fieldName: String?
    /// `nil` clears the field.
    public var newValue: String?
    /// ISO 8601 text (``SourceTimestampText``), or `nil`.
    public var sourceTimestamp: String?

    public init(
        seq: Int64, externalKey: String, operation: Operation?, fieldName: String? = nil, newValue: String? = nil,
        sourceTimestamp: String? = nil
    ) {
        self.seq = seq
        self.externalKey = externalKey
        self.operation = operation
        self.fieldName = fieldName
        self.newValue = newValue
        self.sourceTimestamp = sourceTimestamp
    }
}

/// One record of a file: its columns and values, and the line it starts on.
/// For CSV the columns are the header; for JSON Lines the object's keys.
public struct IntakeRecord: Sendable, Equatable {
    public var line: Int
    public var columns: [String]
    /// `nil`: JSON `null`.
    public var values: [String?]

    public init(line: Int, columns: [String], values: [String?]) {
        self.line = line
        self.columns = columns
        self.values = values
    }
}

/// The unpivot: one record becomes one item per mapped column (SPEC §7), in
/// column order, each carrying the record's external key and source
/// timestamp. Empty cells (an empty string, JSON `null`) give no item unless
/// the mapping says to clear the field. Refused, naming the line and column:
/// a record without a key, a key over ``ItemPreparer/maxExternalKeyBytes``, a
/// NUL character (PostgreSQL text cannot hold it), a source timestamp that is
/// not one.
public struct RecordUnpivot: Sendable {
    public let mapping: ResolvedMapping
    /// Also emit a marker per record (snapshots: the set of keys the file holds,
    /// records with no item included).
    public let markRecords: Bool
    /// The next `seq`.
    public private(set) var nextSeq: Int64 = 1
    /// Plans of the columns met so far (JSON Lines objects differ in their keys).
    private var plans: [String: ResolvedMapping.ColumnPlan] = [:]

    public init(mapping: ResolvedMapping, markRecords: Bool = false) {
        self.mapping = mapping
        self.markRecords = markRecords
    }

    /// Checks a CSV header before any row: no column twice or without a name,
    /// the key column present, every column mapped to a field or ignored, and
    /// every column the mapping names present.
    public mutating func checkHeader(_ columns: [String], line: Int) throws {
        var seen = Set<String>()
        for (index, column) in columns.enumerated() {
            if column.isEmpty {
                throw IntakeError(.badHeader, line: line, "column \(index + 1) of the header has no name", hint: "every column needs a name in the header row")
            }
            guard seen.insert(column).inserted else {
                throw IntakeError(.badHeader, line: line, column: column, "the header names this column twice")
            }
        }
        guard seen.contains(mapping.keyColumn) else {
            throw IntakeError(
                .missingKey, line: line, column: mapping.keyColumn, "the key column is not in the header",
                hint: "the header has \(columns.map { Quote.short($0) }.joined(separator: ", ")); pass the key column's name with --key")
        }
        if let timestamp = mapping.sourceTimestampColumn, !seen.contains(timestamp) {
            throw IntakeError(.badMapping, line: line, column: timestamp, "the source_timestamp column is not in the header")
        }
        if let absent = mapping.explicit.keys.sorted().first(where: { !seen.contains($0) }) {
            throw IntakeError(
                .badMapping, line: line, column: absent, "the mapping names this column, but the header does not have it",
                hint: "check the spelling in the mapping file, or remove the column from it")
        }
        for column in columns { plans[column] = try mapping.plan(forColumn: column, line: line) }
    }

    /// The items of one record, in column order (after its marker, if any).
    public mutating func unpivot(_ record: IntakeRecord, _ emit: (StagedItem) throws -> Void) throws {
        var key: String?
        var timestamp: String?
        for (index, column) in record.columns.enumerated() {
            if column == mapping.keyColumn { key = record.values[index] }
            if column == mapping.sourceTimestampColumn { timestamp = record.values[index] }
        }
        guard let key, key.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw IntakeError(
                .missingKey, line: record.line, column: mapping.keyColumn, "the record has no key (the key column is empty or missing)",
                hint: "every record needs its external key")
        }
        let keyBytes = key.utf8.count
        if keyBytes > ItemPreparer.maxExternalKeyBytes {
            throw IntakeError(
                .invalidValue, line: record.line, column: mapping.keyColumn,
                "the key is \(keyBytes) bytes; the crosswalk accepts at most \(ItemPreparer.maxExternalKeyBytes)")
        }
        if key.utf8.contains(0) {
            throw IntakeError(.invalidValue, line: record.line, column: mapping.keyColumn, "the key contains a NUL character")
        }
        if let text = timestamp, text.isEmpty {
            timestamp = nil
        } else if let text = timestamp, !SourceTimestampText.isValid(text) {
            throw IntakeError(
                .invalidValue, line: record.line, column: mapping.sourceTimestampColumn,
                "\(Quote.short(text)) is not a timestamp",
                hint: "use ISO 8601, e.g. 2026-11-25T08:00:00Z (a time without an offset is UTC)")
        }
        if markRecords {
            try emit(StagedItem(seq: 0, externalKey: key, operation: nil))
        }
        for (index, column) in record.columns.enumerated() {
            let plan: ResolvedMapping.ColumnPlan
            if let known = plans[column] {
                plan = known
            } else {
                plan = try mapping.plan(forColumn: column, line: record.line)
                plans[column] = plan
            }
            let operation: Operation
            let field: String
            switch plan {
            case .none: continue
            case .set(let name): (operation, field) = (.set, name)
            case .link(let name): (operation, field) = (.link, name)
            }
            var value = record.values[index]
            if value?.isEmpty ?? true {
                guard mapping.emptyCells == .clear else { continue }
                value = nil
            } else if value!.utf8.contains(0) {
                throw IntakeError(
                    .invalidValue, line: record.line, column: column, "the value contains a NUL character, which PostgreSQL text cannot hold")
            }
            try emit(StagedItem(seq: nextSeq, externalKey: key, operation: operation, fieldName: field, newValue: value, sourceTimestamp: timestamp))
            nextSeq += 1
        }
    }
}
