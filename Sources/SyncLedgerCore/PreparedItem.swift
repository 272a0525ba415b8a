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
    public var jobID: Int64
    /// The job's place in submission order and the item's `seq`.
    public var position: SubmissionPosition
    public var source: String
    public var table: String
    public var externalKey: String
    public var targetIDHint: UUID?
    public var sourceTimestamp: Date?
    public var change: Change
    public var policy: CommitPolicy

    public init(
        itemID: Int64, jobID: Int64, position: SubmissionPosition, source: String, table: String, externalKey: String,
        targetIDHint: UUID?, sourceTimestamp: Date?, change: Change, policy: CommitPolicy
    ) {
        self.itemID = itemID
        self.jobID = jobID
        self.position = position
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

    /// The column the item reads and writes: the field, or the table's
    /// active column for Delete.
    public var column: String {
        switch change {
        case .field(let column, _, _), .link(let column, _, _): column.name
        case .delete(let activeColumn): activeColumn
        }
    }

    /// The value proposed for ``column`` before PostgreSQL canonicalises it:
    /// a Set's value, `false` for Delete; for Link the related record's id,
    /// which only resolution knows (`nil` here).
    public var proposedValue: String? {
        switch change {
        case .field(_, let value, _): value
        case .link: nil
        case .delete: RecordAspectValue.inactive
        }
    }

    /// The value map's confidence in the value (1 without a code list).
    public var confidence: Double {
        if case .field(_, _, let confidence) = change { return confidence }
        return 1
    }

    /// What the item names before the crosswalk resolves it: the round it
    /// can join (``RoundPlanner``).
    public var identity: RoundPlanner.Identity {
        RoundPlanner.Identity(table: table, source: source, externalKey: externalKey, aspectKey: aspectKey)
    }
}
