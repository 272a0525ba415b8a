import ArgumentParser
import Foundation
import Logging
import SyncLedgerPostgres

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the queues: jobs by status, queue depth and lag per source, workers and their leases, review backlog, failed items.",
        discussion: """
            Sections: jobs by direction and status (with their items); the inbound queue per source system (ready = \
            claimable now, backing_off = waiting for a retry, processing, lag = how long the oldest ready job has waited); \
            leases per worker (and per connector for outbound jobs), with expired leases that the next claim rescues; \
            pending ledger entries per target table (the stewards' review backlog); failed inbound items per source \
            (fix the cause, then SELECT integration.requeue_failed(job_id)); outbound jobs waiting per receiving system.

            --json prints the same as one JSON document (lags and ages in seconds, times in ISO 8601 UTC).

            Exit status: 0; 69 when the database cannot be reached; 78 when the password, TLS settings, database \
            name or schema are wrong (the message names which).

            Examples:
              syncledger status
              syncledger status --json | jq '.inbound[] | select(.lag_seconds > 300)'
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print one JSON document instead of tables.")
    var json = false

    func validate() throws { _ = try connection.requiredURL() }

    /// What `--json` prints.
    struct Report: Encodable {
        var version: String
        var database: String
        var schemaMigrations: [String]
        var takenAt: Date
        var snapshot: QueueSnapshot

        enum CodingKeys: String, CodingKey {
            case version, database, schemaMigrations, takenAt, jobs, inbound, leases, reviewBacklog, failedItems, outbound
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encode(database, forKey: .database)
            try container.encode(schemaMigrations, forKey: .schemaMigrations)
            try container.encode(takenAt, forKey: .takenAt)
            try container.encode(snapshot.jobs, forKey: .jobs)
            try container.encode(snapshot.inbound, forKey: .inbound)
            try container.encode(snapshot.leases, forKey: .leases)
            try container.encode(snapshot.reviewBacklog, forKey: .reviewBacklog)
            try container.encode(snapshot.failedItems, forKey: .failedItems)
            try container.encode(snapshot.outbound, forKey: .outbound)
        }
    }

    func run() async throws {
        let json = json
        let logger = Logs.bootstrap(defaultLevel: .warning)
        let url = try connection.requiredURL()
        let outcome = try await CheckedDatabase.check(
            url, requireSchema: true, migrator: CheckedDatabase.migrator(connection, logger: logger), logger: logger)
        let snapshot: QueueSnapshot
        do {
            snapshot = try await Database.withClient(url, applicationName: "syncledger status", maximumConnections: 1, logger: logger) {
                try await QueueSnapshot.load(on: $0, logger: logger, allStatuses: true)
            }
        } catch {
            throw StewardCommand.fail(error, url: url)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let report = Report(
                version: SyncLedgerVersion.current, database: url.description, schemaMigrations: outcome.appliedMigrations,
                takenAt: Date(), snapshot: snapshot)
            Console.print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            Console.print(Self.text(snapshot, url: url, outcome: outcome))
        }
    }

    static func text(_ snapshot: QueueSnapshot, url: DatabaseURL, outcome: ConnectionCheck.Outcome) -> String {
        var schema = "schema not compared"
        if let newest = outcome.appliedMigrations.last {
            schema = "schema: \(outcome.appliedMigrations.count) migrations, newest \(newest)"
        }
        var sections = ["syncledger \(SyncLedgerVersion.current) · \(url) · \(schema)"]
        func section(_ title: String, _ columns: [String], _ rows: [[String?]]) {
            sections.append("== \(title)\n" + TextTable(columns: columns, rows: rows).render(maxWidth: 60))
        }
        section(
            "Jobs by status", ["direction", "status", "jobs", "items"],
            snapshot.jobs.map { [$0.direction, $0.status, "\($0.jobs)", $0.items.map(String.init)] })
        section(
            "Inbound queue by source (lag: how long the oldest ready job has waited)",
            ["source", "ready", "backing_off", "processing", "lag"],
            snapshot.inbound.map { ["\($0.source)", "\($0.ready)", "\($0.backingOff)", "\($0.processing)", $0.lagSeconds.map(age) ?? "-"] })
        section(
            "Workers and their leases", ["owner", "direction", "jobs", "next_expiry", "expired"],
            snapshot.leases.map { [$0.owner, $0.direction, "\($0.jobs)", $0.nextExpiry.map(time), "\($0.expired)"] })
        section(
            "Review backlog: pending ledger entries by table (syncledger steward queue)", ["target_table", "pending", "oldest"],
            snapshot.reviewBacklog.map { [$0.targetTable, "\($0.pending)", age($0.oldestAgeSeconds)] })
        section(
            "Failed items by source (fix the cause, then SELECT integration.requeue_failed(job_id))", ["source", "items", "jobs"],
            snapshot.failedItems.map { [$0.source, "\($0.items)", "\($0.jobs)"] })
        section(
            "Outbound jobs waiting for their connector", ["source", "waiting", "oldest"],
            snapshot.outbound.map { [$0.source, "\($0.waiting)", age($0.oldestAgeSeconds)] })
        return sections.joined(separator: "\n\n")
    }

    /// `3d4h`, `2h5m`, `4m12s`, `9s`.
    static func age(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        let (days, hours, minutes, secs) = (total / 86400, total % 86400 / 3600, total % 3600 / 60, total % 60)
        if days > 0 { return "\(days)d\(hours)h" }
        if hours > 0 { return "\(hours)h\(minutes)m" }
        if minutes > 0 { return "\(minutes)m\(secs)s" }
        return "\(secs)s"
    }

    static func time(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
