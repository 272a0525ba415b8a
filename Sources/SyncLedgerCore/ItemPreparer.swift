import Foundation

/// Validation and normalisation (SPEC §2 steps 1 and 3, and the policy lookup of
/// step 4): everything that can be decided from the item and the configuration
/// alone, before the target is read.
public struct ItemPreparer: Sendable {
    public var catalog: Catalog
    public var policies: PolicyBook
    public var valueMaps: ValueMapBook
    /// Largest accepted value, in UTF-8 bytes.
    public var maxValueBytes: Int

    public static let defaultMaxValueBytes = 64 * 1024
    /// Largest external key, in UTF-8 bytes: well inside what the crosswalk's
    /// unique index can hold (about 2.7 kB per entry).
    public static let maxExternalKeyBytes = 1024

    public init(catalog: Catalog, policies: PolicyBook, valueMaps: ValueMapBook, maxValueBytes: Int = ItemPreparer.defaultMaxValueBytes) {
        self.catalog = catalog
        self.policies = policies
        self.valueMaps = valueMaps
        self.maxValueBytes = maxValueBytes
    }

    /// Validates and normalises one item.
    public func prepare(_ item: InboundItem) -> Result<PreparedItem, ItemFailure> {
        Result { try prepareOrThrow(item) }.mapError { $0 as! ItemFailure }
    }

    private func prepareOrThrow(_ item: InboundItem) throws -> PreparedItem {
        let source = try catalog.activeSource(item.sourceSystem)
        let table = try catalog.writableTable(item.targetTable)
        guard let externalKey = item.externalKey, !externalKey.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ItemFailure.missingExternalKey
        }
        try checkKeySize(externalKey)
        guard let operation = Operation(rawValue: item.operation) else {
            throw ItemFailure.unknownOperation(item.operation)
        }

        let change: PreparedItem.Change
        let policy: CommitPolicy
        switch operation {
        case .set:
            let column = try writableColumn(item.fieldName, of: table, for: operation)
            try checkValue(item.newValue, column: column, table: table)
            guard let fieldPolicy = policies.fieldPolicy(table: table.name, field: column.name) else {
                throw ItemFailure.noFieldPolicy(table: table.name, field: column.name)
            }
            policy = fieldPolicy
            let (value, confidence) = try normalise(item.newValue, policy: fieldPolicy, source: source.key)
            change = .field(column: column, value: value, confidence: confidence)

        case .link:
            let column = try writableColumn(item.fieldName, of: table, for: operation)
            let related = try catalog.linkedTable(column, of: table)
            // A blank related key clears the relationship, like NULL.
            let relatedKey = item.newValue.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            if let relatedKey { try checkKeySize(relatedKey) }
            try checkValue(relatedKey, column: column, table: table)
            guard let fieldPolicy = policies.fieldPolicy(table: table.name, field: column.name) else {
                throw ItemFailure.noFieldPolicy(table: table.name, field: column.name)
            }
            policy = fieldPolicy
            change = .link(column: column, relatedTable: related.name, relatedKey: relatedKey)

        case .delete:
            guard let activeColumn = table.activeColumn else { throw ItemFailure.deleteNotSupported(table: table.name) }
            guard let recordPolicy = policies.recordPolicy(table: table.name) else {
                throw ItemFailure.noRecordPolicy(table: table.name)
            }
            policy = recordPolicy
            change = .delete(activeColumn: activeColumn)
        }

        return PreparedItem(
            itemID: item.itemID, jobID: item.jobID, position: item.position, source: source.key, table: table.name, externalKey: externalKey,
            targetIDHint: item.targetIDHint, sourceTimestamp: item.sourceTimestamp, change: change, policy: policy)
    }

    private func writableColumn(_ name: String?, of table: TargetTable, for operation: Operation) throws -> Column {
        guard let name, !name.isEmpty else { throw ItemFailure.missingFieldName(operation) }
        return try table.writableColumn(name)
    }

    private func checkKeySize(_ key: String) throws {
        let bytes = key.utf8.count
        if bytes > Self.maxExternalKeyBytes { throw ItemFailure.externalKeyTooLong(bytes: bytes, limit: Self.maxExternalKeyBytes) }
    }

    private func checkValue(_ value: String?, column: Column, table: TargetTable) throws {
        guard let value else {
            if column.isNotNull { throw ItemFailure.notNullColumn(field: column.name, table: table.name) }
            return
        }
        let bytes = value.utf8.count
        if bytes > maxValueBytes {
            throw ItemFailure.valueTooLarge(field: column.name, table: table.name, bytes: bytes, limit: maxValueBytes)
        }
        if value.utf8.contains(0) { throw ItemFailure.invalidCharacter(field: column.name, table: table.name) }
    }

    /// Step 3: map a coded value to its canonical code when the field's policy
    /// names a code list. `nil` stays `nil` (clearing needs no mapping).
    private func normalise(_ value: String?, policy: CommitPolicy, source: String) throws -> (String?, Double) {
        guard let codeList = policy.codeList, let value else { return (value, 1) }
        guard let mapping = valueMaps.lookup(source: source, codeList: codeList, code: value) else {
            throw ItemFailure.unmappedCode(code: value, codeList: codeList, source: source)
        }
        return (mapping.canonicalCode, mapping.confidence)
    }
}
