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
    /// The 1-based line of the file its record starts on (0: not from a file),
    /// so that a value checked later, or a line skipped, can be named.
    public var line: Int

    public init(
        seq: Int64, externalKey: String, operation: Operation?, fieldName: String? = nil, newValue: String? = nil,
        sourceTimestamp: String? = nil, line: Int = 0
    ) {
        self.seq = seq
        self.externalKey = externalKey
        self.operation = operation
        self.fieldName = fieldName
        self.newValue = newValue
        self.sourceTimestamp = sourceTimestamp
        self.line = line
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
/// the mapping says to clear the field.
///
/// Refused at once, naming the line and column (the error is thrown): a
/// record without a key, a key over ``ItemPreparer/maxExternalKeyBytes``, a
/// NUL character (PostgreSQL text cannot hold it).
///
/// Collected in ``problems`` (the caller throws ``BadValueReport/error`` at
/// the end, as ``IntakePipeline`` does), so that one run shows them all:
/// - a cell its column's type does not read in the file's conventions
///   (``ValueFormat``; the cell gives no item), and a source timestamp that
///   is not one (``SourceTimestampText``, after its date part was read in
///   the file's date order);
/// - with ``DuplicateKeys/error``, a record whose key an earlier record had
///   (``DuplicateKeyDetector``). With ``DuplicateKeys/lastWins`` such a record
///   is a ``Supersession`` instead, taken with ``takeSupersessions()``.
public struct RecordUnpivot: Sendable {
    public let mapping: ResolvedMapping
    /// Also emit a marker per record (snapshots: the set of keys the file holds,
    /// records with no item included).
    public let markRecords: Bool
    /// How numbers and dates are written in the file.
    public let valueFormat: ValueFormat
    /// What a repeated key means.
    public let duplicates: DuplicateKeys
    /// The next `seq`.
    public private(set) var nextSeq: Int64 = 1
    /// Bad values and repeated keys so far.
    public private(set) var problems: BadValueReport
    /// Records superseded by later ones with their key (``DuplicateKeys/lastWins``), not yet taken.
    public private(set) var supersessions: [Supersession] = []
    /// The lines of records with a bad value (each once, in file order), not
    /// yet taken: all of them, not only those ``problems`` keeps, so that a
    /// caller that skips bad records (`--on-bad-rows skip`) can drop every one.
    public private(set) var badLines: [Int] = []
    private var keys = DuplicateKeyDetector()
    /// The line of the last bad value, also once ``badLines`` was taken (lines only grow).
    private var lastBadLine = 0

    /// What a column of the file becomes, and how its cells are read.
    private struct ColumnInfo: Sendable {
        var plan: ResolvedMapping.ColumnPlan
        var kind: ValueKind
    }

    /// Columns met so far (JSON Lines objects differ in their keys).
    private var infos: [String: ColumnInfo] = [:]
    /// The columns of the previous record and what each is, by position
    /// (for CSV: the header, every time).
    private var layoutColumns: [String] = []
    private var layout: [ColumnInfo]?
    private var keyIndex: Int?
    private var timestampIndex: Int?

    public init(
        mapping: ResolvedMapping, markRecords: Bool = false, valueFormat: ValueFormat = ValueFormat(), duplicates: DuplicateKeys = .error,
        badValueLimit: Int = IntakeOptions.defaultBadValueLimit
    ) {
        self.mapping = mapping
        self.markRecords = markRecords
        self.valueFormat = valueFormat
        self.duplicates = duplicates
        problems = BadValueReport(limit: badValueLimit)
    }

    /// Checks a CSV header before any row: no column twice or without a name,
    /// the key column present, every column mapped to a field or ignored, and
    /// every column the mapping names present.
    public mutating func checkHeader(_ columns: [String], line: Int) throws {
        var seen = Set<String>()
        for (index, column) in columns.enumerated() {
            if column.isEmpty {
                throw IntakeError(
                    .badHeader, line: line, "column \(index + 1) of the header has no name",
                    hint: "name every column in the header row (only empty columns at its end are ignored); to leave a column out, name it and pass --ignore with the name")
            }
            guard seen.insert(column).inserted else {
                throw IntakeError(.badHeader, line: line, column: column, "the header names this column twice")
            }
        }
        guard seen.contains(mapping.keyColumn) else {
            var hint = "the header has \(columns.map { Quote.short($0) }.joined(separator: ", ")); pass the key column's name with --key"
            if columns.count == 1,
                let (character, name) = [(";", "semicolon"), ("\t", "tab"), (",", "comma"), ("|", "pipe")].first(where: { columns[0].contains($0.0) })
            {
                hint = "the header is read as one column: if the file is delimited by \(name == "tab" ? "tabs" : "'\(character)'"), pass --delimiter \(name)"
            }
            throw IntakeError(.missingKey, line: line, column: mapping.keyColumn, "the key column is not in the header", hint: hint)
        }
        if let timestamp = mapping.sourceTimestampColumn, !seen.contains(timestamp) {
            throw IntakeError(.badMapping, line: line, column: timestamp, "the source_timestamp column is not in the header")
        }
        if let absent = mapping.explicit.keys.sorted().first(where: { !seen.contains($0) }) {
            throw IntakeError(
                .badMapping, line: line, column: absent, "the mapping names this column, but the header does not have it",
                hint: "check the spelling in the mapping file, or remove the column from it")
        }
        for column in columns { infos[column] = try info(forColumn: column, line: line) }
    }

    /// What `column` becomes: its plan, and for a `Set` the kind of its field's type.
    private func info(forColumn column: String, line: Int) throws -> ColumnInfo {
        let plan = try mapping.plan(forColumn: column, line: line)
        guard case .set(let field) = plan, let type = mapping.table.columns[field]?.sqlType else { return ColumnInfo(plan: plan, kind: .text) }
        return ColumnInfo(plan: plan, kind: ValueKind(sqlType: type))
    }

    /// Takes the supersessions noted so far (``DuplicateKeys/lastWins``).
    public mutating func takeSupersessions() -> [Supersession] {
        defer { supersessions.removeAll() }
        return supersessions
    }

    /// Takes the lines of records with a bad value noted so far (``badLines``).
    public mutating func takeBadLines() -> [Int] {
        defer { badLines.removeAll(keepingCapacity: true) }
        return badLines
    }

    /// Notes a bad value of the record on `line` (repeated keys are not bad values).
    private mutating func addBadValue(_ value: BadValue) {
        problems.add(value)
        if lastBadLine != value.line {
            badLines.append(value.line)
            lastBadLine = value.line
        }
    }


    /// The items of one record, in column order (after its marker, if any).
    public mutating func unpivot(_ record: IntakeRecord, _ emit: (StagedItem) throws -> Void) throws {
        if layout == nil || record.columns != layoutColumns {
            layoutColumns = record.columns
            layout = nil
            keyIndex = record.columns.lastIndex(of: mapping.keyColumn)
            timestampIndex = mapping.sourceTimestampColumn.flatMap { record.columns.lastIndex(of: $0) }
        }
        guard let key = keyIndex.flatMap({ record.values[$0] }), key.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
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
        let timestamp = timestampIndex.flatMap { record.values[$0] }.flatMap { sourceTimestamp($0, line: record.line) }
        if let previous = keys.see(key, line: record.line, keepLatest: duplicates == .lastWins) {
            switch duplicates {
            case .error:
                problems.add(
                    BadValue(
                        .duplicateKey, line: record.line, column: mapping.keyColumn, value: key, reason: "the key is also on line \(previous)",
                        hint: "a file holds each record once; pass --duplicates last-wins to keep the last record of each key"))
            case .lastWins:
                supersessions.append(Supersession(externalKey: key, line: record.line, supersededLine: previous, beforeSeq: nextSeq))
            }
        }
        let columns: [ColumnInfo]
        if let layout {
            columns = layout
        } else {
            var resolved: [ColumnInfo] = []
            resolved.reserveCapacity(record.columns.count)
            for column in record.columns {
                if let known = infos[column] {
                    resolved.append(known)
                } else {
                    let info = try info(forColumn: column, line: record.line)
                    infos[column] = info
                    resolved.append(info)
                }
            }
            layout = resolved
            columns = resolved
        }
        if markRecords {
            try emit(StagedItem(seq: 0, externalKey: key, operation: nil, line: record.line))
        }
        for index in columns.indices {
            let operation: Operation
            let field: String
            switch columns[index].plan {
            case .none: continue
            case .set(let name): (operation, field) = (.set, name)
            case .link(let name): (operation, field) = (.link, name)
            }
            var value = record.values[index]
            if let text = value, !text.isEmpty {
                if text.utf8.contains(0) {
                    throw IntakeError(
                        .invalidValue, line: record.line, column: record.columns[index],
                        "the value contains a NUL character, which PostgreSQL text cannot hold")
                }
                let kind = columns[index].kind
                if kind != .text {
                    switch valueFormat.normalise(text, as: kind) {
                    case .unchanged: break
                    case .changed(let normalised): value = normalised
                    case .refused(let reason, let hint):
                        addBadValue(BadValue(line: record.line, column: record.columns[index], value: text, reason: reason, hint: hint))
                        continue
                    }
                }
            } else {
                guard mapping.emptyCells == .clear else { continue }
                value = nil
            }
            try emit(
                StagedItem(
                    seq: nextSeq, externalKey: key, operation: operation, fieldName: field, newValue: value, sourceTimestamp: timestamp,
                    line: record.line))
            nextSeq += 1
        }
    }

    /// The source timestamp cell as ISO 8601 text, its date read in the
    /// file's order; nil when empty or bad (then noted in ``problems``).
    private mutating func sourceTimestamp(_ text: String, line: Int) -> String? {
        guard !text.isEmpty, let column = mapping.sourceTimestampColumn else { return nil }
        var result = text
        switch valueFormat.normalise(text, as: .timestamp) {
        case .unchanged: break
        case .changed(let normalised): result = normalised
        case .refused(let reason, let hint):
            addBadValue(BadValue(line: line, column: column, value: text, reason: reason, hint: hint))
            return nil
        }
        guard SourceTimestampText.isValid(result) else {
            addBadValue(
                BadValue(
                    line: line, column: column, value: text, reason: "not a timestamp",
                    hint: "use ISO 8601, e.g. 2026-11-25T08:00:00Z (a time without an offset is UTC)"))
            return nil
        }
        return result
    }
}
