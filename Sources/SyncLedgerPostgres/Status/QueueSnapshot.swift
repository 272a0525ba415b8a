import Foundation
import Logging
import PostgresNIO

/// The state of the queues as operators watch it: open jobs by status, the
/// inbound queue and its lag per source, workers and their leases, the
/// review backlog per table, failed items, and outbound jobs waiting per
/// system. `syncledger status` prints it; ``DatabaseGauges`` exports it.
///
/// Every query reads only rows that are open or need attention, through
/// partial indexes (`sync_job_claim`, `sync_job_outbound_claim`, and those of
/// `sql/schema/001_baseline.sql`), so its cost follows the backlog, not the
/// history. Only ``load(on:logger:allStatuses:)`` with `allStatuses` reads
/// every job (for `status`, on demand).
public struct QueueSnapshot: Sendable, Codable, Equatable {
    public struct JobCount: Sendable, Codable, Equatable {
        public var direction: String
        public var status: String
        public var jobs: Int
        /// Items of those jobs (only with `allStatuses`).
        public var items: Int?
    }

    /// Inbound jobs waiting for a worker, per source system.
    public struct InboundQueue: Sendable, Codable, Equatable {
        public var source: String
        /// Submitted and due now: what workers will claim next.
        public var ready: Int
        /// Submitted, waiting for a retry (`run_after` in the future).
        public var backingOff: Int
        /// Being processed (claimed, lease held).
        public var processing: Int
        /// Seconds the oldest ready job has waited since it became due; nil when none is ready.
        public var lagSeconds: Double?

