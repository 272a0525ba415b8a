import Foundation
import Testing

@testable import SyncLedgerCore

@Suite("Intake: files as spreadsheets export them, bad values, repeated keys")
struct IntakeSpreadsheetTests {
    /// What Excel writes in a German locale: `;`, CRLF, quotes where needed,
    /// decimal commas with thousands dots, DD/MM/YYYY dates, empty unnamed
    /// columns at the end.
    static let excel =
        "nr;name;\"salary\";birth_date;hired_at;note;headcount;;\r\n"
        + "E1;René Müller;4.200,50;07/03/1985;01/02/2020 08:30;\"Prämie 1.000 €; netto\";12;;\r\n"
        + "E2;Zoë;1.234,56;31/12/1990;15/06/2021;;7;;\r\n"
        + "E3;\"Ørsted, Hans\";-12,5;29/02/2024;;\"zwei\r\nZeilen\";;;\r\n"

    static let expected: [[String?]] = [
        ["E1", "name", "René Müller"], ["E1", "salary", "4200.50"], ["E1", "birth_date", "1985-03-07"], ["E1", "hired_at", "2020-02-01 08:30"],
        ["E1", "note", "Prämie 1.000 €; netto"], ["E1", "headcount", "12"],
        ["E2", "name", "Zoë"], ["E2", "salary", "1234.56"], ["E2", "birth_date", "1990-12-31"], ["E2", "hired_at", "2021-06-15"],
        ["E2", "headcount", "7"],
        ["E3", "name", "Ørsted, Hans"], ["E3", "salary", "-12.5"], ["E3", "birth_date", "2024-02-29"], ["E3", "note", "zwei\r\nZeilen"],
    ]

    static let excelOptions = IntakeOptions(format: .detectedCSV, decimalComma: true, dateOrder: .dmy)

    @Test func excelCSVUTF8WithItsByteOrderMark() throws {
        let bytes = Array(("\u{FEFF}" + Self.excel).utf8)
        let items = try IntakePipeline.items(of: bytes, options: Self.excelOptions, mapping: try SpreadsheetFixtures.mapping())
        #expect(SpreadsheetFixtures.cells(items) == Self.expected)
        #expect(items.map(\.seq) == Array(1...Int64(Self.expected.count)))
    }

