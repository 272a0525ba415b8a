import Metrics
import SyncLedgerCore

/// The worker's metrics (swift-metrics; exported by swift-prometheus when a
/// metrics port is configured). Names and help text: ``SyncLedgerMetrics``.
enum WorkerMetrics {
    static func items(_ status: ItemStatus, _ count: Int) {
        guard count > 0 else { return }
        Counter(label: SyncLedgerMetrics.itemsTotal, dimensions: [("outcome", status.rawValue)]).increment(by: count)
    }

    static func job(_ status: JobStatus) {
        Counter(label: SyncLedgerMetrics.jobsTotal, dimensions: [("status", status.rawValue)]).increment()
    }

    static let claimDuration = Metrics.Timer(label: SyncLedgerMetrics.claimDuration, preferredDisplayUnit: .seconds)
    static let chunkDuration = Metrics.Timer(label: SyncLedgerMetrics.chunkDuration, preferredDisplayUnit: .seconds)
    static let leaseRescues = Counter(label: SyncLedgerMetrics.leaseRescues)
    static let leasesLost = Counter(label: SyncLedgerMetrics.leasesLost)
    static let retries = Counter(label: SyncLedgerMetrics.jobRetries)
    static let chunkRetries = Counter(label: SyncLedgerMetrics.chunkRetries)
    static let reconnects = Counter(label: SyncLedgerMetrics.listenerReconnects)
    static let watchdogRestarts = Counter(label: SyncLedgerMetrics.watchdogReconnects)

    /// What this worker holds and how fast it goes, as of its last heartbeat.
    static func load(_ load: EngineLoad, itemsRemaining: Int) {
        Gauge(label: SyncLedgerMetrics.busySlots).record(load.busySlots)
        Gauge(label: SyncLedgerMetrics.jobsHeld).record(load.jobsHeld)
        Gauge(label: SyncLedgerMetrics.itemsPerSecond).record(load.itemsPerSecond)
        Gauge(label: SyncLedgerMetrics.itemsRemaining).record(itemsRemaining)
        let eta = load.itemsPerSecond > 0 ? Double(itemsRemaining) / load.itemsPerSecond : 0
        Gauge(label: SyncLedgerMetrics.etaSeconds).record(eta)
    }
}
