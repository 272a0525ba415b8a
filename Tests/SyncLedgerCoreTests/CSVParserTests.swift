import Testing

@testable import SyncLedgerCore

@Suite("CSVParser: RFC 4180, streamed")
struct CSVParserTests {
    typealias Record = CSVParser.Record

    @Test func plainRecordsWithLineNumbers() throws {
        let records = try CSVParser.records("id,name\nE1,Ann\nE2,Bob\n")
        #expect(records == [Record(line: 1, fields: ["id", "name"]), Record(line: 2, fields: ["E1", "Ann"]), Record(line: 3, fields: ["E2", "Bob"])])
    }

    @Test func quotedFieldsHoldDelimitersQuotesAndLineBreaks() throws {
        let records = try CSVParser.records("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,row,here\n")
        #expect(records[1] == Record(line: 2, fields: ["x, y", "say \"hi\"", "two\nlines"]))
        // The embedded line break counts: the next record starts on line 4.
        #expect(records[2] == Record(line: 4, fields: ["next", "row", "here"]))
    }

    @Test func crlfAndLoneCREndRecords() throws {
        #expect(try CSVParser.records("a,b\r\n1,2\r\n3,4") == [
            Record(line: 1, fields: ["a", "b"]), Record(line: 2, fields: ["1", "2"]), Record(line: 3, fields: ["3", "4"]),
        ])
        #expect(try CSVParser.records("a\r1\r2\r").map(\.fields) == [["a"], ["1"], ["2"]])
        // CRLF inside quotes is kept as it is.
        #expect(try CSVParser.records("a\n\"x\r\ny\"\n").map(\.fields) == [["a"], ["x\r\ny"]])
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let records = try CSVParser.records("\u{FEFF}id,name\nE1,Ann\n")
        #expect(records[0].fields == ["id", "name"])
    }

    @Test func unicodeSurvivesChunkBoundariesAnywhere() throws {
        let text = "\u{FEFF}id,name\nE1,\"Zoë 😀, 東京\"\nE2,Ærø\n"
        let whole = try CSVParser.records(text)
        #expect(whole[1].fields == ["E1", "Zoë 😀, 東京"])
        let bytes = Array(text.utf8)
        for size in [1, 2, 3, 5, 7] {
            var parser = CSVParser()
            var records: [Record] = []
            var offset = 0
            while offset < bytes.count {
                try parser.parse(bytes[offset..<min(offset + size, bytes.count)]) { records.append($0) }
                offset += size
            }
            try parser.finish { records.append($0) }
            #expect(records == whole, "chunks of \(size) bytes")
        }
    }

    @Test func emptyFieldsAndEmptyLines() throws {
        #expect(try CSVParser.records("a,b,c\n,,\n\n1,\"\",3\n\n").map(\.fields) == [["a", "b", "c"], ["", "", ""], ["1", "", "3"]])
        #expect(try CSVParser.records("") == [])
        #expect(try CSVParser.records("\n\n") == [])
    }

    @Test func lastRecordWithoutLineBreak() throws {
        #expect(try CSVParser.records("a,b\n1,2").map(\.fields) == [["a", "b"], ["1", "2"]])
        #expect(try CSVParser.records("a,b\n1,").map(\.fields) == [["a", "b"], ["1", ""]])
    }

    @Test func otherDelimiter() throws {
        #expect(try CSVParser.records("a\tb\n1,5\t\"x\ty\"\n", delimiter: UInt8(ascii: "\t")).map(\.fields) == [["a", "b"], ["1,5", "x\ty"]])
    }

    @Test func quoteInsideAnUnquotedFieldIsRefusedWithItsLine() throws {
        let error = try #require(throws: IntakeError.self) { try CSVParser.records("a,b\n1,2\n3,ab\"c\n") }
        #expect(error.code == .malformed)
        #expect(error.line == 3)
        #expect(error.description.contains("line 3"))
    }

    @Test func textAfterAClosingQuoteIsRefused() throws {
        let error = try #require(throws: IntakeError.self) { try CSVParser.records("a,b\n\"x\"y,2\n") }
        #expect(error.code == .malformed)
        #expect(error.line == 2)
    }

    @Test func unclosedQuoteIsRefusedWithTheLineItStartsOn() throws {
        let error = try #require(throws: IntakeError.self) { try CSVParser.records("a,b\n1,2\n3,\"open\nmore\nstill\n") }
        #expect(error.code == .malformed)
        #expect(error.line == 3)
        #expect(error.message.contains("not closed"))
    }

    @Test func invalidUTF8IsRefused() throws {
        var parser = CSVParser()
        let error = try #require(throws: IntakeError.self) {
            try parser.parse([UInt8]("a\nx".utf8) + [0xFF, 0xFE] + [UInt8]("\n".utf8)) { _ in }
        }
        #expect(error.code == .malformed)
        #expect(error.line == 2)
        #expect(error.message.contains("UTF-8"))
    }
}
