import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerCore
import SyncLedgerPostgres

/// The working part of a ``Worker``, on one connection pool (structured
/// concurrency throughout, no unstructured tasks):
///
/// - `concurrency` slots, each claiming and processing one claim at a time (a
///   claim is up to ``WorkerSettings/batchJobs`` small jobs, or one large job,
///   under one fencing token);
/// - a heartbeat extending the leases of the claims the slots hold;
/// - a LISTEN loop on its own connection that rings a ``Doorbell`` on every
///   notification and checks, with notifications of its own, that they
///   arrive; slots also poll, so nothing depends on notifications arriving;
/// - the watchdog, which ends the engine when no slot has had an answer from
///   the database for ``WorkerSettings/watchdog``.
struct WorkerEngine: Sendable {
    enum End: Sendable {
        /// The slots stopped: idle (`--exit-when-idle`) or shutting down.
        case stopped
        /// No answer for `silence`; `answered` if there was one since this engine started.
        case stalled(silence: Duration, answered: Bool)
        /// The schema lacks `missing`, a function this code calls.
        case schemaTooOld(missing: String)
        /// `--exit-when-idle` and the database did not answer for `reason`.
        case unavailable(reason: String)
        /// The server refused the claim for a reason no retry can change (a
        /// missing grant or function: SQLSTATE class 42 or 28).
        case refused(reason: String)
    }

    let client: PostgresClient
    let url: DatabaseURL
    let settings: WorkerSettings
    let health: WorkerHealth
    let logger: Logger
    let store: JobStore
    let configuration: ConfigurationCache
    private let doorbell = Doorbell()
    private let claims = ClaimRegistry()

    init(client: PostgresClient, url: DatabaseURL, settings: WorkerSettings, health: WorkerHealth, logger: Logger) {
        self.client = client
        self.url = url
        self.settings = settings
        self.health = health
        self.logger = logger
        self.store = JobStore(
            client: client, workerID: settings.workerID, leaseSeconds: settings.leaseSeconds, deadline: settings.shortQueryDeadline,
            logger: logger)
        self.configuration = ConfigurationCache(client: client, deadline: settings.shortQueryDeadline, logger: logger)
    }

    func run() async -> End {
        await withTaskGroup(of: End?.self) { group in
            group.addTask {
                await heartbeatLoop()
                return nil
            }
            if settings.listens {
                group.addTask {
                    await listenLoop()
                    return nil
                }
            }
            group.addTask { await watchdogLoop() }
            // Checkpoints of the Merkle log (--checkpoint-every), off by default.
            if let interval = settings.checkpointEvery {
                group.addTask {
                    await CheckpointLoop(client: client, interval: interval, logger: logger).run()
                    return nil
                }
            }
            // Automatic retention (--retention), off by default.
            if let age = settings.retention {
                group.addTask {
                    await RetentionLoop(client: client, age: age, logger: logger).run()
                    return nil
                }
            }
            group.addTask {
                await withTaskGroup(of: End?.self) { slots in
                    for slot in 0..<settings.concurrency {
                        slots.addTask { await slotLoop(slot) }
                    }
                    for await end in slots {
                        if let end {
                            slots.cancelAll()
                            return end
                        }
                    }
                    return .stopped
                }
            }
            var end: End = .stopped
            while let finished = await group.next() {
                if let finished {
                    end = finished
                    break
                }
            }
            group.cancelAll()
            return end
        }
    }

    // MARK: - Start

