/// The format of a submitted file.
public enum IntakeFormat: Sendable, Equatable {
    /// CSV with a header row (RFC 4180), fields separated by `delimiter`;
    /// `nil`: detected from the header (``CSVDelimiterDetector``).
    case csv(delimiter: UInt8?)
    /// JSON Lines: one object per line.
    case jsonLines

    /// CSV separated by commas.
    public static let commaSeparated = IntakeFormat.csv(delimiter: UInt8(ascii: ","))
    /// CSV separated by whatever the header shows: a comma, a semicolon or a tab.
    public static let detectedCSV = IntakeFormat.csv(delimiter: nil)

    /// The format a file name suggests: `.csv` (CSV, the delimiter detected),
    /// `.tsv`/`.tab` (tab), `.jsonl`/`.ndjson`/`.json` (JSON Lines); nil
    /// otherwise (standard input included).
    public static func guess(fromName name: String) -> IntakeFormat? {
        let lower = name.lowercased()
        if lower.hasSuffix(".csv") { return .detectedCSV }
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { return .csv(delimiter: UInt8(ascii: "\t")) }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonLines }
        return nil
    }

    /// In the content key and messages: `csv` (a comma, or detected), `csv;`
    /// (another delimiter), `jsonl`. A detected delimiter is a function of
    /// the file's bytes, so the content key needs no more.
    public var name: String {
        switch self {
        case .csv(nil): return "csv"
        case .csv(let delimiter?) where delimiter == UInt8(ascii: ","): return "csv"
        case .csv(let delimiter?): return "csv" + String(decoding: [delimiter], as: UTF8.self)
        case .jsonLines: return "jsonl"
        }
    }
}

/// From bytes to staged items, pure and incremental: the file's bytes go in
/// chunk by chunk (as read), and out come the items of every record
/// completed so far (``RecordUnpivot``). Memory is one record, and for the
/// repeated-key check 29–57 bytes per distinct key, whatever its length
/// (``DuplicateKeyDetector``: 42 MB for a million keys).
///
/// The stages, all streaming:
/// 1. ``IntakeDecoder``: the file's encoding (``IntakeOptions/encoding``) to UTF-8.
/// 2. CSV: the delimiter, if not given, from the header and the first lines
///    (``CSVDelimiterDetector``); then ``CSVParser``. JSON Lines: ``JSONLinesParser``.
/// 3. CSV: the first record is the header, checked before any row
///    (``isReady`` tells when it has been). Unnamed columns at its end
///    (as spreadsheets export them) are ignored, and so are the cells of rows
///    in them, which must be empty; a row may leave them out. Rows with more
///    or fewer fields are refused.
/// 4. ``RecordUnpivot``: items; each cell read by its column's type in the
///    file's conventions (``ValueFormat``); repeated keys found.
///
/// Structural faults are thrown at once (a malformed line, a byte not in the
/// encoding, a ragged row, a missing key). Bad values and repeated keys are
/// collected instead (``problems``, up to ``IntakeOptions/badValueLimit``
/// kept, all counted) and thrown together by ``finish(_:)``: one
/// ``IntakeError`` whose ``IntakeError/badValues`` lists them. A caller that
/// streams items to a database can look at ``problems`` as it goes to stop
/// early (without the total, then).
///
/// With ``DuplicateKeys/lastWins`` the items of a record whose key comes
/// back later have already been emitted: ``takeSupersessions()`` says which
/// to drop (``Supersession``).
public struct IntakePipeline: Sendable {
    public let options: IntakeOptions
    public var format: IntakeFormat { options.format }
    public private(set) var unpivot: RecordUnpivot
    /// Records read (CSV rows after the header, JSON objects).
    public private(set) var records = 0
    /// Items staged (record markers not counted; superseded ones counted).
    public private(set) var items = 0
    /// The CSV delimiter: as given, or once detected.
    public private(set) var delimiter: UInt8?
    private var decoder: IntakeDecoder?
    private var csv: CSVParser?
    private var jsonLines: JSONLinesParser?
    /// Decoded text held while the delimiter is detected.
    private var sample: [UInt8] = []
    private var header: [String]?
    private var headerLine = 0
    /// The fields of the header row, unnamed ones at its end included.
    private var headerWidth = 0

