import Logging
import PostgresNIO
import SyncLedgerCore

/// Following a submitted job to its end (`syncledger submit --wait`): polls
/// its row until it is finished, then reads its counts and its first failed
/// items. Reads only the job and its items, which an upstream may read for
/// its own jobs.
public struct JobWatch: Sendable {
    /// A finished job.
    public struct Outcome: Sendable, Equatable {
        public var status: JobStatus
        public var total: Int
        public var applied: Int
        public var held: Int
        public var skipped: Int
        public var failed: Int
        public var lastError: String?
        /// The first failed items, in `seq` order.
        public var failures: [Failure]
    }

    /// One failed item.
    public struct Failure: Sendable, Equatable {
        public var seq: Int64
        public var externalKey: String?
        public var field: String?
        public var message: String?
    }

    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Waits until job `jobID` is Completed, CompletedWithErrors, Failed or
    /// Cancelled; `onChange` hears each status it passes through.
    public func wait(
        for jobID: Int64, firstFailures: Int = 10, pollInterval: Duration = .milliseconds(500),
        onChange: @Sendable (JobStatus) -> Void = { _ in }
    ) async throws -> Outcome {
        var last: JobStatus?
        while true {
            guard
                let (statusText, total, applied, held, skipped, failed, lastError) = try await client.collect(
                    """
                    SELECT job_status, items_total, items_applied, items_held, items_skipped, items_failed, last_error
                      FROM integration.sync_job WHERE job_id = \(jobID)
                    """, as: (String, Int32, Int32, Int32, Int32, Int32, String?).self, logger: logger
                ).first
            else {
                throw StewardError(message: "sync job \(jobID) not found (was it pruned?)")
            }
            let status = JobStatus(rawValue: statusText) ?? .submitted
            if status != last {
                onChange(status)
                last = status
            }
            switch status {
            case .completed, .completedWithErrors, .failed, .cancelled:
                let failures = try await client.collect(
                    """
                    SELECT seq, external_key, field_name, process_message
                      FROM integration.sync_item
                     WHERE job_id = \(jobID) AND item_status = 'Failed'
                     ORDER BY seq, item_id
                     LIMIT \(Int64(firstFailures))
                    """, as: (Int64, String?, String?, String?).self, logger: logger
                ).map { Failure(seq: $0.0, externalKey: $0.1, field: $0.2, message: $0.3) }
                return Outcome(
                    status: status, total: Int(total), applied: Int(applied), held: Int(held), skipped: Int(skipped), failed: Int(failed),
                    lastError: lastError, failures: failures)
            case .draft, .submitted, .processing:
                try await Task.sleep(for: pollInterval)
            }
        }
    }
}