    /// Checks that the schema has the newest function this code calls (a
    /// schema applied with psql has no migration record to compare), then
    /// ends the leases a previous run under this worker id left behind.
    /// Returns `.stopped` when shutdown came first, `.schemaTooOld` when the
    /// function is missing, `.unavailable` when `--exit-when-idle` gave up,
    /// nil when the worker may start. Transient errors
    /// are retried (the start-up check just passed), for at most
    /// ``WorkerSettings/startPatience`` with `--exit-when-idle`.
    func prepare() async -> End? {
        var warned = false
        let start = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let present = try await QueryDeadline.$limit.withValue(settings.shortQueryDeadline) {
                    try await client.collect(
                        "SELECT to_regprocedure(\(Worker.requiredFunction)) IS NOT NULL", as: Bool.self, logger: logger
                    ).first ?? false
                }
                guard present else { return .schemaTooOld(missing: Worker.requiredFunction) }
                let expired = try await store.expireLeftoverLeases()
                if !expired.isEmpty {
                    logger.warning(
                        "a previous run of this worker left jobs behind; their leases ended, so they are rescued now",
                        metadata: ["jobs": "\(expired.map(String.init).joined(separator: ","))"])
                }
                return nil
            } catch {
                if PostgresErrors.isRefusedForGood(error) { return .refused(reason: PostgresErrors.message(error)) }
                if settings.exitWhenIdle && ContinuousClock.now - start >= settings.startPatience {
                    return .unavailable(reason: PostgresErrors.message(error))
                }
                if !warned {
                    logger.error("cannot prepare the worker; retrying", metadata: ["error": "\(PostgresErrors.message(error))"])
                }
            }
            warned = true
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
        }
        return .stopped
    }

    // MARK: - Slots

    /// Claims and processes until shutdown (or idle with `--exit-when-idle`).
    /// Returns an ``End`` when the slot gives up: the server refuses the
    /// claim for good, or, with `--exit-when-idle`, claims keep failing.
    private func slotLoop(_ slot: Int) async -> End? {
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let generation = doorbell.generation
            do {
                let start = ContinuousClock.now
                let claimed = try await store.claim(maxJobs: settings.batchJobs, itemBudget: settings.itemBudget)
                WorkerMetrics.claimDuration.record(duration: ContinuousClock.now - start)
                health.answered()
                failures = 0
                if let claim = claimed {
                    await process(claim)
                    continue
                }
            } catch {
                if Task.isCancelled { return nil }
                if PostgresErrors.serverError(error) != nil { health.answered() }
                let message = PostgresErrors.message(error)
                if PostgresErrors.isRefusedForGood(error) { return .refused(reason: message) }
                failures += 1
                if settings.exitWhenIdle && failures >= Self.exitWhenIdleClaimFailures { return .unavailable(reason: message) }
                let delay = min(Duration.milliseconds(100) * (1 << min(failures, 7)), .seconds(10))
                logger.warning("cannot claim jobs; retrying", metadata: ["error": "\(message)", "retry_in": "\(delay)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                continue
            }
            if settings.exitWhenIdle { return nil }
            await cancelWhenGracefulShutdown { await doorbell.wait(since: generation, timeout: settings.pollInterval) }
        }
        return nil
    }

    /// Failed claims in a row after which `--exit-when-idle` gives up (about
    /// 25 s of backoff).
    static let exitWhenIdleClaimFailures = 8

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
        processor.progressed = { [claims, health] in
            claims.progressed(token)
            health.answered()
        }
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
            logger.warning(
                lost.takenByThisProcess(workerID: settings.workerID)
                    ? "lost the lease after it expired; another slot of this process has claimed the job since; abandoning it without writing"
                    : "lost the lease after it expired; another worker has claimed the job since; abandoning it without writing",
                metadata: ["detail": "\(lost.detail)"])
        } catch {
            if Task.isCancelled {
                logger.warning("claim interrupted (shutdown past its grace period, or the watchdog); its leases will expire and it will be rescued")
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
        let backoff = settings.backoff(afterAttempts: claim.jobs.map(\.attempts).max() ?? 1)
        for attempt in 0..<30 {
            do {
                let results = try await store.retryOrFail(claim, error: error, maxAttempts: settings.maxAttempts, backoff: backoff)
                for result in results {
                    if result.status == .failed {
                        WorkerMetrics.job(.failed)
                        logger.error("job failed for good", metadata: ["failed_job": "\(result.jobID)", "error": "\(error)"])
                    } else {
                        WorkerMetrics.retries.increment()
                        logger.warning(
                            "job will be retried",
                            metadata: ["retried_job": "\(result.jobID)", "retry_in": "\(backoff)", "error": "\(error)"])
                    }
                }
                if results.isEmpty {
                    logger.warning(
                        "the claim no longer holds its jobs (their leases expired and they were claimed again); nothing recorded",
                        metadata: ["error": "\(error)"])
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

    /// Ends the engine when the database has not answered any slot for the
    /// watchdog's time (each slot asks at least every poll interval).
    private func watchdogLoop() async -> End? {
        let tick = max(Duration.milliseconds(200), min(settings.watchdog / 8, .seconds(5)))
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            let silence = health.silence()
            if silence > settings.watchdog && !Task.isCancelled {
                return .stalled(silence: silence, answered: health.answeredSinceReconnect)
            }
        }
        return nil
    }

    /// LISTEN on its own connection, reconnecting with backoff. Every
    /// ``Listener/probeInterval`` it notifies itself and expects to hear it
    /// within ``Listener/probeTimeout``: a connection that hears nothing is
    /// dead (reconnect), and one that never heard itself at all, twice in a
    /// row, is behind a transaction pooler: then it says so once and leaves
    /// the work to polling.
    private func listenLoop() async {
        let listener = Listener(channel: Worker.channel, deadline: settings.shortQueryDeadline)
        var delay = Duration.milliseconds(100)
        var deafConnections = 0
        while !Task.isCancelled {
            health.listener(.connecting)
            let arrivals = Listener.Arrivals()
            do {
                let configuration = try url.connectionConfiguration(applicationName: settings.applicationName, session: settings.session)
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                defer { connection.closeWithoutWaiting() }
                try await listener.run(
                    on: connection, client: client, arrivals: arrivals, logger: logger,
                    heard: { [health] in health.listener(.listening) }, notified: { [doorbell] in doorbell.ring() })
            } catch {
                if Task.isCancelled { return }
                if arrivals.heardAny {
                    delay = .milliseconds(100)
                    deafConnections = 0
                } else if error is Listener.Deaf {
                    deafConnections += 1
                    if deafConnections >= 2 {
                        health.listener(.pollingAlone)
                        logger.warning(
                            "notifications this worker sends itself never arrive on its LISTEN connection (a transaction pooler such as PgBouncer in transaction mode?): running on polling alone; set --no-listen to say so",
                            metadata: ["poll_interval": "\(settings.pollInterval)"])
                        return
                    }
                }
                WorkerMetrics.reconnects.increment()
                logger.warning(
                    "notification listener disconnected; polling continues, reconnecting",
                    metadata: ["error": "\(PostgresErrors.message(error))", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }
}

extension LeaseLost {
    /// The job is now leased to a claim of this same process (another slot).
    func takenByThisProcess(workerID: String) -> Bool { detail.contains("now leased to \(workerID))") }
}
