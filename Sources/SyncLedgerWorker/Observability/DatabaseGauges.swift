import Logging
import PostgresNIO
import Prometheus
import Synchronization
import SyncLedgerPostgres

/// The gauges read from PostgreSQL (``QueueSnapshot``): refreshed when
/// Prometheus scrapes, at most once per `minimumInterval` however many
/// scrapes arrive, and bounded by `timeout` so that a slow or absent database
/// never hangs a scrape (`syncledger_database_up` then drops to 0 and the
/// other gauges keep their last values).
///
/// Every registered source system and target table has a series, at 0 when
/// nothing waits for it, and a series once seen stays (at 0) when its queue
/// empties. Every worker exports the same database-wide values: aggregate
/// them with `max by (source)`, not `sum`.
public final class DatabaseGauges: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let minimumInterval: Duration
    private let timeout: Duration

    private struct State {
        var lastRefresh: ContinuousClock.Instant?
        var refreshing = false
        /// The last refresh failed (logged once until one succeeds again).
        var failing = false
        /// Label values seen so far, per family name.
        var seen: [String: Set<String>] = [:]
    }

    private let state = Mutex(State())

    public init(registry: PrometheusCollectorRegistry, minimumInterval: Duration = .seconds(5), timeout: Duration = .seconds(5)) {
        self.registry = registry
        self.minimumInterval = minimumInterval
        self.timeout = timeout
    }

    /// Reads the database (unless read less than `minimumInterval` ago, or
    /// another scrape is reading it right now) and updates the gauges.
    public func refresh(client: PostgresClient, logger: Logger) async {
        let now = ContinuousClock.now
        let go = state.withLock { state -> Bool in
            if state.refreshing { return false }
            if let last = state.lastRefresh, now - last < minimumInterval { return false }
            state.refreshing = true
            return true
        }
        guard go else { return }
        defer { state.withLock { $0.refreshing = false } }
        do {
            let (snapshot, workers) = try await withTimeLimit(timeout, onTimeout: {}) {
                try await client.withConnection { connection in
                    let snapshot = try await QueueSnapshot.load(on: connection, logger: logger)
                    // Not on a schema older than the registry of live workers.
                    let workers = try? await WorkerRegistry.countByState(on: connection, logger: logger)
                    return (snapshot, workers)
                }
            }
            update(from: snapshot)
            if let workers { update(liveWorkers: workers) }
            let recovered = state.withLock { state in
                defer { (state.lastRefresh, state.failing) = (ContinuousClock.now, false) }
                return state.failing
            }
            if recovered { logger.info("reading the database gauges for /metrics again") }
        } catch {
            gauge(SyncLedgerMetrics.databaseUp).set(to: 0)
            let first = state.withLock { state in
                defer { state.failing = true }
                return !state.failing
            }
            if first {
                logger.warning(
                    "cannot read the database gauges for /metrics; syncledger_database_up is 0 until they can be read again",
                    metadata: ["error": "\(error is TimeLimitExceeded ? "no answer within \(timeout)" : PostgresErrors.message(error))"])
            }
        }
    }

    /// Sets every gauge from `snapshot`.
    public func update(from snapshot: QueueSnapshot) {
        gauge(SyncLedgerMetrics.databaseUp).set(to: 1)

        var jobs: [String: Int] = [:]
        for count in snapshot.jobs { jobs["\(count.direction)/\(count.status)"] = count.jobs }
        for direction in SyncLedgerMetrics.directions {
            for status in SyncLedgerMetrics.gaugedJobStatuses {
                gauge(SyncLedgerMetrics.jobs, [("direction", direction), ("status", status)]).set(to: Double(jobs["\(direction)/\(status)"] ?? 0))
            }
        }

        let inbound = Dictionary(snapshot.inbound.map { ($0.source, $0) }, uniquingKeysWith: { first, _ in first })
        for source in labelValues(SyncLedgerMetrics.inboundReady, snapshot.sources + Array(inbound.keys)) {
            let queue = inbound[source]
            gauge(SyncLedgerMetrics.inboundReady, [("source", source)]).set(to: Double(queue?.ready ?? 0))
            gauge(SyncLedgerMetrics.inboundBackingOff, [("source", source)]).set(to: Double(queue?.backingOff ?? 0))
            gauge(SyncLedgerMetrics.inboundLag, [("source", source)]).set(to: queue?.lagSeconds ?? 0)
        }

        let backlog = Dictionary(snapshot.reviewBacklog.map { ($0.targetTable, $0) }, uniquingKeysWith: { first, _ in first })
        for table in labelValues(SyncLedgerMetrics.reviewBacklog, snapshot.targetTables + Array(backlog.keys)) {
            gauge(SyncLedgerMetrics.reviewBacklog, [("target_table", table)]).set(to: Double(backlog[table]?.pending ?? 0))
            gauge(SyncLedgerMetrics.reviewOldest, [("target_table", table)]).set(to: backlog[table]?.oldestAgeSeconds ?? 0)
        }

        let failed = Dictionary(snapshot.failedItems.map { ($0.source, $0.items) }, uniquingKeysWith: { first, _ in first })
        for source in labelValues(SyncLedgerMetrics.failedItems, snapshot.sources + Array(failed.keys)) {
            gauge(SyncLedgerMetrics.failedItems, [("source", source)]).set(to: Double(failed[source] ?? 0))
        }

        let outbound = Dictionary(snapshot.outbound.map { ($0.source, $0) }, uniquingKeysWith: { first, _ in first })
        for source in labelValues(SyncLedgerMetrics.outboundWaiting, snapshot.sources + Array(outbound.keys)) {
            gauge(SyncLedgerMetrics.outboundWaiting, [("source", source)]).set(to: Double(outbound[source]?.waiting ?? 0))
            gauge(SyncLedgerMetrics.outboundLag, [("source", source)]).set(to: outbound[source]?.oldestAgeSeconds ?? 0)
        }
    }

    /// Sets the live workers by state.
    public func update(liveWorkers: [String: Int]) {
        for state in SyncLedgerMetrics.workerStates {
            gauge(SyncLedgerMetrics.liveWorkers, [("state", state)]).set(to: Double(liveWorkers[state] ?? 0))
        }
    }

    /// `current` plus every value seen before for `family`, remembered.
    private func labelValues(_ family: String, _ current: [String]) -> [String] {
        state.withLock { state in
            state.seen[family, default: []].formUnion(current)
            return state.seen[family, default: []].sorted()
        }
    }

    private func gauge(_ name: String, _ labels: [(String, String)] = []) -> Prometheus.Gauge {
        let descriptor = SyncLedgerMetrics.family(name)?.descriptor ?? MetricNameDescriptor(metricName: name, unitName: "", helpText: "")
        return registry.makeGauge(descriptor: descriptor, labels: labels)
    }
}
