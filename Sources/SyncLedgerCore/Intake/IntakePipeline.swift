/// The format of a submitted file.
public enum IntakeFormat: Sendable, Equatable {
    /// CSV with a header row (RFC 4180), fields separated by `delimiter`.
    case csv(delimiter: UInt8)
    /// JSON Lines: one object per line.
    case jsonLines

    /// CSV separated by commas.
    public static let commaSeparated = IntakeFormat.csv(delimiter: UInt8(ascii: ","))

    /// The format a file name suggests: `.csv` (comma), `.tsv` (tab),
    /// `.jsonl`/`.ndjson`/`.json` (JSON Lines); nil otherwise (standard input included).
    public static func guess(fromName name: String) -> IntakeFormat? {
        let lower = name.lowercased()
        if lower.hasSuffix(".csv") { return .commaSeparated }
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { return .csv(delimiter: UInt8(ascii: "\t")) }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonLines }
        return nil
    }

    /// In the content key and messages: `csv`, `csv;` (another delimiter), `jsonl`.
    public var name: String {
        switch self {
        case .csv(let delimiter) where delimiter == UInt8(ascii: ","): return "csv"
        case .csv(let delimiter): return "csv" + String(decoding: [delimiter], as: UTF8.self)
        case .jsonLines: return "jsonl"
        }
    }
}

/// From bytes to staged items, pure and incremental: the file's bytes go in
/// chunk by chunk (as read), and out come the items of every record
/// completed so far (``RecordUnpivot``). For CSV the first record is the
/// header, checked before any row (``isReady`` tells when it has been); rows
/// with more or fewer fields than the header are refused. Memory is one
/// record.
public struct IntakePipeline: Sendable {
    public let format: IntakeFormat
    public private(set) var unpivot: RecordUnpivot
    /// Records read (CSV rows after the header, JSON objects).
    public private(set) var records = 0
    /// Items staged (record markers not counted).
    public private(set) var items = 0
    private var csv: CSVParser?
    private var jsonLines: JSONLinesParser?
    private var header: [String]?
    private var headerLine = 0

    public init(format: IntakeFormat, mapping: ResolvedMapping, markRecords: Bool = false) {
        self.format = format
        unpivot = RecordUnpivot(mapping: mapping, markRecords: markRecords)
        switch format {
        case .csv(let delimiter): csv = CSVParser(delimiter: delimiter)
        case .jsonLines: jsonLines = JSONLinesParser()
        }
    }

    /// Whether everything that can be checked before the first record has
    /// been (CSV: the header was read and checked; JSON Lines: at once).
    public var isReady: Bool {
        switch format {
        case .csv: return header != nil
        case .jsonLines: return true
        }
    }

    /// The CSV header, once read.
    public var csvHeader: [String]? { header }

    /// Reads the next chunk of the file; `emit` gets the items (and markers)
    /// of every record it completes, in order.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (StagedItem) throws -> Void) throws {
        if var parser = csv {
            csv = nil  // one owner of its buffers, so parsing does not copy them
            defer { csv = parser }
            try parser.parse(chunk) { try csvRecord($0, emit) }
        } else if var parser = jsonLines {
            jsonLines = nil
            defer { jsonLines = parser }
            try parser.parse(chunk) { try jsonRecord($0, emit) }
        }
    }

    /// Reads a chunk given as bytes (tests).
    public mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ emit: (StagedItem) throws -> Void) throws {
        try Array(bytes).withUnsafeBytes { try feed($0, emit) }
    }

    /// The end of the file: the last record, and a CSV file without even a header refused.
    public mutating func finish(_ emit: (StagedItem) throws -> Void) throws {
        if var parser = csv {
            csv = nil  // one owner of its buffers, so parsing does not copy them
            defer { csv = parser }
            try parser.finish { try csvRecord($0, emit) }
            if header == nil {
                throw IntakeError(.empty, "the file is empty: a CSV file starts with a header row naming its columns")
            }
        } else if var parser = jsonLines {
            jsonLines = nil
            defer { jsonLines = parser }
            try parser.finish { try jsonRecord($0, emit) }
        }
    }

    /// Every item of a whole file (tests, small inputs).
    public static func items(of text: String, format: IntakeFormat, mapping: ResolvedMapping, markRecords: Bool = false) throws -> [StagedItem] {
        var pipeline = IntakePipeline(format: format, mapping: mapping, markRecords: markRecords)
        var items: [StagedItem] = []
        try pipeline.feed(Array(text.utf8)) { items.append($0) }
        try pipeline.finish { items.append($0) }
        return items
    }

    private mutating func csvRecord(_ record: CSVParser.Record, _ emit: (StagedItem) throws -> Void) throws {
        guard let header else {
            try unpivot.checkHeader(record.fields, line: record.line)
            header = record.fields
            headerLine = record.line
            return
        }
        guard record.fields.count == header.count else {
            throw IntakeError(
                .raggedRow, line: record.line,
                "\(record.fields.count) field\(record.fields.count == 1 ? "" : "s") where the header (line \(headerLine)) has \(header.count)",
                hint: "a field that contains the delimiter, a quote or a line break must be enclosed in double quotes")
        }
        records += 1
        try unpivot.unpivot(IntakeRecord(line: record.line, columns: header, values: record.fields)) { item in
            if item.operation != nil { items += 1 }
            try emit(item)
        }
    }

    private mutating func jsonRecord(_ record: JSONLinesParser.Record, _ emit: (StagedItem) throws -> Void) throws {
        records += 1
        try unpivot.unpivot(IntakeRecord(line: record.line, columns: record.keys, values: record.values)) { item in
            if item.operation != nil { items += 1 }
            try emit(item)
        }
    }
}
