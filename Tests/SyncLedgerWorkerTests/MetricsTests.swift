import Foundation
import Logging
import PostgresNIO
import Prometheus
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11: every metric family is there from the start, with help text;
/// the database gauges show the queues; /metrics, /healthz and /readyz as a
/// worker serves them.
@Suite("Metrics")
struct MetricsTests {
    /// The exposition's `# HELP` and `# TYPE` lines and its samples, by family.
    struct Exposition {
        var help: [String: String] = [:]
        var type: [String: String] = [:]
        /// Sample lines (`name{labels} value`), in order.
        var samples: [String] = []

        init(_ text: String) {
            for line in text.split(separator: "\n").map(String.init) {
                if line.hasPrefix("# HELP ") {
                    let rest = line.dropFirst(7)
                    let name = rest.prefix { $0 != " " }
                    help[String(name)] = String(rest.dropFirst(name.count + 1))
                } else if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    if parts.count == 4 { type[String(parts[2])] = String(parts[3]) }
                } else if !line.isEmpty {
                    samples.append(line)
                }
            }
        }

        /// The value of the sample `series` (e.g. `syncledger_items_total{outcome="Applied"}`).
        func value(_ series: String) -> Double? {
            for sample in samples where sample.hasPrefix(series + " ") { return Double(sample.dropFirst(series.count + 1)) }
            return nil
        }
    }

    @Test func everyFamilyIsPresentAtStartWithHelpAndZero() throws {
        let registry = PrometheusCollectorRegistry()
        SyncLedgerMetrics.register(on: registry)
        let exposition = Exposition(registry.emitToString())

        for family in SyncLedgerMetrics.families where !family.initialLabelSets.isEmpty {
            #expect(exposition.help[family.name] == family.help, "\(family.name)")
            #expect(exposition.type[family.name] == family.kind.rawValue, "\(family.name)")
        }
        for outcome in ["Applied", "Held", "Skipped", "Failed"] {
            #expect(exposition.value("syncledger_items_total{outcome=\"\(outcome)\"}") == 0)
        }
        for status in ["Completed", "CompletedWithErrors", "Failed"] {
            #expect(exposition.value("syncledger_jobs_total{status=\"\(status)\"}") == 0)
        }
        for name in ["lease_rescues", "leases_lost", "job_retries", "chunk_retries", "listener_reconnects"] {
            #expect(exposition.value("syncledger_\(name)_total") == 0, "\(name)")
        }
        #expect(exposition.value("syncledger_claim_duration_seconds_count") == 0)
        #expect(exposition.value("syncledger_chunk_duration_seconds_count") == 0)
        #expect(exposition.value("syncledger_build_info{version=\"\(SyncLedgerVersion.current)\"}") == 1)
        #expect(exposition.value("syncledger_jobs{direction=\"Inbound\",status=\"Submitted\"}") == 0)
    }

    /// swift-metrics counters (what the worker increments) land in the same
    /// families, help text included (the registry refuses a name registered
    /// twice with different help, so this also guards against a crash).
    @Test func swiftMetricsRecordIntoTheDocumentedFamilies() throws {
        let registry = PrometheusCollectorRegistry()
        SyncLedgerMetrics.register(on: registry)
        let factory = SyncLedgerMetrics.Factory(registry: registry)
        factory.makeCounter(label: "syncledger_items_total", dimensions: [("outcome", "Applied")]).increment(by: 3)
        factory.makeCounter(label: "syncledger_lease_rescues_total", dimensions: []).increment(by: 1)
        factory.makeTimer(label: "syncledger_chunk_duration_seconds", dimensions: []).recordNanoseconds(20_000_000)
        let exposition = Exposition(registry.emitToString())
        #expect(exposition.value("syncledger_items_total{outcome=\"Applied\"}") == 3)
        #expect(exposition.value("syncledger_lease_rescues_total") == 1)
        #expect(exposition.value("syncledger_chunk_duration_seconds_count") == 1)
        #expect(exposition.help["syncledger_items_total"] == SyncLedgerMetrics.family("syncledger_items_total")?.help)
    }

    @Test func databaseGaugesShowQueuesBacklogAndFailures() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // Two hr jobs waiting, one payroll job: one held value, one failure.
            try await db.submit(items: [.set("E1", "given_name", "Ann")])
            try await db.submit(items: [.set("E2", "given_name", "Bob")])
            let payroll = try await db.submit(
                source: "payroll", items: [.set("P1", "birth_date", "1990-01-02"), .set("P1", "no_such_field", "x")])

            let registry = PrometheusCollectorRegistry()
            SyncLedgerMetrics.register(on: registry)
            // The timeout is only a hang bound here: the suite loads the server.
            let gauges = DatabaseGauges(registry: registry, minimumInterval: .zero, timeout: .seconds(120))
            await gauges.refresh(client: db.client, logger: db.logger)
            var exposition = Exposition(registry.emitToString())
            #expect(exposition.value("syncledger_database_up") == 1)
            #expect(exposition.value("syncledger_inbound_ready_jobs{source=\"hr\"}") == 2)
            #expect(exposition.value("syncledger_inbound_ready_jobs{source=\"payroll\"}") == 1)
            #expect(exposition.value("syncledger_inbound_ready_jobs{source=\"crm\"}") == 0)
            #expect((exposition.value("syncledger_inbound_lag_seconds{source=\"hr\"}") ?? -1) >= 0)
            #expect(exposition.value("syncledger_jobs{direction=\"Inbound\",status=\"Submitted\"}") == 3)
            #expect(exposition.help["syncledger_inbound_ready_jobs"] != nil)

            try await db.runWorker()
            await gauges.refresh(client: db.client, logger: db.logger)
            exposition = Exposition(registry.emitToString())
            #expect(exposition.value("syncledger_inbound_ready_jobs{source=\"hr\"}") == 0)
            #expect(exposition.value("syncledger_inbound_lag_seconds{source=\"hr\"}") == 0)
            #expect(exposition.value("syncledger_jobs{direction=\"Inbound\",status=\"Submitted\"}") == 0)
            #expect(exposition.value("syncledger_failed_items{source=\"payroll\"}") == 1)
            #expect(exposition.value("syncledger_failed_items{source=\"hr\"}") == 0)
            // birth_date is OnCertify: held for review.
            #expect(exposition.value("syncledger_review_backlog{target_table=\"core.person\"}") == 1)
            #expect(exposition.value("syncledger_review_backlog{target_table=\"core.organisation\"}") == 0)

            let snapshot = try await QueueSnapshot.load(on: db.client, logger: db.logger)
            #expect(snapshot.failedItems == [QueueSnapshot.FailedItems(source: "payroll", items: 1, jobs: 1)])
            #expect(snapshot.reviewBacklog.map(\.targetTable) == ["core.person"])
            _ = payroll
        }
    }

    @Test func gaugesReportTheDatabaseDownWithoutHanging() async throws {
        let logger = TestCluster.logger
        let port = try LoopbackPort.unused()
        let registry = PrometheusCollectorRegistry()
        SyncLedgerMetrics.register(on: registry)
        let gauges = DatabaseGauges(registry: registry, minimumInterval: .zero, timeout: .seconds(2))
        var configuration = try DatabaseURL(host: "127.0.0.1", port: port, username: "postgres", database: "x")
            .clientConfiguration(maximumConnections: 1)
        configuration.options.connectTimeout = .seconds(1)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            await gauges.refresh(client: client, logger: logger)
            group.cancelAll()
        }
        #expect(Exposition(registry.emitToString()).value("syncledger_database_up") == 0)
    }

    /// A real worker process: /metrics has every family (with help) before
    /// any job ran, plus the database gauges; /healthz and /readyz answer.
    @Test(.timeLimit(.minutes(3)))
    func workerServesEveryFamilyFromTheStart() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let port = try LoopbackPort.unused()
            let worker = try WorkerProcess(id: "metrics", url: db.url, arguments: ["--metrics-port", "\(port)", "--poll-interval-seconds", "1"])
            defer { worker.signal(SIGKILL) }
            // Scrapes until one has read the database gauges (under the
            // suite's load a scrape may time out reading them; the next retries).
            let scraped = await HTTPProbe.wait(port: port, path: "/metrics") {
                $0.status == 200 && Exposition($0.body).value("syncledger_database_up") == 1
            }
            guard let metrics = scraped else {
                Issue.record("no /metrics with the database gauges within the bound; log:\n\(worker.log.suffix(3000))")
                return
            }
            let exposition = Exposition(metrics.body)
            for family in SyncLedgerMetrics.families {
                #expect(exposition.help[family.name] == family.help, "\(family.name) missing or without help")
            }
            #expect(exposition.value("syncledger_items_total{outcome=\"Failed\"}") == 0)
            #expect(exposition.value("syncledger_leases_lost_total") == 0)
            #expect(exposition.value("syncledger_inbound_ready_jobs{source=\"hr\"}") == 0)
            #expect(exposition.value("syncledger_database_up") == 1)

            let health = await HTTPProbe.get(port: port, path: "/healthz")
            #expect(health?.status == 200)
            #expect(health?.body == "alive\n")
            let ready = await HTTPProbe.wait(port: port, path: "/readyz", until: { $0.status == 200 })
            #expect(ready?.body == "ready\n")

            worker.signal(SIGTERM)
            #expect(await worker.waitForExit(timeout: .seconds(60)) == 0, "log:\n\(worker.log.suffix(3000))")
        }
    }
}
