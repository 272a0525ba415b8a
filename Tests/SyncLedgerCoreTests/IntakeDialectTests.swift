import Testing

@testable import SyncLedgerCore

@Suite("Intake dialects: delimiters, unnamed columns, options")
struct IntakeDialectTests {
    static func detect(_ text: String) throws -> String {
        String(decoding: [try CSVDelimiterDetector.detect(text)], as: UTF8.self)
    }

    @Test(
        "the delimiter from the header",
        arguments: [
            ("a,b,c\n1,2,3\n", ","), ("a;b;c\r\n1;2,5;3\r\n", ";"), ("a\tb\n1\t2\n", "\t"),
            // Quoted fields hold other delimiters.
            ("\"name, first\";\"x;y\"\n", ";"), ("\"a;b\",c\n", ","), ("\"a\tb\";\"c,d\"\n\"1\";\"2\"\n", ";"),
            // Several in the header: the first lines decide.
            ("Name;Amount (EUR, net);Date\nA;4200;x\nB;1;y\n", ";"),
            // Both consistent: the one with more fields.
            ("a;b;c,d\n1;2;3,4\n", ";"),
            // One column: a comma (it makes no difference).
            ("id\nE1\nE2\n", ","), ("", ","),
            // A quoted line break in the header.
            ("\"a\nb\";c\n1;2\n", ";"),
        ])
    func detected(text: String, delimiter: String) throws {
        #expect(try Self.detect(text) == delimiter)
    }

    @Test(
        "ambiguous files are refused with a hint to pass --delimiter",
        arguments: [
            ("id,name;x\n1,a;b\n", "1 ',' and 1 ';'"), ("a,b;c\n1;2;3\n4,5,6\n", "none of them"), ("id\nE1;x\n", "no ',', ';' or tab"),
        ])
    func ambiguous(text: String, message: String) throws {
        let error = try #require(throws: IntakeError.self) { try Self.detect(text) }
        #expect(error.code == .ambiguousDelimiter)
        #expect(error.message.contains(message), "\(error)")
        #expect(error.hint?.contains("--delimiter") == true)
    }

    @Test func aHeaderThatDecidesNeedsNoMoreLines() throws {
        let decided = try Array("a;b\n1".utf8).withUnsafeBytes { try CSVDelimiterDetector.detect($0, atEnd: false) }
        #expect(decided == UInt8(ascii: ";"))
        let waiting = try Array("a;b,c\n1;2".utf8).withUnsafeBytes { try CSVDelimiterDetector.detect($0, atEnd: false) }
        #expect(waiting == nil)
        let partialHeader = try Array("a;b".utf8).withUnsafeBytes { try CSVDelimiterDetector.detect($0, atEnd: false) }
        #expect(partialHeader == nil)
    }

    @Test func semicolonFileThroughThePipelineIsReadyAfterItsHeader() throws {
        var pipeline = IntakePipeline(format: .detectedCSV, mapping: try SpreadsheetFixtures.mapping())
        try pipeline.feed(Array("nr;name;note\r\n".utf8)) { _ in Issue.record("no item from a header") }
        #expect(pipeline.isReady)
        #expect(pipeline.delimiter == UInt8(ascii: ";"))
        var items: [StagedItem] = []
        try pipeline.feed(Array("E1;Ann;a,b\r\n".utf8)) { items.append($0) }
        try pipeline.finish { items.append($0) }
        #expect(SpreadsheetFixtures.cells(items) == [["E1", "name", "Ann"], ["E1", "note", "a,b"]])
    }

