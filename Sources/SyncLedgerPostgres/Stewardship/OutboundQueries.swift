import Foundation
import Logging
import PostgresNIO

/// What `syncledger outbound` does, as library calls: a connector claims the
/// oldest outbound job of its system (`integration.claim_outbound`, with
/// `FOR UPDATE SKIP LOCKED`, so several connector instances never wait for
/// each other), delivers its items, and acknowledges it
/// (`integration.ack_outbound`, fenced by the claim's token). See
/// `sql/code/20_jobs.sql`.
public struct OutboundQueries: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The lease owner a connector uses when it names none: `HOST:outbound`.
    public static var defaultOwner: String { "\(ProcessInfo.processInfo.hostName):outbound" }

    /// A claimed outbound job and the items to deliver.
    public struct Claim: Sendable, Equatable {
        /// The job: `job_id`, `source_system_key`, `claim_token`, `lease_owner`,
        /// `lease_expires_at`, `attempts`, `items_total`, `submitted_at`.
        public var job: Listing
        /// Its Pending items in `seq` order (``itemColumns``).
        public var items: Listing

        public var jobID: Int64 { Int64(job.value("job_id") ?? "") ?? 0 }
        public var leaseExpiresAt: String? { job.value("lease_expires_at") }
        public var attempts: Int { Int(job.value("attempts") ?? "") ?? 0 }
        /// The claim's fencing token: ``OutboundQueries/acknowledge(_:claim:)`` checks it.
        public var token: UUID? { job.value("claim_token").flatMap(UUID.init(uuidString:)) }
    }

    /// The columns of ``Claim/items``, in order: one JSON object per item
    /// with these keys is what `syncledger outbound next` prints.
    public static let itemColumns = [
        "job_id", "item_id", "seq", "external_key", "target_table", "operation", "field_name", "new_value", "target_id",
        "ledger_id",
    ]

    /// Claims the oldest claimable outbound job of `source` (Submitted, or
    /// Processing with an expired lease) for `owner` for `leaseSeconds`, and
    /// reads its items, in one transaction. Nil when there is none. Throws a
    /// ``StewardError`` for an unknown or inactive source system.
    public func claim(source: String, owner: String = OutboundQueries.defaultOwner, leaseSeconds: Int = 300) async throws
        -> Claim?
    {
        guard leaseSeconds > 0 else { throw StewardError(message: "the lease must be a positive number of seconds, got \(leaseSeconds)") }
        guard !owner.trimmingCharacters(in: .whitespaces).isEmpty else { throw StewardError(message: "the lease owner must not be empty") }
        let logger = logger
        let lease = Int32(clamping: leaseSeconds)
        return try await client.transaction(logger: logger) { conn -> Claim? in
            let known = try await Listing.query(
                "SELECT is_active FROM integration.source_system WHERE source_system_key = \(source)", on: conn, logger: logger)
            guard !known.rows.isEmpty else {
                throw StewardError(
                    message: "unknown source system '\(source)'",
                    hint: "pass --source with a source_system_key of integration.source_system")
            }
            guard known.value("is_active") == "true" else {
                throw StewardError(
                    message: "source system '\(source)' is inactive: it receives no outbound jobs",
                    hint: "an administrator sets integration.source_system.is_active to true to resume")
            }
            let job = try await Listing.query(
                """
                SELECT j.job_id, j.source_system_key, j.claim_token, j.lease_owner, j.lease_expires_at, j.attempts, j.items_total, j.submitted_at
                  FROM integration.claim_outbound(\(source), \(owner), \(lease)) j
                """, on: conn, logger: logger)
            guard let jobID = job.value("job_id").flatMap({ Int64($0) }) else { return nil }
            let items = try await Listing.query(
                """
                SELECT i.job_id, i.item_id, i.seq, i.external_key, i.target_table, i.operation, i.field_name,
                       i.new_value, i.target_id, i.ledger_id
                  FROM integration.sync_item i
                 WHERE i.job_id = \(jobID) AND i.item_status = 'Pending'
                 ORDER BY i.seq, i.item_id
                """, on: conn, logger: logger)
            return Claim(job: job, items: items.rows.isEmpty ? Listing(columns: Self.itemColumns.map { .init($0) }, rows: []) : items)
        }
    }

    /// The columns of the job ``acknowledge(_:claim:)`` returns.
    public static let jobColumns = [
        "job_id", "source_system_key", "job_status", "items_total", "items_applied", "lease_owner", "started_at", "finished_at",
    ]

    /// Marks a claimed outbound job delivered: its Pending items become
    /// Applied and the job Completed (`integration.ack_outbound`). With
    /// `claim` (the token of ``Claim/token``), refused unless that claim still
    /// holds the job. Returns the job (``jobColumns``). Refusals: SL040 not
    /// found, SL041 not outbound, not Processing, or held by another claim.
    public func acknowledge(_ jobID: Int64, claim: UUID? = nil) async throws -> Listing {
        try await Listing.query(
            """
            SELECT j.job_id, j.source_system_key, j.job_status, j.items_total, j.items_applied, j.lease_owner,
                   j.started_at, j.finished_at
              FROM integration.ack_outbound(\(jobID), \(claim)) j
            """, on: client, logger: logger)
    }
}
