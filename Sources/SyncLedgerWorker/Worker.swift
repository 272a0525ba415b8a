import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerCore
import SyncLedgerPostgres

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
    static let requiredFunction = "integration.worker_heartbeat(jsonb,integer)"

    let url: DatabaseURL
    let settings: WorkerSettings
    let logger: Logger
    /// When the process started (its registry row says so).
    let startedAt = Date()
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
                "concurrency": .int(settings.concurrency), "batch_jobs": .int(settings.batchJobs),
                "lease_seconds": .int(settings.leaseSeconds), "poll_interval_ms": .milliseconds(settings.pollInterval),
                "statement_timeout_ms": .milliseconds(settings.session.statementTimeout),
                "idle_in_transaction_timeout_ms": .milliseconds(settings.session.idleInTransactionTimeout),
                "tcp_user_timeout_ms": .milliseconds(settings.session.tcpUserTimeout), "watchdog_ms": .milliseconds(settings.watchdog),
                "listen": .stringConvertible(settings.listen), "exit_when_idle": .stringConvertible(settings.exitWhenIdle),
            ])
        if !settings.listens { health.listener(.off) }
        guard let outcome = try await checkDatabase() else { return }
        var settings = self.settings
        if let refused = outcome.refusedStartupParameter {
            // A pooler (PgBouncer) in front of the server: the same settings,
            // one statement on each new connection instead.
            settings.session.delivery = .afterConnecting
            logger.warning(
                "the database server refuses session settings as startup parameters (a connection pooler such as PgBouncer); applying them with one statement on each new connection instead",
                metadata: [
                    "refused": "\(refused)",
                    "hint": "behind PgBouncer in transaction mode, set --transaction-pooler (SYNCLEDGER_TRANSACTION_POOLER=on): see deploy/README.md",
                ])
        }
        var fruitlessRestarts = 0
        var generation = 0
        defer { SystemdNotifier.notify("STOPPING=1") }
        while true {
            let end = try await runEngine(generation: generation, settings: settings)
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
                metadata: ["watchdog_ms": .milliseconds(settings.watchdog), "silence_ms": .milliseconds(silence)])
            WorkerMetrics.watchdogRestarts.increment()
            generation += 1
        }
        logger.info("worker stopped")
    }

    /// One generation: an engine on a connection pool of its own, until the
    /// engine stops or stalls.
    ///
    /// The pool and the engine run as a group of their own, the pool first:
    /// on graceful shutdown the group stops its services in reverse order, so
    /// the engine stops claiming and releases its jobs through the pool, and
    /// only then the pool closes its connections. The engine's end, whatever
    /// it is, shuts the group down the same way; a stalled engine's pool goes
    /// with it, and the next generation starts on new connections.
    ///
    /// Session settings that are not startup parameters (behind a pooler) are
    /// applied by a ``SessionSetup`` bound for the whole group.
    private func runEngine(generation: Int, settings: WorkerSettings) async throws -> WorkerEngine.End {
        let configuration = try url.clientConfiguration(
            maximumConnections: settings.concurrency * settings.parallelChunks + 2, applicationName: settings.applicationName,
            session: settings.session)
        let client = PostgresClient(configuration: configuration, backgroundLogger: Self.driverLogger(logger))
        let engine = EngineService(
            engine: WorkerEngine(client: client, url: url, settings: settings, health: health, startedAt: startedAt, logger: logger),
            generation: generation, health: health, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: client),
                    .init(service: engine, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                logger: logger))
        let setup: SessionSetup? =
            switch settings.session.delivery {
            case .afterConnecting, .perTransaction: SessionSetup(settings: settings.session, logger: logger)
            case .startupParameters, .none: nil
            }
        do {
            try await SessionSetup.$current.withValue(setup) { try await group.run() }
        } catch {
            // Only when the pool ended before the engine, which it does not
            // unless cancelled (a stop forced past the grace period).
            if !Task.isCancelled { throw error }
        }
        return engine.end ?? .stopped
    }

    /// Terminates the server sessions this worker still has (by application
    /// name), after a stop forced past the grace period: a session blocked on
    /// a lock would otherwise wait on for a process that is gone. Not behind
    /// a transaction pooler, whose server sessions are shared.
    ///
    /// The current task is cancelled by then, so this uses postgres-nio's
    /// future-returning `connect` and `query`, which do not observe task
    /// cancellation, bounded by a deadline that closes the connection.
    private func endOwnSessions() async {
        guard !settings.transactionPooler else { return }
        let name = SessionSettings.serverName(settings.applicationName)
        do {
            let configuration = try url.connectionConfiguration(applicationName: "\(name) (stopping)")
            let ended = try await PostgresConnection.terminateSessions(
                named: name, configuration: configuration, deadline: .seconds(5), logger: logger
            ).get()
            if ended > 0 { logger.warning("ended this worker's server sessions still open", metadata: ["sessions": .int64(ended)]) }
        } catch {
            logger.warning("could not end this worker's server sessions", metadata: ["error": "\(PostgresErrors.message(error))"])
        }
    }
}

extension Worker {
    /// The logger postgres-nio gets: its own lines (a connection attempt
    /// that failed, a pool's housekeeping) at debug, so that an outage is
    /// told once, in the worker's words with its cause, not in forty driver
    /// lines; with `SYNCLEDGER_LOG_LEVEL=debug` (or trace) they show.
    public static func driverLogger(_ logger: Logger) -> Logger {
        let handler = logger.handler
        var driver = Logger(label: "postgres-nio", factory: { _ in DriverLogHandler(wrapping: handler) })
        driver[metadataKey: "component"] = "postgres-nio"
        return driver
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

extension PostgresConnection {
    /// Connects with `configuration` and terminates every other server
    /// session named `name` (`pg_terminate_backend`); the number ended. The
    /// statement is bounded by `deadline`; the connection is closed after it.
    /// Futures only: the caller's task may be cancelled, and the sessions
    /// must still end.
    fileprivate static func terminateSessions(
        named name: String, configuration: Configuration, deadline: Duration, logger: Logger
    ) -> EventLoopFuture<Int64> {
        connect(on: defaultEventLoopGroup.any(), configuration: configuration, id: 0, logger: logger).flatMap { connection in
            connection.rowsFuture(
                """
                SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = \(name) AND pid <> pg_backend_pid()
                """, deadline: deadline, logger: logger
            )
            .flatMapThrowing { rows in try rows.first?.decode(Int64.self) ?? 0 }
            .always { _ in connection.closeWithoutWaiting() }
        }
    }
}
