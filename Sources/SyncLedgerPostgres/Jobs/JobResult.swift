import SyncLedgerCore

/// How a claimed job ended, as `integration.finish_jobs` or `retry_jobs` recorded it.
public struct JobResult: Sendable, Equatable {
    public var jobID: Int64
    public var status: JobStatus
    public var counts: ItemCounts
}
