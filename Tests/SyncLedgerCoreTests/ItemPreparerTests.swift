import Foundation
import Testing

@testable import SyncLedgerCore

/// One item that must fail preparation, with the failure and a fragment of its message.
struct FailureCase: Sendable, CustomTestStringConvertible {
    var name: String
    var item: InboundItem
    var failure: ItemFailure
    var message: String

    var testDescription: String { name }
}

@Suite("ItemPreparer: validation (SPEC §2 step 1)")
struct ItemPreparerValidationTests {
    let preparer = Fixtures.preparer()

    static let hostileField = #"name"; DROP TABLE x; --"#

    static let cases: [FailureCase] = [
        FailureCase(
            name: "unknown source", item: Fixtures.item(source: "crm"),
            failure: .unknownSourceSystem("crm"),
            message: "unknown source system 'crm': register it in integration.source_system"),
        FailureCase(
            name: "inactive source", item: Fixtures.item(source: "legacy"),
            failure: .inactiveSourceSystem("legacy"), message: "source system 'legacy' is inactive"),
        FailureCase(
            name: "nil target table", item: Fixtures.item(table: nil),
            failure: .missingTargetTable, message: "no target table"),
        FailureCase(
            name: "empty target table", item: Fixtures.item(table: ""),
            failure: .missingTargetTable, message: "no target table"),
        FailureCase(
            name: "integration schema", item: Fixtures.item(table: "integration.sync_job", field: "job_status"),
            failure: .protectedTable("integration.sync_job"), message: "'integration.sync_job' is not a target"),
        FailureCase(
            name: "pg_catalog", item: Fixtures.item(table: "pg_catalog.pg_authid", field: "rolpassword"),
            failure: .protectedTable("pg_catalog.pg_authid"), message: "'pg_catalog.pg_authid' is not a target"),
        FailureCase(
            name: "information_schema", item: Fixtures.item(table: "information_schema.tables", field: "table_name"),
            failure: .protectedTable("information_schema.tables"),
            message: "'information_schema.tables' is not a target"),
        FailureCase(
            name: "pg_temp_N", item: Fixtures.item(table: "pg_temp_3.scratch", field: "note"),
            failure: .protectedTable("pg_temp_3.scratch"), message: "'pg_temp_3.scratch' is not a target"),
        FailureCase(
            name: "pg_toast", item: Fixtures.item(table: "pg_toast.pg_toast_1234", field: "chunk_data"),
            failure: .protectedTable("pg_toast.pg_toast_1234"), message: "is not a target"),
        FailureCase(
            name: "protected schema in upper case", item: Fixtures.item(table: "PG_CATALOG.pg_authid"),
            failure: .protectedTable("PG_CATALOG.pg_authid"), message: "'PG_CATALOG.pg_authid' is not a target"),
        FailureCase(
            name: "unregistered table", item: Fixtures.item(table: "core.salary"),
            failure: .unregisteredTable("core.salary"),
            message: "target table 'core.salary' is not registered in integration.target_table"),
        FailureCase(
            name: "inactive table", item: Fixtures.item(table: "core.archive"),
            failure: .inactiveTable("core.archive"), message: "target table core.archive is inactive"),
        FailureCase(
            name: "registered but missing table", item: Fixtures.item(table: "core.ghost"),
            failure: .missingTable("core.ghost"),
            message: "target table core.ghost is registered but does not exist in the database"),
        FailureCase(
            name: "nil external key", item: Fixtures.item(key: nil),
            failure: .missingExternalKey, message: "missing external_key"),
        FailureCase(
            name: "empty external key", item: Fixtures.item(key: ""),
            failure: .missingExternalKey, message: "missing external_key"),
        FailureCase(
            name: "blank external key", item: Fixtures.item(key: "   "),
            failure: .missingExternalKey, message: "missing external_key"),
        FailureCase(
            name: "tab external key", item: Fixtures.item(key: "\t"),
            failure: .missingExternalKey, message: "missing external_key"),
        FailureCase(
            name: "unknown operation", item: Fixtures.item(operation: "Upsert"),
            failure: .unknownOperation("Upsert"), message: "unknown operation 'Upsert': use Set, Link or Delete"),
        FailureCase(
            name: "operation in the wrong case", item: Fixtures.item(operation: "set"),
            failure: .unknownOperation("set"), message: "unknown operation 'set'"),
        FailureCase(
            name: "Set without field", item: Fixtures.item(field: nil),
            failure: .missingFieldName(.set), message: "missing field_name: a Set item names the column it changes"),
        FailureCase(
            name: "Set with empty field", item: Fixtures.item(field: ""),
            failure: .missingFieldName(.set), message: "missing field_name: a Set item"),
        FailureCase(
            name: "Link without field", item: Fixtures.item(operation: "Link", field: nil, value: "ORG-1"),
            failure: .missingFieldName(.link), message: "missing field_name: a Link item names the column it changes"),
        FailureCase(
            name: "unknown field", item: Fixtures.item(field: "emial", value: "ann@example.org"),
            failure: .unknownField(field: "emial", table: Fixtures.person),
            message: "unknown field 'emial' on core.person"),
        FailureCase(
            name: "hostile field name", item: Fixtures.item(field: hostileField),
            failure: .unknownField(field: hostileField, table: Fixtures.person),
            message: #"unknown field 'name"; DROP TABLE x; --' on core.person"#),
        FailureCase(
            name: "field differing only in case", item: Fixtures.item(field: "Given_Name"),
            failure: .unknownField(field: "Given_Name", table: Fixtures.person),
            message: "unknown field 'Given_Name' on core.person"),
        FailureCase(
            name: "Link on unknown field", item: Fixtures.item(operation: "Link", field: "employer", value: "ORG-1"),
            failure: .unknownField(field: "employer", table: Fixtures.person),
            message: "unknown field 'employer' on core.person"),
        FailureCase(
            name: "id column", item: Fixtures.item(field: "id", value: UUID().uuidString),
            failure: .idColumn(field: "id", table: Fixtures.person),
            message: "field 'id' is the id column of core.person and cannot be set"),
        FailureCase(
            name: "Link on id column", item: Fixtures.item(operation: "Link", field: "id", value: "ORG-1"),
            failure: .idColumn(field: "id", table: Fixtures.person), message: "is the id column of core.person"),
        FailureCase(
            name: "generated column", item: Fixtures.item(field: "full_name", value: "Ann Smith"),
            failure: .generatedColumn(field: "full_name", table: Fixtures.person),
            message: "field 'full_name' on core.person is a generated column and cannot be set"),
        FailureCase(
            name: "external key over the crosswalk's limit",
            item: Fixtures.item(key: String(repeating: "k", count: 1025)),
            failure: .externalKeyTooLong(bytes: 1025, limit: 1024),
            message: "external key is 1025 bytes; the crosswalk accepts at most 1024"),
        FailureCase(
            name: "active column", item: Fixtures.item(field: "is_active", value: "true"),
            failure: .activeColumn(field: "is_active", table: Fixtures.person),
            message: "field 'is_active' is the active column of core.person: send a Delete item to deactivate the record"),
        FailureCase(
            name: "NULL into NOT NULL", item: Fixtures.item(field: "given_name", value: nil),
            failure: .notNullColumn(field: "given_name", table: Fixtures.person),
            message: "field 'given_name' on core.person is NOT NULL: a NULL value cannot clear it"),
        FailureCase(
            name: "Link on a column that is no foreign key",
            item: Fixtures.item(operation: "Link", field: "given_name", value: "ORG-1"),
            failure: .notARelationship(field: "given_name", table: Fixtures.person),
            message: "field 'given_name' on core.person is not a single-column foreign key: Link needs one"),
        FailureCase(
            name: "Link into an unregistered table",
            item: Fixtures.item(operation: "Link", field: "legacy_org_id", value: "L-1"),
            failure: .unregisteredRelationship(
                field: "legacy_org_id", table: Fixtures.person, references: "legacy.organisation"),
            message:
                "field 'legacy_org_id' on core.person references legacy.organisation, which is not a registered target table"
        ),
        FailureCase(
            name: "Delete without active column",
            item: Fixtures.item(table: Fixtures.organisation, operation: "Delete", field: nil, value: nil),
            failure: .deleteNotSupported(table: Fixtures.organisation),
            message: "Delete refused: core.organisation has no active_column in integration.target_table"),
        FailureCase(
            name: "NUL character", item: Fixtures.item(field: "given_name", value: "Ann\u{0}Smith"),
            failure: .invalidCharacter(field: "given_name", table: Fixtures.person),
            message: "value for core.person.given_name contains a NUL character"),
        FailureCase(
            name: "NUL character in a Link value",
            item: Fixtures.item(operation: "Link", field: "employer_id", value: "ORG\u{0}1"),
            failure: .invalidCharacter(field: "employer_id", table: Fixtures.person),
            message: "value for core.person.employer_id contains a NUL character"),
        FailureCase(
            name: "no field policy", item: Fixtures.item(field: "email", value: "ann@example.org"),
            failure: .noFieldPolicy(table: Fixtures.person, field: "email"),
            message: "no commit policy governs core.person.email: add one to integration.commit_policy"),
        FailureCase(
            name: "no field policy for a clearing value", item: Fixtures.item(field: "email", value: nil),
            failure: .noFieldPolicy(table: Fixtures.person, field: "email"),
            message: "no commit policy governs core.person.email"),
        FailureCase(
            name: "unmapped code", item: Fixtures.item(field: "marital_status", value: "X"),
            failure: .unmappedCode(code: "X", codeList: "marital_status", source: "hr"),
            message: "no mapping for 'X' in code list 'marital_status' from source 'hr'"),
        FailureCase(
            name: "code mapped for another source only",
            item: Fixtures.item(source: "payroll", field: "marital_status", value: "M"),
            failure: .unmappedCode(code: "M", codeList: "marital_status", source: "payroll"),
            message: "no mapping for 'M' in code list 'marital_status' from source 'payroll'"),
        FailureCase(
            name: "code matched case-sensitively", item: Fixtures.item(field: "marital_status", value: "m"),
            failure: .unmappedCode(code: "m", codeList: "marital_status", source: "hr"),
            message: "no mapping for 'm' in code list 'marital_status' from source 'hr'"),
    ]

    @Test("fails with a message that names the problem", arguments: cases)
    func failsWithMessage(_ testCase: FailureCase) {
        let failure = preparer.failure(testCase.item)
        #expect(failure == testCase.failure)
        #expect(failure?.description.contains(testCase.message) == true, "\(String(describing: failure))")
    }

    @Test func unmappedCodeMessageSaysHowToRecover() {
        let failure = preparer.failure(Fixtures.item(field: "marital_status", value: "X"))
        #expect(failure?.description.contains("integration.value_map") == true)
        #expect(failure?.description.contains("integration.requeue_failed(job_id)") == true)
    }

    @Test func deleteWithoutRecordPolicyFails() {
        let withoutRecordPolicy = PolicyBook(Fixtures.allPolicies.filter { $0 != Fixtures.personRecordPolicy })
        let preparer = Fixtures.preparer(policies: withoutRecordPolicy)
        let failure = preparer.failure(Fixtures.item(operation: "Delete", field: nil, value: nil))
        #expect(failure == .noRecordPolicy(table: Fixtures.person))
        #expect(
            failure?.description.contains(
                "no record-level commit policy (field_name NULL) governs core.person: Delete refused")
                == true)
    }

