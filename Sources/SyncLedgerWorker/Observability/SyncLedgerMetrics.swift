import CoreMetrics
import Metrics
import Prometheus
import SyncLedgerCore
import SyncLedgerPostgres

/// Every metric family syncledger exports, in one place: name, type, labels
/// and the `# HELP` text. deploy/README.md §7 lists the same table.
///
/// Counters and histograms are created at start with value 0 for every label
/// set that can occur (each item outcome, each final job status), so alerts
/// see 0 rather than "no data" before anything happened. The database gauges
/// (``DatabaseGauges``) are read from PostgreSQL at scrape time.
public enum SyncLedgerMetrics {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// One metric family.
    public struct Family: Sendable {
        public var name: String
        public var kind: Kind
        public var help: String
        /// Label names, for the documentation.
        public var labels: [String]
        /// Label sets created at start (counters, histograms, fixed gauges);
        /// empty for families whose label values come from the database.
        public var initialLabelSets: [[(String, String)]]

        /// Name and help for the registry.
        public var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }

        init(_ name: String, _ kind: Kind, labels: [String] = [], initial: [[(String, String)]]? = nil, _ help: String) {
            self.name = name
            self.kind = kind
            self.help = help
            self.labels = labels
            self.initialLabelSets = initial ?? (labels.isEmpty ? [[]] : [])
        }
    }

    // MARK: Names (the worker's, unchanged since the first release)

    public static let itemsTotal = "syncledger_items_total"
    public static let jobsTotal = "syncledger_jobs_total"
    public static let claimDuration = "syncledger_claim_duration_seconds"
    public static let chunkDuration = "syncledger_chunk_duration_seconds"
    public static let leaseRescues = "syncledger_lease_rescues_total"
    public static let leasesLost = "syncledger_leases_lost_total"
    public static let jobRetries = "syncledger_job_retries_total"
    public static let chunkRetries = "syncledger_chunk_retries_total"
    public static let listenerReconnects = "syncledger_listener_reconnects_total"
    public static let watchdogReconnects = "syncledger_watchdog_reconnects_total"
    public static let busySlots = "syncledger_busy_slots"
    public static let jobsHeld = "syncledger_jobs_held"
    public static let itemsPerSecond = "syncledger_items_per_second"
    public static let itemsRemaining = "syncledger_items_remaining"
    public static let etaSeconds = "syncledger_eta_seconds"

    // MARK: Names of the database gauges

    public static let buildInfo = "syncledger_build_info"
    public static let databaseUp = "syncledger_database_up"
    public static let jobs = "syncledger_jobs"
    public static let inboundReady = "syncledger_inbound_ready_jobs"
    public static let inboundBackingOff = "syncledger_inbound_backing_off_jobs"
    public static let inboundLag = "syncledger_inbound_lag_seconds"
    public static let reviewBacklog = "syncledger_review_backlog"
    public static let reviewOldest = "syncledger_review_oldest_age_seconds"
    public static let failedItems = "syncledger_failed_items"
    public static let outboundWaiting = "syncledger_outbound_waiting_jobs"
    public static let outboundLag = "syncledger_outbound_lag_seconds"
    public static let liveWorkers = "syncledger_live_workers"

    /// Item outcomes a worker counts (never Pending).
    static let itemOutcomes = ItemStatus.allCases.filter { $0 != .pending }.map(\.rawValue)
    /// Statuses a job ends a worker's processing in.
    static let finalJobStatuses = [JobStatus.completed, .completedWithErrors, .failed].map(\.rawValue)
    /// Job statuses the `syncledger_jobs` gauge counts: open jobs, and those that gave up.
    static let gaugedJobStatuses = [JobStatus.draft, .submitted, .processing, .failed].map(\.rawValue)
    static let directions = ["Inbound", "Outbound"]
    /// States of a live worker (`integration.live_workers`).
    static let workerStates = ["idle", "busy"]

    /// Buckets of both duration histograms: 5 ms to 1 minute.
    public static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    public static let families: [Family] = [
        Family(
            itemsTotal, .counter, labels: ["outcome"], initial: itemOutcomes.map { [("outcome", $0)] },
            "Inbound items processed by this worker, by outcome (Applied, Held, Skipped, Failed)."),
        Family(
            jobsTotal, .counter, labels: ["status"], initial: finalJobStatuses.map { [("status", $0)] },
            "Jobs this worker finished, by final status (Completed, CompletedWithErrors, Failed)."),
        Family(claimDuration, .histogram, "Time to claim a batch of jobs (one claim query), in seconds."),
        Family(chunkDuration, .histogram, "Time to process one chunk of items in its transaction, in seconds."),
        Family(leaseRescues, .counter, "Jobs this worker took over after another worker's lease expired."),
        Family(leasesLost, .counter, "Claims this worker abandoned because its lease expired and another worker took the job."),
        Family(jobRetries, .counter, "Claims that failed and were scheduled for a retry (or failed for good after max attempts)."),
        Family(chunkRetries, .counter, "Chunk transactions retried after a deadlock, serialization failure or lock timeout."),
        Family(listenerReconnects, .counter, "Times the LISTEN connection for job notifications was lost and re-established."),
        Family(
            watchdogReconnects, .counter,
            "Times the claim-loop watchdog found no progress for its whole period and replaced every database connection."),
        Family(busySlots, .gauge, "Slots of this worker holding a claim, as of its last heartbeat (0: idle)."),
        Family(jobsHeld, .gauge, "Jobs this worker's claims hold, as of its last heartbeat."),
        Family(itemsPerSecond, .gauge, "Items this worker processed per second between its last two heartbeats."),
        Family(
            itemsRemaining, .gauge,
            "Items left in the jobs this worker holds (counted once a claim has run for a few seconds), as of its last heartbeat."),
        Family(
            etaSeconds, .gauge,
            "Seconds this worker needs for the items it holds at its current rate (syncledger_items_remaining / syncledger_items_per_second); 0 when idle."),
        Family(
            buildInfo, .gauge, labels: ["version"], initial: [[("version", SyncLedgerVersion.current)]],
            "Always 1; the version label is this binary's release."),
        Family(
            databaseUp, .gauge,
            "1 when the last scrape-time read of the database gauges succeeded, 0 when the database did not answer in time."),
        Family(
            jobs, .gauge, labels: ["direction", "status"],
            initial: directions.flatMap { direction in gaugedJobStatuses.map { [("direction", direction), ("status", $0)] } },
            "Jobs in the database by direction and status: the open ones (Draft, Submitted, Processing) and those that gave up (Failed)."),
        Family(
            inboundReady, .gauge, labels: ["source"],
            "Inbound jobs ready to be claimed now (Submitted, not backing off), by source system: the queue depth."),
        Family(
            inboundBackingOff, .gauge, labels: ["source"],
            "Inbound jobs waiting for a retry after an error (Submitted with run_after in the future), by source system."),
        Family(
            inboundLag, .gauge, labels: ["source"],
            "Seconds the oldest ready inbound job has waited to be claimed (since it was submitted or became due again), by source system; 0 when none waits."),
        Family(
            reviewBacklog, .gauge, labels: ["target_table"],
            "Pending ledger entries waiting for a steward (integration.review_queue), by target table."),
        Family(
            reviewOldest, .gauge, labels: ["target_table"],
            "Age in seconds of the oldest pending ledger entry, by target table; 0 when none is pending."),
        Family(
            failedItems, .gauge, labels: ["source"],
            "Inbound items in status Failed, by source system: each waits for a fix and integration.requeue_failed(job_id)."),
        Family(
            outboundWaiting, .gauge, labels: ["source"],
            "Outbound jobs waiting for their connector (Submitted), by receiving source system."),
        Family(
            outboundLag, .gauge, labels: ["source"],
            "Age in seconds of the oldest outbound job waiting for its connector, by receiving source system; 0 when none waits."),
        Family(
            liveWorkers, .gauge, labels: ["state"], initial: workerStates.map { [("state", $0)] },
            "Workers in the registry of live workers (integration.live_workers) by state: idle, or busy (a slot holds a claim)."),
    ]

    /// The family named `name`, if it is one of ours.
    public static func family(_ name: String) -> Family? { byName[name] }

    private static let byName: [String: Family] = Dictionary(uniqueKeysWithValues: families.map { ($0.name, $0) })

    /// Creates every family's initial series on `registry`, at 0 (1 for
    /// `syncledger_build_info`), with its help text.
    public static func register(on registry: PrometheusCollectorRegistry) {
        for family in families {
            for labels in family.initialLabelSets {
                switch family.kind {
                case .counter:
                    _ = registry.makeCounter(descriptor: family.descriptor, labels: labels)
                case .histogram:
                    _ = registry.makeDurationHistogram(descriptor: family.descriptor, labels: labels, buckets: durationBuckets)
                case .gauge:
                    let gauge = registry.makeGauge(descriptor: family.descriptor, labels: labels)
                    if family.name == buildInfo { gauge.set(to: 1) }
                }
            }
        }
    }

    /// A registry with every family registered, installed as the process's
    /// swift-metrics backend (so `WorkerMetrics` records into it). Call once
    /// per process, before the worker starts; serve the registry with
    /// ``MetricsServer``.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        register(on: registry)
        MetricsSystem.bootstrap(Factory(registry: registry))
        return registry
    }

    /// swift-metrics backend over a Prometheus registry that gives our
    /// families their help text and buckets. (swift-prometheus's own factory
    /// registers with empty help, and the registry refuses a second
    /// registration of a name with different help.)
    public struct Factory: MetricsFactory {
        public let registry: PrometheusCollectorRegistry
        private let fallback: PrometheusMetricsFactory

        public init(registry: PrometheusCollectorRegistry) {
            self.registry = registry
            self.fallback = PrometheusMetricsFactory(registry: registry)
        }

        public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
            guard let family = family(label) else { return fallback.makeCounter(label: label, dimensions: dimensions) }
            return registry.makeCounter(descriptor: family.descriptor, labels: dimensions)
        }

        public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
            guard let family = family(label) else { return fallback.makeFloatingPointCounter(label: label, dimensions: dimensions) }
            return registry.makeCounter(descriptor: family.descriptor, labels: dimensions)
        }

        public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
            guard let family = family(label), !aggregate else {
                return fallback.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
            }
            return registry.makeGauge(descriptor: family.descriptor, labels: dimensions)
        }

        public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
            guard let family = family(label) else { return fallback.makeMeter(label: label, dimensions: dimensions) }
            return registry.makeGauge(descriptor: family.descriptor, labels: dimensions)
        }

        public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
            guard let family = family(label) else { return fallback.makeTimer(label: label, dimensions: dimensions) }
            return registry.makeDurationHistogram(descriptor: family.descriptor, labels: dimensions, buckets: durationBuckets)
        }

        public func destroyCounter(_ handler: any CounterHandler) { fallback.destroyCounter(handler) }
        public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { fallback.destroyFloatingPointCounter(handler) }
        public func destroyRecorder(_ handler: any RecorderHandler) { fallback.destroyRecorder(handler) }
        public func destroyMeter(_ handler: any MeterHandler) { fallback.destroyMeter(handler) }
        public func destroyTimer(_ handler: any TimerHandler) { fallback.destroyTimer(handler) }
    }
}
