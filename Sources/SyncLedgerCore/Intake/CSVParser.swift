/// A streaming CSV parser (RFC 4180): bytes in, in chunks of any size, records
/// out, with the line each record starts on. Memory is one record, whatever
/// the file's size.
///
/// - Fields are separated by the delimiter (a comma unless told otherwise);
///   records end with LF, CRLF or a lone CR.
/// - A field in double quotes may contain delimiters, line breaks and doubled
///   quotes (`""` is one `"`); a line break inside quotes is part of the value
///   and counts as a line for the line numbers of later records.
/// - A UTF-8 byte order mark at the start is skipped; the text must be UTF-8.
/// - Empty lines are skipped (they are not records of one empty field).
/// - Refused, naming the line: a quote inside an unquoted field (`ab"c`),
///   anything but a delimiter or line break after a closing quote, a quoted
///   field still open at the end of the input, and bytes that are not UTF-8.
///
/// Whether rows have as many fields as the header is the caller's question
/// (``IntakeReader``).
public struct CSVParser: Sendable {
    /// One record: its fields, and the line of the file it starts on.
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]

        public init(line: Int, fields: [String]) {
            self.line = line
            self.fields = fields
        }
    }

    private enum State: Sendable {
        /// At the start of a field (after a delimiter or a line break).
        case fieldStart
        /// Inside a field that did not start with a quote.
        case unquoted
        /// Inside a quoted field.
        case quoted
        /// A quote inside a quoted field: the end of the field, or the first of `""`.
        case quoteInQuoted
    }

    public let delimiter: UInt8
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var fieldWasQuoted = false
    /// The line being read (1-based) and the line the current record started on.
    private var line = 1
    private var recordLine = 1
    /// A CR ended the previous record; an LF right after it belongs to it.
    private var skipLF = false
    /// The first bytes, held until it is known whether they are a byte order mark.
    private var head: [UInt8] = []
    private var headDone = false

    public init(delimiter: UInt8 = UInt8(ascii: ",")) {
        self.delimiter = delimiter
    }

    /// Parses the next chunk of the input; calls `emit` for every record it completes.
    public mutating func parse(_ chunk: UnsafeRawBufferPointer, _ emit: (Record) throws -> Void) throws {
        guard headDone else {
            let take = min(3 - head.count, chunk.count)
            head.append(contentsOf: chunk[0..<take])
            guard head.count == 3 else { return }
            headDone = true
            let start = head == [0xEF, 0xBB, 0xBF] ? [] : head
            head = []
            try start.withUnsafeBytes { try consume($0, emit) }
            try consume(UnsafeRawBufferPointer(rebasing: chunk[take...]), emit)
            return
        }
        try consume(chunk, emit)
    }

    /// Parses a chunk given as bytes (tests, small inputs).
    public mutating func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ emit: (Record) throws -> Void) throws {
        try Array(bytes).withUnsafeBytes { try parse($0, emit) }
    }

    /// The end of the input: completes the last record (a file need not end
    /// with a line break) and refuses a quoted field that is still open.
    public mutating func finish(_ emit: (Record) throws -> Void) throws {
        if !headDone {
            headDone = true
            let start = head == [0xEF, 0xBB, 0xBF] ? [] : head
            head = []
            try start.withUnsafeBytes { try consume($0, emit) }
        }
        switch state {
        case .quoted:
            throw IntakeError(
                .malformed, line: recordLine, "a quoted field is not closed before the end of the file",
                hint: "every opening double quote needs a closing one; a quote inside a quoted field is written twice (\"\")")
        case .fieldStart where fields.isEmpty:
            return
        case .fieldStart, .unquoted, .quoteInQuoted:
            try endRecord(emit)
        }
    }

    /// Parses every record of `text` (tests, small inputs).
    public static func records(_ text: String, delimiter: UInt8 = UInt8(ascii: ",")) throws -> [Record] {
        var parser = CSVParser(delimiter: delimiter)
        var records: [Record] = []
        try parser.parse(Array(text.utf8)) { records.append($0) }
        try parser.finish { records.append($0) }
        return records
    }

    private static let quote = UInt8(ascii: "\"")
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    private mutating func consume(_ bytes: UnsafeRawBufferPointer, _ emit: (Record) throws -> Void) throws {
        let count = bytes.count
        var index = 0
        while index < count {
            let byte = bytes[index]
            if skipLF {
                skipLF = false
                if byte == Self.lf {
                    index += 1
                    continue
                }
            }
            switch state {
            case .fieldStart:
                if fields.isEmpty && field.isEmpty { recordLine = line }
                if byte == Self.quote {
                    state = .quoted
                    fieldWasQuoted = true
                    index += 1
                } else {
                    state = .unquoted
                }
            case .unquoted:
                // The run of ordinary bytes at once.
                var end = index
                while end < count {
                    let b = bytes[end]
                    if b == delimiter || b == Self.lf || b == Self.cr || b == Self.quote { break }
                    end += 1
                }
                if end > index { field.append(contentsOf: bytes[index..<end]) }
                index = end
                guard index < count else { break }
                let b = bytes[index]
                index += 1
                if b == delimiter {
                    try endField()
                    state = .fieldStart
                } else if b == Self.quote {
                    throw IntakeError(
                        .malformed, line: line, "a double quote inside a field that does not start with one",
                        hint: "enclose the field in double quotes and write the quote twice: \"say \"\"hi\"\"\"")
                } else {
                    try lineBreak(b, emit)
                }
            case .quoted:
                var end = index
                while end < count && bytes[end] != Self.quote {
                    if bytes[end] == Self.lf { line += 1 }
                    end += 1
                }
                if end > index { field.append(contentsOf: bytes[index..<end]) }
                index = end
                if index < count {
                    index += 1
                    state = .quoteInQuoted
                }
            case .quoteInQuoted:
                index += 1
                if byte == Self.quote {
                    field.append(Self.quote)
                    state = .quoted
                } else if byte == delimiter {
                    try endField()
                    state = .fieldStart
                } else if byte == Self.lf || byte == Self.cr {
                    try lineBreak(byte, emit)
                } else {
                    throw IntakeError(
                        .malformed, line: line, "unexpected text after the closing quote of a field",
                        hint: "a quote inside a quoted field is written twice (\"\"); a field ends at the delimiter")
                }
            }
        }
    }

    /// A line break outside quotes: the end of a record.
    private mutating func lineBreak(_ byte: UInt8, _ emit: (Record) throws -> Void) throws {
        try endRecord(emit)
        line += 1
        skipLF = byte == Self.cr
        state = .fieldStart
    }

    private mutating func endField() throws {
        guard let text = String(validating: field, as: UTF8.self) else {
            throw IntakeError(.malformed, line: line, "the text is not valid UTF-8", hint: "save the file as UTF-8")
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
        fieldWasQuoted = false
    }

    private mutating func endRecord(_ emit: (Record) throws -> Void) throws {
        let blankLine = fields.isEmpty && field.isEmpty && !fieldWasQuoted
        try endField()
        defer { fields.removeAll(keepingCapacity: true) }
        if blankLine { return }
        try emit(Record(line: recordLine, fields: fields))
    }
}