    /// A pipeline reading a file written as `options` says, mapped by `mapping`.
    public init(options: IntakeOptions, mapping: ResolvedMapping, markRecords: Bool = false) {
        self.options = options
        unpivot = RecordUnpivot(
            mapping: mapping, markRecords: markRecords, valueFormat: options.valueFormat, duplicates: options.duplicates,
            badValueLimit: options.badValueLimit)
        decoder = IntakeDecoder(encoding: options.encoding)
        switch options.format {
        case .csv(let delimiter):
            self.delimiter = delimiter
            if let delimiter { csv = CSVParser(delimiter: delimiter) }
        case .jsonLines:
            jsonLines = JSONLinesParser()
        }
    }

    /// A pipeline for `format` with the other options at their defaults (UTF-8,
    /// decimal point, ISO dates, repeated keys refused).
    public init(format: IntakeFormat, mapping: ResolvedMapping, markRecords: Bool = false) {
        self.init(options: IntakeOptions(format: format), mapping: mapping, markRecords: markRecords)
    }

    /// Whether everything that can be checked before the first record has
    /// been (CSV: the header was read and checked; JSON Lines: at once).
    public var isReady: Bool {
        switch format {
        case .csv: return header != nil
        case .jsonLines: return true
        }
    }

    /// The CSV header, once read (its named columns).
    public var csvHeader: [String]? { header }

    /// The encoding being read (UTF-16 when a UTF-8 file turned out to start with its byte order mark).
    public var encoding: IntakeEncoding { decoder?.effectiveEncoding ?? options.encoding }

    /// Bad values and repeated keys so far.
    public var problems: BadValueReport { unpivot.problems }

    /// Takes the supersessions noted so far (``DuplicateKeys/lastWins``): after
    /// each ``feed(_:_:)`` or at the end, as the caller likes.
    public mutating func takeSupersessions() -> [Supersession] {
        unpivot.takeSupersessions()
    }

    /// Takes the lines of the records with a bad value found so far
    /// (``RecordUnpivot/badLines``): every one, in file order, each once.
    /// The items of such a record that were emitted carry its line.
    public mutating func takeBadLines() -> [Int] {
        unpivot.takeBadLines()
    }

