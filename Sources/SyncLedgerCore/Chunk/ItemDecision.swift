import Foundation

/// Why an item was skipped. Each case renders the message stored in
/// `sync_item.process_message`.
public enum SkipReason: Sendable, Equatable, CustomStringConvertible {
    /// The same source already sent something newer about the aspect.
    case outOfOrder(source: String, aspect: LedgerAspect, newer: NewerStatement)
    /// The target already holds the value.
    case unchanged
    /// The source's own entry with this value already waits for a steward.
    case heldDuplicate(ledgerID: Int64, source: String)
    /// A Delete for a key the crosswalk does not know.
    case nothingToDelete(table: String, externalKey: String, source: String)

    public var description: String {
        switch self {
        case .outOfOrder(let source, let aspect, let newer):
            "skipped: out of order; \(Quote.short(source)) already sent \(newer) for this \(aspect.rawValue.lowercased())"
        case .unchanged:
            "skipped: unchanged; the target already holds this value"
        case .heldDuplicate(let ledgerID, let source):
            "skipped: held duplicate; ledger entry \(ledgerID) from \(Quote.short(source)) already proposes this value and waits for a steward (its confirmed_at was refreshed)"
        case .nothingToDelete(let table, let key, let source):
            "skipped: no \(table) record for external key \(Quote.short(key)) from \(Quote.short(source)); nothing to delete"
        }
    }
}

/// What happens to one item.
public enum ItemVerdict: Sendable, Equatable {
    /// Written to the target, with an applied ledger entry.
    case applied
    /// Recorded as a pending ledger entry for a steward, not written.
    case held(HoldReason)
    case skipped(SkipReason)
    case failed(ItemFailure)

    /// The item's status.
    public var status: ItemStatus {
        switch self {
        case .applied: .applied
        case .held: .held
        case .skipped: .skipped
        case .failed: .failed
        }
    }

    /// The item's `process_message`, nil for an applied item.
    public var message: String? {
        switch self {
        case .applied: nil
        case .held(let reason): reason.description
        case .skipped(let reason): reason.description
        case .failed(let failure): failure.description
        }
    }
}

/// The decision on one item, and the bookkeeping that goes with it.
public struct ItemDecision: Sendable, Equatable {
    public var itemID: Int64
    public var verdict: ItemVerdict
    /// The ledger entry whose staleness clock (`confirmed_at`) moves: the
    /// owner when its source re-sent the value, or the held entry a
    /// duplicate folded into.
    public var confirm: Int64?
    /// The source's order marks for the aspect after this item; nil when they
    /// do not change (an out-of-order or failed item).
    public var marks: SourceOrderMarks?

    public init(itemID: Int64, verdict: ItemVerdict, confirm: Int64? = nil, marks: SourceOrderMarks? = nil) {
        self.itemID = itemID
        self.verdict = verdict
        self.confirm = confirm
        self.marks = marks
    }
}
