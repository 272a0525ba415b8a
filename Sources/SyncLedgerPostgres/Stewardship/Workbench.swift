import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The steward's workbench beyond one entry at a time (SPEC §3): decisions
/// in bulk as decision batches, a record as of a moment, why a field holds
/// its value, and a steward's own proposals. Every decision is made by the
/// SQL of `sql/code/70_stewardship.sql`; this only chooses what to ask.
extension StewardQueries {
    // MARK: Decision batches

    /// What a bulk decision would decide: the matching entries per state and
    /// reason, and the first few of them.
    public func preview(_ filter: QueueFilter, sample: Int = 10) async throws -> Queue {
        var filter = filter
        filter.limit = max(sample, 1)
        return try await queue(filter)
    }

    /// How a batch went.
    public struct BatchOutcome: Sendable, Equatable {
        /// `integration.decision_batch.batch_id`.
        public var batchID: Int64
        /// The action decided.
        public var action: Action
        /// Entries decided (certified, rejected, revoked).
        public var decided: Int64
        /// Four-eyes approvals recorded (the entries stay pending for a second steward).
        public var approved: Int64
        /// Matching entries left as they were: decided by someone else meanwhile,
        /// in conflict (the target changed since), or the steward's own approval
        /// or proposal.
        public var passedOver: Int64
    }

    /// Decides every pending entry `filter` matches as one decision batch
    /// (certify or reject; `integration.open_batch`, then
    /// `integration.decide_batch` a chunk per transaction, so the worker is
    /// never kept waiting for long), in `parts` parts at once on separate
    /// connections (by record: no two parts lock the same record, and each
    /// record's entries are decided in order). `progress` is called after
    /// each chunk with the running totals. An empty filter is refused: it
    /// would decide the whole queue.
    public func decide(
        _ action: Action, where filter: QueueFilter, as steward: String? = nil, notes: String? = nil, reason: String? = nil,
        chunk: Int = 5000, parts: Int = 1, progress: @escaping @Sendable (BatchOutcome) -> Void = { _ in }
    ) async throws -> BatchOutcome {
        guard action != .revoke else {
            throw StewardError(message: "revocations in bulk go by batch: revoke what one certify batch certified")
        }
        guard !filter.isEmpty else {
            throw StewardError(
                message: "a bulk \(action.rawValue) needs a filter: it would decide the whole queue",
                hint: "filter by --table, --field, --source, --reason, --held/--applied or --older-than; see it first with --dry-run")
        }
        if let table = filter.table { try await requireRegistered(table) }
        let json = filter.json
        let opened = try await Listing.query(
            """
            SELECT integration.open_batch(\(action.rawValue), \(json)::jsonb, \(steward), \(notes), \(reason)) AS batch_id
            """, on: client, logger: logger)
        return try await run(
            batch: Int64(opened.value("batch_id") ?? "") ?? 0, action, chunk: chunk, parts: parts, progress: progress)
    }

    /// Revokes what certify batch `batch` certified (entries still
    /// Certified), as a batch of its own.
    public func revoke(
        batch: Int64, as steward: String? = nil, notes: String? = nil, chunk: Int = 5000, parts: Int = 1,
        progress: @escaping @Sendable (BatchOutcome) -> Void = { _ in }
    ) async throws -> BatchOutcome {
        let opened = try await Listing.query(
            """
            SELECT integration.open_batch('revoke', jsonb_build_object('batch', \(batch)::bigint), \(steward), \(notes), NULL)
                   AS batch_id
            """, on: client, logger: logger)
        return try await run(
            batch: Int64(opened.value("batch_id") ?? "") ?? 0, .revoke, chunk: chunk, parts: parts, progress: progress)
    }

