import Logging
import ServiceLifecycle
import SyncLedgerPostgres

extension Worker {
    /// How many times a fatal cause (password, TLS, database name, missing
    /// schema) is tried before the worker exits: a schema being migrated
    /// right now, or a role being created, gets a few seconds; a wrong
    /// password does not get a login attempt every few seconds for ever
    /// (account lockout).
    static let fatalAttempts = 3
    /// The pause between attempts after a fatal cause.
    static let fatalRetryDelay: Duration = .seconds(2)

    /// Checks the database once before the pool starts (``ConnectionCheck``:
    /// one connection, a few seconds, the cause named), and decides:
    ///
    /// - transient causes (refused, unreachable, server starting): retried
    ///   with backoff up to 30 s, for ever (or for
    ///   ``WorkerSettings/startPatience`` with `--exit-when-idle`), each new
    ///   cause logged once;
    /// - a schema older than this binary: the same for a long-running worker
    ///   (in a rolling upgrade, a restarted worker may run the new binary a
    ///   moment before `syncledger migrate` ran; it waits and says so, and
    ///   `/readyz` says "run `syncledger migrate`"); fatal with
    ///   `--exit-when-idle`;
    /// - fatal causes (authentication, TLS, a missing database or schema):
    ///   retried ``fatalAttempts`` times, then thrown, so the process exits
    ///   78 and systemd (and the operator) see it.
    ///
    /// The check connects as the worker's connections will (its session
    /// settings as startup parameters), so that a pooler that refuses them
    /// (PgBouncer: "unsupported startup parameter") is found now; the
    /// outcome says so, and the worker then applies them after connecting.
    ///
    /// SIGTERM ends the wait at once. Returns nil when a graceful shutdown
    /// came first.
    func checkDatabase() async throws -> ConnectionCheck.Outcome? {
        let start = ContinuousClock.now
        var fatalFailures = 0
        var waits = 0
        var lastLogged: ConnectionCheck.Failure.Cause?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var delay: Duration
            do {
                let outcome = try await cancelWhenGracefulShutdown {
                    try await ConnectionCheck.run(
                        url: self.url, requireSchema: true, migrator: self.migrator, session: self.settings.session,
                        logger: Worker.driverLogger(self.logger))
                }
                if lastLogged != nil { logger.notice("the database can be used now") }
                return outcome
            } catch let failure as ConnectionCheck.Failure {
                let outdated = if case .schemaOutdated = failure.cause { true } else { false }
                if failure.isFatal && !(outdated && !settings.exitWhenIdle) {
                    fatalFailures += 1
                    if fatalFailures >= Self.fatalAttempts {
                        logger.critical(
                            "\(failure.message); giving up",
                            metadata: ["hint": "\(failure.hint)", "attempts": .int(fatalFailures)])
                        throw failure
                    }
                    delay = Self.fatalRetryDelay
                } else {
                    fatalFailures = 0
                    waits += 1
                    delay = min(.milliseconds(500) * (1 << min(waits, 6)), .seconds(30))
                    if settings.exitWhenIdle {
                        let left = settings.startPatience - (ContinuousClock.now - start)
                        if left <= .zero {
                            logger.critical(
                                "\(failure.message); giving up after \(settings.startPatience)", metadata: ["hint": "\(failure.hint)"])
                            throw failure
                        }
                        delay = min(delay, left)
                    }
                }
                if failure.cause != lastLogged {
                    logger.error("\(failure.message); retrying", metadata: ["hint": "\(failure.hint)", "retry_in_ms": .milliseconds(delay)])
                    lastLogged = failure.cause
                }
            } catch {
                // Cancelled, or shut down while checking.
                if Task.isCancelled || Task.isShuttingDownGracefully || error is CancellationError { return nil }
                throw error
            }
            let pause = delay
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
        return nil
    }
}
