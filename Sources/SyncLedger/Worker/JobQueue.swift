import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// A claimed inbound job, held under a lease.
public struct ClaimedJob: Sendable {
    public var jobID: Int64
    public var source: String
    public var entityType: String?
    /// Including this claim.
    public var attempts: Int
    /// The job was `Processing` under another worker whose lease had expired.
    public var rescued: Bool
    public var lastError: String?
}

/// The job-level SQL of the worker: claim, heartbeat, finish, release, retry.
/// Every statement that changes a claimed job checks `lease_owner` (fencing).
public struct JobQueue: Sendable {
    public var client: PostgresClient
    public var workerID: String
    public var leaseSeconds: Int
    public var logger: Logger

    /// Claims the next inbound job: `Submitted` ones whose `run_after` has
    /// passed and `Processing` ones whose lease expired, by priority, then age.
    /// `FOR UPDATE SKIP LOCKED` lets any number of workers claim at once.
    public func claim() async throws -> ClaimedJob? {
        let rows = try await client.collect(
            """
            WITH next AS (
              SELECT job_id, job_status AS was
                FROM integration.sync_job
               WHERE direction = 'Inbound'
                 AND job_status IN ('Submitted', 'Processing')
                 AND ((job_status = 'Submitted' AND (run_after IS NULL OR run_after <= now()))
                   OR (job_status = 'Processing' AND lease_expires_at < now()))
               ORDER BY priority DESC, submitted_at, job_id
               LIMIT 1
                 FOR UPDATE SKIP LOCKED
            )
            UPDATE integration.sync_job j
               SET job_status = 'Processing',
                   started_at = coalesce(j.started_at, now()),
                   attempts = j.attempts + 1,
                   lease_owner = \(workerID),
                   lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
              FROM next
             WHERE j.job_id = next.job_id
            RETURNING j.job_id, j.source_system_key, j.entity_type, j.attempts, next.was = 'Processing', j.last_error
            """, as: (Int64, String, String?, Int32, Bool, String?).self, logger: logger)
        guard let (id, source, entity, attempts, rescued, lastError) = rows.first else { return nil }
        return ClaimedJob(jobID: id, source: source, entityType: entity, attempts: Int(attempts), rescued: rescued, lastError: lastError)
    }

    /// Extends the leases of `jobIDs`; returns the ones still held.
    public func heartbeat(_ jobIDs: [Int64]) async throws -> Set<Int64> {
        guard !jobIDs.isEmpty else { return [] }
        let rows = try await client.collect(
            """
            UPDATE integration.sync_job
               SET lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
             WHERE job_id = ANY(\(jobIDs)) AND lease_owner = \(workerID) AND job_status = 'Processing'
            RETURNING job_id
            """, as: Int64.self, logger: logger)
        return Set(rows)
    }

    /// Counts a job's items by status.
    public func counts(of jobID: Int64) async throws -> ItemCounts {
        let rows = try await client.collect(
            "SELECT item_status, count(*)::int8 FROM integration.sync_item WHERE job_id = \(jobID) GROUP BY item_status",
            as: (String, Int64).self, logger: logger)
        var counts = ItemCounts()
        for (status, count) in rows {
            switch ItemStatus(rawValue: status) {
            case .applied: counts.applied = Int(count)
            case .held: counts.held = Int(count)
            case .skipped: counts.skipped = Int(count)
            case .failed: counts.failed = Int(count)
            case .pending, nil: counts.pending += Int(count)
            }
        }
        return counts
    }

    /// Records the final status and counts; `false` when the lease was lost.
    public func finish(_ jobID: Int64, status: JobStatus, counts: ItemCounts) async throws -> Bool {
        let rows = try await client.collect(
            """
            UPDATE integration.sync_job
               SET job_status = \(status.rawValue), finished_at = now(), lease_owner = NULL, lease_expires_at = NULL,
                   run_after = NULL, last_error = NULL,
                   items_total = \(counts.total), items_applied = \(counts.applied), items_held = \(counts.held),
                   items_skipped = \(counts.skipped), items_failed = \(counts.failed)
             WHERE job_id = \(jobID) AND lease_owner = \(workerID) AND job_status = 'Processing'
            RETURNING job_id
            """, as: Int64.self, logger: logger)
        return !rows.isEmpty
    }

    /// Gives an unfinished job back (graceful shutdown): `Submitted` again with
    /// the lease cleared, so another worker takes it at once. The interrupted
    /// attempt is not counted against `max_attempts`.
    public func release(_ jobID: Int64) async throws {
        try await client.run(
            """
            UPDATE integration.sync_job
               SET job_status = 'Submitted', lease_owner = NULL, lease_expires_at = NULL,
                   attempts = greatest(attempts - 1, 0)
             WHERE job_id = \(jobID) AND lease_owner = \(workerID) AND job_status = 'Processing'
            """, logger: logger)
    }

    /// After an error: back to `Submitted` with `run_after` pushed out by
    /// `backoff`, or `Failed` once `attempts` reached `maxAttempts`.
    public func retryOrFail(_ job: ClaimedJob, error: String, maxAttempts: Int, backoff: Duration) async throws -> JobStatus {
        let fail = job.attempts >= maxAttempts
        let message = fail ? "gave up after \(job.attempts) attempts: \(error)" : error
        let seconds = Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18
        try await client.run(
            """
            UPDATE integration.sync_job
               SET job_status = CASE WHEN \(fail) THEN 'Failed' ELSE 'Submitted' END,
                   finished_at = CASE WHEN \(fail) THEN now() END,
                   run_after = CASE WHEN \(fail) THEN NULL ELSE now() + make_interval(secs => \(seconds)) END,
                   lease_owner = NULL, lease_expires_at = NULL, last_error = \(message)
             WHERE job_id = \(job.jobID) AND lease_owner = \(workerID) AND job_status = 'Processing'
            """, logger: logger)
        return fail ? .failed : .submitted
    }
}
