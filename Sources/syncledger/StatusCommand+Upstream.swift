import Foundation
import Logging
import SyncLedgerPostgres

/// `syncledger status` for an upstream system's login: its own jobs with
/// their progress, their failed items, and the stewards' decisions on its
/// values (``UpstreamStatus``), instead of the operators' queues, which it
/// may not read.
extension StatusCommand {
    /// Prints the upstream's view and returns true when the login is an
    /// upstream's (``UpstreamStatus/applies(on:logger:)``); false otherwise.
    func showUpstreamStatus(url: DatabaseURL, outcome: ConnectionCheck.Outcome, logger: Logger) async throws -> Bool {
        let status: UpstreamStatus?
        do {
            status = try await Database.withClient(url, applicationName: "syncledger status", maximumConnections: 1, logger: logger) {
                client in
                guard try await UpstreamStatus.applies(on: client, logger: logger) else { return nil }
                return try await UpstreamStatus.load(on: client, logger: logger)
            }
        } catch {
            throw StewardCommand.fail(error, url: url)
        }
        guard let status else { return false }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Console.print(String(decoding: try encoder.encode(UpstreamReport(status: status, url: url)), as: UTF8.self))
        } else {
            Console.print(Self.upstreamText(status, url: url))
        }
        return true
    }

    /// What `--json` prints for an upstream: the same as the tables.
    struct UpstreamReport: Encodable {
        var version = SyncLedgerVersion.current
        var database: String
        var takenAt = Date()
        var status: UpstreamStatus

        init(status: UpstreamStatus, url: DatabaseURL) {
            self.status = status
            database = url.description
        }

        enum CodingKeys: String, CodingKey {
            case version, database, takenAt, sources, jobsByStatus, jobs, failedItems, decisionsByKind, decisions
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encode(database, forKey: .database)
            try container.encode(takenAt, forKey: .takenAt)
            try container.encode(status.sources, forKey: .sources)
            try container.encode(status.jobsByStatus, forKey: .jobsByStatus)
            try container.encode(status.jobs, forKey: .jobs)
            try container.encode(status.failedItems, forKey: .failedItems)
            try container.encode(status.decisionsByKind, forKey: .decisionsByKind)
            try container.encode(status.decisions, forKey: .decisions)
        }
    }

    static func upstreamText(_ status: UpstreamStatus, url: DatabaseURL) -> String {
        let sources = status.sources.isEmpty ? "no source system names this login" : "source system(s) \(status.sources.joined(separator: ", "))"
        var sections = ["syncledger \(SyncLedgerVersion.current) · \(url) · upstream view: \(sources)"]
        func section(_ title: String, _ columns: [String], _ rows: [[String?]], width: Int = 60) {
            sections.append("== \(title)\n" + TextTable(columns: columns, rows: rows).render(maxWidth: width))
        }
        func counts(_ byKey: [String: Int]) -> String {
            byKey.isEmpty ? "none" : byKey.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        section(
            "Your jobs, newest first (all inbound jobs: \(counts(status.jobsByStatus)))",
            ["job_id", "job_key", "status", "submitted", "progress", "applied", "held", "skipped", "failed"],
            status.jobs.map {
                [
                    "\($0.jobID)", $0.jobKey, $0.status, $0.submittedAt.map(time), "\($0.total - $0.pending)/\($0.total) (\($0.percentDone)%)",
                    "\($0.applied)", "\($0.held)", "\($0.skipped)", "\($0.failed)",
                ]
            })
        section(
            "Failed items of these jobs (first 10; all: SELECT * FROM integration.sync_item WHERE job_id = … AND item_status = 'Failed')",
            ["job_id", "seq", "external_key", "field", "message"],
            status.failedItems.map { ["\($0.jobID)", "\($0.seq)", $0.externalKey, $0.field, $0.message] }, width: 200)
        section(
            "Stewards' decisions on your values, newest first (all: \(counts(status.decisionsByKind)); integration.my_decisions)",
            ["decided", "decision", "external_key", "field", "value", "reason", "notes", "by"],
            status.decisions.map {
                [time($0.decidedAt), $0.decision, $0.externalKey, $0.field, $0.value, $0.reasonCode, $0.notes, $0.decidedBy]
            })
        return sections.joined(separator: "\n\n")
    }
}
