/// What an item may name: a source that may speak, a table that may be
/// written, a column of it that an item may set, the table a `Link` resolves
/// in. One definition for the worker (``ItemPreparer``, per item) and for
/// `syncledger submit` (``IntakeMapping/resolve(in:)``, per column, before a
/// file is staged); a refusal is the ``ItemFailure`` the item would fail with.
extension Catalog {
    /// The source system `key`, known and active.
    public func activeSource(_ key: String) throws(ItemFailure) -> SourceSystem {
        guard let source = sources[key] else { throw .unknownSourceSystem(key) }
        guard source.isActive else { throw .inactiveSourceSystem(source.key) }
        return source
    }

    /// The table `name`: not in a protected schema, registered, active, and present.
    public func writableTable(_ name: String?) throws(ItemFailure) -> TargetTable {
        guard let name, !name.isEmpty else { throw .missingTargetTable }
        if ProtectedSchemas.contains(table: name) { throw .protectedTable(name) }
        guard let table = tables[name] else { throw .unregisteredTable(name) }
        guard table.isActive else { throw .inactiveTable(name) }
        guard table.exists else { throw .missingTable(name) }
        return table
    }

    /// The registered table a `Link` through `column` of `table` points
    /// into: the column must be a single-column foreign key to a registered,
    /// active, present table.
    public func linkedTable(_ column: Column, of table: TargetTable) throws(ItemFailure) -> TargetTable {
        guard let references = column.references else { throw .notARelationship(field: column.name, table: table.name) }
        guard let related = tables[references], related.isActive, related.exists else {
            throw .unregisteredRelationship(field: column.name, table: table.name, references: references)
        }
        return related
    }
}

extension TargetTable {
    /// The column `name` as an item may set it: a real column, neither the id
    /// column, nor a generated one, nor the active column (the record's
    /// lifecycle is the Record aspect's: Delete clears it, a steward's revoke of
    /// that Delete sets it again).
    public func writableColumn(_ name: String) throws(ItemFailure) -> Column {
        guard let column = columns[name] else { throw .unknownField(field: name, table: self.name) }
        if column.name == idColumn { throw .idColumn(field: name, table: self.name) }
        if column.isGenerated { throw .generatedColumn(field: name, table: self.name) }
        if column.name == activeColumn { throw .activeColumn(field: name, table: self.name) }
        return column
    }
}
