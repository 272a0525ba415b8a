import Foundation
import Logging
import PostgresNIO

/// What `syncledger status` shows an upstream system's login (a member of
/// `syncledger_upstream` that may not read the ledger): its own jobs, newest
/// first, with their progress; the failed items of those jobs; and the
/// stewards' decisions on its values (`integration.my_decisions`). Row-level
/// security keeps every query to the login's own source systems; nothing here
/// reads a table an upstream may not read.
public struct UpstreamStatus: Sendable, Codable, Equatable {
    /// One of the upstream's inbound jobs.
    public struct Job: Sendable, Codable, Equatable {
        public var jobID: Int64
        public var source: String
        public var jobKey: String?
        public var status: String
        public var submittedAt: Date?
        public var finishedAt: Date?
        public var total: Int
        public var applied: Int
        public var held: Int
        public var skipped: Int
        public var failed: Int
        /// Items not processed yet.
        public var pending: Int
        public var lastError: String?

        /// One row of the jobs query of ``UpstreamStatus/load(on:logger:jobs:decisions:)``.
        init(row: (Int64, String, String?, String, Date?, Date?, Int32, Int32, Int32, Int32, Int32, String?)) {
            jobID = row.0
            source = row.1
            jobKey = row.2
            status = row.3
            submittedAt = row.4
            finishedAt = row.5
            total = Int(row.6)
            applied = Int(row.7)
            held = Int(row.8)
            skipped = Int(row.9)
            failed = Int(row.10)
            pending = 0
            lastError = row.11
        }

        /// Items processed, in percent of all (100 for a job without items).
        public var percentDone: Int {
            total == 0 ? 100 : Int((Double(total - pending) / Double(total) * 100).rounded(.down))
        }
    }

    /// One failed item of a listed job.
    public struct FailedItem: Sendable, Codable, Equatable {
        public var jobID: Int64
        public var seq: Int64
        public var externalKey: String?
        public var field: String?
        public var message: String?
    }

    /// A steward's decision on one of the upstream's values (a row of `integration.my_decisions`).
    public struct Decision: Sendable, Codable, Equatable {
        public var decidedAt: Date
        /// `Certified`, `Rejected`, `Revoked` or `Approved`.
        public var decision: String
        public var source: String
        public var jobID: Int64?
        public var externalKey: String?
        public var field: String
        public var value: String?
        public var reasonCode: String?
        public var reason: String?
        public var notes: String?
        public var decidedBy: String

        /// One row of the decisions query of ``UpstreamStatus/load(on:logger:jobs:decisions:)``.
        init(row: (Date, String, String, Int64?, String?, String, String?, String?, String?, String?, String)) {
            decidedAt = row.0
            decision = row.1
            source = row.2
            jobID = row.3
            externalKey = row.4
            field = row.5
            value = row.6
            reasonCode = row.7
            reason = row.8
            notes = row.9
            decidedBy = row.10
        }
    }

    /// The login's source systems (`source_system.login_role`).
    public var sources: [String] = []
    /// Inbound jobs by status, all of them.
    public var jobsByStatus: [String: Int] = [:]
    /// The newest jobs, newest first.
    public var jobs: [Job] = []
    /// The first failed items of ``jobs``, by job (newest first) and `seq`.
    public var failedItems: [FailedItem] = []
    /// Decisions by kind, all of them.
    public var decisionsByKind: [String: Int] = [:]
    /// The newest decisions, newest first.
    public var decisions: [Decision] = []

    public init() {}

    /// Whether `status` on this connection should show an upstream's view:
    /// the login is a member of `syncledger_upstream` and may not read the
    /// ledger (which stewards, administrators and workers may).
    public static func applies(on client: PostgresClient, logger: Logger) async throws -> Bool {
        try await client.collect(
            """
            SELECT pg_has_role('syncledger_upstream', 'MEMBER')
                   AND NOT has_table_privilege('integration.ledger', 'SELECT')
            """, as: Bool.self, logger: logger
        ).first ?? false
    }

    /// Reads the newest `jobs` jobs and `decisions` decisions, on one connection.
    public static func load(on client: PostgresClient, logger: Logger, jobs jobLimit: Int = 20, decisions decisionLimit: Int = 20)
        async throws -> UpstreamStatus
    {
        try await client.withOpenConnection { connection in
            func rows<each Column: PostgresDecodable & Sendable>(_ query: PostgresQuery, _ columns: (repeat each Column).Type)
                async throws -> [(repeat each Column)]
            {
                try await connection.checkedRows(query, logger: logger).decoded((repeat each Column).self)
            }
            var status = UpstreamStatus()
            status.sources = try await rows("SELECT unnest(integration.my_source_systems()) ORDER BY 1", String.self)
            for (state, count) in try await rows(
                "SELECT job_status, count(*) FROM integration.sync_job WHERE direction = 'Inbound' GROUP BY 1 ORDER BY 1", (String, Int64).self)
            {
                status.jobsByStatus[state] = Int(count)
            }
            status.jobs = try await rows(
                """
                SELECT job_id, source_system_key, job_key, job_status, submitted_at, finished_at, items_total, items_applied,
                       items_held, items_skipped, items_failed, last_error
                  FROM integration.sync_job
                 WHERE direction = 'Inbound'
                 ORDER BY job_id DESC
                 LIMIT \(Int64(jobLimit))
                """, (Int64, String, String?, String, Date?, Date?, Int32, Int32, Int32, Int32, Int32, String?).self
            ).map(Job.init(row:))
            // Open jobs: their counts are stored when they finish; until then, from their items.
            let open = status.jobs.filter { ["Draft", "Submitted", "Processing"].contains($0.status) }.map(\.jobID)
            if !open.isEmpty {
                let counts = try await rows(
                    "SELECT job_id, total, applied, held, skipped, failed, pending FROM integration.job_item_counts(\(open))",
                    (Int64, Int32, Int32, Int32, Int32, Int32, Int32).self)
                for count in counts {
                    guard let index = status.jobs.firstIndex(where: { $0.jobID == count.0 }) else { continue }
                    status.jobs[index].total = Int(count.1)
                    status.jobs[index].applied = Int(count.2)
                    status.jobs[index].held = Int(count.3)
                    status.jobs[index].skipped = Int(count.4)
                    status.jobs[index].failed = Int(count.5)
                    status.jobs[index].pending = Int(count.6)
                }
            }
            let listed = status.jobs.map(\.jobID)
            if !listed.isEmpty {
                status.failedItems = try await rows(
                    """
                    SELECT job_id, seq, external_key, field_name, process_message
                      FROM integration.sync_item
                     WHERE job_id = ANY (\(listed)) AND item_status = 'Failed'
                     ORDER BY job_id DESC, seq
                     LIMIT 10
                    """, (Int64, Int64, String?, String?, String?).self
                ).map { FailedItem(jobID: $0, seq: $1, externalKey: $2, field: $3, message: $4) }
            }
            for (kind, count) in try await rows("SELECT decision, count(*) FROM integration.my_decisions GROUP BY 1 ORDER BY 1", (String, Int64).self) {
                status.decisionsByKind[kind] = Int(count)
            }
            status.decisions = try await rows(
                """
                SELECT decided_at, decision, source_system_key, job_id, external_key, field, value, reason_code, reason, notes, decided_by
                  FROM integration.my_decisions
                 ORDER BY decided_at DESC, ledger_id DESC
                 LIMIT \(Int64(decisionLimit))
                """, (Date, String, String, Int64?, String?, String, String?, String?, String?, String?, String).self
            ).map(Decision.init(row:))
            return status
        }
    }
}
