import Foundation
import Testing

@testable import SyncLedgerCore

@Suite("Intake: values checked by the database, bad records skipped, reports merged")
struct ValueCheckBatchTests {
    static func plan(codeLists: [String: String] = ["marital_status": "marital_status"], _ configure: (inout IntakeMapping) -> Void = { _ in })
        throws -> ValueCheckPlan
    {
        ValueCheckPlan(mapping: try hrPeople(configure), codeLists: codeLists)
    }

    static func item(_ seq: Int64, _ field: String, _ value: String?, line: Int, operation: SyncLedgerCore.Operation = .set) -> StagedItem {
        StagedItem(seq: seq, externalKey: "E\(line)", operation: operation, fieldName: field, newValue: value, line: line)
    }

    @Test func onlyValuesThatNeedTheDatabaseAreSentEachDistinctValueOnce() throws {
        var batch = ValueCheckBatch(plan: try Self.plan())
        batch.add(Self.item(1, "given_name", "Ann", line: 2))  // text, no code list: not sent
        batch.add(Self.item(2, "birth_date", "1985-03-07", line: 2))
        batch.add(Self.item(3, "marital_status", "M", line: 2))  // text with a code list: sent
        batch.add(Self.item(4, "birth_date", "1985-03-07", line: 3))  // the same value: sent once
        batch.add(Self.item(5, "birth_date", "a \"quoted\"\\\n\u{1}", line: 4))
        batch.add(Self.item(6, "employer_id", "ORG-1", line: 4, operation: .link))  // a key, not a value
        #expect(batch.count == 4)
        #expect(batch.payload == #"{"birth_date":["1985-03-07","a \"quoted\"\\\n\u0001"],"marital_status":["M"]}"#)
        let decoded = try JSONSerialization.jsonObject(with: Data(batch.payload.utf8)) as? [String: [String]]
        #expect(decoded?["birth_date"]?.last == "a \"quoted\"\\\n\u{1}")
    }

    @Test func refusalsNameEveryLineTheValueIsOnInFileOrder() throws {
        var batch = ValueCheckBatch(plan: try Self.plan { $0.columns = ["Status": .field("marital_status")] })
        batch.add(Self.item(1, "marital_status", "X", line: 2))
        batch.add(Self.item(2, "birth_date", "1990-02-30", line: 3))
        batch.add(Self.item(3, "marital_status", "X", line: 4))
        batch.add(Self.item(4, "marital_status", "M", line: 5))
        let bad = batch.badValues(from: [
            RefusedValue(field: "birth_date", ordinal: 1, castError: #"date/time field value out of range: "1990-02-30""#),
            RefusedValue(field: "marital_status", ordinal: 1, unmappedIn: "marital_status"),
        ])
        #expect(bad.map(\.line) == [2, 3, 4])
        #expect(bad.map(\.column) == ["Status", "birth_date", "Status"])
        #expect(bad[0].reason == "no mapping in code list 'marital_status' from source 'hr'")
        #expect(bad[0].hint?.contains("integration.value_map") == true)
        #expect(bad[1].reason == #"does not fit core.person.birth_date of type date: date/time field value out of range: "1990-02-30""#)
    }

    @Test func anEmptyCellThatWouldClearANotNullColumnIsRefusedWithoutTheDatabase() throws {
        var batch = ValueCheckBatch(plan: try Self.plan())
        batch.add(Self.item(1, "given_name", nil, line: 7))
        batch.add(Self.item(2, "email", nil, line: 7))
        #expect(batch.count == 0 && !batch.isEmpty)
        let bad = batch.badValues(from: [])
        #expect(bad.count == 1)
        #expect(bad.first?.line == 7 && bad.first?.column == "given_name")
        #expect(bad.first?.reason.contains("NOT NULL") == true)
    }

    @Test func reportsMergeInFileOrderKeepingTheFirstAndCountingAll() {
        var local = BadValueReport(limit: 3)
        for line in [2, 9] { local.add(BadValue(line: line, column: "a", value: "x", reason: "r")) }
        local.add(BadValue(.duplicateKey, line: 10, column: "k", value: "E1", reason: "the key is also on line 2"))
        var checked = BadValueReport(limit: 3)
        for line in [3, 4, 5, 6] { checked.add(BadValue(line: line, column: "b", value: "y", reason: "s")) }
        let merged = local.merged(with: checked)
        #expect(merged.values.map(\.line) == [2, 3, 4])
        #expect(merged.total == 7 && merged.duplicateKeys == 1 && merged.badValues == 6)
        #expect(merged.summary == "6 values do not fit their column, and 1 record repeats the key of an earlier record (the first 3 below)")
    }

    @Test func theLinesOfRecordsWithABadValueAreAllKeptBeyondTheReportsLimit() throws {
        var options = IntakeOptions(format: .commaSeparated)
        options.badValueLimit = 1
        var pipeline = IntakePipeline(options: options, mapping: try hrPeople())
        var items: [StagedItem] = []
        let text = "employee_id,given_name,birth_date\nE1,Ann,07/03/1985\nE2,Bob,1990-01-01\nE3,Cy,1/2/1990\nE4,Di,3.4.1999\n"
        try pipeline.feed(Array(text.utf8)) { items.append($0) }
        try pipeline.finish(throwingProblems: false) { items.append($0) }
        #expect(pipeline.takeBadLines() == [2, 4, 5])
        #expect(pipeline.takeBadLines() == [])
        #expect(pipeline.problems.total == 3 && pipeline.problems.values.count == 1)
        // The good cells of a bad record still come, with its line, for the caller to drop.
        #expect(items.filter { $0.line == 2 }.map(\.fieldName) == ["given_name"])
        #expect(items.map(\.line) == [2, 3, 3, 4, 5])
        // Thrown by default.
        var strict = IntakePipeline(options: options, mapping: try hrPeople())
        try strict.feed(Array(text.utf8)) { _ in }
        #expect(throws: IntakeError.self) { try strict.finish { _ in } }
    }

    @Test func badRowsOptionAndTheSkippedLinesInTheContentKey() throws {
        #expect(try IntakeOptions.parse(onBadRows: "SKIP", fileName: "a.csv").onBadRows == .skip)
        #expect(try IntakeOptions.parse(fileName: "a.csv").onBadRows == .refuse)
        let error = try #require(throws: IntakeError.self) { try IntakeOptions.parse(onBadRows: "ignore", fileName: "a.csv") }
        #expect(error.message.contains("--on-bad-rows must be refuse or skip"))

        let mapping = try hrPeople()
        func key(skipping lines: [Int]) -> String {
            var key = SubmissionKey(mapping: mapping, options: IntakeOptions(), snapshot: false)
            Array("employee_id\nE1\n".utf8).withUnsafeBytes { key.update($0) }
            key.skipped(lines: lines)
            return key.jobKey
        }
        #expect(key(skipping: []) == key(skipping: []))
        #expect(key(skipping: [3]) != key(skipping: []))
        #expect(key(skipping: [3]) != key(skipping: [4]))
        #expect(key(skipping: [3]) == key(skipping: [3]))
    }
}
