import Testing

@testable import SyncLedgerCore

@Suite("JSONLinesParser: one object per line")
struct JSONLinesParserTests {
    typealias Record = JSONLinesParser.Record

    @Test func valuesBecomeText() throws {
        let records = try JSONLinesParser.records(
            #"{"id": "E1", "n": 1.50, "big": 12345678901234567890, "e": -2e-3, "t": true, "f": false, "z": null, "o": {"a": [1, "x"]}}"#)
        #expect(records == [
            Record(
                line: 1, keys: ["id", "n", "big", "e", "t", "f", "z", "o"],
                values: ["E1", "1.50", "12345678901234567890", "-2e-3", "true", "false", nil, #"{"a": [1, "x"]}"#])
        ])
    }

    @Test func escapesAndUnicode() throws {
        let records = try JSONLinesParser.records(#"{"s": "a\"b\\c\/d\n\t\u00e9\ud83d\ude00 東京"}"#)
        #expect(records[0].values == ["a\"b\\c/d\n\té😀 東京"])
    }

    @Test func blankLinesCRLFAndBOM() throws {
        let records = try JSONLinesParser.records("\u{FEFF}{\"a\": \"1\"}\r\n\r\n  \n{\"a\": \"2\"}")
        #expect(records == [Record(line: 1, keys: ["a"], values: ["1"]), Record(line: 4, keys: ["a"], values: ["2"])])
    }

    @Test func chunkBoundariesAnywhere() throws {
        let text = "{\"a\": \"Zoë 😀\"}\n{\"a\": \"b\"}\n"
        let bytes = Array(text.utf8)
        var parser = JSONLinesParser()
        var records: [Record] = []
        for byte in bytes { try parser.parse([byte]) { records.append($0) } }
        try parser.finish { records.append($0) }
        #expect(records == (try JSONLinesParser.records(text)))
    }

    @Test(
        "malformed lines are refused naming the line",
        arguments: [
            ("{\"a\": 1}\n{\"a\": }\n", 2),
            ("{\"a\": 1}\n[1, 2]\n", 2),
            ("{\"a\": 1} {\"b\": 2}\n", 1),
            ("{\"a\": 1}\n{\"a\": 1}\n{\"a\": \"open\n", 3),
            ("{\"a\": 01}\n", 1),
            ("{\"a\": \"tab\there\"}\n", 1),
            ("{\"a\": tru}\n", 1),
            ("{\"a\": \"\\x\"}\n", 1),
            ("{a: 1}\n", 1),
            ("{\"a\": 1,}\n", 1),
        ])
    func malformed(text: String, line: Int) throws {
        let error = try #require(throws: IntakeError.self) { try JSONLinesParser.records(text) }
        #expect(error.code == .malformed)
        #expect(error.line == line)
        #expect(error.description.contains("line \(line)"))
    }

    @Test func duplicateKeyIsRefused() throws {
        let error = try #require(throws: IntakeError.self) { try JSONLinesParser.records("{\"a\": 1, \"a\": 2}") }
        #expect(error.column == "a")
        #expect(error.message.contains("twice"))
    }

    @Test func deepNestingIsRefused() throws {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let error = try #require(throws: IntakeError.self) { try JSONLinesParser.records("{\"a\": \(deep)}") }
        #expect(error.message.contains("nested"))
    }
}
