import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerPostgres

/// Checkpoints of the Merkle log on a schedule (`--checkpoint-every 1h`,
/// `SYNCLEDGER_CHECKPOINT_EVERY`; off by default): every ``interval`` it
/// appends the sealed links to the log (``LedgerProofs/checkpoint(origin:)``)
/// and logs the new tree head as JSON at info level, so that a log shipper
/// carries it out of the database, where an auditor keeps it. Several
/// workers may run it: checkpoints are taken one at a time and never make a
/// writer wait. Errors are logged and retried at the next interval.
struct CheckpointLoop: Sendable {
    /// Time between checkpoints.
    var interval: Duration

    private let proofs: LedgerProofs
    private let logger: Logger

    init(client: PostgresClient, interval: Duration, logger: Logger) {
        self.interval = interval
        self.proofs = LedgerProofs(client: client, logger: logger)
        self.logger = logger
    }

    /// Runs until cancelled; the first checkpoint is taken after one interval.
    func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do {
                let checkpoint = try await proofs.checkpoint()
                let json = String(decoding: try ProofJSON.encode(checkpoint), as: UTF8.self)
                    .replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: "  ", with: "")
                logger.info(
                    "checkpoint taken",
                    metadata: ["tree_size": .stringConvertible(checkpoint.treeSize), "root": "\(checkpoint.root.hex)", "checkpoint": "\(json)"])
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("checkpoint failed; retrying later", metadata: ["error": "\(PostgresErrors.message(error))"])
            }
        }
    }
}
