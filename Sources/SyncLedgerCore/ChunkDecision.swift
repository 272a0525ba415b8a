import Foundation

/// An item whose record (and related record, for Link) the shell has resolved
/// through the crosswalk, with its value as PostgreSQL canonicalised it.
public struct ResolvedItem: Sendable, Equatable {
    public var item: PreparedItem
    /// The record the item changes; `nil` only for a Delete of an unknown key.
    public var targetID: UUID?
    /// The value written to the item's column, in canonical text: a Set's
    /// value, a Link's related record id, `false` for Delete; `nil` clears.
    public var value: String?
    /// Whether `value` equals the column's value as the shell read it,
    /// compared by PostgreSQL on the column's type.
    public var equalsLoaded: Bool

    public init(item: PreparedItem, targetID: UUID?, value: String?, equalsLoaded: Bool) {
        self.item = item
        self.targetID = targetID
        self.value = value
        self.equalsLoaded = equalsLoaded
    }
}

/// A record the shell created while resolving a chunk (a new external key, or a
/// stub for a Link to an unknown key). Its creation is governed by the table's
/// record-level policy and gets a `Record` ledger row.
public struct RecordCreation: Sendable, Equatable {
    public var table: String
    public var targetID: UUID
    public var source: String
    /// The job of the first item that named the record.
    public var jobID: Int64

    public init(table: String, targetID: UUID, source: String, jobID: Int64) {
        self.table = table
        self.targetID = targetID
        self.source = source
        self.jobID = jobID
    }
}

/// A ledger row to insert.
public struct LedgerDraft: Sendable, Equatable {
    /// `nil` for record creations, which belong to no single item.
    public var itemID: Int64?
    public var jobID: Int64
    public var table: String
    public var targetID: UUID
    public var aspect: LedgerAspect
    public var aspectKey: String
    public var source: String
    public var status: LedgerStatus
    public var value: String?
    public var previousValue: String?
    public var isApplied: Bool
    public var sourceTimestamp: Date?
    /// Certified by policy at ingest: a `ledger_event` with actor `policy`.
    public var certifiedByPolicy: Bool { status == .certified }
}

/// A column value to write. Several items changing one column of one record in a
/// chunk coalesce to the last one.
public struct TargetWrite: Sendable, Equatable {
    public var table: String
    public var targetID: UUID
    public var column: String
    public var value: String?
}

/// The result of one item.
public struct ItemOutcome: Sendable, Equatable {
    public var itemID: Int64
    public var status: ItemStatus
    public var message: String?
    public var targetID: UUID?
    /// Index into ``ChunkDecision/ledger`` of the item's ledger row.
    public var ledgerIndex: Int?
}

/// A source's order marks for an aspect after the chunk.
public struct OrderMark: Sendable, Equatable {
    public var aspect: AspectKey
    public var source: String
    public var marks: SourceOrderMarks
}

/// Everything the shell writes for a chunk, decided without I/O.
public struct ChunkDecision: Sendable, Equatable {
    public var outcomes: [ItemOutcome] = []
    public var ledger: [LedgerDraft] = []
    public var writes: [TargetWrite] = []
    /// Ledger rows whose staleness clock (`confirmed_at`) is refreshed:
    /// unchanged values re-sent by their owning source, held duplicates.
    public var confirmations: [Int64] = []
    /// Order marks that changed.
    public var marks: [OrderMark] = []

    public init() {}
}

/// Ledger values of the record aspect.
public enum RecordAspectValue {
    public static let created = "created"
    public static let deleted = "deleted"
    /// What Delete writes into the active column.
    public static let inactive = "false"
}

/// Governs a chunk of resolved items in order, so that each item sees the effect
/// of the items before it on the same aspect (SPEC §2: one record's items apply
/// in order).
public struct ChunkGovernor: Sendable {
    /// For the record-level policies that govern record creations.
    public var policies: PolicyBook

    public init(policies: PolicyBook) {
        self.policies = policies
    }

