import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

/// `status`: the live workers and the running jobs' progress, and reading a
/// schema older or newer than this binary.
extension StatusCommand {
    /// Connects once and compares the schema (``ConnectionCheck``). A schema
    /// older than this binary (mid-upgrade) is no reason to show nothing:
    /// it comes back as a warning, and status shows what it can. Everything
    /// else that stops a command stops status too (exit 69 or 78).
    static func checkSchema(_ url: DatabaseURL, migrator: Migrator?, logger: Logger) async throws
        -> (ConnectionCheck.Outcome, [String])
    {
        do {
            let outcome = try await ConnectionCheck.run(url: url, requireSchema: true, migrator: migrator, logger: logger)
            var warnings: [String] = []
            if !outcome.newerMigrations.isEmpty {
                warnings.append(
                    "the schema is newer than this syncledger \(SyncLedgerVersion.current) (\(outcome.newerMigrations.joined(separator: ", "))): "
                        + "what this binary does not know is not shown; use the newer binary")
            }
            return (outcome, warnings)
        } catch let failure as ConnectionCheck.Failure {
            if case .schemaOutdated(_, let missing) = failure.cause {
                // The schema is there, only older: check it without comparing versions.
                let outcome = try await CheckedDatabase.check(url, requireSchema: true, migrator: nil, logger: logger)
                return (
                    outcome,
                    [
                        "the schema is older than this syncledger \(SyncLedgerVersion.current) (\(missing.count) migration(s) not applied: "
                            + "\(missing.joined(separator: ", "))); showing what it holds. Run `syncledger migrate` to complete the upgrade"
                    ]
                )
            }
            CheckedDatabase.report(failure)
            throw ExitCode(failure.exitCode)
        }
    }

    /// The registry of live workers and the running jobs' progress, or nil
    /// and a warning on a schema that has no registry yet.
    static func loadRegistry(on connection: PostgresConnection, logger: Logger) async throws -> (WorkerRegistry?, String?) {
        do {
            return (try await WorkerRegistry.load(on: connection, logger: logger), nil)
        } catch where [.undefinedTable, .undefinedColumn, .undefinedFunction].contains(PostgresErrors.sqlState(error)) {
            return (
                nil,
                "this schema has no registry of live workers or job progress (\(PostgresErrors.message(error))): "
                    + "run `syncledger migrate` to add them"
            )
        }
    }

    /// The text sections: live workers, and the jobs being processed.
    static func workerSections(_ registry: WorkerRegistry?) -> [String] {
        guard let registry else { return [] }
        let workers = TextTable(
            columns: ["worker", "host", "version", "state", "busy", "jobs", "items/s", "started", "heartbeat"],
            rows: registry.workers.map {
                [
                    $0.workerID, $0.host, $0.version, $0.state, "\($0.busySlots)/\($0.slots)", "\($0.jobsHeld)", rate($0.itemsPerSecond),
                    time($0.startedAt), "\(age($0.heartbeatAgeSeconds)) ago",
                ]
            })
        let running = TextTable(
            columns: ["job_id", "source", "worker", "done", "total", "progress", "items/s", "eta", "reported"],
            rows: registry.running.map { job in
                [
                    "\(job.jobID)", job.source, job.leaseOwner, job.itemsDone.map(String.init), job.itemsTotal.map(String.init),
                    job.fractionDone.map { String(format: "%.1f%%", $0 * 100) }, job.itemsPerSecond.map(rate), job.etaSeconds.map(age),
                    job.progressAt.map { "\(age(max(0, Date().timeIntervalSince($0)))) ago" },
                ]
            })
        return [
            "== Live workers (registry; a worker that stopped heartbeating drops out after one lease)\n" + workers.render(maxWidth: 40),
            "== Jobs in progress (reported with each heartbeat; a job claimed within the last heartbeat has no report yet)\n"
                + running.render(maxWidth: 40),
        ]
    }

    private static func rate(_ value: Double) -> String { String(format: "%.1f", value) }
}
