import SyncLedgerCore

/// How a claimed job ended, as `integration.finish_jobs` or `retry_jobs` recorded it.
package struct JobResult: Sendable, Equatable {
    package var jobID: Int64
    package var status: JobStatus
    package var counts: ItemCounts
}
