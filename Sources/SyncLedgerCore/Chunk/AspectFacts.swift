import Foundation

/// Identifies one governed aspect of one record: a field, a relationship, or the
/// record itself.
public struct AspectKey: Hashable, Sendable {
    public var table: String
    public var targetID: UUID
    public var aspectKey: String

    public init(table: String, targetID: UUID, aspectKey: String) {
        self.table = table
        self.targetID = targetID
        self.aspectKey = aspectKey
    }
}

/// Who put the current value of an aspect there: its owning ledger entry
/// (`integration.owner_entry`: the applied, non-rejected, non-revoked entry
/// with the highest apply sequence), as the database read it.
public struct ValueOwner: Sendable, Equatable {
    public var source: String
    public var ledgerID: Int64
    /// Whether its staleness clock is past the aspect's policy
    /// (`integration.is_stale`): a stale value no longer outranks anyone.
    public var isStale: Bool

    public init(source: String, ledgerID: Int64, isStale: Bool = false) {
        self.source = source
        self.ledgerID = ledgerID
        self.isStale = isStale
    }
}

/// What the database says about one item's aspect, read under the record's
/// row lock by `integration.prepare_chunk`. These are the database's answers,
/// decided there once for every writer: whether the record could be resolved,
/// whether the value fits the column, whether it equals the current value
/// (compared on the column's type), who owns the aspect and whether that
/// owner is stale, the source's held entry with an equal value, and what the
/// source already said about the aspect. The core decides the item from
/// them and never compares values itself.
public struct AspectFacts: Sendable, Equatable {
    /// The item's record; nil when it could not be resolved (a Delete of an
    /// unknown key, or a key whose hinted record carries another identifier
    /// of the source: ``keyConflict``).
    public var targetID: UUID?
    /// The hinted record already carries another identifier from this source.
    public var keyConflict: Bool
    /// A Link's related record could not be linked for the same reason.
    public var relatedConflict: Bool
    /// Why the value does not fit the column's type, if it does not.
    public var castError: String?
    /// Whether the value equals the aspect's current value, on the column's type.
    public var equalsCurrent: Bool
    public var owner: ValueOwner?
    /// This source's entry for the aspect that waits for a steward with a
    /// value equal to this one (on the column's type).
    public var heldDuplicate: Int64?
    /// What this source already said about the aspect.
    public var marks: SourceOrderMarks

    public init(
        targetID: UUID?, keyConflict: Bool = false, relatedConflict: Bool = false, castError: String? = nil, equalsCurrent: Bool = false,
        owner: ValueOwner? = nil, heldDuplicate: Int64? = nil, marks: SourceOrderMarks = SourceOrderMarks()
    ) {
        self.targetID = targetID
        self.keyConflict = keyConflict
        self.relatedConflict = relatedConflict
        self.castError = castError
        self.equalsCurrent = equalsCurrent
        self.owner = owner
        self.heldDuplicate = heldDuplicate
        self.marks = marks
    }
}
