import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerCore

/// `syncledger worker`: claims inbound jobs and processes them (SPEC §5).
///
/// Structure (all structured concurrency, no unstructured tasks):
/// - `concurrency` slots, each claiming and processing one claim at a time (a
///   claim is up to ``WorkerSettings/batchJobs`` small jobs, or one large job,
///   under one fencing token);
/// - a heartbeat extending the leases of the claims the slots hold;
/// - a LISTEN loop on its own connection that rings a ``Doorbell`` on every
///   notification, reconnecting with backoff; slots also poll, so nothing
///   depends on notifications arriving.
///
/// On graceful shutdown the slots stop claiming, finish the window in flight,
/// release unfinished jobs, and `run()` returns.
public final class Worker: Service, Sendable {
    /// The notification channel the `sync_job` trigger notifies.
    public static let channel = "syncledger_job_submitted"
    /// The newest schema object this code relies on.
    static let requiredFunction = "integration.apply_chunk(bigint[],text[],uuid[],text[],text[],boolean[],bigint[],bigint[],text[],uuid[],text[],text[],text[],text[],text[],boolean[],text[],boolean[],boolean[],timestamp with time zone[],boolean[],bigint[],text[],uuid[],text[],text[],timestamp with time zone[],boolean[],bigint[],bigint[],bigint[],bigint[],bigint[],bigint[],bigint[],text[],text[],uuid[],boolean[],integer[])"

    private let client: PostgresClient
    private let url: DatabaseURL
    private let settings: WorkerSettings
    private let logger: Logger
    private let doorbell = Doorbell()
    private let claims = ClaimRegistry()
    private let store: JobStore
    private let configuration: ConfigurationCache

    public init(client: PostgresClient, url: DatabaseURL, settings: WorkerSettings, logger: Logger) {
        self.client = client
        self.url = url
        self.settings = settings
        var logger = logger
        logger[metadataKey: "worker_id"] = "\(settings.workerID)"
        self.logger = logger
        self.store = JobStore(client: client, workerID: settings.workerID, leaseSeconds: settings.leaseSeconds, logger: logger)
        self.configuration = ConfigurationCache(client: client, logger: logger)
    }

