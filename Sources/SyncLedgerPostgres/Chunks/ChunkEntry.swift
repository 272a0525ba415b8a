import SyncLedgerCore

/// An item as it enters a chunk: as loaded, and prepared or already failed.
package struct ChunkEntry: Sendable {
    package var item: InboundItem
    package var prepared: Result<PreparedItem, ItemFailure>

    package init(item: InboundItem, prepared: Result<PreparedItem, ItemFailure>) {
        self.item = item
        self.prepared = prepared
    }

    /// The records the item names, for partitioning.
    package var records: [RecordRef] {
        guard case .success(let item) = prepared else { return [] }
        var refs = [RecordRef(source: item.source, table: item.table, externalKey: item.externalKey)]
        if case .link(_, let relatedTable, let relatedKey?) = item.change {
            refs.append(RecordRef(source: item.source, table: relatedTable, externalKey: relatedKey))
        }
        return refs
    }
}
