import ArgumentParser
import Logging
import SyncLedger

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show jobs by direction and status, and the workers holding leases.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let logger = Logs.bootstrap(defaultLevel: .warning)
        let url = try connection.requiredURL()
        try await CheckedDatabase.check(
            url, requireSchema: true, migrator: CheckedDatabase.migrator(connection, logger: logger), logger: logger)
        try await Database.withClient(url, applicationName: "syncledger status", maximumConnections: 1, logger: logger) { client in
            let jobs = try await TextTable.query(
                """
                SELECT direction, job_status AS status, count(*)::text AS jobs, sum(items_total)::text AS items,
                       to_char(min(submitted_at), 'YYYY-MM-DD HH24:MI:SS') AS oldest
                  FROM integration.sync_job GROUP BY 1, 2 ORDER BY 1, 2
                """, on: client, logger: logger)
            print("== Jobs\n\(jobs.render())\n")
            let leases = try await TextTable.query(
                """
                SELECT lease_owner AS worker, count(*)::text AS jobs,
                       to_char(min(lease_expires_at), 'YYYY-MM-DD HH24:MI:SS') AS next_expiry,
                       count(*) FILTER (WHERE lease_expires_at < now())::text AS expired
                  FROM integration.sync_job WHERE job_status = 'Processing' GROUP BY 1 ORDER BY 1
                """, on: client, logger: logger)
            print("== Leases\n\(leases.render())")
        }
    }
}
