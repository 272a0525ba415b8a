import Foundation
import SyncLedgerCore

/// How a worker runs. The CLI fills it from flags and `SYNCLEDGER_*`
/// environment variables (flags win) and validates it.
public struct WorkerSettings: Sendable {
    /// Written to `sync_job.lease_owner`; must differ between workers.
    public var workerID: String
    /// Claims processed at a time by this process (each one or many jobs).
    public var concurrency: Int = 2
    /// Lease length; a heartbeat extends it every third of it.
    public var leaseSeconds: Int = 60
    /// Polling interval, in case notifications are lost or unavailable.
    public var pollInterval: Duration = .seconds(5)
    /// Attempts before a job ends `Failed`.
    public var maxAttempts: Int = 5
    /// Time allowed to in-flight chunks after SIGTERM/SIGINT.
    public var shutdownGrace: Duration = .seconds(30)
    /// Items per chunk transaction.
    public var chunkSize: Int = 1000
    /// Chunk transactions run at once inside one claim (split by record).
    public var parallelChunks: Int = 2
    /// Most jobs claimed together: small jobs share windows and chunk
    /// transactions, as long as their items fit one window
    /// (``chunkSize`` × ``parallelChunks``); a large job is claimed alone.
    public var batchJobs: Int = 200
    /// Largest accepted item value, in bytes.
    public var maxValueBytes: Int = 64 * 1024
    /// Process what is there, then return.
    public var exitWhenIdle: Bool = false
    /// Prune finished jobs and items older than this, in the background
    /// (``RetentionLoop``); nil (the default): no automatic retention.
    public var retention: RetentionAge?
    /// Base of the exponential retry backoff (doubles per attempt, capped at 5 minutes).
    public var retryBackoffBase: Duration = .seconds(1)

    /// A job whose slot made no progress (no chunk committed) for this long
    /// stops being renewed by the heartbeat: five leases, at least 5 minutes.
    public var stallLimit: Duration { max(.seconds(leaseSeconds * 5), .seconds(300)) }

    public init(workerID: String = WorkerSettings.defaultWorkerID) {
        self.workerID = workerID
    }

    /// `host:pid`.
    public static var defaultWorkerID: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Pending items one claim may take: one window.
    public var itemBudget: Int { chunkSize * parallelChunks }

    /// The retry delay after `attempts` attempts.
    func backoff(afterAttempts attempts: Int) -> Duration {
        let factor = 1 << min(max(attempts - 1, 0), 16)
        return min(retryBackoffBase * factor, .seconds(300))
    }
}