        /// As synthesised, but `lag_seconds` is `null` rather than absent when nothing is ready.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(source, forKey: .source)
            try container.encode(ready, forKey: .ready)
            try container.encode(backingOff, forKey: .backingOff)
            try container.encode(processing, forKey: .processing)
            try container.encode(lagSeconds, forKey: .lagSeconds)
        }
    }

    /// Jobs held under a lease, per lease owner (workers; connectors for outbound).
    public struct Leases: Sendable, Codable, Equatable {
        public var owner: String
        public var direction: String
        public var jobs: Int
        public var nextExpiry: Date?
        /// Leases already expired: the job is rescued by the next claim.
        public var expired: Int
    }

    /// Pending ledger entries per target table.
    public struct Backlog: Sendable, Codable, Equatable {
        public var targetTable: String
        public var pending: Int
        public var oldestAgeSeconds: Double
    }

    /// Failed inbound items per source system.
    public struct FailedItems: Sendable, Codable, Equatable {
        public var source: String
        public var items: Int
        public var jobs: Int
    }

    /// Outbound jobs waiting for their connector, per receiving system.
    public struct OutboundQueue: Sendable, Codable, Equatable {
        public var source: String
        public var waiting: Int
        public var oldestAgeSeconds: Double
    }

    /// Registered source systems and target tables (so that every one has a
    /// series, at 0 when nothing waits for it).
    public var sources: [String] = []
    public var targetTables: [String] = []
    public var jobs: [JobCount] = []
    public var inbound: [InboundQueue] = []
    public var leases: [Leases] = []
    public var reviewBacklog: [Backlog] = []
    public var failedItems: [FailedItems] = []
    public var outbound: [OutboundQueue] = []

    public init() {}

    /// Reads the snapshot on one pooled connection.
    public static func load(on client: PostgresClient, logger: Logger, allStatuses: Bool = false) async throws -> QueueSnapshot {
        try await client.withConnection { connection in
            try await load(on: connection, logger: logger, allStatuses: allStatuses)
        }
    }

    /// Reads the snapshot on `connection`.
    public static func load(on connection: PostgresConnection, logger: Logger, allStatuses: Bool = false) async throws -> QueueSnapshot {
        var snapshot = QueueSnapshot()
        func rows<each Column: PostgresDecodable & Sendable>(_ query: PostgresQuery, _ columns: (repeat each Column).Type)
            async throws -> [(repeat each Column)]
        {
            try await connection.checkedRows(query, logger: logger).decoded((repeat each Column).self)
        }

        snapshot.sources = try await rows("SELECT source_system_key FROM integration.source_system ORDER BY 1", String.self)
        snapshot.targetTables = try await rows("SELECT target_table FROM integration.target_table ORDER BY 1", String.self)

        if allStatuses {
            snapshot.jobs = try await rows(
                """
                SELECT direction, job_status, count(*), coalesce(sum(items_total), 0)::bigint
                  FROM integration.sync_job GROUP BY 1, 2 ORDER BY 1, 2
                """, (String, String, Int64, Int64).self
            ).map { JobCount(direction: $0, status: $1, jobs: Int($2), items: Int($3)) }
        } else {
            snapshot.jobs = try await rows(
                """
                SELECT direction, job_status, count(*)
                  FROM integration.sync_job
                 WHERE job_status IN ('Draft', 'Submitted', 'Processing', 'Failed')
                 GROUP BY 1, 2 ORDER BY 1, 2
                """, (String, String, Int64).self
            ).map { JobCount(direction: $0, status: $1, jobs: Int($2), items: nil) }
        }

        // A job is due from its submission, or from run_after after an error.
        snapshot.inbound = try await rows(
            """
            SELECT source_system_key,
                   count(*) FILTER (WHERE job_status = 'Submitted' AND (run_after IS NULL OR run_after <= now())),
                   count(*) FILTER (WHERE job_status = 'Submitted' AND run_after > now()),
                   count(*) FILTER (WHERE job_status = 'Processing'),
                   extract(epoch FROM now() - min(greatest(submitted_at, run_after))
                     FILTER (WHERE job_status = 'Submitted' AND (run_after IS NULL OR run_after <= now())))::float8
              FROM integration.sync_job
             WHERE direction = 'Inbound' AND job_status IN ('Submitted', 'Processing')
             GROUP BY 1 ORDER BY 1
            """, (String, Int64, Int64, Int64, Double?).self
        ).map { InboundQueue(source: $0, ready: Int($1), backingOff: Int($2), processing: Int($3), lagSeconds: $4.map { max(0, $0) }) }

        snapshot.leases = try await rows(
            """
            SELECT coalesce(lease_owner, '(none)'), direction, count(*), min(lease_expires_at),
                   count(*) FILTER (WHERE lease_expires_at < now())
              FROM integration.sync_job
             WHERE job_status = 'Processing'
             GROUP BY 1, 2 ORDER BY 2, 1
            """, (String, String, Int64, Date?, Int64).self
        ).map { Leases(owner: $0, direction: $1, jobs: Int($2), nextExpiry: $3, expired: Int($4)) }

        snapshot.reviewBacklog = try await rows(
            """
            SELECT target_table, count(*), extract(epoch FROM now() - min(recorded_at))::float8
              FROM integration.ledger
             WHERE ledger_status = 'Pending'
             GROUP BY 1 ORDER BY 1
            """, (String, Int64, Double).self
        ).map { Backlog(targetTable: $0, pending: Int($1), oldestAgeSeconds: max(0, $2)) }

        snapshot.failedItems = try await rows(
            """
            SELECT j.source_system_key, count(*), count(DISTINCT i.job_id)
              FROM integration.sync_item i
              JOIN integration.sync_job j ON j.job_id = i.job_id
             WHERE i.item_status = 'Failed' AND j.direction = 'Inbound'
             GROUP BY 1 ORDER BY 1
            """, (String, Int64, Int64).self
        ).map { FailedItems(source: $0, items: Int($1), jobs: Int($2)) }

        snapshot.outbound = try await rows(
            """
            SELECT source_system_key, count(*), extract(epoch FROM now() - min(submitted_at))::float8
              FROM integration.sync_job
             WHERE direction = 'Outbound' AND job_status = 'Submitted'
             GROUP BY 1 ORDER BY 1
            """, (String, Int64, Double).self
        ).map { OutboundQueue(source: $0, waiting: Int($1), oldestAgeSeconds: max(0, $2)) }
        return snapshot
    }
}
