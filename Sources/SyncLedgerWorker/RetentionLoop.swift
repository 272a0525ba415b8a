import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerPostgres

/// Automatic retention in the worker (`--retention 30d`, `SYNCLEDGER_RETENTION`;
/// off by default): every ``interval`` it prunes finished jobs and items
/// older than the age (``Pruner``), in small batches with a pause between
/// them, so that it never competes with the worker's own chunks for long.
/// Several workers may run it at once: each batch skips what another holds.
/// Errors are logged and retried at the next interval; they never stop the
/// worker.
struct RetentionLoop: Sendable {
    /// How old a finished job must be to go.
    var age: RetentionAge
    /// Time between runs.
    var interval: Duration = .seconds(600)
    /// Items per batch (one short transaction each).
    var batch = 1000
    /// Pause between batches.
    var pause: Duration = .milliseconds(50)

    private let pruner: Pruner
    private let logger: Logger

    init(client: PostgresClient, age: RetentionAge, logger: Logger) {
        self.age = age
        self.pruner = Pruner(client: client, logger: logger)
        self.logger = logger
    }

    /// Runs until cancelled; the first run starts at once.
    func run() async {
        while !Task.isCancelled {
            do {
                let totals = try await pruner.prune(olderThan: age, batch: batch, pause: pause)
                if totals.jobs > 0 || totals.items > 0 {
                    logger.info(
                        "retention: pruned finished jobs",
                        metadata: ["older_than": "\(age)", "jobs": "\(totals.jobs)", "items": "\(totals.items)"])
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("retention: prune failed; retrying later", metadata: ["error": "\(PostgresErrors.message(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
