import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerCore

/// `syncledger worker`: claims inbound jobs and processes them (SPEC §5).
///
/// The worker owns its connections. It runs a ``WorkerEngine`` (slots,
/// heartbeat, listener) on a connection pool of its own, and watches it:
///
/// - every query is bounded (``SessionSettings`` on the server,
///   ``QueryDeadline`` on the client), so a dead connection fails within
///   seconds and a frozen worker's locks go;
/// - the watchdog: when no slot has had an answer from the database for
///   ``WorkerSettings/watchdog``, the engine and its pool are dropped and
///   started again on new connections; when that does not help either,
///   ``run()`` throws, the process exits non-zero and systemd restarts it;
/// - on start it ends the leases a previous run under the same worker id
///   left behind (that run is gone), so those jobs are rescued at once;
/// - when stopped past the shutdown grace period, it ends its own server
///   sessions, so none waits on a lock for a process that is gone.
///
/// On graceful shutdown the slots stop claiming, finish the window in flight,
/// release unfinished jobs, and `run()` returns.
public final class Worker: Service, Sendable {
    /// The notification channel the `sync_job` trigger notifies.
    public static let channel = "syncledger_job_submitted"
    /// The newest schema object this code relies on.
    static let requiredFunction = "integration.transition_jobs(uuid,bigint[],text,text,integer,double precision)"

    let url: DatabaseURL
    let settings: WorkerSettings
    let logger: Logger
    /// The migrations of this binary, to compare the schema with at start.
    let migrator: Migrator?
    /// Read by `/readyz`.
    public let health = WorkerHealth()

    /// A worker on `url`. With `migrator`, the schema must hold each of its
    /// migrations before the worker starts (otherwise only its presence and
    /// the newest function this code calls are checked).
    public init(url: DatabaseURL, settings: WorkerSettings, migrator: Migrator? = nil, logger: Logger) {
        self.url = url
        self.settings = settings
        self.migrator = migrator
        var logger = logger
        logger[metadataKey: "worker_id"] = "\(settings.workerID)"
        self.logger = logger
    }

    public func run() async throws {
        logger.info(
            "worker starting",
            metadata: [
                "concurrency": "\(settings.concurrency)", "batch_jobs": "\(settings.batchJobs)",
                "lease_seconds": "\(settings.leaseSeconds)", "poll_interval": "\(settings.pollInterval)",
                "statement_timeout": "\(settings.session.statementTimeout)", "watchdog": "\(settings.watchdog)",
                "listen": "\(settings.listen)", "exit_when_idle": "\(settings.exitWhenIdle)",
            ])
        if !settings.listens { health.listener(.off) }
        guard try await checkDatabase() else { return }
        var fruitlessRestarts = 0
        var generation = 0
        defer { SystemdNotifier.notify("STOPPING=1") }
        while true {
            let end = try await runEngine(generation: generation)
            if Task.isCancelled {
                await endOwnSessions()
                logger.warning("stopped past the shutdown grace period; unfinished claims will be rescued when their leases expire")
                return
            }
            if let failure = end.failure(url: url) {
                logger.critical("\(failure.message); giving up", metadata: ["hint": "\(failure.hint)"])
                throw failure
            }
            guard case .stalled(let silence, let answered) = end else { break }
            fruitlessRestarts = answered ? 1 : fruitlessRestarts + 1
            if fruitlessRestarts > 1 {
                let reason = "no answer from the database for \(silence) even after reconnecting"
                health.stalled(reason)
                logger.critical("watchdog: \(reason); exiting so that the service manager restarts the worker")
                throw WatchdogExpired(silence: silence)
            }
            logger.error(
                "watchdog: no answer from the database for \(silence); dropping every connection and reconnecting",
                metadata: ["watchdog": "\(settings.watchdog)"])
            WorkerMetrics.watchdogRestarts.increment()
            generation += 1
        }
        logger.info("worker stopped")
    }

    /// One engine on one connection pool, until it stops or stalls.
    private func runEngine(generation: Int) async throws -> WorkerEngine.End {
        let configuration = try url.clientConfiguration(
            maximumConnections: settings.concurrency * settings.parallelChunks + 2, applicationName: settings.applicationName,
            session: settings.session)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return await withTaskGroup(of: WorkerEngine.End?.self) { group in
            group.addTask {
                // The pool must outlive graceful shutdown (the slots release
                // their jobs through it) and stop only when this group cancels
                // it; PostgresClient.run() stops at graceful shutdown, which
                // it would see through the task-locals of this service's task.
                // A detached task does not inherit them.
                let pool = Task.detached { await client.run() }
                await withTaskCancellationHandler { await pool.value } onCancel: { pool.cancel() }
                return nil
            }
            group.addTask {
                let engine = WorkerEngine(client: client, url: self.url, settings: self.settings, health: self.health, logger: self.logger)
                // Let the pool's run() start before the first lease (the pool
                // warns about a lease before run()).
                try? await Task.sleep(for: .milliseconds(10))
                if generation == 0 {
                    if let end = await engine.prepare() { return end }
                    SystemdNotifier.notify("READY=1\nSTATUS=processing jobs")
                    self.logger.info("worker started")
                }
                self.health.started()
                return await engine.run()
            }
            var end: WorkerEngine.End = .stopped
            for await finished in group {
                if let finished {
                    end = finished
                    group.cancelAll()  // the pool: close its connections
                }
            }
            return end
        }
    }

    /// Terminates the server sessions this worker still has (by application
    /// name), after a stop forced past the grace period: a session blocked on
    /// a lock would otherwise wait on for a process that is gone. Not behind
    /// a transaction pooler, whose server sessions are shared.
    private func endOwnSessions() async {
        guard !settings.transactionPooler else { return }
        let url = self.url
        let name = SessionSettings.serverName(settings.applicationName)
        let logger = self.logger
        // A new task: this one is cancelled, and the connection must still be made.
        let ended = await Task {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try url.connectionConfiguration(applicationName: "\(name) (stopping)"), id: 0, logger: logger)
                defer { Task { try? await connection.close() } }
                return try await QueryDeadline.$limit.withValue(.seconds(5)) {
                    try await connection.checkedRows(
                        """
                        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE application_name = \(name) AND pid <> pg_backend_pid()
                        """, logger: logger
                    ).decoded(Int64.self).first ?? Int64(0)
                }
            } catch {
                logger.warning("could not end this worker's server sessions", metadata: ["error": "\(PostgresErrors.message(error))"])
                return Int64(0)
            }
        }.value
        if ended > 0 { logger.warning("ended this worker's server sessions still open", metadata: ["sessions": "\(ended)"]) }
    }
}

/// The watchdog gave up: the database did not answer even on new connections.
public struct WatchdogExpired: Error, CustomStringConvertible {
    public var silence: Duration
    public var description: String {
        "the database has not answered for \(silence), even on new connections; exiting for the service manager to restart the worker"
    }
}

extension WorkerEngine.End {
    /// Why the worker gives up, for the ends that are not a stop or a stall:
    /// thrown from ``Worker/run()``, so the process exits with its code.
    fileprivate func failure(url: DatabaseURL) -> ConnectionCheck.Failure? {
        switch self {
        case .stopped, .stalled: return nil
        case .schemaTooOld(let missing):
            return ConnectionCheck.Failure(
                cause: .schemaOutdated(database: url.database ?? url.username, missing: ["the function \(missing)"]), url: url)
        case .refused(let reason): return ConnectionCheck.Failure(cause: .statementRefused(reason: reason), url: url)
        case .unavailable(let reason): return ConnectionCheck.Failure(cause: .serverUnavailable(reason: reason), url: url)
        }
    }
}
