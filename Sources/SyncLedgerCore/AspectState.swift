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
/// (`integration.aspect_owner`, the highest apply sequence among applied,
/// non-rejected, non-revoked entries).
public struct ValueOwner: Sendable, Equatable {
    public var source: String
    /// `nil` while the entry is still a draft of the current chunk.
    public var ledgerID: Int64?
    /// Whether its staleness clock is past the aspect's policy
    /// (`integration.is_stale`): a stale value no longer outranks anyone.
    public var isStale: Bool

    public init(source: String, ledgerID: Int64?, isStale: Bool = false) {
        self.source = source
        self.ledgerID = ledgerID
        self.isStale = isStale
    }
}

/// A source's entry that waits for a steward (Pending, not applied).
public struct HeldEntry: Sendable, Equatable {
    /// `nil` for an entry drafted earlier in the same chunk.
    public var ledgerID: Int64?
    /// For a draft: the item that produced it.
    public var itemID: Int64?
    public var value: String?

    public init(ledgerID: Int64?, itemID: Int64? = nil, value: String?) {
        self.ledgerID = ledgerID
        self.itemID = itemID
        self.value = value
    }
}

/// What governance needs to know about an aspect before deciding an item.
/// The shell loads it once per chunk (`integration.prepare_chunk`); the core
/// evolves it item by item so that later items of the same record see the
/// effect of earlier ones.
public struct AspectState: Sendable, Equatable {
    /// The target's current value as canonical text; for the record aspect,
    /// the active column's value.
    public var currentValue: String?
    /// `true` while `currentValue` is still the value the shell read, for which
    /// each item carries PostgreSQL's comparison on the column's type.
    public var isAsLoaded: Bool
    public var owner: ValueOwner?
    /// Per source: what it already said about this aspect.
    public var marks: [String: SourceOrderMarks]
    /// Per source: its entries held for a steward.
    public var held: [String: [HeldEntry]]

    public init(
        currentValue: String? = nil, isAsLoaded: Bool = true, owner: ValueOwner? = nil, marks: [String: SourceOrderMarks] = [:],
        held: [String: [HeldEntry]] = [:]
    ) {
        self.currentValue = currentValue
        self.isAsLoaded = isAsLoaded
        self.owner = owner
        self.marks = marks
        self.held = held
    }
}
