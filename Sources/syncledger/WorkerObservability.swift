import Logging
import PostgresNIO
import SyncLedgerPostgres
import SyncLedgerWorker

/// What the worker serves on its metrics port: every metric family from the
/// start (counters at 0, with help text), the database gauges read at scrape
/// time, `/healthz`, and `/readyz` (the database part here; the worker may add
/// its own checks, e.g. the listener, through `readiness`).
enum WorkerObservability {
    static func metricsServer(
        host: String, port: Int, client: PostgresClient, url: DatabaseURL, migrator: Migrator?, logger: Logger,
        readiness: [Readiness.Provider] = []
    ) -> MetricsServer {
        let registry = SyncLedgerMetrics.bootstrap()
        let gauges = DatabaseGauges(registry: registry)
        let database = Readiness.database(client: client, url: url, migrator: migrator, logger: logger)
        return MetricsServer(
            host: host, port: port, registry: registry, logger: logger, readiness: Readiness.combine([database] + readiness),
            beforeScrape: { await gauges.refresh(client: client, logger: logger) })
    }
}
