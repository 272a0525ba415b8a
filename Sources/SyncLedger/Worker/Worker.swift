import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerCore

/// `syncledger worker`: claims inbound jobs and processes them (SPEC §5).
///
/// Structure (all structured concurrency, no unstructured tasks):
/// - `concurrency` slots, each claiming and processing one job at a time;
/// - a heartbeat extending the leases of the jobs the slots hold;
/// - a LISTEN loop on its own connection that rings a ``Doorbell`` on every
///   notification, reconnecting with backoff; slots also poll, so nothing
///   depends on notifications arriving.
///
/// On graceful shutdown the slots stop claiming, finish the window in flight,
/// release unfinished jobs, and `run()` returns.
public final class Worker: Service, Sendable {
    /// The notification channel the `sync_job` trigger notifies.
    public static let channel = "syncledger_job_submitted"
    /// The newest schema object this code relies on (migration 004).
    static let requiredFunction = "integration.enqueue_outbound(bigint[])"

    private let client: PostgresClient
    private let url: DatabaseURL
    private let settings: WorkerSettings
    private let logger: Logger
    private let doorbell = Doorbell()
    private let leases = LeaseRegistry()
    private let queue: JobQueue

    public init(client: PostgresClient, url: DatabaseURL, settings: WorkerSettings, logger: Logger) {
        self.client = client
        self.url = url
        self.settings = settings
        var logger = logger
        logger[metadataKey: "worker_id"] = "\(settings.workerID)"
        self.logger = logger
        self.queue = JobQueue(client: client, workerID: settings.workerID, leaseSeconds: settings.leaseSeconds, logger: logger)
    }

