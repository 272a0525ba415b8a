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

/// Who put the current value of an aspect there: its latest applied,
/// non-rejected, non-revoked ledger entry.
public struct ValueOwner: Sendable, Equatable {
    public var source: String
    /// `nil` while the entry is still a draft of the current chunk.
    public var ledgerID: Int64?
    /// The staleness clock: `confirmed_at`, else when it was applied.
    public var confirmedAt: Date

    public init(source: String, ledgerID: Int64?, confirmedAt: Date) {
        self.source = source
        self.ledgerID = ledgerID
        self.confirmedAt = confirmedAt
    }
}

/// What governance needs to know about an aspect before deciding an item.
/// The shell loads it once per chunk; the core evolves it item by item so that
/// later items of the same record see the effect of earlier ones.
public struct AspectState: Sendable, Equatable {
    /// The target's current value as text (`col::text`); for the record aspect,
    /// the active column's value.
    public var currentValue: String?
    public var owner: ValueOwner?
    /// The latest `source_timestamp` of any ledger entry for this aspect from the
    /// item's source system.
    public var latestSourceTimestamp: Date?

    public init(currentValue: String? = nil, owner: ValueOwner? = nil, latestSourceTimestamp: Date? = nil) {
        self.currentValue = currentValue
        self.owner = owner
        self.latestSourceTimestamp = latestSourceTimestamp
    }
}
