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
/// - a heartbeat extending the leases of the claims the slots hold, carrying
///   their jobs' progress and the worker's row in the registry of live
///   workers in the same statement;
/// - a LISTEN loop on its own connection that rings a ``Doorbell`` on every
///   notification and checks, with notifications of its own, that they
///   arrive; slots also poll, so nothing depends on notifications arriving;
/// - the watchdog, which ends the engine when the database has not answered
///   the worker, or one slot that is waiting for it, for
///   ``WorkerSettings/watchdog``; and which names the cause of an outage
///   (``ConnectionCheck``) as soon as the database falls silent.
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
    /// When the process started, for its registry row.
    let startedAt: Date
    private let doorbell = Doorbell()
    let claims = ClaimRegistry()

    init(
        client: PostgresClient, url: DatabaseURL, settings: WorkerSettings, health: WorkerHealth, startedAt: Date = Date(), logger: Logger
    ) {
        self.client = client
        self.url = url
        self.settings = settings
        self.health = health
        self.startedAt = startedAt
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
                        metadata: ["job_ids": .jobIDs(expired)])
                }
                try await store.register(workerState(), registryExpiry: registryExpiry)
                return nil
            } catch {
                if PostgresErrors.isRefusedForGood(error) { return .refused(reason: PostgresErrors.message(error)) }
                if settings.exitWhenIdle && ContinuousClock.now - start >= settings.startPatience {
                    return .unavailable(reason: PostgresErrors.message(error))
                }
                if !warned {
                    let cause = await cause(of: error)
                    logger.error("cannot prepare the worker; retrying", metadata: ["error": "\(cause)"])
                }
            }
            warned = true
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
        }
        return .stopped
    }

    // MARK: - The registry of live workers

    /// How long the worker's registry row lives without a heartbeat: one
    /// lease (three heartbeats).
    var registryExpiry: Duration { .seconds(max(3, settings.leaseSeconds)) }

    /// The worker's registry row as of now.
    func workerState(load: EngineLoad = EngineLoad(busySlots: 0, jobsHeld: 0, itemsPerSecond: 0)) -> WorkerState {
        WorkerState(
            workerID: settings.workerID, host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier,
            version: SyncLedgerVersion.current, startedAt: startedAt, slots: settings.concurrency, busySlots: load.busySlots,
            jobsHeld: load.jobsHeld, itemsPerSecond: load.itemsPerSecond)
    }

    /// Removes the worker's registry row (it stops for good), within a short
    /// deadline: when the database does not answer, the row simply expires.
    func deregister() async {
        do {
            try await store.deregister()
        } catch {
            logger.debug("could not remove this worker from the registry; its row expires by itself", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Slots

    /// Claims and processes until shutdown (or idle with `--exit-when-idle`).
    /// Returns an ``End`` when the slot gives up: the server refuses the
    /// claim for good, or, with `--exit-when-idle`, claims keep failing.
    private func slotLoop(_ slot: Int) async -> End? {
        var failures = 0
        defer { claims.slotIdle(slot) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let generation = doorbell.generation
            claims.slotActive(slot)
            do {
                let start = ContinuousClock.now
                let claimed = try await store.claim(maxJobs: settings.batchJobs, itemBudget: settings.itemBudget)
                WorkerMetrics.claimDuration.record(duration: ContinuousClock.now - start)
                answered(slot: slot)
                if failures > 0 { logger.info("claiming jobs again", metadata: ["slot": .int(slot), "failures": .int(failures)]) }
                failures = 0
                if let claim = claimed {
                    await process(claim, slot: slot)
                    continue
                }
            } catch {
                if Task.isCancelled { return nil }
                if PostgresErrors.serverError(error) != nil { answered(slot: slot) }
                let message = PostgresErrors.message(error)
                if PostgresErrors.isRefusedForGood(error) { return .refused(reason: message) }
                failures += 1
                if settings.exitWhenIdle && failures >= Self.exitWhenIdleClaimFailures { return .unavailable(reason: message) }
                let delay = min(Duration.milliseconds(100) * (1 << min(failures, 7)), .seconds(10))
                // The first failure in a row is news; the watchdog names an
                // outage's cause, so the retries after it are details.
                logger.log(
                    level: failures == 1 ? .warning : .debug, "cannot claim jobs; retrying",
                    metadata: ["slot": .int(slot), "error": "\(message)", "retry_in_ms": .milliseconds(delay), "failures": .int(failures)])
                claims.slotIdle(slot)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                continue
            }
            claims.slotIdle(slot)
            if settings.exitWhenIdle { return nil }
            await cancelWhenGracefulShutdown { await doorbell.wait(since: generation, timeout: settings.pollInterval) }
        }
        return nil
    }

    /// Failed claims in a row after which `--exit-when-idle` gives up (about
    /// 25 s of backoff).
    static let exitWhenIdleClaimFailures = 8

    /// The database answered `slot`.
    private func answered(slot: Int) {
        claims.answered(slot: slot)
        health.answered()
    }

    /// Processes a claim; when the heartbeat abandons it (no progress for the
    /// stall limit), its work is cancelled and its jobs are released, so they
    /// are claimable again (by this worker too) at once.
    private func process(_ claim: Claim, slot: Int) async {
        var logger = self.logger.withJobs(claim.jobIDs)
        logger[metadataKey: "claim"] = "\(claim.token)"
        for job in claim.jobs where job.rescuedFrom != nil {
            WorkerMetrics.leaseRescues.increment()
            logger.warning(
                "rescued a job whose lease expired",
                metadata: ["rescued_job": .int64(job.jobID), "from": "\(job.rescuedFrom ?? "")", "attempts": .int(job.attempts)])
        }
        claims.insert(claim, slot: slot)
        defer { claims.remove(claim.token) }

        let claimLogger = logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await work(on: claim, slot: slot, logger: claimLogger) }
            group.addTask {
                // Ends when the claim is abandoned, or when the work ended (cancelled then).
                while !Task.isCancelled && !claims.isAbandoned(claim.token) {
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
            await group.next()
            group.cancelAll()
        }
        guard claims.isAbandoned(claim.token), !Task.isCancelled else { return }
        do {
            let released = try await store.release(claim)
            logger.warning(
                "released the jobs of a claim that made no progress; they can be claimed again",
                metadata: ["released": .jobIDs(released)])
        } catch {
            logger.warning(
                "could not release the jobs of a claim that made no progress; they are rescued when their leases expire",
                metadata: ["error": "\(PostgresErrors.message(error))"])
        }
    }

    /// The claim's work, up to its end (finished, released on shutdown,
    /// retried after an error, or abandoned to fencing).
    private func work(on claim: Claim, slot: Int, logger: Logger) async {
        let started = ContinuousClock.now
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
        processor.progressed = { [claims, health] items in
            claims.progressed(token, items: items)
            claims.answered(slot: slot)
            health.answered()
        }
        do {
            switch try await processor.run() {
            case .finished(let results):
                logFinished(results, duration: ContinuousClock.now - started, logger: logger)
            case .stopped:
                let released = try await store.release(claim)
                logger.info("released unfinished jobs on shutdown", metadata: ["released": .jobIDs(released)])
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
                logger.warning(
                    claims.isAbandoned(token)
                        ? "claim abandoned after making no progress for the stall limit; its work was cancelled"
                        : "claim interrupted (shutdown past its grace period, or the watchdog); its leases will expire and it will be rescued",
                    metadata: ["stall_limit_ms": .milliseconds(settings.stallLimit)])
                return
            }
            configuration.invalidate()
            let message = PostgresErrors.message(error)
            // Said now, not when the database is back: the retry is recorded
            // when it answers (settle), or the lease expires.
            logger.error(
                "claim failed; recording a retry", metadata: ["error": "\(message)", "duration_ms": .milliseconds(ContinuousClock.now - started)])
            await settle(claim, error: message, logger: logger)
        }
    }

    /// One line per finished job for a single-job claim; for a batch, one
    /// summary (`job_ids`, `statuses`, with `status` when they all share one)
    /// and the per-job lines at debug.
    private func logFinished(_ results: [JobResult], duration: Duration, logger: Logger) {
        var counts = ItemCounts()
        var statuses: [String: Int] = [:]
        for result in results {
            WorkerMetrics.job(result.status)
            counts.merge(result.counts)
            statuses[result.status.rawValue, default: 0] += 1
        }
        func fields(_ counts: ItemCounts) -> Logger.Metadata {
            [
                "items_total": .int(counts.total), "items_applied": .int(counts.applied), "items_held": .int(counts.held),
                "items_skipped": .int(counts.skipped), "items_failed": .int(counts.failed), "duration_ms": .milliseconds(duration),
            ]
        }
        if results.count == 1 {
            logger.info("job finished", metadata: fields(counts).merging(["status": "\(results[0].status.rawValue)"]) { $1 })
            return
        }
        for result in results {
            var line = logger
            line[metadataKey: "job_ids"] = nil
            line[metadataKey: "job_id"] = .int64(result.jobID)
            line.debug("job finished", metadata: fields(result.counts).merging(["status": "\(result.status.rawValue)"]) { $1 })
        }
        var summary = fields(counts)
        summary["jobs"] = .int(results.count)
        summary["statuses"] = .dictionary(statuses.mapValues { .int($0) })
        if statuses.count == 1, let status = statuses.keys.first { summary["status"] = "\(status)" }
        logger.info("jobs finished", metadata: summary)
    }

    /// Retries the claim's jobs later with backoff, or fails those out of
    /// attempts. The database may be down right now: keep trying while the
    /// claim's lease lasts (the heartbeat renews it); once it has surely
    /// expired, the jobs are rescued by the next claim (this worker's too),
    /// so trying longer would only hold the slot.
    private func settle(_ claim: Claim, error: String, logger: Logger) async {
        logger.trace("settling claim", metadata: ["error": "\(error)"])
        let backoff = settings.backoff(afterAttempts: claim.jobs.map(\.attempts).max() ?? 1)
        let lease = Duration.seconds(settings.leaseSeconds)
        for attempt in 0..<30 {
            do {
                let results = try await store.retryOrFail(claim, error: error, maxAttempts: settings.maxAttempts, backoff: backoff)
                for result in results {
                    if result.status == .failed {
                        WorkerMetrics.job(.failed)
                        logger.error("job failed for good", metadata: ["failed_job": .int64(result.jobID), "error": "\(error)"])
                    } else {
                        WorkerMetrics.retries.increment()
                        logger.warning(
                            "job will be retried",
                            metadata: ["retried_job": .int64(result.jobID), "retry_in_ms": .milliseconds(backoff), "error": "\(error)"])
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
                if claims.leaseExpired(claim.token, lease: lease) { break }
                try? await Task.sleep(for: .milliseconds(200 * min(attempt + 1, 10)))
            }
        }
        logger.error("could not record the jobs' error; their leases expire and they will be rescued", metadata: ["error": "\(error)"])
    }

    // MARK: - Background loops

    /// Every third of a lease: renews the held claims (those that made
    /// progress within the stall limit), reports their jobs' progress, and
    /// renews the worker's registry row, in one statement; idle or busy.
    private func heartbeatLoop() async {
        let interval = Duration.seconds(max(1, settings.leaseSeconds)) / 3
        var lastProgressLog: [Int64: ContinuousClock.Instant] = [:]
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            let now = ContinuousClock.now
            let (held, stalled) = claims.renewable(now: now, stallLimit: settings.stallLimit)
            for token in stalled {
                logger.error(
                    "claim made no progress for longer than the stall limit; no longer renewing its leases, cancelling its work and releasing its jobs",
                    metadata: ["claim": "\(token)", "stall_limit_ms": .milliseconds(settings.stallLimit)])
            }
            await countNewClaims(before: now - min(interval, .seconds(5)))
            let (progress, load) = claims.report(for: held, now: now)
            do {
                let still = try await store.heartbeat(held, progress: progress, worker: workerState(load: load), registryExpiry: registryExpiry)
                health.answered()
                claims.renewed(still, at: now)
                for lost in held where !still.contains(lost) && claims.all.contains(lost) {
                    logger.warning("lease lost", metadata: ["claim": "\(lost)"])
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("heartbeat failed", metadata: ["error": "\(PostgresErrors.message(error))"])
            }
            WorkerMetrics.load(load, itemsRemaining: claims.itemsRemaining)
            // A long job says how far it is, about every half minute.
            for report in progress where now - (lastProgressLog[report.jobID] ?? now - .seconds(3600)) >= .seconds(30) {
                lastProgressLog[report.jobID] = now
                var line: Logger.Metadata = [
                    "job_id": .int64(report.jobID), "items_done": .int(report.itemsDone), "items_total": .int(report.itemsTotal),
                    "items_per_second": .number(report.itemsPerSecond),
                ]
                if report.itemsPerSecond > 0 {
                    line["eta_seconds"] = .int(Int((Double(max(0, report.itemsTotal - report.itemsDone)) / report.itemsPerSecond).rounded()))
                }
                logger.info("job progress", metadata: line)
            }
            lastProgressLog = lastProgressLog.filter { now - $0.value < .seconds(3600) }
        }
    }

    /// Counts the items of the jobs of claims held since before `cutoff`
    /// that have not been counted (once per long claim, like its finish).
    private func countNewClaims(before cutoff: ContinuousClock.Instant) async {
        let jobs = claims.uncountedJobs(claimedBefore: cutoff)
        guard !jobs.isEmpty else { return }
        do {
            let processed = Dictionary(jobs.map { ($0.job, $0.processed) }, uniquingKeysWith: { first, _ in first })
            for count in try await store.itemCounts(of: jobs.map(\.job)) {
                claims.setCount(job: count.job, total: count.total, pending: count.pending, processedBefore: processed[count.job] ?? 0)
            }
        } catch {
            logger.debug("could not count the items of running jobs for their progress", metadata: ["error": "\(PostgresErrors.message(error))"])
        }
    }

    /// Ends the engine when the database has not answered the worker, or one
    /// slot that is waiting for it, for the watchdog's time. As soon as the
    /// worker has heard nothing for a few seconds, it asks a new connection
    /// what is wrong (``ConnectionCheck``) and logs the cause once, at error
    /// level, and that the database answers again when it does.
    private func watchdogLoop() async -> End? {
        let tick = max(Duration.milliseconds(200), min(settings.watchdog / 8, .seconds(1)))
        let quiet = max(settings.pollInterval, .seconds(max(1, settings.leaseSeconds)) / 3) + .seconds(2)
        var outage: (cause: String, since: ContinuousClock.Instant)?
        var lastProbe: ContinuousClock.Instant?
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            guard !Task.isCancelled else { return nil }
            let now = ContinuousClock.now
            let silence = health.silence(now: now)
            if let (slot, slotSilence) = claims.longestSilence(now: now), slotSilence > settings.watchdog {
                logger.error(
                    "watchdog: a slot has had no answer from the database for longer than the watchdog allows",
                    metadata: ["slot": .int(slot), "silence_ms": .milliseconds(slotSilence)])
                return .stalled(silence: slotSilence, answered: health.answeredSinceReconnect)
            }
            if silence > settings.watchdog { return .stalled(silence: silence, answered: health.answeredSinceReconnect) }
            if silence < quiet {
                if let ended = outage {
                    logger.notice("the database answers again", metadata: ["outage_ms": .milliseconds(now - ended.since)])
                    health.databaseCause(nil)
                    outage = nil
                }
                lastProbe = nil
                continue
            }
            guard lastProbe.map({ now - $0 >= .seconds(30) }) ?? true else { continue }
            lastProbe = now
            let check = await probe()
            guard let failure = check else { continue }
            health.databaseCause(failure.message)
            if outage?.cause != failure.message {
                logger.error(
                    "the database does not answer: \(failure.message)",
                    metadata: ["hint": "\(failure.hint)", "silence_ms": .milliseconds(silence)])
            }
            outage = (failure.message, outage?.since ?? now - silence)
        }
        return nil
    }

    /// One new connection to the database, bounded: why it cannot be used,
    /// or nil when it can (the worker's own connections are then the problem,
    /// e.g. half-open ones, which their deadlines close).
    private func probe() async -> ConnectionCheck.Failure? {
        do {
            try await ConnectionCheck.run(url: url, requireSchema: false, connectTimeout: .seconds(3), logger: logger)
            return nil
        } catch let failure as ConnectionCheck.Failure {
            return failure
        } catch {
            return nil
        }
    }

    /// `error` in words, with the cause a new connection finds when the
    /// error itself does not name one (the pool's circuit breaker).
    private func cause(of error: any Error) async -> String {
        if PostgresErrors.serverError(error) == nil, let failure = await probe() { return failure.message }
        return PostgresErrors.message(error)
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
        let setup = SessionSetup.current
        while !Task.isCancelled {
            health.listener(.connecting)
            let arrivals = Listener.Arrivals()
            do {
                let configuration = try url.connectionConfiguration(applicationName: settings.applicationName, session: settings.session)
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: Worker.driverLogger(logger))
                defer { connection.closeWithoutWaiting() }
                try await QueryDeadline.$limit.withValue(settings.shortQueryDeadline) { try await setup?.prepare(connection) }
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
                            metadata: ["poll_interval_ms": .milliseconds(settings.pollInterval)])
                        return
                    }
                }
                WorkerMetrics.reconnects.increment()
                logger.warning(
                    "notification listener disconnected; polling continues, reconnecting",
                    metadata: ["error": "\(PostgresErrors.message(error))", "retry_in_ms": .milliseconds(delay)])
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