    @Test func linkWithoutFieldPolicyFails() {
        let withoutEmployerPolicy = PolicyBook(Fixtures.allPolicies.filter { $0 != Fixtures.employerPolicy })
        let failure = Fixtures.preparer(policies: withoutEmployerPolicy)
            .failure(Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1"))
        #expect(failure == .noFieldPolicy(table: Fixtures.person, field: "employer_id"))
        #expect(failure?.description.contains("no commit policy governs core.person.employer_id") == true)
    }

    @Test func linkIntoAnInactiveTableIsRefused() {
        var catalog = Fixtures.catalog
        catalog.tables[Fixtures.organisation]?.isActive = false
        let preparer = ItemPreparer(catalog: catalog, policies: Fixtures.policies, valueMaps: Fixtures.valueMaps)
        let failure = preparer.failure(Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1"))
        #expect(
            failure
                == .unregisteredRelationship(
                    field: "employer_id", table: Fixtures.person, references: Fixtures.organisation))
    }

    @Test func customIdColumnIsRefused() {
        var catalog = Fixtures.catalog
        catalog.tables[Fixtures.person]?.idColumn = "given_name"
        let preparer = ItemPreparer(catalog: catalog, policies: Fixtures.policies, valueMaps: Fixtures.valueMaps)
        #expect(
            preparer.failure(Fixtures.item(field: "given_name"))
                == .idColumn(field: "given_name", table: Fixtures.person))
        // The column named `id` is an ordinary column once it is not the id column.
        #expect(
            preparer.failure(Fixtures.item(field: "id", value: "x"))
                == .noFieldPolicy(table: Fixtures.person, field: "id"))
    }

    @Test("a protected schema is refused even when registered") func protectedBeatsRegistry() {
        #expect(Fixtures.catalog.tables["integration.sync_job"] != nil)
        #expect(
            preparer.failure(Fixtures.item(table: "integration.sync_job", field: "job_status"))
                == .protectedTable("integration.sync_job"))
    }

    @Test(
        "a schema merely named like a protected one is not protected",
        arguments: ["integration_archive.t", "public.integration", "core.pg_catalog"])
    func lookalikeSchemaIsNotProtected(_ table: String) {
        #expect(!ProtectedSchemas.contains(table: table))
        #expect(preparer.failure(Fixtures.item(table: table)) == .unregisteredTable(table))
    }

    @Test("checks run in order: source, table, key, operation, field")
    func checkOrder() {
        // Every check after the first would also fail for each of these items.
        #expect(
            preparer.failure(Fixtures.item(source: "crm", table: "core.salary", key: nil))
                == .unknownSourceSystem("crm"))
        #expect(preparer.failure(Fixtures.item(table: "core.salary", key: nil)) == .unregisteredTable("core.salary"))
        #expect(preparer.failure(Fixtures.item(key: nil, operation: "Upsert")) == .missingExternalKey)
        #expect(preparer.failure(Fixtures.item(operation: "Upsert", field: "emial")) == .unknownOperation("Upsert"))
        #expect(
            preparer.failure(Fixtures.item(field: "email", value: "a\u{0}b"))
                == .invalidCharacter(field: "email", table: Fixtures.person))
    }

    @Test func deleteIgnoresFieldAndValue() throws {
        let prepared = try preparer.prepared(
            Fixtures.item(operation: "Delete", field: "no_such_column", value: "whatever"))
        #expect(prepared.change == .delete(activeColumn: "is_active"))
        #expect(prepared.policy == Fixtures.personRecordPolicy)
    }
}

