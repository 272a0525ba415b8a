import ArgumentParser
import Foundation
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SyncLedgerCore
import SyncLedgerPostgres
import SyncLedgerWorker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim and process inbound sync jobs until stopped (SIGTERM/SIGINT), or until idle.",
        discussion: """
            Every option can also come from the environment; flags win. At start the worker checks the database once: \
            a refused password, TLS, a missing database or schema end it with exit 78 after three attempts; a server \
            that cannot be reached is waited for (with --exit-when-idle for --start-patience-seconds, then exit 69).

            Examples:
              # Process what is queued, then exit (cron, a one-off catch-up):
              syncledger worker --exit-when-idle

              # A long-running worker, as the systemd unit runs it, with Prometheus metrics, /healthz and /readyz:
              SYNCLEDGER_WORKER_ID=worker-1 syncledger worker --concurrency 4 --metrics-port 9101

              # Behind PgBouncer in transaction mode (timeouts per transaction, no LISTEN):
              syncledger worker --transaction-pooler

              # Remove finished jobs and their items after 30 days (the ledger is kept):
              syncledger worker --retention 30d
              syncledger worker --checkpoint-every 1h
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Claims processed at a time by this process (env: SYNCLEDGER_CONCURRENCY, default 2).")
    var concurrency: Int?

    @Option(help: "Lease length in seconds; a heartbeat renews it (env: SYNCLEDGER_LEASE_SECONDS, default 60).")
    var leaseSeconds: Int?

    @Option(help: "Poll for work this often, besides LISTEN (env: SYNCLEDGER_POLL_INTERVAL_SECONDS, default 5).")
    var pollIntervalSeconds: Int?

    @Option(help: "Attempts before a job ends Failed (env: SYNCLEDGER_MAX_ATTEMPTS, default 5).")
    var maxAttempts: Int?

    @Option(help: "Lease owner name; must differ between workers (env: SYNCLEDGER_WORKER_ID, default host:pid).")
    var workerID: String?

    @Option(help: "Serve /metrics and /healthz on this port; 0 = off (env: SYNCLEDGER_METRICS_PORT).")
    var metricsPort: Int?

    @Option(help: "Address for the metrics port (env: SYNCLEDGER_METRICS_HOST, default 127.0.0.1).")
    var metricsHost: String?

    @Option(help: "Time in-flight chunks get to commit after SIGTERM (env: SYNCLEDGER_SHUTDOWN_GRACE_SECONDS, default 30).")
    var shutdownGraceSeconds: Int?

    @Option(help: "Items per chunk transaction (env: SYNCLEDGER_CHUNK_SIZE, default 1000).")
    var chunkSize: Int?

    @Option(help: "Chunk transactions at once inside one claim (env: SYNCLEDGER_PARALLEL_CHUNKS, default 2).")
    var parallelChunks: Int?

    @Option(help: "Most small jobs claimed and processed together (env: SYNCLEDGER_BATCH_JOBS, default 200).")
    var batchJobs: Int?

    @Option(help: "Largest accepted value in bytes (env: SYNCLEDGER_MAX_VALUE_BYTES, default 65536).")
    var maxValueBytes: Int?

    @Option(help: "Longest statement, on the server and (plus 5 s) on the client (env: SYNCLEDGER_STATEMENT_TIMEOUT_SECONDS, default 60).")
    var statementTimeoutSeconds: Int?

    @Option(help: "Longest wait for a row lock (env: SYNCLEDGER_LOCK_TIMEOUT_SECONDS, default 20).")
    var lockTimeoutSeconds: Int?

    @Option(help: "The server ends a session idle inside a transaction this long, e.g. a frozen worker's (env: SYNCLEDGER_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS, default 15, at most 2/3 of the lease).")
    var idleInTransactionTimeoutSeconds: Int?

    @Option(help: "TCP keep-alive idle time; probes every half of it, 3 of them (env: SYNCLEDGER_TCP_KEEPALIVE_SECONDS, default 10).")
    var tcpKeepaliveSeconds: Int?

    @Option(help: "The server gives a connection up when data it sent stays unacknowledged this long, e.g. a half-open one (env: SYNCLEDGER_TCP_USER_TIMEOUT_SECONDS, default: the keep-alive time plus its 3 probes, 25, at most the lease).")
    var tcpUserTimeoutSeconds: Int?

    @Option(help: "No answer from the database this long: reconnect; as long again: exit non-zero (env: SYNCLEDGER_WATCHDOG_SECONDS, default 120).")
    var watchdogSeconds: Int?

    @Flag(help: "Do not LISTEN for submitted jobs; poll only (env: SYNCLEDGER_LISTEN=off).")
    var noListen = false

    @Flag(help: "Connect through a transaction pooler such as PgBouncer in transaction mode: timeouts set per transaction, no LISTEN (env: SYNCLEDGER_TRANSACTION_POOLER=on).")
    var transactionPooler = false

    @Flag(help: "Process what is there, then exit 0.")
    var exitWhenIdle = false

    @Option(help: "With --exit-when-idle: give up (exit 69) when the database cannot be reached for this long at start (env: SYNCLEDGER_START_PATIENCE_SECONDS, default 60).")
    var startPatienceSeconds: Int?

    @Option(help: "Prune finished jobs and items older than this, e.g. 30d (env: SYNCLEDGER_RETENTION, default off).")
    var retention: String?

    @Option(help: "Take a checkpoint of the Merkle log this often, e.g. 1h, logged as JSON at info (env: SYNCLEDGER_CHECKPOINT_EVERY, default off).")
    var checkpointEvery: String?

    /// The settings from flags, then environment, then defaults; refuses
    /// invalid values naming the option.
    func settings() throws -> WorkerSettings {
        var settings = WorkerSettings(workerID: workerID ?? Environment.string("SYNCLEDGER_WORKER_ID") ?? WorkerSettings.defaultWorkerID)
        settings.concurrency = try Environment.positiveInt(concurrency, option: "concurrency", variable: "SYNCLEDGER_CONCURRENCY", fallback: 2)
        settings.leaseSeconds = try Environment.positiveInt(leaseSeconds, option: "lease-seconds", variable: "SYNCLEDGER_LEASE_SECONDS", fallback: 60)
        settings.pollInterval = .seconds(
            try Environment.positiveInt(
                pollIntervalSeconds, option: "poll-interval-seconds", variable: "SYNCLEDGER_POLL_INTERVAL_SECONDS", fallback: 5))
        settings.maxAttempts = try Environment.positiveInt(maxAttempts, option: "max-attempts", variable: "SYNCLEDGER_MAX_ATTEMPTS", fallback: 5)
        settings.shutdownGrace = .seconds(
            try Environment.positiveInt(
                shutdownGraceSeconds, option: "shutdown-grace-seconds", variable: "SYNCLEDGER_SHUTDOWN_GRACE_SECONDS", fallback: 30))
        settings.chunkSize = try Environment.positiveInt(chunkSize, option: "chunk-size", variable: "SYNCLEDGER_CHUNK_SIZE", fallback: WorkerSettings().chunkSize)
        settings.parallelChunks = try Environment.positiveInt(
            parallelChunks, option: "parallel-chunks", variable: "SYNCLEDGER_PARALLEL_CHUNKS", fallback: 2)
        settings.batchJobs = try Environment.positiveInt(batchJobs, option: "batch-jobs", variable: "SYNCLEDGER_BATCH_JOBS", fallback: 200)
        settings.maxValueBytes = try Environment.positiveInt(
            maxValueBytes, option: "max-value-bytes", variable: "SYNCLEDGER_MAX_VALUE_BYTES", fallback: 65536)
        settings.exitWhenIdle = exitWhenIdle
        settings.startPatience = .seconds(
            try Environment.positiveInt(
                startPatienceSeconds, option: "start-patience-seconds", variable: "SYNCLEDGER_START_PATIENCE_SECONDS", fallback: 60))
        settings.session.statementTimeout = .seconds(
            try Environment.positiveInt(
                statementTimeoutSeconds, option: "statement-timeout-seconds", variable: "SYNCLEDGER_STATEMENT_TIMEOUT_SECONDS", fallback: 60))
        settings.session.lockTimeout = .seconds(
            try Environment.positiveInt(lockTimeoutSeconds, option: "lock-timeout-seconds", variable: "SYNCLEDGER_LOCK_TIMEOUT_SECONDS", fallback: 20))
        // Takeover follows the lease: unless set explicitly, a frozen
        // worker's transaction ends before its lease does.
        let idle = try Environment.positiveInt(
            idleInTransactionTimeoutSeconds, option: "idle-in-transaction-timeout-seconds",
            variable: "SYNCLEDGER_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", fallback: 0, allowZero: true)
        settings.session.idleInTransactionTimeout =
            idle > 0 ? .seconds(idle) : WorkerSettings.defaultIdleInTransactionTimeout(leaseSeconds: settings.leaseSeconds)
        let keepalive = try Environment.positiveInt(
            tcpKeepaliveSeconds, option: "tcp-keepalive-seconds", variable: "SYNCLEDGER_TCP_KEEPALIVE_SECONDS", fallback: 10)
        settings.session.keepalivesIdle = .seconds(keepalive)
        settings.session.keepalivesInterval = .seconds(max(1, keepalive / 2))
        settings.session.connectionCheckInterval = .seconds(max(1, keepalive / 2))
        let userTimeout = try Environment.positiveInt(
            tcpUserTimeoutSeconds, option: "tcp-user-timeout-seconds", variable: "SYNCLEDGER_TCP_USER_TIMEOUT_SECONDS", fallback: 0,
            allowZero: true)
        settings.session.tcpUserTimeout =
            userTimeout > 0
            ? .seconds(userTimeout) : WorkerSettings.defaultTCPUserTimeout(keepalive: .seconds(keepalive), leaseSeconds: settings.leaseSeconds)
        settings.watchdog = .seconds(
            try Environment.positiveInt(watchdogSeconds, option: "watchdog-seconds", variable: "SYNCLEDGER_WATCHDOG_SECONDS", fallback: 120))
        let listenSetting = try Environment.bool("SYNCLEDGER_LISTEN", option: "no-listen") ?? true
        settings.listen = !noListen && listenSetting
        let poolerSetting = try Environment.bool("SYNCLEDGER_TRANSACTION_POOLER", option: "transaction-pooler") ?? false
        settings.transactionPooler = transactionPooler || poolerSetting
        guard settings.watchdog > settings.chunkQueryDeadline else {
            throw ValidationError(
                "--watchdog-seconds must be longer than --statement-timeout-seconds plus 5 s (\(settings.chunkQueryDeadline)), got \(settings.watchdog)")
        }
        if let text = retention ?? Environment.string("SYNCLEDGER_RETENTION") {
            guard let age = RetentionAge(parsing: text) else {
                throw ValidationError(
                    "\(retention == nil ? "SYNCLEDGER_RETENTION" : "--retention") must be an age such as 30d, 12h or 1d12h, got '\(text)'")
            }
            settings.retention = age
        }
        if let text = checkpointEvery ?? Environment.string("SYNCLEDGER_CHECKPOINT_EVERY") {
            guard let every = RetentionAge(parsing: text) else {
                throw ValidationError(
                    "\(checkpointEvery == nil ? "SYNCLEDGER_CHECKPOINT_EVERY" : "--checkpoint-every") must be a duration such as 1h, 15m or 1d, got '\(text)'")
            }
            settings.checkpointEvery = .seconds(every.seconds)
        }
        guard settings.leaseSeconds >= 3 else { throw ValidationError("--lease-seconds must be at least 3 (the heartbeat runs every third)") }
        guard settings.chunkSize <= 10_000 else { throw ValidationError("--chunk-size must be at most 10000") }
        guard !settings.workerID.isEmpty else { throw ValidationError("--worker-id must not be empty") }
        return settings
    }

    func validate() throws {
        _ = try settings()
        _ = try metricsPortSetting()
        _ = try connection.requiredURL()
    }

    private func metricsPortSetting() throws -> Int? {
        let port = try Environment.positiveInt(metricsPort, option: "metrics-port", variable: "SYNCLEDGER_METRICS_PORT", fallback: 0, allowZero: true)
        guard port <= 65535 else { throw ValidationError("--metrics-port must be at most 65535, got \(port)") }
        return port == 0 ? nil : port
    }

    func run() async throws {
        let logger = Logs.bootstrap()
        let settings = try settings()
        let url = try connection.requiredURL()

        let migrator = CheckedDatabase.migrator(connection, logger: logger)
        let worker = Worker(url: url, settings: settings, migrator: migrator, logger: logger)

        // ServiceGroup shuts services down from the last to the first: the
        // worker (last) is told first, and the metrics port keeps answering
        // while it drains.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let port = try metricsPortSetting() {
            // Metrics (every family from start, database gauges), /healthz,
            // /readyz: WorkerObservability.swift. Scrapes read the database on
            // a small pool of their own, so they answer while the worker's
            // pool is busy or being replaced by its watchdog.
            let host = metricsHost ?? Environment.string("SYNCLEDGER_METRICS_HOST") ?? "127.0.0.1"
            // Scrapes send no session settings (a pooler may refuse them as
            // startup parameters): each of their queries is bounded on the
            // client, which closes a connection that does not answer.
            let scrapes = PostgresClient(
                configuration: try url.clientConfiguration(
                    maximumConnections: 2, applicationName: "\(settings.applicationName) metrics", session: .unbounded),
                backgroundLogger: Worker.driverLogger(logger))
            let answerWithin = settings.watchdog
            let workerReadiness: Readiness.Provider = { [health = worker.health] in
                let reasons = health.unreadyReasons(answerWithin: answerWithin)
                return Readiness(ready: reasons.isEmpty, reasons: reasons)
            }
            services.append(.init(service: scrapes))
            services.append(
                .init(
                    service: WorkerObservability.metricsServer(
                        host: host, port: port, client: scrapes, url: url, migrator: migrator, logger: logger,
                        readiness: [workerReadiness])))
        }
        services.append(
            .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
        groupConfiguration.maximumGracefulShutdownDuration = settings.shutdownGrace
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: groupConfiguration).run()
    }
}
