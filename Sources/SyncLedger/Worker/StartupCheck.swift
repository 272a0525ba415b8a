import Logging
import ServiceLifecycle

extension Worker {
    /// How many times a fatal cause (password, TLS, database name, schema) is
    /// tried before the worker exits: a schema being migrated right now, or
    /// a role being created, gets a few seconds; a wrong password does not
    /// get a login attempt every few seconds for ever (account lockout).
    static let fatalAttempts = 3
    /// The pause between attempts after a fatal cause.
    static let fatalRetryDelay: Duration = .seconds(2)

    /// Checks the database once before the pool starts (``ConnectionCheck``:
    /// one connection, a few seconds, the cause named), and decides:
    ///
    /// - transient causes (refused, unreachable, server starting): retried
    ///   with backoff up to 30 s, for ever (or for
    ///   ``WorkerSettings/startPatience`` with `--exit-when-idle`), each new cause logged once;
    /// - fatal causes (authentication, TLS, missing database or schema, a
    ///   schema older than this binary): retried ``fatalAttempts`` times,
    ///   then thrown, so the process exits 78 and systemd (and the operator)
    ///   see it.
    ///
    /// Returns false when a graceful shutdown came first.
    func checkDatabase() async throws -> Bool {
        let start = ContinuousClock.now
        var fatalFailures = 0
        var transientFailures = 0
        var lastLogged: ConnectionCheck.Failure.Cause?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let delay: Duration
            do {
                try await ConnectionCheck.run(url: url, requireSchema: true, migrator: migrator, logger: logger)
                if lastLogged != nil { logger.notice("the database can be used now") }
                return true
            } catch let failure as ConnectionCheck.Failure {
                if failure.isFatal {
                    fatalFailures += 1
                    if fatalFailures >= Self.fatalAttempts {
                        logger.critical(
                            "\(failure.message); giving up",
                            metadata: ["hint": "\(failure.hint)", "attempts": "\(fatalFailures)"])
                        throw failure
                    }
                    delay = Self.fatalRetryDelay
                } else {
                    fatalFailures = 0
                    transientFailures += 1
                    if settings.exitWhenIdle && ContinuousClock.now - start >= settings.startPatience {
                        logger.critical("\(failure.message); giving up after \(settings.startPatience)", metadata: ["hint": "\(failure.hint)"])
                        throw failure
                    }
                    delay = min(.milliseconds(500) * (1 << min(transientFailures, 6)), .seconds(30))
                }
                if failure.cause != lastLogged {
                    logger.error("\(failure.message); retrying", metadata: ["hint": "\(failure.hint)", "retry_in": "\(delay)"])
                    lastLogged = failure.cause
                }
            } catch {
                if Task.isCancelled { return false }
                throw error
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
        }
        return false
    }
}
