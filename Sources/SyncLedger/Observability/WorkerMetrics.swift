import Metrics
import SyncLedgerCore

/// The worker's metrics (swift-metrics; exported by swift-prometheus when a
/// metrics port is configured).
enum WorkerMetrics {
    static func items(_ status: ItemStatus, _ count: Int) {
        guard count > 0 else { return }
        Counter(label: "syncledger_items_total", dimensions: [("outcome", status.rawValue)]).increment(by: count)
    }

    static func job(_ status: JobStatus) {
        Counter(label: "syncledger_jobs_total", dimensions: [("status", status.rawValue)]).increment()
    }

    static let claimDuration = Metrics.Timer(label: "syncledger_claim_duration_seconds", preferredDisplayUnit: .seconds)
    static let chunkDuration = Metrics.Timer(label: "syncledger_chunk_duration_seconds", preferredDisplayUnit: .seconds)
    static let leaseRescues = Counter(label: "syncledger_lease_rescues_total")
    static let leasesLost = Counter(label: "syncledger_leases_lost_total")
    static let retries = Counter(label: "syncledger_job_retries_total")
    static let chunkRetries = Counter(label: "syncledger_chunk_retries_total")
    static let reconnects = Counter(label: "syncledger_listener_reconnects_total")
    static let watchdogRestarts = Counter(label: "syncledger_watchdog_reconnects_total")
}
