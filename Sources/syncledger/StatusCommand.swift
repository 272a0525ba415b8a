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
            live workers (host, version, started, last heartbeat, jobs held, idle or busy) and the progress of running \
            jobs (items done, rate, ETA): StatusCommand+Workers.swift; \
            pending ledger entries per target table (the stewards' review backlog); failed inbound items per source \
            (fix the cause, then SELECT integration.requeue_failed(job_id)); outbound jobs waiting per receiving system.

            --json prints the same as one JSON document (lags and ages in seconds, times in ISO 8601 UTC).

            On a schema older or newer than this binary (mid-upgrade), status shows what it can and says what it \
            could not read, with a warning on stderr.

            Exit status: 0; 69 when the database cannot be reached; 78 when the password, TLS settings or database \
            name are wrong, or the database has no syncledger schema at all (the message names which).

            An upstream system's login (a member of syncledger_upstream) sees instead its own jobs, newest first, with \
            their progress and counts, the failed items of those jobs with the reason, and the stewards' decisions on \
            its values (integration.my_decisions: certified, rejected with the reason, revoked, approved).

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
        /// Live workers and running jobs (nil on a schema without them).
        var registry: WorkerRegistry?
        /// What could not be read, and why.
        var warnings: [String] = []

        enum CodingKeys: String, CodingKey {
            case version, database, schemaMigrations, takenAt, jobs, inbound, leases, reviewBacklog, failedItems, outbound
            case workers, running, warnings
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
            try container.encode(registry?.workers, forKey: .workers)
            try container.encode(registry?.running, forKey: .running)
            try container.encode(warnings, forKey: .warnings)
        }
    }

    func run() async throws {
        let json = json
        let logger = Logs.bootstrap(defaultLevel: .warning)
        let url = try connection.requiredURL()
        let (outcome, schemaWarnings) = try await Self.checkSchema(
            url, migrator: CheckedDatabase.migrator(connection, logger: logger), logger: logger)
        var warnings = schemaWarnings
        // An upstream system's login sees its own jobs and decisions (StatusCommand+Upstream.swift).
        if try await showUpstreamStatus(url: url, outcome: outcome, logger: logger) { return }
        let snapshot: QueueSnapshot
        let registry: WorkerRegistry?
        do {
            let registryWarning: String?
            (snapshot, registry, registryWarning) = try await Database.withClient(
                url, applicationName: "syncledger status", maximumConnections: 1, logger: logger
            ) { client in
                try await client.withConnection { connection in
                    let snapshot = try await QueueSnapshot.load(on: connection, logger: logger, allStatuses: true)
                    let (registry, warning) = try await Self.loadRegistry(on: connection, logger: logger)
                    return (snapshot, registry, warning)
                }
            }
            if let registryWarning { warnings.append(registryWarning) }
        } catch {
            throw StewardCommand.fail(error, url: url)
        }
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let report = Report(
                version: SyncLedgerVersion.current, database: url.description, schemaMigrations: outcome.appliedMigrations,
                takenAt: Date(), snapshot: snapshot, registry: registry, warnings: warnings)
            Console.print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            Console.print(Self.text(snapshot, registry: registry, url: url, outcome: outcome))
        }
    }

    static func text(_ snapshot: QueueSnapshot, registry: WorkerRegistry?, url: DatabaseURL, outcome: ConnectionCheck.Outcome) -> String {
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
        sections += workerSections(registry)
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