@Suite("ItemPreparer: value size")
struct ItemPreparerValueSizeTests {
    @Test func oneMegabyteIsRefusedByTheDefaultLimit() {
        let megabyte = String(repeating: "a", count: 1_048_576)
        let failure = Fixtures.preparer().failure(Fixtures.item(field: "given_name", value: megabyte))
        #expect(failure == .valueTooLarge(field: "given_name", table: Fixtures.person, bytes: 1_048_576, limit: 65_536))
        let message = failure?.description ?? ""
        #expect(
            message.contains(
                "value for core.person.given_name is 1048576 bytes; the maximum is 65536 (SYNCLEDGER_MAX_VALUE_BYTES)"))
        #expect(message.count < 300)
    }

    @Test func exactlyTheLimitPasses() throws {
        let preparer = Fixtures.preparer(maxValueBytes: 10)
        let prepared = try preparer.prepared(Fixtures.item(field: "given_name", value: "0123456789"))
        #expect(
            prepared.change
                == .field(column: Fixtures.personTable.columns["given_name"]!, value: "0123456789", confidence: 1))
    }

    @Test func oneByteOverTheLimitFails() {
        let preparer = Fixtures.preparer(maxValueBytes: 10)
        #expect(
            preparer.failure(Fixtures.item(field: "given_name", value: "0123456789X"))
                == .valueTooLarge(field: "given_name", table: Fixtures.person, bytes: 11, limit: 10))
    }

    @Test("the limit counts UTF-8 bytes, not characters") func limitCountsBytes() {
        let preparer = Fixtures.preparer(maxValueBytes: 10)
        #expect(preparer.failure(Fixtures.item(field: "given_name", value: "ééééé")) == nil)  // 10 bytes
        #expect(
            preparer.failure(Fixtures.item(field: "given_name", value: "éééééé"))  // 6 characters, 12 bytes
                == .valueTooLarge(field: "given_name", table: Fixtures.person, bytes: 12, limit: 10))
    }

    @Test func linkValuesAreLimitedToo() {
        let preparer = Fixtures.preparer(maxValueBytes: 4)
        #expect(
            preparer.failure(Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1"))
                == .valueTooLarge(field: "employer_id", table: Fixtures.person, bytes: 5, limit: 4))
    }

    @Test func nullHasNoSize() {
        let preparer = Fixtures.preparer(maxValueBytes: 1)
        #expect(preparer.failure(Fixtures.item(field: "birth_date", value: nil)) == nil)
    }
}

