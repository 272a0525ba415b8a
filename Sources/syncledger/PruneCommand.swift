import ArgumentParser
import Foundation
import SyncLedgerCore
import SyncLedgerPostgres

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove finished jobs and their items older than an age; the ledger keeps every value's provenance.",
        discussion: """
            Removes inbound and outbound jobs that are Completed, CompletedWithErrors, Failed or Cancelled and \
            finished longer ago than --older-than, with their items, in batches of --batch items, each its own short \
            transaction (integration.prune_jobs). Jobs and items someone holds are skipped, never waited for, and \
            workers never wait for it: run it while they work. Unfinished jobs (Draft, Submitted, Processing) are \
            never touched, nor is the ledger: every entry keeps its source, source timestamp, value, job_id and \
            sync_item_id, and integration.verify_ledger() and provenance_violations() are unaffected.

            An inbound job that still has Failed (or, after it failed as a whole, Pending) items is kept with all its \
            items: those values never reached the ledger and wait for a fix and integration.requeue_failed(job_id). \
            --include-failed removes such jobs too, and their values with them.

            Workers can do the same in the background: syncledger worker --retention 30d (SYNCLEDGER_RETENTION).

            Ages: a number and a unit, s m h d w, or several: 90m, 12h, 30d, 2w, 1d12h.

            Examples:
              syncledger prune --older-than 30d --dry-run
              syncledger prune --older-than 30d
              syncledger prune --older-than 90d --include-failed
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Remove jobs finished longer ago than this, e.g. 30d.", valueName: "age"))
    var olderThan: String

    @Option(help: "Items per batch (one transaction each).")
    var batch: Int = Pruner.defaultBatch

    @Flag(help: "Show what would be removed; remove nothing.")
    var dryRun = false

    @Flag(help: "Also remove jobs whose failed items wait for a fix and requeue_failed; their values are lost.")
    var includeFailed = false

    func validate() throws {
        _ = try age()
        guard batch > 0, batch <= 1_000_000 else { throw ValidationError("--batch must be between 1 and 1000000, got \(batch)") }
        _ = try connection.requiredURL()
    }

    private func age() throws -> RetentionAge {
        guard let age = RetentionAge(parsing: olderThan) else {
            throw ValidationError("--older-than must be an age such as 30d, 12h, 2w or 1d12h, got '\(olderThan)'")
        }
        return age
    }

    func run() async throws {
        let (age, batch, dryRun, includeFailed) = (try age(), batch, dryRun, includeFailed)
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger prune") { client, logger in
            let pruner = Pruner(client: client, includeFailed: includeFailed, logger: logger)
            if dryRun {
                let preview = try await pruner.preview(olderThan: age)
                Console.print(
                    "would prune \(IntakeProgress.grouped(preview.jobs)) job(s) and \(IntakeProgress.grouped(preview.items)) item(s) "
                        + "finished before \(Self.format(preview.cutoff)) (older than \(age))"
                        + (preview.newest.map { "; the most recent of them finished \(Self.format($0))" } ?? "")
                        + "; nothing removed (--dry-run)")
                if preview.keptForRequeue > 0 {
                    Console.print(
                        "kept: \(IntakeProgress.grouped(preview.keptForRequeue)) job(s) as old whose failed items wait for a fix and "
                            + "integration.requeue_failed(job_id) (--include-failed removes them)")
                }
                return
            }
            let totals = try await pruner.prune(olderThan: age, batch: batch)
            Console.print(
                "pruned \(IntakeProgress.grouped(totals.jobs)) job(s) and \(IntakeProgress.grouped(totals.items)) item(s) "
                    + "finished more than \(age) ago, in \(totals.batches) batch(es); the ledger is unchanged")
        }
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
