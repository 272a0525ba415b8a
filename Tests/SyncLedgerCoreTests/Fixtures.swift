import Foundation
import Testing

@testable import SyncLedgerCore

/// A small but realistic configuration: people who work for organisations, fed
/// by an HR system (authoritative), a payroll system, and a retired legacy system.
enum Fixtures {
    static let person = "core.person"
    static let organisation = "core.organisation"

    // MARK: Catalog

    static let personTable = TargetTable(
        name: person, idColumn: "id", activeColumn: "is_active",
        columns: [
            Column(name: "id", sqlType: "uuid", isNotNull: true),
            Column(name: "given_name", sqlType: "text", isNotNull: true),
            Column(name: "birth_date", sqlType: "date"),
            Column(name: "marital_status", sqlType: "text"),
            Column(name: "email", sqlType: "text"),
            Column(name: "employer_id", sqlType: "uuid", references: organisation),
            // A foreign key into a table nobody registered.
            Column(name: "legacy_org_id", sqlType: "uuid", references: "legacy.organisation"),
            Column(name: "is_active", sqlType: "boolean", isNotNull: true),
            Column(name: "full_name", sqlType: "text", isGenerated: true),
        ])

    /// No `active_column`: Delete is refused.
    static let organisationTable = TargetTable(
        name: organisation, idColumn: "id", activeColumn: nil,
        columns: [
            Column(name: "id", sqlType: "uuid", isNotNull: true),
            Column(name: "name", sqlType: "text", isNotNull: true),
            Column(name: "parent_id", sqlType: "uuid", references: organisation),
        ])

    static let catalog = Catalog(
        sources: [
            SourceSystem(key: "hr"),
            SourceSystem(key: "payroll"),
            SourceSystem(key: "legacy", isActive: false),
        ],
        tables: [
            personTable,
            organisationTable,
            TargetTable(name: "core.archive", isActive: false, columns: [Column(name: "id", sqlType: "uuid")]),
            TargetTable(name: "core.ghost", exists: false, columns: [Column(name: "id", sqlType: "uuid")]),
            // Registered by mistake: the protected schemas must win over the registry.
            TargetTable(name: "integration.sync_job", columns: [Column(name: "job_status")]),
            TargetTable(name: "pg_catalog.pg_authid", columns: [Column(name: "rolpassword")]),
            TargetTable(name: "information_schema.tables", columns: [Column(name: "table_name")]),
            TargetTable(name: "pg_temp_3.scratch", columns: [Column(name: "note")]),
            TargetTable(name: "pg_toast.pg_toast_1234", columns: [Column(name: "chunk_data")]),
        ])

    // MARK: Policies

    static let givenNamePolicy = CommitPolicy(
        targetTable: person, fieldName: "given_name", commitMode: .onIngest,
        authoritativeSources: ["hr", "payroll"], autoCertify: true, staleAfterDays: 30)
    static let birthDatePolicy = CommitPolicy(
        targetTable: person, fieldName: "birth_date", commitMode: .onIngest, autoCertify: false)
    static let maritalStatusPolicy = CommitPolicy(
        targetTable: person, fieldName: "marital_status", commitMode: .onIngest, autoCertify: true,
        codeList: "marital_status", minConfidence: 0.8)
    static let employerPolicy = CommitPolicy(
        targetTable: person, fieldName: "employer_id", commitMode: .onIngest, autoCertify: true)
    static let legacyOrgPolicy = CommitPolicy(
        targetTable: person, fieldName: "legacy_org_id", commitMode: .onIngest, autoCertify: true)
    static let isActivePolicy = CommitPolicy(
        targetTable: person, fieldName: "is_active", commitMode: .onIngest, autoCertify: true)
    static let personRecordPolicy = CommitPolicy(
        targetTable: person, fieldName: nil, commitMode: .onIngest, authoritativeSources: ["hr"], autoCertify: true)
    static let organisationNamePolicy = CommitPolicy(
        targetTable: organisation, fieldName: "name", commitMode: .onCertify)
    static let organisationParentPolicy = CommitPolicy(
        targetTable: organisation, fieldName: "parent_id", commitMode: .onIngest, autoCertify: true)
    static let organisationRecordPolicy = CommitPolicy(
        targetTable: organisation, fieldName: nil, commitMode: .onIngest, autoCertify: false)

    /// Every policy; `core.person.email` deliberately has none.
    static let allPolicies = [
        givenNamePolicy, birthDatePolicy, maritalStatusPolicy, employerPolicy, legacyOrgPolicy, isActivePolicy,
        personRecordPolicy, organisationNamePolicy, organisationParentPolicy, organisationRecordPolicy,
    ]

    static let policies = PolicyBook(allPolicies)

    // MARK: Value maps

    static let valueMaps = ValueMapBook([
        ValueMapping(sourceSystem: "hr", codeList: "marital_status", sourceCode: "M", canonicalCode: "married"),
        ValueMapping(sourceSystem: "hr", codeList: "marital_status", sourceCode: "S", canonicalCode: "single"),
        ValueMapping(
            sourceSystem: "hr", codeList: "marital_status", sourceCode: "D", canonicalCode: "divorced", confidence: 0.5),
        ValueMapping(sourceSystem: "payroll", codeList: "marital_status", sourceCode: "01", canonicalCode: "married"),
    ])

    static func preparer(
        policies: PolicyBook = Fixtures.policies, maxValueBytes: Int = ItemPreparer.defaultMaxValueBytes
    ) -> ItemPreparer {
        ItemPreparer(catalog: catalog, policies: policies, valueMaps: valueMaps, maxValueBytes: maxValueBytes)
    }

    // MARK: Items

    static func item(
        id: Int64 = 1, source: String = "hr", table: String? = person, key: String? = "E-100",
        operation: String = "Set", field: String? = "given_name", value: String? = "Ann",
        timestamp: Date? = nil, hint: UUID? = nil
    ) -> InboundItem {
        InboundItem(
            itemID: id, jobID: 1, position: SubmissionPosition(submit: 1, seq: id), sourceSystem: source, targetTable: table, externalKey: key, operation: operation,
            fieldName: field, newValue: value, sourceTimestamp: timestamp, targetIDHint: hint)
    }

    // MARK: Time and records

    /// The database clock of the chunk under test.
    static let now = Date(timeIntervalSince1970: 1_750_000_000)
    static let day: TimeInterval = 86_400

    static let ann = UUID(uuidString: "11111111-1111-1111-1111-111111111111")!
    static let bob = UUID(uuidString: "22222222-2222-2222-2222-222222222222")!
    static let acme = UUID(uuidString: "ABCDEF01-2345-6789-ABCD-EF0123456789")!
}

extension ItemPreparer {
    /// The prepared item, or a test failure when preparation failed.
    func prepared(_ item: InboundItem, sourceLocation: SourceLocation = #_sourceLocation) throws -> PreparedItem {
        switch prepare(item) {
        case .success(let prepared):
            return prepared
        case .failure(let failure):
            Issue.record("expected item to be prepared, but it failed: \(failure)", sourceLocation: sourceLocation)
            throw failure
        }
    }

    /// The failure, or `nil` when the item was prepared.
    func failure(_ item: InboundItem) -> ItemFailure? {
        if case .failure(let failure) = prepare(item) { return failure }
        return nil
    }
}
