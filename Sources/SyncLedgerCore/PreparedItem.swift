import Foundation

/// An item that passed validation and normalisation: everything static about it
/// is settled, and what remains depends on the state of the target.
public struct PreparedItem: Sendable, Equatable {
    /// What the item will change, once governed.
    public enum Change: Sendable, Equatable {
        /// Write `value` (canonical, `nil` clears) into `column`.
        case field(column: Column, value: String?, confidence: Double)
        /// Point `column` at the record that `relatedKey` names in `relatedTable`;
        /// `nil` clears the relationship.
        case link(column: Column, relatedTable: String, relatedKey: String?)
        /// Clear `activeColumn`.
        case delete(activeColumn: String)
    }

    public var itemID: Int64
    public var seq: Int64
    public var source: String
    public var table: String
    public var externalKey: String
    public var targetIDHint: UUID?
    public var sourceTimestamp: Date?
    public var change: Change
    public var policy: CommitPolicy

    public init(
        itemID: Int64, seq: Int64, source: String, table: String, externalKey: String, targetIDHint: UUID?,
        sourceTimestamp: Date?, change: Change, policy: CommitPolicy
    ) {
        self.itemID = itemID
        self.seq = seq
        self.source = source
        self.table = table
        self.externalKey = externalKey
        self.targetIDHint = targetIDHint
        self.sourceTimestamp = sourceTimestamp
        self.change = change
        self.policy = policy
    }

    /// The ledger aspect this item governs.
    public var aspect: LedgerAspect {
        switch change {
        case .field: .field
        case .link: .relationship
        case .delete: .record
        }
    }

    /// The ledger `aspect_key`: the column, or `record`.
    public var aspectKey: String {
        switch change {
        case .field(let column, _, _), .link(let column, _, _): column.name
        case .delete: LedgerAspect.recordAspectKey
        }
    }

    /// Whether processing may create the item's own record when its key is new.
    /// A Delete of an unknown record has nothing to delete.
    public var createsRecord: Bool {
        if case .delete = change { return false }
        return true
    }

    /// A value that PostgreSQL must cast to the column's type before it is
    /// governed, so that a held value can always be written later.
    public var valueNeedingCastCheck: (column: Column, value: String)? {
        if case .field(let column, let value?, _) = change, column.needsCastCheck {
            return (column, value)
        }
        return nil
    }

    /// The same item with its value replaced by PostgreSQL's canonical text for it.
    public func withCanonicalValue(_ canonical: String) -> PreparedItem {
        guard case .field(let column, _, let confidence) = change else { return self }
        var copy = self
        copy.change = .field(column: column, value: canonical, confidence: confidence)
        return copy
    }
}