    public func run() async throws {
        await waitForSchema()
        SystemdNotifier.notify("READY=1\nSTATUS=processing jobs")
        logger.info(
            "worker started",
            metadata: [
                "concurrency": "\(settings.concurrency)", "lease_seconds": "\(settings.leaseSeconds)",
                "poll_interval": "\(settings.pollInterval)", "exit_when_idle": "\(settings.exitWhenIdle)",
            ])
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await self.heartbeatLoop() }
            if !settings.exitWhenIdle { background.addTask { await self.listenLoop() } }
            await withTaskGroup(of: Void.self) { slots in
                for slot in 0..<settings.concurrency {
                    slots.addTask { await self.slotLoop(slot) }
                }
            }
            background.cancelAll()
        }
        SystemdNotifier.notify("STOPPING=1")
        logger.info("worker stopped")
    }

    // MARK: - Slots

    private func slotLoop(_ slot: Int) async {
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let generation = doorbell.generation
            do {
                let start = ContinuousClock.now
                let claimed = try await queue.claim()
                WorkerMetrics.claimDuration.record(duration: ContinuousClock.now - start)
                failures = 0
                if let job = claimed {
                    await process(job)
                    continue
                }
            } catch {
                failures += 1
                let delay = min(Duration.milliseconds(100) * (1 << min(failures, 7)), .seconds(10))
                logger.warning(
                    "cannot claim jobs; retrying", metadata: ["error": "\(PostgresErrors.message(error))", "retry_in": "\(delay)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                continue
            }
            if settings.exitWhenIdle { return }
            try? await cancelWhenGracefulShutdown { await self.doorbell.wait(since: generation, timeout: self.settings.pollInterval) }
        }
    }

    private func process(_ job: ClaimedJob) async {
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.jobID)"
        logger[metadataKey: "source"] = "\(job.source)"
        if job.rescued {
            WorkerMetrics.leaseRescues.increment()
            logger.warning("rescued a job whose lease expired", metadata: ["attempts": "\(job.attempts)"])
        }
        leases.insert(job.jobID)
        logger.trace("processing job")
        defer {
            leases.remove(job.jobID)
            logger.trace("done with job")
        }

        if job.attempts > settings.maxAttempts {
            // Claimed again after its workers kept dying: stop trying.
            await settle(job, error: job.lastError ?? "the job's workers stopped before finishing it", logger: logger)
            return
        }
        var processor = JobProcessor(client: client, queue: queue, job: job, settings: settings, logger: logger)
        processor.progressed = { [leases] in leases.progressed(job.jobID) }
        do {
            switch try await processor.run() {
            case .finished(let status, let counts):
                WorkerMetrics.job(status)
                logger.info(
                    "job finished",
                    metadata: [
                        "status": "\(status.rawValue)", "items_total": "\(counts.total)", "items_applied": "\(counts.applied)",
                        "items_held": "\(counts.held)", "items_skipped": "\(counts.skipped)", "items_failed": "\(counts.failed)",
                    ])
            case .stopped:
                try await queue.release(job.jobID)
                logger.info("released unfinished job on shutdown")
            }
        } catch let lost as LeaseLost {
            WorkerMetrics.leasesLost.increment()
            logger.warning("\(lost.description); abandoning it without writing")
        } catch {
            if Task.isCancelled {
                logger.warning("job interrupted past the shutdown grace period; its lease will expire and it will be rescued")
                return
            }
            await settle(job, error: PostgresErrors.message(error), logger: logger)
        }
    }

    /// Retries the job later with backoff, or fails it after `maxAttempts`.
    /// The database may be down right now: keep trying for a while, and if it
    /// stays down the lease simply expires and the job is rescued.
    private func settle(_ job: ClaimedJob, error: String, logger: Logger) async {
        logger.trace("settling job", metadata: ["error": "\(error)"])
        WorkerMetrics.retries.increment()
        let backoff = settings.backoff(afterAttempts: job.attempts)
        for attempt in 0..<30 {
            do {
                let status = try await queue.retryOrFail(job, error: error, maxAttempts: settings.maxAttempts, backoff: backoff)
                if status == .failed {
                    WorkerMetrics.job(.failed)
                    logger.error("job failed for good", metadata: ["attempts": "\(job.attempts)", "error": "\(error)"])
                } else {
                    logger.warning(
                        "job will be retried", metadata: ["attempts": "\(job.attempts)", "retry_in": "\(backoff)", "error": "\(error)"])
                }
                return
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(200 * min(attempt + 1, 10)))
            }
        }
        logger.error("could not record the job's error; its lease will expire and it will be rescued", metadata: ["error": "\(error)"])
    }

    // MARK: - Background loops

    private func heartbeatLoop() async {
        let interval = Duration.seconds(max(1, settings.leaseSeconds)) / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let (held, stalled) = leases.renewable(stallLimit: settings.stallLimit)
            for jobID in stalled {
                logger.error(
                    "job made no progress for longer than the stall limit; no longer renewing its lease so another worker can rescue it",
                    metadata: ["job_id": "\(jobID)", "stall_limit": "\(settings.stallLimit)"])
            }
            guard !held.isEmpty, !Task.isCancelled else { continue }
            do {
                let still = try await queue.heartbeat(held)
                for lost in held where !still.contains(lost) && leases.all.contains(lost) {
                    logger.warning("lease lost", metadata: ["job_id": "\(lost)"])
                }
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(PostgresErrors.message(error))"])
            }
        }
    }

    private func listenLoop() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let configuration = try url.connectionConfiguration()
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        delay = .milliseconds(100)
                        // Anything submitted while we were not listening is found by this ring.
                        doorbell.ring()
                        for try await _ in notifications { doorbell.ring() }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                WorkerMetrics.reconnects.increment()
                logger.warning(
                    "notification listener disconnected; polling continues, reconnecting",
                    metadata: ["error": "\(PostgresErrors.message(error))", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    /// Waits until `syncledger migrate` has run, without exiting (systemd's
    /// start timeout decides when to give up).
    private func waitForSchema() async {
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                // The newest object this binary needs (a newer schema is fine);
                // works whether migrations ran through `migrate` or psql.
                let rows = try await client.collect(
                    "SELECT to_regprocedure(\(Self.requiredFunction)) IS NOT NULL", as: Bool.self, logger: logger)
                if rows.first ?? false { return }
                if !warned { logger.error("the integration schema is missing: run `syncledger migrate`; waiting") }
            } catch {
                if !warned {
                    logger.error("cannot check the schema; waiting", metadata: ["error": "\(PostgresErrors.message(error))"])
                }
            }
            warned = true
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
        }
    }
}
