import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// A row of `integration.pending_items`, by column name.
private struct PendingItemRow {
    var jobIndex: Int32
    var itemID: Int64
    var seq: Int64
    var targetTable: String?
    var externalKey: String?
    var operation: String
    var fieldName: String?
    var newValue: String?
    var sourceTimestamp: Date?
    var targetID: UUID?

    init(_ row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        jobIndex = try columns["job_index"].decode(Int32.self)
        itemID = try columns["item_id"].decode(Int64.self)
        seq = try columns["seq"].decode(Int64.self)
        targetTable = try columns["target_table"].decode(String?.self)
        externalKey = try columns["external_key"].decode(String?.self)
        operation = try columns["operation"].decode(String.self)
        fieldName = try columns["field_name"].decode(String?.self)
        newValue = try columns["new_value"].decode(String?.self)
        sourceTimestamp = try columns["source_timestamp"].decode(Date?.self)
        targetID = try columns["target_id"].decode(UUID?.self)
    }
}

/// The job lifecycle as the worker sees it: calls to the functions of
/// `sql/code/20_jobs.sql`, which check the claim token in every statement.
package struct JobStore: Sendable {
    package var client: PostgresClient
    package var workerID: String
    package var leaseSeconds: Int
    /// Every statement's ``QueryDeadline``.
    package var deadline: Duration
    package var logger: Logger

    /// A store for the claims of `workerID`. `deadline` bounds each statement
    /// (the worker passes `WorkerSettings.shortQueryDeadline`, 15 s by default).
    package init(client: PostgresClient, workerID: String, leaseSeconds: Int, deadline: Duration = .seconds(15), logger: Logger) {
        self.client = client
        self.workerID = workerID
        self.leaseSeconds = leaseSeconds
        self.deadline = deadline
        self.logger = logger
    }

    /// `query`'s rows, within ``deadline``.
    private func collect<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type
    ) async throws -> [(repeat each Column)] {
        try await QueryDeadline.$limit.withValue(deadline) {
            try await client.collect(query, as: (repeat each Column).self, logger: logger)
        }
    }

    /// Ends the leases a previous run under this worker id left behind
    /// (`integration.expire_leases_of`); returns those jobs.
    package func expireLeftoverLeases() async throws -> [Int64] {
        try await collect("SELECT integration.expire_leases_of(\(workerID))", as: [Int64].self).first ?? []
    }

    /// Claims up to `maxJobs` ready jobs whose pending items add up to at most
    /// `itemBudget` (at least one job), or nil when none is ready.
    package func claim(maxJobs: Int, itemBudget: Int) async throws -> Claim? {
        let token = UUID()
        let rows = try await collect(
            """
            SELECT job_id, source_system_key, entity_type, attempts, submit_seq, rescued_from, last_error
              FROM integration.claim_jobs(\(workerID), \(token), \(Int32(clamping: leaseSeconds)),
                                          \(Int32(clamping: maxJobs)), \(Int32(clamping: itemBudget)))
            """, as: (Int64, String, String?, Int32, Int64, String?, String?).self)
        guard !rows.isEmpty else { return nil }
        return Claim(
            token: token,
            jobs: rows.map {
                ClaimedJob(
                    jobID: $0.0, source: $0.1, entityType: $0.2, attempts: Int($0.3), submitSeq: $0.4, rescuedFrom: $0.5, lastError: $0.6)
            })
    }

    /// Extends the leases of these claims, recording `progress` for their
    /// jobs in the same statement; returns the tokens still holding a job.
    /// With `worker`, the same statement renews the worker's row in the
    /// registry of live workers for `registryExpiry` (idle or busy: a worker
    /// holding no claim heartbeats all the same).
    package func heartbeat(
        _ tokens: [UUID], progress: [JobProgressReport] = [], worker: WorkerState? = nil, registryExpiry: Duration = .seconds(60)
    ) async throws -> Set<UUID> {
        guard !tokens.isEmpty || worker != nil else { return [] }
        let progressJSON = progress.isEmpty ? nil : try Self.json(progress)
        guard let worker else {
            let rows = try await collect(
                "SELECT integration.heartbeat(\(tokens)::uuid[], \(Int32(clamping: leaseSeconds)), \(progressJSON)::jsonb)",
                as: [UUID].self)
            return Set(rows.first ?? [])
        }
        let rows = try await collect(
            """
            SELECT integration.heartbeat(\(tokens)::uuid[], \(Int32(clamping: leaseSeconds)), \(progressJSON)::jsonb),
                   integration.worker_heartbeat(\(try Self.json(worker))::jsonb, \(Int32(clamping: registryExpiry.components.seconds)))::text
            """, as: ([UUID], String?).self)
        return Set(rows.first?.0 ?? [])
    }

    /// Registers the worker in the registry of live workers as it starts
    /// (removing rows that expired a day ago).
    package func register(_ worker: WorkerState, registryExpiry: Duration) async throws {
        _ = try await collect(
            "SELECT integration.register_worker(\(try Self.json(worker))::jsonb, \(Int32(clamping: registryExpiry.components.seconds)))::text",
            as: String?.self)
    }

    /// Removes the worker's row from the registry of live workers (it stops).
    package func deregister() async throws {
        _ = try await collect("SELECT integration.deregister_worker(\(workerID))::text", as: String?.self)
    }

    /// Each job's items, and how many are still pending (`job_item_counts`):
    /// once per long claim, for its progress.
    package func itemCounts(of jobs: [Int64]) async throws -> [(job: Int64, total: Int, pending: Int)] {
        guard !jobs.isEmpty else { return [] }
        return try await collect(
            "SELECT job_id, total, pending FROM integration.job_item_counts(\(jobs)::int8[])", as: (Int64, Int32, Int32).self
        ).map { ($0.0, Int($0.1), Int($0.2)) }
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The next window of the claim's pending items, in processing order.
    package func pendingItems(of claim: Claim, after cursor: ItemCursor, limit: Int) async throws -> [InboundItem] {
        let rows = try await QueryDeadline.$limit.withValue(deadline) {
            try await client.withOpenConnection { conn in
                try await conn.checkedRows(
                    """
                    SELECT * FROM integration.pending_items(\(claim.jobIDs)::int8[], \(cursor.jobIndex), \(cursor.seq),
                                                            \(cursor.itemID), \(Int32(clamping: limit)))
                    """, logger: logger)
            }
        }
        return try rows.map { row in
            let item = try PendingItemRow(row)
            let job = claim.jobs[Int(item.jobIndex) - 1]
            return InboundItem(
                itemID: item.itemID, jobID: job.jobID, position: SubmissionPosition(submit: job.submitSeq, seq: item.seq),
                sourceSystem: job.source, targetTable: item.targetTable, externalKey: item.externalKey, operation: item.operation,
                fieldName: item.fieldName, newValue: item.newValue, sourceTimestamp: item.sourceTimestamp, targetIDHint: item.targetID)
        }
    }

    /// The cursor after the last item of `window`.
    package func cursor(after window: [InboundItem], in claim: Claim) -> ItemCursor {
        guard let last = window.last, let index = claim.jobs.firstIndex(where: { $0.jobID == last.jobID }) else { return ItemCursor() }
        return ItemCursor(jobIndex: Int32(index + 1), seq: last.seq, itemID: last.itemID)
    }

    /// Records the final status and true counts of every job of the claim that
    /// has no pending item left. Jobs still holding pending items (added behind
    /// the cursor) come back with status `processing`.
    package func finish(_ claim: Claim) async throws -> [JobResult] {
        try await transition(claim, event: "finish")
    }

    /// Gives the claim's unfinished jobs back (graceful shutdown); returns them.
    @discardableResult
    package func release(_ claim: Claim) async throws -> [Int64] {
        try await transition(claim, event: "release").filter { $0.status == .submitted }.map(\.jobID)
    }

    /// After an error that is not about one item: each of the claim's jobs goes
    /// back to Submitted with `backoff`, or ends Failed after `maxAttempts`.
    package func retryOrFail(_ claim: Claim, error: String, maxAttempts: Int, backoff: Duration) async throws -> [JobResult] {
        try await transition(claim, event: "retry", error: error, maxAttempts: maxAttempts, backoff: backoff)
    }

    /// `integration.transition_jobs`: ends the claim on its jobs with `event`
    /// (the one rule of `sql/code/20_jobs.sql`); each job of the claim with
    /// the status it has now and its true counts.
    private func transition(
        _ claim: Claim, event: String, error: String? = nil, maxAttempts: Int? = nil, backoff: Duration = .zero
    ) async throws -> [JobResult] {
        let seconds = Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18
        let rows = try await collect(
            """
            SELECT job_id, job_status, total, applied, held, skipped, failed, pending
              FROM integration.transition_jobs(\(claim.token), \(claim.jobIDs)::int8[], \(event), \(error),
                                               \(maxAttempts.map { Int32(clamping: $0) }), \(seconds))
            """, as: (Int64, String, Int32, Int32, Int32, Int32, Int32, Int32).self)
        return rows.map { row in
            JobResult(
                jobID: row.0, status: JobStatus(rawValue: row.1) ?? .processing,
                counts: ItemCounts(
                    applied: Int(row.3), held: Int(row.4), skipped: Int(row.5), failed: Int(row.6), pending: Int(row.7)))
        }
    }
}