    @Test func anExplicitDelimiterWins() throws {
        let items = try IntakePipeline.items(of: "nr,name\nE1,\"a;b\"\n", format: .commaSeparated, mapping: try SpreadsheetFixtures.mapping())
        #expect(SpreadsheetFixtures.cells(items) == [["E1", "name", "a;b"]])
        // A semicolon file with a comma asked for: one column; the hint says so.
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: "nr;name\nE1;Ann\n", format: .commaSeparated, mapping: try SpreadsheetFixtures.mapping())
        }
        #expect(error.code == .missingKey)
        #expect(error.hint?.contains("--delimiter semicolon") == true, "\(error)")
    }

    @Test func trailingUnnamedColumnsAreIgnored() throws {
        let text = "nr;name;note;;;\r\nE1;Ann;x;;;\r\nE2;Bob;;;\r\nE3;Cy;z\r\n"
        let items = try IntakePipeline.items(of: text, format: .detectedCSV, mapping: try SpreadsheetFixtures.mapping())
        #expect(SpreadsheetFixtures.cells(items) == [["E1", "name", "Ann"], ["E1", "note", "x"], ["E2", "name", "Bob"], ["E3", "name", "Cy"], ["E3", "note", "z"]])
        var pipeline = IntakePipeline(format: .detectedCSV, mapping: try SpreadsheetFixtures.mapping())
        try pipeline.feed(Array(text.utf8)) { _ in }
        #expect(pipeline.csvHeader == ["nr", "name", "note"])
    }

    @Test(
        "unnamed columns that cannot be ignored",
        arguments: [
            // Not at the end: named by number, at the header's line.
            ("nr;;name\nE1;x;Ann\n", IntakeError.Code.badHeader, 1, "column 2 of the header has no name", "--ignore"),
            // At the end, but a row has a value there.
            ("nr;name;;\nE1;Ann;;\nE2;Bob;;oops\n", .badHeader, 3, "column 4 has no name in the header (line 1)", "name the column"),
            // More fields than even the unnamed columns.
            ("nr;name;\nE1;Ann;;\n", .raggedRow, 2, "4 fields where the header (line 1) has 2 (and 1 unnamed empty column at its end)", "quotes"),
            // Fewer than the named ones.
            ("nr;name;note;\nE1;Ann\n", .raggedRow, 2, "2 fields where the header (line 1) has 3", "quotes"),
            ("; ;\nE1;x\n", .badHeader, 1, "names no column", "first line"),
        ])
    func unnamedColumns(text: String, code: IntakeError.Code, line: Int, message: String, hint: String) throws {
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: text, format: .detectedCSV, mapping: try SpreadsheetFixtures.mapping())
        }
        #expect(error.code == code, "\(error)")
        #expect(error.line == line)
        #expect(error.message.contains(message), "\(error)")
        #expect(error.hint?.contains(hint) == true, "\(error)")
    }

    @Test func optionsFromTheCommandLine() throws {
        let excel = try IntakeOptions.parse(
            delimiter: "semicolon", encoding: "CP1252", decimalComma: true, dateFormat: "dmy", duplicates: "last-wins", fileName: "people.csv")
        #expect(excel == IntakeOptions(format: .csv(delimiter: UInt8(ascii: ";")), encoding: .windows1252, decimalComma: true, dateOrder: .dmy, duplicates: .lastWins))
        #expect(try IntakeOptions.parse(fileName: "people.csv") == IntakeOptions(format: .detectedCSV))
        #expect(try IntakeOptions.parse(fileName: "-").format == .detectedCSV)
        #expect(try IntakeOptions.parse(fileName: "people.tsv").format == .csv(delimiter: UInt8(ascii: "\t")))
        #expect(try IntakeOptions.parse(format: "jsonl", fileName: "x").format == .jsonLines)
        for (text, byte) in [(";", ";"), ("tab", "\t"), ("\\t", "\t"), ("\t", "\t"), (",", ","), ("comma", ","), ("|", "|"), ("pipe", "|")] {
            #expect(try IntakeFormat.delimiter(parsing: text) == UInt8(ascii: Unicode.Scalar(byte)!), "\(text)")
        }
        #expect(try IntakeFormat.delimiter(parsing: "auto") == nil)
        for (text, encoding) in [
            ("utf-8", IntakeEncoding.utf8), ("UTF8", .utf8), ("windows-1252", .windows1252), ("cp1252", .windows1252), ("latin1", .latin1),
            ("ISO-8859-1", .latin1), ("iso_8859_1", .latin1), ("utf-16le", .utf16LE),
        ] {
            #expect(try IntakeEncoding(parsing: text) == encoding, "\(text)")
        }
        #expect(try DateOrder(parsing: "Mdy") == .mdy)
        #expect(try DuplicateKeys(parsing: "ERROR") == .error)
    }

    /// The command line's strings for ``IntakeOptions/parse(format:delimiter:encoding:decimalComma:dateFormat:duplicates:fileName:)``.
    struct CommandLine: Sendable, CustomTestStringConvertible {
        var format: String?
        var delimiter: String?
        var encoding: String?
        var decimalComma = false
        var dateFormat: String?
        var duplicates: String?
        var file = "a.csv"
        var testDescription: String { "\(file) \([format, delimiter, encoding, dateFormat, duplicates].compactMap { $0 }) \(decimalComma)" }

        func parse() throws -> IntakeOptions {
            try IntakeOptions.parse(
                format: format, delimiter: delimiter, encoding: encoding, decimalComma: decimalComma, dateFormat: dateFormat,
                duplicates: duplicates, fileName: file)
        }
    }

    @Test(
        "bad options name the valid choices",
        arguments: [
            (CommandLine(encoding: "ebcdic"), "utf-8, windows-1252 (cp1252), iso-8859-1 (latin1)"),
            (CommandLine(dateFormat: "DD/MM/YYYY"), "YMD, DMY or MDY"),
            (CommandLine(duplicates: "first"), "error or last-wins"),
            (CommandLine(delimiter: "::"), "comma, semicolon, tab, pipe or auto"),
            (CommandLine(delimiter: "\""), "other than a quote"),
            (CommandLine(format: "xlsx"), "csv, tsv or jsonl"),
            (CommandLine(delimiter: ";", file: "a.jsonl"), "CSV only"),
            (CommandLine(decimalComma: true, file: "a.jsonl"), "CSV files only"),
        ])
    func badOptions(commandLine: CommandLine, message: String) throws {
        let error = try #require(throws: IntakeError.self) { try commandLine.parse() }
        #expect(error.code == .badOption)
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func contentKeyKeepsItsValueForDefaultsAndChangesWithTheReading() throws {
        let mapping = try SpreadsheetFixtures.mapping()
        func key(_ options: IntakeOptions) -> String {
            var key = SubmissionKey(mapping: mapping, options: options, snapshot: false)
            Array("nr;name\nE1;Ann\n".utf8).withUnsafeBytes { key.update($0) }
            return key.jobKey
        }
        let old = {
            var key = SubmissionKey(mapping: mapping, format: .commaSeparated, snapshot: false)
            Array("nr;name\nE1;Ann\n".utf8).withUnsafeBytes { key.update($0) }
            return key.jobKey
        }()
        #expect(key(IntakeOptions(format: .detectedCSV)) == old)
        #expect(key(IntakeOptions(format: .commaSeparated)) == old)
        #expect(key(IntakeOptions(format: .csv(delimiter: UInt8(ascii: ";")))) != old)
        var keys = Set<String>()
        for options in [
            IntakeOptions(), IntakeOptions(encoding: .windows1252), IntakeOptions(decimalComma: true), IntakeOptions(dateOrder: .dmy),
            IntakeOptions(dateOrder: .mdy), IntakeOptions(duplicates: .lastWins),
        ] {
            keys.insert(key(options))
        }
        #expect(keys.count == 6)
        #expect(key(IntakeOptions(badValueLimit: 3)) == old)
    }
}