    /// Decides an opened batch to its end, one chunk per transaction, its
    /// parts at once (a child task each).
    private func run(
        batch: Int64, _ action: Action, chunk: Int, parts: Int, progress: @escaping @Sendable (BatchOutcome) -> Void
    ) async throws -> BatchOutcome {
        let parts = max(parts, 1)
        let limit = Int32(clamping: max(chunk, 1))
        let totals = BatchTotals(BatchOutcome(batchID: batch, action: action, decided: 0, approved: 0, passedOver: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<parts {
                group.addTask {
                    var after: Int64 = 0
                    while true {
                        let step = try await Listing.query(
                            """
                            SELECT d.last_ledger_id, d.decided, d.approved, d.passed_over, d.done
                              FROM integration.decide_batch(\(batch), \(after), \(limit), \(Int32(part)), \(Int32(parts))) d
                            """, on: client, logger: logger)
                        if step.value("done") == "true" { return }
                        after = Int64(step.value("last_ledger_id") ?? "") ?? after
                        progress(
                            totals.add(
                                decided: Int64(step.value("decided") ?? "") ?? 0, approved: Int64(step.value("approved") ?? "") ?? 0,
                                passedOver: Int64(step.value("passed_over") ?? "") ?? 0))
                    }
                }
            }
            try await group.waitForAll()
        }
        return totals.current
    }

    // MARK: As of, explain

    /// The columns of ``asOf(_:in:at:)``, in order.
    public static let asOfColumns = [
        "ledger_aspect", "aspect_key", "value", "ledger_id", "source_system_key", "ledger_status", "certified_by", "certified_at",
    ]

    /// Every governed aspect of a record as it stood at `at` (a timestamp
    /// PostgreSQL reads, e.g. `2026-11-01 12:00+01`):
    /// `integration.record_as_of`, one row per aspect with its owner then.
    public func asOf(_ subject: Subject, in table: String, at: String) async throws -> Listing {
        try await requireRegistered(table)
        let id = try await record(subject, in: table)
        let rows = try await Listing.query(
            """
            SELECT a.ledger_aspect, a.aspect_key, integration.shown_value(\(table), a.ledger_aspect, a.aspect_key, a.value) AS value,
                   a.ledger_id, a.source_system_key, a.ledger_status, a.certified_by, a.certified_at
              FROM integration.record_as_of(\(table), \(id), \(at)::timestamptz) a
            """, on: client, logger: logger)
        return rows.rows.isEmpty ? Listing(columns: Self.asOfColumns.map { Listing.Column($0) }, rows: []) : rows
    }

    /// The columns of ``explain(_:in:field:)``, in order.
    public static let explainColumns = [
        "ledger_id", "source_system_key", "value", "ledger_status", "is_applied", "apply_seq", "recorded_at", "verdict", "reason",
    ]

    /// Why a field of a record holds its value: `integration.explain`, the
    /// entries that competed for it, newest first, the owner and why each
    /// other one does not own it.
    public func explain(_ subject: Subject, in table: String, field: String) async throws -> Listing {
        try await requireRegistered(table)
        let id = try await record(subject, in: table)
        let rows = try await Listing.query(
            """
            SELECT e.ledger_id, e.source_system_key, e.value, e.ledger_status, e.is_applied, e.apply_seq, e.recorded_at,
                   e.verdict, e.reason
              FROM integration.explain(\(table), \(id), \(field)) e
            """, on: client, logger: logger)
        return rows.rows.isEmpty ? Listing(columns: Self.explainColumns.map { Listing.Column($0) }, rows: []) : rows
    }

    // MARK: Proposals

    /// A steward's own value for a field of a record
    /// (`integration.propose`): a pending entry of source `steward`, held
    /// until a different steward certifies it. Returns the entry's id.
    public func propose(
        _ subject: Subject, in table: String, field: String, value: String?, notes: String? = nil, as steward: String? = nil
    ) async throws -> Int64 {
        try await requireRegistered(table)
        let id = try await record(subject, in: table)
        let entry = try await Listing.query(
            "SELECT integration.propose(\(table), \(id), \(field), \(value), \(notes), \(steward)) AS ledger_id",
            on: client, logger: logger)
        return Int64(entry.value("ledger_id") ?? "") ?? 0
    }
}

/// The running totals of a batch's parts.
private final class BatchTotals: Sendable {
    private let state: Mutex<StewardQueries.BatchOutcome>

    init(_ outcome: StewardQueries.BatchOutcome) { state = Mutex(outcome) }

    var current: StewardQueries.BatchOutcome { state.withLock { $0 } }

    /// Adds one chunk's counts; the totals after it.
    func add(decided: Int64, approved: Int64, passedOver: Int64) -> StewardQueries.BatchOutcome {
        state.withLock {
            $0.decided += decided
            $0.approved += approved
            $0.passedOver += passedOver
            return $0
        }
    }
}
