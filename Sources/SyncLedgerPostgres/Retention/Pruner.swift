import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// Retention (SPEC §7 `prune`): removes finished jobs and their items older
/// than an age, in batches, through `integration.prune_jobs`
/// (`sql/code/80_retention.sql`): each batch is one short transaction of its
/// own, and jobs or items someone holds are skipped, never waited for. The
/// ledger is never touched, and an inbound job whose failed items wait for
/// `integration.requeue_failed` is kept unless `includeFailed`.
public struct Pruner: Sendable {
    /// What was (or would be) removed.
    public struct Totals: Sendable, Equatable {
        public var jobs = 0
        public var items = 0
        public var batches = 0

        public init(jobs: Int = 0, items: Int = 0, batches: Int = 0) {
            self.jobs = jobs
            self.items = items
            self.batches = batches
        }
    }

    /// What a prune would remove now (`--dry-run`).
    public struct Preview: Sendable, Equatable {
        public var jobs: Int
        public var items: Int
        /// Jobs finished before this are old enough.
        public var cutoff: Date
        /// The most recent finish among them.
        public var newest: Date?
        /// Old enough, but kept: failed items wait for `requeue_failed`.
        public var keptForRequeue: Int
    }

    public static let defaultBatch = 10_000

    public let client: PostgresClient
    public let logger: Logger
    /// Also remove jobs whose failed items wait for `requeue_failed` (their
    /// values are then gone for good).
    public let includeFailed: Bool

    public init(client: PostgresClient, includeFailed: Bool = false, logger: Logger) {
        self.client = client
        self.includeFailed = includeFailed
        self.logger = logger
    }

    /// One batch: at most `batch` items (and the jobs they emptied).
    public func pruneBatch(olderThan age: RetentionAge, batch: Int) async throws -> (jobs: Int, items: Int, more: Bool) {
        let rows = try await client.collect(
            """
            SELECT jobs_pruned, items_pruned, more
              FROM integration.prune_jobs(make_interval(secs => \(Double(age.seconds))), \(Int32(clamping: batch)), \(includeFailed))
            """, as: (Int32, Int32, Bool).self, logger: logger)
        guard let (jobs, items, more) = rows.first else { return (0, 0, false) }
        return (Int(jobs), Int(items), more)
    }

    /// Batches until nothing old is left (or only what others hold), with
    /// `pause` between batches; `progress` hears the running totals.
    public func prune(
        olderThan age: RetentionAge, batch: Int = Pruner.defaultBatch, pause: Duration = .zero,
        progress: @Sendable (Totals) -> Void = { _ in }
    ) async throws -> Totals {
        var totals = Totals()
        while true {
            try Task.checkCancellation()
            let (jobs, items, more) = try await pruneBatch(olderThan: age, batch: batch)
            totals.jobs += jobs
            totals.items += items
            totals.batches += 1
            progress(totals)
            guard more else { return totals }
            if pause > .zero { try await Task.sleep(for: pause) }
        }
    }

    /// What `prune` would remove now, without removing anything.
    public func preview(olderThan age: RetentionAge) async throws -> Preview {
        let rows = try await client.collect(
            """
            SELECT jobs, items, cutoff, newest, kept_for_requeue
              FROM integration.prune_preview(make_interval(secs => \(Double(age.seconds))), \(includeFailed))
            """,
            as: (Int64, Int64, Date, Date?, Int64).self, logger: logger)
        guard let (jobs, items, cutoff, newest, kept) = rows.first else {
            return Preview(jobs: 0, items: 0, cutoff: Date(), newest: nil, keptForRequeue: 0)
        }
        return Preview(jobs: Int(jobs), items: Int(items), cutoff: cutoff, newest: newest, keptForRequeue: Int(kept))
    }
}
