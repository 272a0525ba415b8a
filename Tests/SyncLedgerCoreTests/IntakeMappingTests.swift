import Foundation
import Testing

@testable import SyncLedgerCore

/// A mapping of HR's people file onto `core.person` (the Fixtures catalogue).
func hrPeople(
    _ configure: (inout IntakeMapping) -> Void = { _ in }
) throws -> ResolvedMapping {
    var mapping = IntakeMapping(source: "hr", table: Fixtures.person, keyColumn: "employee_id")
    configure(&mapping)
    return try mapping.resolve(in: Fixtures.catalog)
}

@Suite("IntakeMapping: flags, mapping files, checks against the catalogue")
struct IntakeMappingTests {
    @Test func simpleMappingMapsEveryOtherColumnToItsField() throws {
        let mapping = try hrPeople()
        #expect(try mapping.plan(forColumn: "given_name", line: 1) == .set(field: "given_name"))
        #expect(try mapping.plan(forColumn: "employee_id", line: 1) == .none)
    }

    @Test(
        "refusals naming the problem",
        arguments: [
            (IntakeMapping(source: "crm", table: "core.person", keyColumn: "k"), IntakeError.Code.unknownSource, "unknown source system 'crm'"),
            (IntakeMapping(source: "legacy", table: "core.person", keyColumn: "k"), .unknownSource, "'legacy' is inactive"),
            (IntakeMapping(source: "hr", table: "core.people", keyColumn: "k"), .unregisteredTable, "'core.people' is not registered"),
            (IntakeMapping(source: "hr", table: "core.archive", keyColumn: "k"), .unregisteredTable, "inactive"),
            (IntakeMapping(source: "hr", table: "core.ghost", keyColumn: "k"), .unregisteredTable, "does not exist"),
            (IntakeMapping(source: "hr", table: "integration.sync_job", keyColumn: "k"), .unregisteredTable, "is not a target"),
            (IntakeMapping(table: "core.person", keyColumn: "k"), .badMapping, "--source"),
            (IntakeMapping(source: "hr", keyColumn: "k"), .badMapping, "--table"),
            (IntakeMapping(source: "hr", table: "core.person"), .badMapping, "--key"),
            (IntakeMapping(source: "hr", table: "core.person", keyColumn: "k", columns: ["mail": .field("emial")]), .unknownColumn, "'emial'"),
            (
                IntakeMapping(source: "hr", table: "core.person", keyColumn: "k", columns: ["org": .link(field: "email", relatedTable: nil)]),
                .badMapping, "not a single-column foreign key"
            ),
            (
                IntakeMapping(
                    source: "hr", table: "core.person", keyColumn: "k",
                    columns: ["org": .link(field: "employer_id", relatedTable: "core.person")]),
                .badMapping, "references core.organisation"
            ),
            (
                IntakeMapping(
                    source: "hr", table: "core.person", keyColumn: "k", columns: ["org": .link(field: "legacy_org_id", relatedTable: nil)]),
                .badMapping, "not a registered"
            ),
            (IntakeMapping(source: "hr", table: "core.person", keyColumn: "k", sourceTimestampColumn: "k"), .badMapping, "key column"),
        ])
    func refusals(mapping: IntakeMapping, code: IntakeError.Code, message: String) throws {
        let error = try #require(throws: IntakeError.self) { try mapping.resolve(in: Fixtures.catalog) }
        #expect(error.code == code)
        #expect(error.description.contains(message), "\(error)")
    }

    @Test(
        "columns that are no writable field",
        arguments: [("emial", "unknown field 'emial' on core.person"), ("id", "id column"), ("full_name", "generated"), ("is_active", "active column")])
    func unwritableColumns(column: String, message: String) throws {
        let error = try #require(throws: IntakeError.self) { try hrPeople().plan(forColumn: column, line: 1) }
        #expect(error.code == .unknownColumn)
        #expect(error.column == column)
        #expect(error.line == 1)
        #expect(error.description.contains(message), "\(error)")
        #expect(error.hint?.contains("--ignore \(column)") == true)
    }

    @Test func otherColumnsIgnored() throws {
        let mapping = try hrPeople {
            $0.otherColumns = .ignore
            $0.columns["mail"] = .field("email")
        }
        #expect(try mapping.plan(forColumn: "whatever", line: 1) == .none)
        #expect(try mapping.plan(forColumn: "mail", line: 1) == .set(field: "email"))
    }

    @Test func mappingFile() throws {
        let json = """
            {"source": "hr", "table": "core.person", "key": "employee_id", "source_timestamp": "changed_at",
             "columns": {"first": "given_name", "org": {"field": "employer_id", "link": "core.organisation"}, "note": null,
                         "mail": {"field": "email"}},
             "ignore": ["internal"], "other_columns": "fields", "empty_cells": "clear"}
            """
        let mapping = try IntakeMapping.parse(json: Data(json.utf8), file: "hr.json")
        #expect(mapping.source == "hr")
        #expect(mapping.sourceTimestampColumn == "changed_at")
        #expect(mapping.emptyCells == .clear)
        #expect(mapping.columns == [
            "first": .field("given_name"), "org": .link(field: "employer_id", relatedTable: "core.organisation"), "note": .ignore,
            "mail": .field("email"), "internal": .ignore,
        ])
        let resolved = try mapping.resolve(in: Fixtures.catalog)
        #expect(resolved.explicit["org"] == .link(field: "employer_id"))
    }

    @Test(
        "bad mapping files",
        arguments: [
            ("not json", "not valid JSON"), ("[1]", "expected a JSON object"), (#"{"colums": {}}"#, "unknown key 'colums'"),
            (#"{"source": 1}"#, "'source' must be a string"), (#"{"columns": {"a": 1}}"#, "column 'a'"),
            (#"{"columns": {"a": {"field": "x", "lnk": "y"}}}"#, "unknown key 'lnk'"), (#"{"empty_cells": "maybe"}"#, "leave"),
            (#"{"columns": {"a": "email"}, "ignore": ["a"]}"#, "both mapped and ignored"),
        ])
    func badMappingFiles(json: String, message: String) throws {
        let error = try #require(throws: IntakeError.self) { try IntakeMapping.parse(json: Data(json.utf8), file: "m.json") }
        #expect(error.code == .badMapping)
        #expect(error.description.contains("mapping file m.json"))
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func canonicalTextDependsOnTheMapping() throws {
        let plain = try hrPeople().canonicalText
        #expect(plain == (try hrPeople().canonicalText))
        #expect(plain != (try hrPeople { $0.emptyCells = .clear }).canonicalText)
        #expect(plain != (try hrPeople { $0.columns["mail"] = .field("email") }).canonicalText)
    }
}
