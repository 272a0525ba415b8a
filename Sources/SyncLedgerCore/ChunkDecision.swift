import Foundation

/// An item whose record (and related record, for Link) the shell has resolved
/// through the crosswalk.
public struct ResolvedItem: Sendable, Equatable {
    public var item: PreparedItem
    /// The record the item changes; `nil` only for a Delete of an unknown key.
    public var targetID: UUID?
    /// For Link with a related key: the related record.
    public var relatedID: UUID?

    public init(item: PreparedItem, targetID: UUID?, relatedID: UUID? = nil) {
        self.item = item
        self.targetID = targetID
        self.relatedID = relatedID
    }
}

/// A record the shell created while resolving a chunk (a new external key, or a
/// stub for a Link to an unknown key). Its creation is governed by the table's
/// record-level policy and gets a `Record` ledger row.
public struct RecordCreation: Sendable, Equatable {
    public var table: String
    public var targetID: UUID
    public var source: String

    public init(table: String, targetID: UUID, source: String) {
        self.table = table
        self.targetID = targetID
        self.source = source
    }
}

/// A ledger row to insert.
public struct LedgerDraft: Sendable, Equatable {
    /// `nil` for record creations, which belong to no single item.
    public var itemID: Int64?
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

/// Everything the shell writes for a chunk, decided without I/O.
public struct ChunkDecision: Sendable, Equatable {
    public var outcomes: [ItemOutcome] = []
    public var ledger: [LedgerDraft] = []
    public var writes: [TargetWrite] = []
    /// Ledger rows whose `confirmed_at` is refreshed (unchanged values re-sent
    /// by their owning source).
    public var confirmations: [Int64] = []
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
/// in `seq` order).
public struct ChunkGovernor: Sendable {
    public var policies: PolicyBook
    public var now: Date

    public init(policies: PolicyBook, now: Date) {
        self.policies = policies
        self.now = now
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

        for creation in creations {
            let autoCertify = policies.recordPolicy(table: creation.table)?.autoCertify ?? false
            decision.ledger.append(
                LedgerDraft(
                    itemID: nil, table: creation.table, targetID: creation.targetID, aspect: .record,
                    aspectKey: LedgerAspect.recordAspectKey, source: creation.source,
                    status: autoCertify ? .certified : .pending, value: RecordAspectValue.created, previousValue: nil,
                    isApplied: true, sourceTimestamp: nil))
            let key = AspectKey(table: creation.table, targetID: creation.targetID, aspectKey: LedgerAspect.recordAspectKey)
            states[key, default: AspectState()].owner = ValueOwner(source: creation.source, ledgerID: nil, confirmedAt: now)
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

            let (written, confidence, ledgerValue) = Self.values(of: resolved)
            let verdict = Governor.decide(
                value: written, confidence: confidence, source: item.source, sourceTimestamp: item.sourceTimestamp,
                state: state, policy: item.policy, now: now)

            var outcome = ItemOutcome(itemID: item.itemID, status: .skipped, message: nil, targetID: targetID, ledgerIndex: nil)
            switch verdict {
            case .skipOutOfOrder(let latest):
                outcome.message =
                    "skipped: out of order; \(Quote.short(item.source)) already sent this \(item.aspect.rawValue.lowercased()) with a later source_timestamp (\(Self.iso(latest)))"
            case .skipUnchanged(let refresh):
                outcome.message = "skipped: unchanged; the target already holds this value"
                if refresh {
                    if let id = state.owner?.ledgerID, confirmed.insert(id).inserted { decision.confirmations.append(id) }
                    state.owner?.confirmedAt = now
                }
            case .hold(let reason):
                outcome.status = .held
                outcome.message = reason.description
                outcome.ledgerIndex = decision.ledger.count
                decision.ledger.append(
                    LedgerDraft(
                        itemID: item.itemID, table: item.table, targetID: targetID, aspect: item.aspect,
                        aspectKey: item.aspectKey, source: item.source, status: .pending, value: ledgerValue,
                        previousValue: Self.ledgerPrevious(state.currentValue, item), isApplied: false,
                        sourceTimestamp: item.sourceTimestamp))
            case .apply(let certify):
                outcome.status = .applied
                outcome.ledgerIndex = decision.ledger.count
                decision.ledger.append(
                    LedgerDraft(
                        itemID: item.itemID, table: item.table, targetID: targetID, aspect: item.aspect,
                        aspectKey: item.aspectKey, source: item.source, status: certify ? .certified : .pending,
                        value: ledgerValue, previousValue: Self.ledgerPrevious(state.currentValue, item), isApplied: true,
                        sourceTimestamp: item.sourceTimestamp))
                let write = TargetWrite(table: item.table, targetID: targetID, column: Self.column(of: item), value: written)
                if let index = writeIndex[key] {
                    decision.writes[index] = write
                } else {
                    writeIndex[key] = decision.writes.count
                    decision.writes.append(write)
                }
                state.currentValue = written
                state.owner = ValueOwner(source: item.source, ledgerID: nil, confirmedAt: now)
            }
            if outcome.ledgerIndex != nil, let timestamp = item.sourceTimestamp {
                state.latestSourceTimestamp = max(state.latestSourceTimestamp ?? timestamp, timestamp)
            }
            states[key] = state
            decision.outcomes.append(outcome)
        }
        return decision
    }

    /// The value written to the column (also what governance compares with the
    /// target's text form), the mapping confidence, and the ledger value.
    private static func values(of resolved: ResolvedItem) -> (written: String?, confidence: Double, ledger: String?) {
        switch resolved.item.change {
        case .field(_, let value, let confidence):
            return (value, confidence, value)
        case .link:
            let related = resolved.relatedID.map { $0.uuidString.lowercased() }
            return (related, 1, related)
        case .delete:
            return (RecordAspectValue.inactive, 1, RecordAspectValue.deleted)
        }
    }

    /// For the record aspect the ledger speaks of records, not of the active
    /// column: the previous value of a Delete is NULL unless the record was
    /// already inactive.
    private static func ledgerPrevious(_ current: String?, _ item: PreparedItem) -> String? {
        if case .delete = item.change { return current == RecordAspectValue.inactive ? RecordAspectValue.deleted : nil }
        return current
    }

    private static func column(of item: PreparedItem) -> String {
        switch item.change {
        case .field(let column, _, _), .link(let column, _, _): column.name
        case .delete(let activeColumn): activeColumn
        }
    }

    private static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
