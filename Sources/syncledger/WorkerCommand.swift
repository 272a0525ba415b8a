import ArgumentParser
import Foundation
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SyncLedger

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim and process inbound sync jobs until stopped (SIGTERM/SIGINT), or until idle.",
        discussion: "Every option can also come from the environment; flags win.")

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

    @Flag(help: "Process what is there, then exit 0.")
    var exitWhenIdle = false

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

        var configuration = try url.clientConfiguration(maximumConnections: settings.concurrency * settings.parallelChunks + 2)
        configuration.options.additionalStartupParameters = [("application_name", "syncledger worker \(settings.workerID)")]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let worker = Worker(client: client, url: url, settings: settings, logger: logger)

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: client),
            .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let port = try metricsPortSetting() {
            // Metrics (every family from start, database gauges), /healthz, /readyz: WorkerObservability.swift.
            let host = metricsHost ?? Environment.string("SYNCLEDGER_METRICS_HOST") ?? "127.0.0.1"
            services.append(
                .init(service: WorkerObservability.metricsServer(host: host, port: port, client: client, connection: connection, logger: logger)))
        }
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
        groupConfiguration.maximumGracefulShutdownDuration = settings.shutdownGrace
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: groupConfiguration).run()
    }
}
