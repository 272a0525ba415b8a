import Foundation
import Testing

@testable import SyncLedgerCore

@Suite("Intake pipeline: records to items")
struct IntakePipelineTests {
    static let csv = IntakeFormat.commaSeparated

    @Test func oneItemPerMappedColumnInFileOrder() throws {
        let items = try IntakePipeline.items(
            of: "employee_id,given_name,email\nE1,Ann,ann@example.org\nE2,Bob,\n", format: Self.csv, mapping: try hrPeople())
        #expect(items == [
            StagedItem(seq: 1, externalKey: "E1", operation: .set, fieldName: "given_name", newValue: "Ann", line: 2),
            StagedItem(seq: 2, externalKey: "E1", operation: .set, fieldName: "email", newValue: "ann@example.org", line: 2),
            StagedItem(seq: 3, externalKey: "E2", operation: .set, fieldName: "given_name", newValue: "Bob", line: 3),
        ])
    }

    @Test func emptyCellsClearWhenAsked() throws {
        let items = try IntakePipeline.items(
            of: "employee_id,given_name,email\nE2,Bob,\n", format: Self.csv, mapping: try hrPeople { $0.emptyCells = .clear })
        #expect(items.last == StagedItem(seq: 2, externalKey: "E2", operation: .set, fieldName: "email", newValue: nil, line: 2))
    }

    @Test func linksTimestampsAndIgnoredColumns() throws {
        let mapping = try hrPeople {
            $0.sourceTimestampColumn = "changed_at"
            $0.columns = ["org": .link(field: "employer_id", relatedTable: nil), "note": .ignore]
        }
        let items = try IntakePipeline.items(
            of: "employee_id,org,note,changed_at\nE1,ORG-7,x,2026-11-25T08:00:00Z\nE2,,y,\n", format: Self.csv, mapping: mapping)
        #expect(items == [
            StagedItem(
                seq: 1, externalKey: "E1", operation: .link, fieldName: "employer_id", newValue: "ORG-7",
                sourceTimestamp: "2026-11-25T08:00:00Z", line: 2)
        ])
    }

    @Test func jsonLinesWithNullsAndDifferentKeysPerLine() throws {
        let text = """
            {"employee_id": "E1", "given_name": "Zoë", "email": null}
            {"email": "b@example.org", "employee_id": "E2"}
            """
        let leave = try IntakePipeline.items(of: text, format: .jsonLines, mapping: try hrPeople())
        #expect(leave.map(\.fieldName) == ["given_name", "email"])
        #expect(leave.map(\.externalKey) == ["E1", "E2"])
        let clear = try IntakePipeline.items(of: text, format: .jsonLines, mapping: try hrPeople { $0.emptyCells = .clear })
        #expect(clear.map(\.newValue) == ["Zoë", nil, "b@example.org"])
    }

    @Test func snapshotMarkersNameEveryRecordEvenWithoutItems() throws {
        let items = try IntakePipeline.items(
            of: "employee_id,email\nE1,\nE2,b@example.org\n", format: Self.csv, mapping: try hrPeople(), markRecords: true)
        #expect(items.map { $0.operation } == [nil, nil, Operation.set])
        #expect(items.map { $0.externalKey } == ["E1", "E2", "E2"])
        var pipeline = IntakePipeline(format: Self.csv, mapping: try hrPeople(), markRecords: true)
        try pipeline.feed(Array("employee_id,email\nE1,\nE2,b@example.org\n".utf8)) { _ in }
        try pipeline.finish { _ in }
        #expect(pipeline.records == 2)
        #expect(pipeline.items == 1)
    }

    @Test func headerIsCheckedBeforeAnyRow() throws {
        var pipeline = IntakePipeline(format: Self.csv, mapping: try hrPeople())
        #expect(!pipeline.isReady)
        try pipeline.feed(Array("employee_id,given_name\n".utf8)) { _ in Issue.record("no item from a header") }
        #expect(pipeline.isReady)
        #expect(pipeline.csvHeader == ["employee_id", "given_name"])
    }

    @Test(
        "bad CSV files are refused naming the line and column",
        arguments: [
            ("employee_id,emial\nE1,x\n", IntakeError.Code.unknownColumn, 1, "emial"),
            ("id_of_employee,given_name\nE1,x\n", .missingKey, 1, "employee_id"),
            ("employee_id,given_name,given_name\n", .badHeader, 1, "given_name"),
            ("employee_id,,email\n", .badHeader, 1, nil),
            ("employee_id,given_name\nE1,Ann\nE2,Bob,extra\n", .raggedRow, 3, nil),
            ("employee_id,given_name\nE1,Ann\nE2\n", .raggedRow, 3, nil),
            ("employee_id,given_name\nE1,Ann\n  ,Bob\n", .missingKey, 3, "employee_id"),
            ("employee_id,given_name\nE1,\"Ann\n", .malformed, 2, nil),
            ("employee_id,given_name\nE1,A\u{0}n\n", .invalidValue, 2, "given_name"),
            ("", .empty, nil, nil),
        ] as [(String, IntakeError.Code, Int?, String?)])
    func badCSV(text: String, code: IntakeError.Code, line: Int?, column: String?) throws {
        let error = try #require(throws: IntakeError.self) { try IntakePipeline.items(of: text, format: Self.csv, mapping: try hrPeople()) }
        #expect(error.code == code, "\(error)")
        #expect(error.line == line)
        #expect(error.column == column)
    }

    @Test func mappingNamesAColumnTheHeaderLacks() throws {
        let mapping = try hrPeople { $0.columns["mail"] = .field("email") }
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: "employee_id,given_name\n", format: Self.csv, mapping: mapping)
        }
        #expect(error.code == .badMapping)
        #expect(error.column == "mail")
    }

    @Test func badTimestampIsRefused() throws {
        let mapping = try hrPeople { $0.sourceTimestampColumn = "changed_at" }
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: "employee_id,changed_at\nE1,2026-02-30\n", format: Self.csv, mapping: mapping)
        }
        #expect(error.code == .invalidValue)
        #expect(error.line == 2)
        #expect(error.column == "changed_at")
    }

    @Test func jsonLinesUnknownKeyAndMissingKey() throws {
        let unknown = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: "{\"employee_id\": \"E1\"}\n{\"employee_id\": \"E2\", \"emial\": \"x\"}", format: .jsonLines, mapping: try hrPeople())
        }
        #expect(unknown.code == .unknownColumn)
        #expect(unknown.line == 2)
        #expect(unknown.column == "emial")
        let missing = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: "{\"given_name\": \"Ann\"}", format: .jsonLines, mapping: try hrPeople())
        }
        #expect(missing.code == .missingKey)
        #expect(missing.line == 1)
    }

    @Test func longKeyIsRefused() throws {
        let key = String(repeating: "k", count: ItemPreparer.maxExternalKeyBytes + 1)
        let error = try #require(throws: IntakeError.self) {
            try IntakePipeline.items(of: "employee_id,given_name\n\(key),Ann\n", format: Self.csv, mapping: try hrPeople())
        }
        #expect(error.code == .invalidValue)
    }

    @Test func errorDescriptionNamesFileLineAndColumn() {
        let error = IntakeError(.unknownColumn, line: 1, column: "emial", "no field of that name in core.person", hint: "ignore it").in(file: "people.csv")
        #expect(error.description == "people.csv, line 1, column 'emial': no field of that name in core.person\nhint: ignore it")
    }

    @Test func formatFromFileName() {
        // A .csv file's delimiter is detected from its header (comma, semicolon or tab).
        #expect(IntakeFormat.guess(fromName: "people.CSV") == .detectedCSV)
        #expect(IntakeFormat.guess(fromName: "people.tsv") == .csv(delimiter: UInt8(ascii: "\t")))
        #expect(IntakeFormat.guess(fromName: "people.jsonl") == .jsonLines)
        #expect(IntakeFormat.guess(fromName: "-") == nil)
    }
}