    public func run() async throws {
        await waitForSchema()
        SystemdNotifier.notify("READY=1\nSTATUS=processing jobs")
        logger.info(
            "worker started",
            metadata: [
                "concurrency": "\(settings.concurrency)", "batch_jobs": "\(settings.batchJobs)",
                "lease_seconds": "\(settings.leaseSeconds)", "poll_interval": "\(settings.pollInterval)",
                "exit_when_idle": "\(settings.exitWhenIdle)",
            ])
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await self.heartbeatLoop() }
            if !settings.exitWhenIdle { background.addTask { await self.listenLoop() } }
            // Automatic retention (--retention), off by default.
            if let age = settings.retention {
                background.addTask { await RetentionLoop(client: self.client, age: age, logger: self.logger).run() }
            }
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
                let claimed = try await store.claim(maxJobs: settings.batchJobs, itemBudget: settings.itemBudget)
                WorkerMetrics.claimDuration.record(duration: ContinuousClock.now - start)
                failures = 0
                if let claim = claimed {
                    await process(claim)
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
            await cancelWhenGracefulShutdown { await self.doorbell.wait(since: generation, timeout: self.settings.pollInterval) }
        }
    }

    private func process(_ claim: Claim) async {
        var logger = self.logger
        logger[metadataKey: "claim"] = "\(claim.token)"
        logger[metadataKey: "job_id"] = "\(claim.jobs.count == 1 ? "\(claim.jobs[0].jobID)" : claim.jobIDs.map(String.init).joined(separator: ","))"
        for job in claim.jobs where job.rescuedFrom != nil {
            WorkerMetrics.leaseRescues.increment()
            logger.warning(
                "rescued a job whose lease expired",
                metadata: ["rescued_job": "\(job.jobID)", "from": "\(job.rescuedFrom ?? "")", "attempts": "\(job.attempts)"])
        }
        claims.insert(claim.token)
        defer { claims.remove(claim.token) }

        var claim = claim
        let exhausted = claim.jobs.filter { $0.attempts > settings.maxAttempts }
        if !exhausted.isEmpty {
            // Claimed again after their workers kept dying: stop trying them.
            let part = Claim(token: claim.token, jobs: exhausted)
            await settle(part, error: exhausted[0].lastError ?? "the job's workers stopped before finishing it", logger: logger)
            claim.jobs.removeAll { $0.attempts > settings.maxAttempts }
            if claim.jobs.isEmpty { return }
        }

        let token = claim.token
        var processor = ClaimProcessor(
            client: client, store: store, claim: claim, settings: settings, configuration: configuration, logger: logger)
        processor.progressed = { [claims] in claims.progressed(token) }
        do {
            switch try await processor.run() {
            case .finished(let results):
                var counts = ItemCounts()
                for result in results {
                    WorkerMetrics.job(result.status)
                    counts.merge(result.counts)
                    logger.debug(
                        "job finished",
                        metadata: [
                            "finished_job": "\(result.jobID)", "status": "\(result.status.rawValue)", "items_total": "\(result.counts.total)",
                            "items_applied": "\(result.counts.applied)", "items_held": "\(result.counts.held)",
                            "items_skipped": "\(result.counts.skipped)", "items_failed": "\(result.counts.failed)",
                        ])
                }
                logger.info(
                    results.count == 1 ? "job finished" : "jobs finished",
                    metadata: [
                        "jobs": "\(results.count)", "status": "\(Self.summary(results))", "items_total": "\(counts.total)",
                        "items_applied": "\(counts.applied)", "items_held": "\(counts.held)", "items_skipped": "\(counts.skipped)",
                        "items_failed": "\(counts.failed)",
                    ])
            case .stopped:
                let released = try await store.release(claim)
                logger.info("released unfinished jobs on shutdown", metadata: ["released": "\(released)"])
            }
        } catch let lost as LeaseLost {
            WorkerMetrics.leasesLost.increment()
            let own = lost.detail.contains("now leased to \(settings.workerID))")
            logger.warning(
                own
                    ? "lost the lease after it expired; another slot of this process has taken the job over; abandoning it without writing"
                    : "lost the lease after it expired; another worker has taken the job over; abandoning it without writing",
                metadata: ["detail": "\(lost.detail)"])
        } catch {
            if Task.isCancelled {
                logger.warning("claim interrupted past the shutdown grace period; its leases will expire and it will be rescued")
                return
            }
            configuration.invalidate()
            await settle(claim, error: PostgresErrors.message(error), logger: logger)
        }
    }

    private static func summary(_ results: [JobResult]) -> String {
        Dictionary(grouping: results, by: \.status.rawValue).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }
            .joined(separator: ", ")
    }

    /// Retries the claim's jobs later with backoff, or fails those out of
    /// attempts. The database may be down right now: keep trying for a while,
    /// and if it stays down the leases simply expire and the jobs are rescued.
    private func settle(_ claim: Claim, error: String, logger: Logger) async {
        logger.trace("settling claim", metadata: ["error": "\(error)"])
        WorkerMetrics.retries.increment()
        let backoff = settings.backoff(afterAttempts: claim.jobs.map(\.attempts).max() ?? 1)
        for attempt in 0..<30 {
            do {
                let results = try await store.retryOrFail(claim, error: error, maxAttempts: settings.maxAttempts, backoff: backoff)
                for result in results {
                    if result.status == .failed {
                        WorkerMetrics.job(.failed)
                        logger.error("job failed for good", metadata: ["failed_job": "\(result.jobID)", "error": "\(error)"])
                    } else {
                        logger.warning(
                            "job will be retried",
                            metadata: ["retried_job": "\(result.jobID)", "retry_in": "\(backoff)", "error": "\(error)"])
                    }
                }
                if results.isEmpty {
                    logger.warning("the claim no longer holds its jobs; another worker has taken them over", metadata: ["error": "\(error)"])
                }
                return
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(200 * min(attempt + 1, 10)))
            }
        }
        logger.error("could not record the jobs' error; their leases will expire and they will be rescued", metadata: ["error": "\(error)"])
    }

    // MARK: - Background loops

    private func heartbeatLoop() async {
        let interval = Duration.seconds(max(1, settings.leaseSeconds)) / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let (held, stalled) = claims.renewable(stallLimit: settings.stallLimit)
            for token in stalled {
                logger.error(
                    "claim made no progress for longer than the stall limit; no longer renewing its leases so another worker can rescue its jobs",
                    metadata: ["claim": "\(token)", "stall_limit": "\(settings.stallLimit)"])
            }
            guard !held.isEmpty, !Task.isCancelled else { continue }
            do {
                let still = try await store.heartbeat(held)
                for lost in held where !still.contains(lost) && claims.all.contains(lost) {
                    logger.warning("lease lost", metadata: ["claim": "\(lost)"])
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
