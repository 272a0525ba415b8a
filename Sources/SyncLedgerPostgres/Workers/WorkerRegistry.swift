import Foundation
import Logging
import PostgresNIO

/// One running job's progress, as its worker reports it with its heartbeat
/// (`integration.heartbeat`, `p_progress`).
package struct JobProgressReport: Sendable, Equatable, Encodable {
    package var jobID: Int64
    /// Items of the job with a result (not Pending).
    package var itemsDone: Int
    package var itemsTotal: Int
    /// Since the previous report.
    package var itemsPerSecond: Double

    package init(jobID: Int64, itemsDone: Int, itemsTotal: Int, itemsPerSecond: Double) {
        self.jobID = jobID
        self.itemsDone = itemsDone
        self.itemsTotal = itemsTotal
        self.itemsPerSecond = itemsPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", itemsDone = "items_done", itemsTotal = "items_total", itemsPerSecond = "items_per_second"
    }
}

/// A worker's row in the registry of live workers (`integration.worker`), as
/// it reports it with every heartbeat (`integration.worker_heartbeat`).
package struct WorkerState: Sendable, Equatable, Encodable {
    package var workerID: String
    package var host: String
    package var pid: Int32
    package var version: String
    package var startedAt: Date
    package var slots: Int
    package var busySlots: Int
    package var jobsHeld: Int
    package var itemsPerSecond: Double

    package init(
        workerID: String, host: String, pid: Int32, version: String, startedAt: Date, slots: Int, busySlots: Int = 0, jobsHeld: Int = 0,
        itemsPerSecond: Double = 0
    ) {
        self.workerID = workerID
        self.host = host
        self.pid = pid
        self.version = version
        self.startedAt = startedAt
        self.slots = slots
        self.busySlots = busySlots
        self.jobsHeld = jobsHeld
        self.itemsPerSecond = itemsPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id", host, pid, version, startedAt = "started_at", slots, busySlots = "busy_slots", jobsHeld = "jobs_held"
        case itemsPerSecond = "items_per_second"
    }
}

/// The workers and running jobs as operators watch them: the registry of
/// live workers (`integration.live_workers`) and the progress of every
/// inbound job being processed. `syncledger status` prints it; the metrics
/// export the number of live workers by state.
public struct WorkerRegistry: Sendable, Codable, Equatable {
    /// A worker whose registry row has not expired.
    public struct LiveWorker: Sendable, Codable, Equatable {
        public var workerID: String
        public var host: String
        public var pid: Int?
        public var version: String
        public var startedAt: Date
        public var lastHeartbeat: Date
        /// Seconds since its last heartbeat.
        public var heartbeatAgeSeconds: Double
        public var expiresAt: Date
        /// `busy` (a slot holds a claim) or `idle`.
        public var state: String
        public var slots: Int
        public var busySlots: Int
        public var jobsHeld: Int
        public var itemsPerSecond: Double
    }

    /// An inbound job being processed, with its progress as its worker last
    /// reported it (nil fields: no report yet, e.g. a job claimed less than
    /// one heartbeat ago).
    public struct RunningJob: Sendable, Codable, Equatable {
        public var jobID: Int64
        public var source: String
        public var leaseOwner: String?
        public var startedAt: Date?
        public var itemsDone: Int?
        public var itemsTotal: Int?
        public var itemsPerSecond: Double?
        /// Seconds left at that rate; nil when unknown.
        public var etaSeconds: Double?
        public var progressAt: Date?

        /// Fraction done, 0...1, when known.
        public var fractionDone: Double? {
            guard let done = itemsDone, let total = itemsTotal, total > 0 else { return nil }
            return min(1, Double(done) / Double(total))
        }

        /// As synthesised, but every optional field present as `null` rather than absent.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(jobID, forKey: .jobID)
            try container.encode(source, forKey: .source)
            try container.encode(leaseOwner, forKey: .leaseOwner)
            try container.encode(startedAt, forKey: .startedAt)
            try container.encode(itemsDone, forKey: .itemsDone)
            try container.encode(itemsTotal, forKey: .itemsTotal)
            try container.encode(itemsPerSecond, forKey: .itemsPerSecond)
            try container.encode(etaSeconds, forKey: .etaSeconds)
            try container.encode(progressAt, forKey: .progressAt)
        }
    }

    public var workers: [LiveWorker] = []
    public var running: [RunningJob] = []

    public init() {}

    /// Reads the live workers and the running jobs' progress on `connection`.
    /// Throws the server's error on a schema without the registry (older
    /// than this binary): the caller decides what to show instead.
    public static func load(on connection: PostgresConnection, logger: Logger) async throws -> WorkerRegistry {
        var registry = WorkerRegistry()
        let rows = try await connection.checkedRows(
            """
            SELECT worker_id, host, pid, version, started_at, heartbeat_at, heartbeat_age_seconds, expires_at, state,
                   slots, busy_slots, jobs_held, items_per_second::float8
              FROM integration.live_workers
             ORDER BY worker_id
            """, logger: logger)
        registry.workers = try rows.map { row in
            let cells = row.makeRandomAccess()
            let pid = try cells["pid"].decode(Int32?.self)
            return LiveWorker(
                workerID: try cells["worker_id"].decode(String.self), host: try cells["host"].decode(String.self), pid: pid.map(Int.init),
                version: try cells["version"].decode(String.self), startedAt: try cells["started_at"].decode(Date.self),
                lastHeartbeat: try cells["heartbeat_at"].decode(Date.self),
                heartbeatAgeSeconds: max(0, try cells["heartbeat_age_seconds"].decode(Double.self)),
                expiresAt: try cells["expires_at"].decode(Date.self), state: try cells["state"].decode(String.self),
                slots: Int(try cells["slots"].decode(Int32.self)), busySlots: Int(try cells["busy_slots"].decode(Int32.self)),
                jobsHeld: Int(try cells["jobs_held"].decode(Int32.self)), itemsPerSecond: try cells["items_per_second"].decode(Double.self))
        }
        // Processing inbound jobs: through the claim index (sync_job_claim),
        // so the cost follows the jobs in flight, not the history.
        registry.running = try await connection.checkedRows(
            """
            SELECT job_id, source_system_key, lease_owner, started_at, items_done,
                   CASE WHEN items_done IS NOT NULL THEN items_total END, items_per_second::float8, progress_at
              FROM integration.sync_job
             WHERE direction = 'Inbound' AND job_status = 'Processing'
             ORDER BY priority DESC, submitted_at, job_id
            """, logger: logger
        ).decoded((Int64, String, String?, Date?, Int32?, Int32?, Double?, Date?).self).map { row in
            let (done, total, rate) = (row.4.map(Int.init), row.5.map(Int.init), row.6)
            var eta: Double?
            if let done, let total, let rate, rate > 0 { eta = Double(max(0, total - done)) / rate }
            return RunningJob(
                jobID: row.0, source: row.1, leaseOwner: row.2, startedAt: row.3, itemsDone: done, itemsTotal: total, itemsPerSecond: rate,
                etaSeconds: eta, progressAt: row.7)
        }
        return registry
    }

    /// Live workers by state (`idle`, `busy`), for the metrics.
    public static func countByState(on connection: PostgresConnection, logger: Logger) async throws -> [String: Int] {
        let rows = try await connection.checkedRows(
            "SELECT state, count(*) FROM integration.live_workers GROUP BY state", logger: logger
        ).decoded((String, Int64).self)
        return Dictionary(rows.map { ($0.0, Int($0.1)) }, uniquingKeysWith: +)
    }
}