    /// Decides every item of a chunk.
    ///
    /// - Parameters:
    ///   - items: resolved items in processing order.
    ///   - creations: records created while resolving them.
    ///   - states: the aspects the items touch, as loaded (after the creations).
    public func decide(items: [ResolvedItem], creations: [RecordCreation], states: [AspectKey: AspectState]) -> ChunkDecision {
        var decision = ChunkDecision()
        var states = states
        var writeIndex: [AspectKey: Int] = [:]
        var confirmed = Set<Int64>()
        var markedKeys: [AspectKey: Set<String>] = [:]
        var markOrder: [(AspectKey, String)] = []

        for creation in creations {
            let key = AspectKey(table: creation.table, targetID: creation.targetID, aspectKey: LedgerAspect.recordAspectKey)
            let autoCertify = policies.recordPolicy(table: creation.table)?.autoCertify ?? false
            decision.ledger.append(
                LedgerDraft(
                    itemID: nil, jobID: creation.jobID, table: creation.table, targetID: creation.targetID, aspect: .record,
                    aspectKey: LedgerAspect.recordAspectKey, source: creation.source,
                    status: autoCertify ? .certified : .pending, value: RecordAspectValue.created, previousValue: nil,
                    isApplied: true, sourceTimestamp: nil))
            states[key, default: AspectState()].owner = ValueOwner(source: creation.source, ledgerID: nil)
        }

        for resolved in items {
            let item = resolved.item
            guard let targetID = resolved.targetID else {
                decision.outcomes.append(
                    ItemOutcome(
                        itemID: item.itemID, status: .skipped,
                        message: "skipped: no \(item.table) record for external key \(Quote.short(item.externalKey)) from \(Quote.short(item.source)); nothing to delete",
                        targetID: nil, ledgerIndex: nil))
                continue
            }
            let key = AspectKey(table: item.table, targetID: targetID, aspectKey: item.aspectKey)
            var state = states[key] ?? AspectState()

            let ledgerValue = Self.ledgerValue(of: resolved)
            let statement = Statement(
                value: resolved.value, ledgerValue: .some(ledgerValue),
                equalsCurrent: state.isAsLoaded ? resolved.equalsLoaded : resolved.value == state.currentValue,
                confidence: Self.confidence(of: item), source: item.source, timestamp: item.sourceTimestamp,
                position: item.position)
            let verdict = Governor.decide(statement, state: state, policy: item.policy)

            var outcome = ItemOutcome(itemID: item.itemID, status: .skipped, message: nil, targetID: targetID, ledgerIndex: nil)
            switch verdict {
            case .skipOutOfOrder(let newer):
                outcome.message =
                    "skipped: out of order; \(Quote.short(item.source)) already sent \(newer) for this \(item.aspect.rawValue.lowercased())"
            case .skipUnchanged(let refresh):
                outcome.message = "skipped: unchanged; the target already holds this value"
                if refresh {
                    if let id = state.owner?.ledgerID, confirmed.insert(id).inserted { decision.confirmations.append(id) }
                    state.owner?.isStale = false
                }
            case .skipHeldDuplicate(let held):
                if let id = held.ledgerID {
                    outcome.message =
                        "skipped: held duplicate; ledger entry \(id) from \(Quote.short(item.source)) already proposes this value and waits for a steward (its confirmed_at was refreshed)"
                    if confirmed.insert(id).inserted { decision.confirmations.append(id) }
                } else {
                    outcome.message =
                        "skipped: held duplicate; item \(held.itemID.map(String.init) ?? "?") of this chunk already proposes this value for a steward"
                }
            case .hold(let reason):
                outcome.status = .held
                outcome.message = reason.description
                outcome.ledgerIndex = decision.ledger.count
                decision.ledger.append(
                    LedgerDraft(
                        itemID: item.itemID, jobID: item.jobID, table: item.table, targetID: targetID, aspect: item.aspect,
                        aspectKey: item.aspectKey, source: item.source, status: .pending, value: ledgerValue,
                        previousValue: Self.ledgerPrevious(state.currentValue, item), isApplied: false,
                        sourceTimestamp: item.sourceTimestamp))
                state.held[item.source, default: []].append(HeldEntry(ledgerID: nil, itemID: item.itemID, value: ledgerValue))
            case .apply(let certify):
                outcome.status = .applied
                outcome.ledgerIndex = decision.ledger.count
                decision.ledger.append(
                    LedgerDraft(
                        itemID: item.itemID, jobID: item.jobID, table: item.table, targetID: targetID, aspect: item.aspect,
                        aspectKey: item.aspectKey, source: item.source, status: certify ? .certified : .pending,
                        value: ledgerValue, previousValue: Self.ledgerPrevious(state.currentValue, item), isApplied: true,
                        sourceTimestamp: item.sourceTimestamp))
                let write = TargetWrite(table: item.table, targetID: targetID, column: item.column, value: resolved.value)
                if let index = writeIndex[key] {
                    decision.writes[index] = write
                } else {
                    writeIndex[key] = decision.writes.count
                    decision.writes.append(write)
                }
                state.currentValue = resolved.value
                state.isAsLoaded = false
                state.owner = ValueOwner(source: item.source, ledgerID: nil)
            }
            if case .skipOutOfOrder = verdict {
                // An older statement changes nothing, the marks included.
            } else {
                state.marks[item.source, default: SourceOrderMarks()].record(timestamp: item.sourceTimestamp, at: item.position)
                if markedKeys[key, default: []].insert(item.source).inserted { markOrder.append((key, item.source)) }
            }
            states[key] = state
            decision.outcomes.append(outcome)
        }
        decision.marks = markOrder.map { key, source in
            OrderMark(aspect: key, source: source, marks: states[key]?.marks[source] ?? SourceOrderMarks())
        }
        return decision
    }

    /// The value as the ledger records it.
    private static func ledgerValue(of resolved: ResolvedItem) -> String? {
        if case .delete = resolved.item.change { return RecordAspectValue.deleted }
        return resolved.value
    }

    private static func confidence(of item: PreparedItem) -> Double {
        if case .field(_, _, let confidence) = item.change { return confidence }
        return 1
    }

    /// For the record aspect the ledger speaks of records, not of the active
    /// column: the previous value of a Delete is NULL unless the record was
    /// already inactive.
    private static func ledgerPrevious(_ current: String?, _ item: PreparedItem) -> String? {
        if case .delete = item.change { return current == RecordAspectValue.inactive ? RecordAspectValue.deleted : nil }
        return current
    }
}