@Suite("ItemPreparer: what a prepared item carries")
struct ItemPreparerSuccessTests {
    let preparer = Fixtures.preparer()

    @Test func setCarriesEverythingTheGovernorNeeds() throws {
        let timestamp = Date(timeIntervalSince1970: 1_700_000_000)
        let hint = UUID()
        let prepared = try preparer.prepared(
            Fixtures.item(id: 7, key: "E-7", field: "birth_date", value: "1980-02-29", timestamp: timestamp, hint: hint)
        )
        #expect(prepared.itemID == 7)
        #expect(prepared.position == SubmissionPosition(submit: 1, seq: 7))
        #expect(prepared.jobID == 1)
        #expect(prepared.source == "hr")
        #expect(prepared.table == Fixtures.person)
        #expect(prepared.externalKey == "E-7")
        #expect(prepared.targetIDHint == hint)
        #expect(prepared.sourceTimestamp == timestamp)
        #expect(prepared.policy == Fixtures.birthDatePolicy)
        #expect(
            prepared.change
                == .field(column: Fixtures.personTable.columns["birth_date"]!, value: "1980-02-29", confidence: 1))
        #expect(prepared.aspect == .field)
        #expect(prepared.aspectKey == "birth_date")
        #expect(prepared.createsRecord)
    }

    @Test func nullClearsANullableField() throws {
        let prepared = try preparer.prepared(Fixtures.item(field: "birth_date", value: nil))
        #expect(
            prepared.change == .field(column: Fixtures.personTable.columns["birth_date"]!, value: nil, confidence: 1))
    }

    @Test func emptyStringIsAValueNotANull() throws {
        let prepared = try preparer.prepared(Fixtures.item(field: "given_name", value: ""))
        #expect(
            prepared.change == .field(column: Fixtures.personTable.columns["given_name"]!, value: "", confidence: 1))
    }

    @Test(
        "a coded value is mapped, with the mapping's confidence",
        arguments: [
            ("M", "married", 1.0), ("S", "single", 1.0), ("D", "divorced", 0.5),
        ])
    func mappingApplied(code: String, canonical: String, confidence: Double) throws {
        let prepared = try preparer.prepared(Fixtures.item(field: "marital_status", value: code))
        #expect(
            prepared.change
                == .field(
                    column: Fixtures.personTable.columns["marital_status"]!, value: canonical, confidence: confidence))
    }

    @Test func mappingIsPerSource() throws {
        let prepared = try preparer.prepared(Fixtures.item(source: "payroll", field: "marital_status", value: "01"))
        #expect(
            prepared.change
                == .field(column: Fixtures.personTable.columns["marital_status"]!, value: "married", confidence: 1))
    }

    @Test func nullWithACodeListPassesThroughUnmapped() throws {
        let prepared = try preparer.prepared(Fixtures.item(field: "marital_status", value: nil))
        #expect(
            prepared.change
                == .field(column: Fixtures.personTable.columns["marital_status"]!, value: nil, confidence: 1))
    }

    @Test func valueWithoutCodeListIsNotMapped() throws {
        // "M" is a mapped marital status code, but given_name has no code list.
        let prepared = try preparer.prepared(Fixtures.item(field: "given_name", value: "M"))
        #expect(
            prepared.change == .field(column: Fixtures.personTable.columns["given_name"]!, value: "M", confidence: 1))
    }

    @Test func linkNamesTheRelatedTableAndKey() throws {
        let prepared = try preparer.prepared(Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1"))
        #expect(
            prepared.change
                == .link(
                    column: Fixtures.personTable.columns["employer_id"]!, relatedTable: Fixtures.organisation,
                    relatedKey: "ORG-1"))
        #expect(prepared.policy == Fixtures.employerPolicy)
        #expect(prepared.aspect == .relationship)
        #expect(prepared.aspectKey == "employer_id")
        #expect(prepared.createsRecord)
    }

    @Test("a NULL or blank Link value clears the relationship", arguments: [nil, "", "  "] as [String?])
    func linkClears(_ value: String?) throws {
        let prepared = try preparer.prepared(Fixtures.item(operation: "Link", field: "employer_id", value: value))
        #expect(
            prepared.change
                == .link(
                    column: Fixtures.personTable.columns["employer_id"]!, relatedTable: Fixtures.organisation,
                    relatedKey: nil))
    }

    @Test func linkToTheSameTable() throws {
        let prepared = try preparer.prepared(
            Fixtures.item(
                table: Fixtures.organisation, key: "ORG-2", operation: "Link", field: "parent_id", value: "ORG-1"))
        #expect(
            prepared.change
                == .link(
                    column: Fixtures.organisationTable.columns["parent_id"]!, relatedTable: Fixtures.organisation,
                    relatedKey: "ORG-1"))
    }

    @Test func deleteClearsTheActiveColumnUnderTheRecordPolicy() throws {
        let prepared = try preparer.prepared(Fixtures.item(operation: "Delete", field: nil, value: nil))
        #expect(prepared.change == .delete(activeColumn: "is_active"))
        #expect(prepared.policy == Fixtures.personRecordPolicy)
        #expect(prepared.aspect == .record)
        #expect(prepared.aspectKey == LedgerAspect.recordAspectKey)
        #expect(!prepared.createsRecord)
    }
}