    /// Reads the next chunk of the file; `emit` gets the items (and markers)
    /// of every record it completes, in order.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (StagedItem) throws -> Void) throws {
        guard var decoder else { return }
        self.decoder = nil  // one owner of its buffers, so decoding does not copy them
        defer { self.decoder = decoder }
        try decoder.decode(chunk) { try parse($0, emit) }
    }

    /// Reads a chunk given as bytes (tests).
    public mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ emit: (StagedItem) throws -> Void) throws {
        try Array(bytes).withUnsafeBytes { try feed($0, emit) }
    }

    /// The end of the file: the last record; a CSV file without even a
    /// header refused; and the bad values and repeated keys, if any, thrown
    /// as one error (``BadValueReport/error``) — unless `throwingProblems` is
    /// false: a caller that checks more values itself and reports them all
    /// together then throws ``problems`` with its own.
    public mutating func finish(throwingProblems: Bool = true, _ emit: (StagedItem) throws -> Void) throws {
        if var decoder {
            self.decoder = nil
            defer { self.decoder = decoder }
            try decoder.finish { try parse($0, emit) }
        }
        if case .csv = format, csv == nil { try startCSV(atEnd: true, emit) }
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
        if throwingProblems, let error = unpivot.problems.error { throw error }
    }

    /// Every item of a whole file (tests, small inputs); with
    /// ``DuplicateKeys/lastWins``, without the items of superseded records.
    public static func items(of bytes: [UInt8], options: IntakeOptions, mapping: ResolvedMapping, markRecords: Bool = false) throws
        -> [StagedItem]
    {
        var pipeline = IntakePipeline(options: options, mapping: mapping, markRecords: markRecords)
        var items: [StagedItem] = []
        try pipeline.feed(bytes) { items.append($0) }
        try pipeline.finish { items.append($0) }
        return Supersession.drop(pipeline.takeSupersessions(), from: items)
    }

    /// Every item of a whole file (tests, small inputs).
    public static func items(of text: String, format: IntakeFormat, mapping: ResolvedMapping, markRecords: Bool = false) throws -> [StagedItem] {
        try items(of: Array(text.utf8), options: IntakeOptions(format: format), mapping: mapping, markRecords: markRecords)
    }

    /// Decoded text to the parser (or, while the CSV delimiter is unknown, to the sample).
    private mutating func parse(_ text: UnsafeRawBufferPointer, _ emit: (StagedItem) throws -> Void) throws {
        if var parser = csv {
            csv = nil
            defer { csv = parser }
            try parser.parse(text) { try csvRecord($0, emit) }
        } else if var parser = jsonLines {
            jsonLines = nil
            defer { jsonLines = parser }
            try parser.parse(text) { try jsonRecord($0, emit) }
        } else {
            sample.append(contentsOf: text)
            // Only a new line (or a full sample) can change the answer.
            if text.contains(0x0A) || text.contains(0x0D) || sample.count >= CSVDelimiterDetector.sampleBytes {
                try startCSV(atEnd: false, emit)
            }
        }
    }

    /// Detects the delimiter from the sample; once known, parses the sample.
    private mutating func startCSV(atEnd: Bool, _ emit: (StagedItem) throws -> Void) throws {
        guard let found = try sample.withUnsafeBytes({ try CSVDelimiterDetector.detect($0, atEnd: atEnd) }) else { return }
        delimiter = found
        var parser = CSVParser(delimiter: found)
        defer { csv = parser }
        let text = sample
        sample = []
        try text.withUnsafeBytes { bytes in try parser.parse(bytes) { try csvRecord($0, emit) } }
    }

    private static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }

    private mutating func csvRecord(_ record: CSVParser.Record, _ emit: (StagedItem) throws -> Void) throws {
        guard let header else {
            var named = record.fields
            while let last = named.last, Self.isBlank(last) { named.removeLast() }
            guard !named.isEmpty else {
                throw IntakeError(
                    .badHeader, line: record.line, "the header row names no column",
                    hint: "the first line of a CSV file names its columns, e.g. employee_id,given_name")
            }
            if let unnamed = named.firstIndex(where: Self.isBlank) {
                throw IntakeError(
                    .badHeader, line: record.line, "column \(unnamed + 1) of the header has no name",
                    hint: "name every column in the header row (only empty columns at its end are ignored); to leave a column out, name it and pass --ignore with the name")
            }
            try unpivot.checkHeader(named, line: record.line)
            self.header = named
            headerWidth = record.fields.count
            headerLine = record.line
            return
        }
        var fields = record.fields
        if fields.count != header.count {
            guard fields.count > header.count && fields.count <= headerWidth else {
                let unnamed = headerWidth - header.count
                throw IntakeError(
                    .raggedRow, line: record.line,
                    "\(fields.count) field\(fields.count == 1 ? "" : "s") where the header (line \(headerLine)) has \(header.count)"
                        + (unnamed > 0 ? " (and \(unnamed) unnamed empty column\(unnamed == 1 ? "" : "s") at its end)" : ""),
                    hint: "a field that contains the delimiter, a quote or a line break must be enclosed in double quotes")
            }
            if let index = (header.count..<fields.count).first(where: { !Self.isBlank(fields[$0]) }) {
                throw IntakeError(
                    .badHeader, line: record.line,
                    "column \(index + 1) has no name in the header (line \(headerLine)), but this row has a value in it: \(Quote.short(fields[index]))",
                    hint: "name the column in the header row, or delete the column from the file")
            }
            fields.removeLast(fields.count - header.count)
        }
        records += 1
        try unpivot.unpivot(IntakeRecord(line: record.line, columns: header, values: fields)) { item in
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
