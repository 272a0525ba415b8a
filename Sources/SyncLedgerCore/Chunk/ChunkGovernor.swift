import Foundation

/// Decides each item of a chunk from what the database said about its aspect
/// (``AspectFacts``): SPEC §2 steps 2 to 4, without I/O. Items of one aspect
/// are never decided against the same facts: the shell runs them in
/// successive rounds (``RoundPlanner``), each seeing the previous one's writes.
public enum ChunkGovernor {
    /// The decision on `item`.
    public static func decide(_ item: PreparedItem, facts: AspectFacts) -> ItemDecision {
        if let reason = facts.castError {
            return ItemDecision(itemID: item.itemID, verdict: .failed(castFailure(item, reason: reason)))
        }
        if facts.keyConflict {
            return ItemDecision(
                itemID: item.itemID,
                verdict: .failed(.identifierConflict(externalKey: item.externalKey, table: item.table, source: item.source)))
        }
        if facts.relatedConflict, case .link(_, let relatedTable, let relatedKey?) = item.change {
            return ItemDecision(
                itemID: item.itemID, verdict: .failed(.identifierConflict(externalKey: relatedKey, table: relatedTable, source: item.source)))
        }
        guard facts.targetID != nil else {
            return ItemDecision(
                itemID: item.itemID,
                verdict: .skipped(.nothingToDelete(table: item.table, externalKey: item.externalKey, source: item.source)))
        }
        let statement = Statement(source: item.source, confidence: item.confidence, timestamp: item.sourceTimestamp, position: item.position)
        var marks = facts.marks
        marks.record(timestamp: item.sourceTimestamp, at: item.position)
        switch Governor.decide(statement, facts: facts, policy: item.policy) {
        case .skipOutOfOrder(let newer):
            // An older statement changes nothing, its source's marks included.
            return ItemDecision(
                itemID: item.itemID, verdict: .skipped(.outOfOrder(source: item.source, aspect: item.aspect, newer: newer)))
        case .skipUnchanged(let confirm):
            return ItemDecision(itemID: item.itemID, verdict: .skipped(.unchanged), confirm: confirm, marks: marks)
        case .skipHeldDuplicate(let held):
            return ItemDecision(
                itemID: item.itemID, verdict: .skipped(.heldDuplicate(ledgerID: held, source: item.source)), confirm: held, marks: marks)
        case .hold(let reason):
            return ItemDecision(itemID: item.itemID, verdict: .held(reason), marks: marks)
        case .apply:
            return ItemDecision(itemID: item.itemID, verdict: .applied, marks: marks)
        }
    }

    private static func castFailure(_ item: PreparedItem, reason: String) -> ItemFailure {
        switch item.change {
        case .field(let column, let value, _):
            .uncastableValue(value: value ?? "", field: column.name, table: item.table, sqlType: column.sqlType, reason: reason)
        case .link(let column, _, let key):
            .uncastableValue(value: key ?? "", field: column.name, table: item.table, sqlType: column.sqlType, reason: reason)
        case .delete(let column):
            .uncastableValue(value: RecordAspectValue.inactive, field: column, table: item.table, sqlType: "boolean", reason: reason)
        }
    }
}

/// Ledger values of the record aspect.
public enum RecordAspectValue {
    public static let created = "created"
    public static let deleted = "deleted"
    /// What Delete writes into the active column.
    public static let inactive = "false"
}