@Suite("ItemPreparer: NOT NULL foreign keys")
struct ItemPreparerNotNullLinkTests {
    /// A membership must name its organisation.
    static let membership = TargetTable(
        name: "core.membership", activeColumn: "is_active",
        columns: [
            Column(name: "id", sqlType: "uuid", isNotNull: true),
            Column(name: "organisation_id", sqlType: "uuid", isNotNull: true, references: Fixtures.organisation),
        ])

    let preparer = ItemPreparer(
        catalog: Catalog(sources: [SourceSystem(key: "hr")], tables: [membership, Fixtures.organisationTable]),
        policies: PolicyBook([CommitPolicy(targetTable: "core.membership", fieldName: "organisation_id")]),
        valueMaps: ValueMapBook())

    @Test func nullLinkIntoANotNullColumnFails() {
        let failure = preparer.failure(
            Fixtures.item(table: "core.membership", operation: "Link", field: "organisation_id", value: nil))
        #expect(failure == .notNullColumn(field: "organisation_id", table: "core.membership"))
    }

    /// A blank Link value clears the relationship exactly as NULL does (see
    /// `linkClears`), so it must be refused on a NOT NULL column at preparation
    /// too, not left for the database to reject at write time.
    @Test func blankLinkIntoANotNullColumnFails() {
        let failure = preparer.failure(
            Fixtures.item(table: "core.membership", operation: "Link", field: "organisation_id", value: "  "))
        #expect(failure == .notNullColumn(field: "organisation_id", table: "core.membership"))
    }
}