    @Test func excelPlainCSVInWindows1252() throws {
        var options = Self.excelOptions
        options.encoding = .windows1252
        let bytes = windows1252(Self.excel)
        #expect(bytes.contains(0xE9) && bytes.contains(0x80))  // é and €
        let items = try IntakePipeline.items(of: bytes, options: options, mapping: try SpreadsheetFixtures.mapping())
        #expect(SpreadsheetFixtures.cells(items) == Self.expected)

        // In chunks of every size: the same items.
        for size in [1, 2, 3, 7, 64] {
            var pipeline = IntakePipeline(options: options, mapping: try SpreadsheetFixtures.mapping())
            var chunked: [StagedItem] = []
            var offset = 0
            while offset < bytes.count {
                try pipeline.feed(bytes[offset..<min(offset + size, bytes.count)]) { chunked.append($0) }
                offset += size
            }
            try pipeline.finish { chunked.append($0) }
            #expect(chunked == items, "chunks of \(size)")
            #expect(pipeline.delimiter == UInt8(ascii: ";"))
            #expect(pipeline.records == 3)
        }

        // Read as UTF-8, it is refused at the first é, naming the encoding to use.
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: bytes, options: Self.excelOptions, mapping: try SpreadsheetFixtures.mapping())
        }
        #expect(error.code == .badEncoding)
        #expect(error.line == 2)
        #expect(error.hint?.contains("--encoding windows-1252") == true)
    }

    @Test func excelUnicodeTextIsUTF16WithTabs() throws {
        let text = Self.excel.replacingOccurrences(of: ";", with: "\t").replacingOccurrences(of: "\"Prämie 1.000 €\t netto\"", with: "Prämie")
        let items = try IntakePipeline.items(of: utf16(text, bigEndian: false), options: Self.excelOptions, mapping: try SpreadsheetFixtures.mapping())
        #expect(items.count == Self.expected.count)
        #expect(items[4].newValue == "Prämie")
    }

    @Test func withoutTheConventionsTheExcelFileIsRefusedCellByCell() throws {
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: Array(Self.excel.utf8), options: IntakeOptions(), mapping: try SpreadsheetFixtures.mapping())
        }
        #expect(error.code == .invalidValue)
        let report = try #require(error.badValues)
        // salary ×3, birth_date ×3, hired_at ×2 — all of them, in file order.
        #expect(report.total == 8)
        #expect(report.values.map(\.line) == [2, 2, 2, 3, 3, 3, 4, 4])
        #expect(report.values.map(\.column) == ["salary", "birth_date", "hired_at", "salary", "birth_date", "hired_at", "salary", "birth_date"])
        #expect(error.line == 2)
        #expect(error.column == "salary")
        let text = error.in(file: "people.csv").description
        #expect(text.hasPrefix("people.csv: 8 values do not fit their column (all 8 below)"), "\(text)")
        #expect(text.contains("\n  line 2, column 'salary': '4.200,50': "), "\(text)")
        #expect(text.contains("hint: pass --decimal-comma"), "\(text)")
        #expect(text.contains("hint: pass --date-format DMY"), "\(text)")
    }

    @Test func badValuesAreCollectedUpToTheLimitAndCounted() throws {
        var text = "nr;salary;birth_date\n"
        for row in 1...30 { text += "E\(row);\(row % 2 == 0 ? "4,200.50" : "1,5");31/02/2020\n" }
        var options = IntakeOptions(decimalComma: true, dateOrder: .dmy, badValueLimit: 5)
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: Array(text.utf8), options: options, mapping: try SpreadsheetFixtures.mapping())
        }
        let report = try #require(error.badValues)
        #expect(report.total == 45)  // 15 salaries, 30 dates
        #expect(report.values.count == 5)
        #expect(report.values[0] == BadValue(line: 2, column: "birth_date", value: "31/02/2020", reason: "February has 29 days (read as DMY)"))
        #expect(report.values[1].column == "salary")
        #expect(report.values[1].hint?.contains("leave out --decimal-comma") == true)
        #expect(error.description.contains("… and 40 more"), "\(error)")
        #expect(error.description.hasPrefix("45 values do not fit their column (the first 5 below)"), "\(error)")

        // Everything is read, so a caller can stop early instead.
        options.badValueLimit = 0
        var pipeline = IntakePipeline(options: options, mapping: try SpreadsheetFixtures.mapping())
        try pipeline.feed(Array(text.utf8)) { _ in }
        #expect(pipeline.problems.total == 45)
        #expect(pipeline.problems.values.isEmpty)
    }

    @Test func aBadSourceTimestampIsABadValue() throws {
        let mapping = try SpreadsheetFixtures.mapping { $0.sourceTimestampColumn = "changed" }
        let items = try IntakePipeline.items(
            of: Array("nr;name;changed\nE1;Ann;07/03/2026 08:00\n".utf8), options: IntakeOptions(dateOrder: .dmy), mapping: mapping)
        #expect(items.first?.sourceTimestamp == "2026-03-07 08:00")
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: Array("nr;name;changed\nE1;Ann;07/03/2026 08:00\nE2;Bob;2026-03-07 8:00\n".utf8), options: IntakeOptions(), mapping: mapping)
        }
        #expect(error.badValues?.values.map(\.line) == [2, 3])
        #expect(error.badValues?.values.map(\.reason).last == "not a timestamp")
    }

    // MARK: - Repeated keys

    static let repeated = "nr,name,note\nE1,Ann,first\nE2,Bob,\nE1,Anna,\nE3,Cy,x\nE1,Annie,last\n"

    @Test func repeatedKeysAreRefusedNamingBothLines() throws {
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: Self.repeated, format: .detectedCSV, mapping: try SpreadsheetFixtures.mapping())
        }
        #expect(error.code == .duplicateKey)
        #expect(error.line == 4)
        #expect(error.column == "nr")
        let report = try #require(error.badValues)
        #expect(report.values.map(\.line) == [4, 6])
        #expect(report.values.map(\.reason) == ["the key is also on line 2", "the key is also on line 2"])
        #expect(report.duplicateKeys == 2)
        #expect(error.description.contains("2 records repeat the key of an earlier record"), "\(error)")
        #expect(error.description.contains("--duplicates last-wins"), "\(error)")
    }

    @Test func lastWinsDropsTheEarlierRecords() throws {
        let options = IntakeOptions(duplicates: .lastWins)
        var pipeline = IntakePipeline(options: options, mapping: try SpreadsheetFixtures.mapping(), markRecords: true)
        var items: [StagedItem] = []
        try pipeline.feed(Array(Self.repeated.utf8)) { items.append($0) }
        try pipeline.finish { items.append($0) }
        let supersessions = pipeline.takeSupersessions()
        #expect(supersessions == [
            Supersession(externalKey: "E1", line: 4, supersededLine: 2, beforeSeq: 4),
            Supersession(externalKey: "E1", line: 6, supersededLine: 4, beforeSeq: 7),
        ])
        #expect(pipeline.takeSupersessions().isEmpty)
        let kept = Supersession.drop(supersessions, from: items)
        #expect(SpreadsheetFixtures.cells(kept.filter { $0.operation != nil }) == [
            ["E2", "name", "Bob"], ["E3", "name", "Cy"], ["E3", "note", "x"], ["E1", "name", "Annie"], ["E1", "note", "last"],
        ])
        // The markers stay: a snapshot only asks which keys the file has.
        #expect(kept.filter { $0.operation == nil }.map(\.externalKey) == ["E1", "E2", "E1", "E3", "E1"])
        // A later record without items still supersedes the earlier one.
        let emptied = try IntakePipeline.items(
            of: Array("nr,name\nE1,Ann\nE1,\n".utf8), options: options, mapping: try SpreadsheetFixtures.mapping())
        #expect(emptied.isEmpty)
    }

    @Test func theDetectorRemembersAMillionKeysInBoundedMemory() {
        var detector = DuplicateKeyDetector()
        var hits = 0
        for line in 1...1_000_000 where detector.see("K\(line)", line: line) != nil { hits += 1 }
        #expect(hits == 0)
        #expect(detector.count == 1_000_000)
        #expect(detector.memoryBytes == (1 << 21) * 20)
        #expect(detector.see("K500000", line: 1_000_001) == 500_000)
        #expect(detector.see("K500000", line: 1_000_002, keepLatest: true) == 500_000)
        #expect(detector.see("K500000", line: 1_000_003) == 1_000_002)
        #expect(detector.see("k500000", line: 1_000_004) == nil)
    }
}

/// A micro-benchmark, run by hand: `SYNCLEDGER_INTAKE_BENCH=1 swift test -c release --filter IntakeThroughput`
/// (rows: `SYNCLEDGER_INTAKE_BENCH_ROWS`, default 1,000,000). It prints items per second: figures,
/// not a test of them (a debug build is about 14 times slower).
@Suite("Intake throughput", .enabled(if: ProcessInfo.processInfo.environment["SYNCLEDGER_INTAKE_BENCH"] != nil))
struct IntakeThroughputTests {
    @Test func aMillionRowsOfAnExcelFile() throws {
        let rows = Int(ProcessInfo.processInfo.environment["SYNCLEDGER_INTAKE_BENCH_ROWS"] ?? "") ?? 1_000_000
        for (name, result) in try IntakeBenchmark.run(rows: rows) {
            print("\(name): \(result)")
            #expect(result.itemsPerSecond > 0)
        }
    }
}
