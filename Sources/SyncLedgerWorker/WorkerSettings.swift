import Foundation
import SyncLedgerCore
import SyncLedgerPostgres

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
    /// With ``exitWhenIdle``: how long to wait for a database that cannot be
    /// reached before giving up (exit 69). A long-running worker waits as
    /// long as it takes; fatal causes (password, TLS, schema) end it after a
    /// few seconds either way.
    public var startPatience: Duration = .seconds(60)
    /// Prune finished jobs and items older than this, in the background
    /// (``RetentionLoop``); nil (the default): no automatic retention.
    public var retention: RetentionAge?
    /// Take a checkpoint of the Merkle log this often, in the background
    /// (``CheckpointLoop``); nil (the default): none.
    public var checkpointEvery: Duration?
    /// Base of the exponential retry backoff (doubles per attempt, capped at 5 minutes).
    public var retryBackoffBase: Duration = .seconds(1)
    /// Timeouts and keep-alives of every session (see ``SessionSettings``).
    public var session = SessionSettings()
    /// LISTEN for submitted jobs (besides polling). Off behind a transaction
    /// pooler, where notifications cannot arrive.
    public var listen = true
    /// Connect through a transaction pooler (PgBouncer `pool_mode =
    /// transaction`): no session settings as startup parameters, no LISTEN,
    /// no ending of server sessions by application name.
    public var transactionPooler = false {
        didSet {
            session.delivery = transactionPooler ? .perTransaction : .startupParameters
            if transactionPooler { listen = false }
        }
    }
    /// No answer from the database to any slot for this long: drop every
    /// connection and reconnect; no answer for as long again: exit non-zero,
    /// for systemd to restart the process.
    public var watchdog: Duration = .seconds(120)

    /// Whether the worker runs a listener: not when it exits once idle.
    var listens: Bool { listen && !exitWhenIdle }

    /// The client-side bound of one chunk statement: the server's
    /// `statement_timeout` and a little more, so a healthy server's own
    /// timeout (a clear error) comes first.
    public var chunkQueryDeadline: Duration { session.statementTimeout + .seconds(5) }
    /// The client-side bound of the short statements (claim, heartbeat,
    /// window, finish).
    public var shortQueryDeadline: Duration { min(.seconds(15), chunkQueryDeadline) }

    /// A job whose slot made no progress (no chunk committed) for this long
    /// stops being renewed by the heartbeat: five leases, at least 5 minutes.
    public var stallLimit: Duration { max(.seconds(leaseSeconds * 5), .seconds(300)) }

    public init(workerID: String = WorkerSettings.defaultWorkerID) {
        self.workerID = workerID
    }

    /// The name of the worker's sessions in `pg_stat_activity`.
    public var applicationName: String { "syncledger worker \(workerID)" }

    /// `host:pid`.
    public static var defaultWorkerID: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Pending items one claim may take: one window.
    public var itemBudget: Int { chunkSize * parallelChunks }

    /// The idle-in-transaction timeout a lease of `leaseSeconds` gets unless
    /// set explicitly: 15 s, and never more than two thirds of the lease, so
    /// that the server ends a frozen worker's transaction (and its row locks)
    /// before its lease has run out, and its job is taken over within about
    /// one lease. (The last heartbeat renewed the lease at most a third of a
    /// lease before the worker froze.)
    public static func defaultIdleInTransactionTimeout(leaseSeconds: Int) -> Duration {
        min(.seconds(15), .milliseconds(max(1, leaseSeconds) * 2000 / 3))
    }

    /// The `tcp_user_timeout` for keep-alives of `keepalive` and a lease of
    /// `leaseSeconds`: as long as the keep-alives take to give a vanished
    /// peer up (idle time plus three probes half of it apart), and never more
    /// than the lease, so that a backend blocked writing to a half-open
    /// connection gives its session and its locks up within one lease.
    public static func defaultTCPUserTimeout(keepalive: Duration, leaseSeconds: Int) -> Duration {
        min(keepalive + keepalive / 2 * 3, .seconds(max(1, leaseSeconds)))
    }

    /// The retry delay after `attempts` attempts.
    func backoff(afterAttempts attempts: Int) -> Duration {
        let factor = 1 << min(max(attempts - 1, 0), 16)
        return min(retryBackoffBase * factor, .seconds(300))
    }
}