@Suite("PreparedItem")
struct PreparedItemTests {
    let preparer = Fixtures.preparer()

    @Test func theColumnIsTheFieldOrTheActiveColumn() throws {
        #expect(try preparer.prepared(Fixtures.item(field: "birth_date", value: "x")).column == "birth_date")
        #expect(try preparer.prepared(Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1")).column == "employer_id")
        #expect(try preparer.prepared(Fixtures.item(operation: "Delete", field: nil)).column == "is_active")
    }

    @Test func theProposedValueIsWhatPostgreSQLCanonicalises() throws {
        // A Set proposes its (mapped) value, Delete proposes false for the
        // active column; a Link's value is its related record, known only
        // after resolution.
        #expect(try preparer.prepared(Fixtures.item(field: "birth_date", value: "29/02/1980")).proposedValue == "29/02/1980")
        #expect(try preparer.prepared(Fixtures.item(field: "marital_status", value: "D")).proposedValue == "divorced")
        #expect(try preparer.prepared(Fixtures.item(field: "birth_date", value: nil)).proposedValue == nil)
        #expect(try preparer.prepared(Fixtures.item(operation: "Delete", field: nil)).proposedValue == "false")
        #expect(try preparer.prepared(Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1")).proposedValue == nil)
    }
}

@Suite("Messages quote hostile input briefly")
struct QuoteTests {
    @Test func shortTextIsQuotedWhole() {
        #expect(Quote.short("emial") == "'emial'")
        #expect(Quote.bare("emial") == "emial")
    }

    @Test func sixtyCharactersAreKept() {
        let sixty = String(repeating: "x", count: 60)
        #expect(Quote.limit == 60)
        #expect(Quote.bare(sixty) == sixty)
        #expect(Quote.short(sixty) == "'\(sixty)'")
    }

    @Test func longerTextIsCutToSixtyWithAnEllipsis() {
        let sixty = String(repeating: "x", count: 60)
        #expect(Quote.bare(sixty + "y") == sixty + "…")
        #expect(Quote.short(sixty + "yyyy") == "'\(sixty)…'")
    }

    @Test func hostileFieldNameIsShortenedInTheMessage() {
        let hostile = #"name"; DROP TABLE x; --"# + String(repeating: "A", count: 10_000)
        let failure = Fixtures.preparer().failure(Fixtures.item(field: hostile))
        #expect(failure == .unknownField(field: hostile, table: Fixtures.person))
        let message = failure?.description ?? ""
        #expect(message == "unknown field '\(hostile.prefix(60))…' on core.person")
        #expect(!message.contains(String(repeating: "A", count: 61)))
    }

    @Test func everyQuotedInputIsShortened() {
        let long = String(repeating: "z", count: 500)
        let failures: [ItemFailure] = [
            .unknownSourceSystem(long), .inactiveSourceSystem(long), .protectedTable(long), .unregisteredTable(long),
            .unknownOperation(long), .unknownField(field: long, table: "t"), .idColumn(field: long, table: "t"),
            .generatedColumn(field: long, table: "t"), .notNullColumn(field: long, table: "t"),
            .notARelationship(field: long, table: "t"), .valueTooLarge(field: long, table: "t", bytes: 1, limit: 0),
            .invalidCharacter(field: long, table: "t"), .noFieldPolicy(table: "t", field: long),
            .unmappedCode(code: long, codeList: long, source: long),
            .uncastableValue(value: long, field: long, table: "t", sqlType: "date", reason: "bad"),
            .identifierConflict(externalKey: long, table: "t", source: long),
        ]
        for failure in failures {
            #expect(!failure.description.contains(String(repeating: "z", count: 61)), "\(failure)")
            #expect(failure.description.contains(String(repeating: "z", count: 60) + "…"), "\(failure)")
        }
    }
}
