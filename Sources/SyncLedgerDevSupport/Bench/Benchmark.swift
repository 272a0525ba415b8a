import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerPostgres
import SyncLedgerWorker

/// `syncledger bench`: figures, not tests. In one run:
///
/// 1. Small jobs: `smallJobs` inbound jobs of one item each (a Set on a new or
///    known record, OnIngest, auto-certified) drained by the worker, next to a
///    plain PostgreSQL queue draining as many no-op jobs (one consumer,
///    batches of 100) on the same server, for scale.
/// 2. Large jobs: a synthetic workload (`jobs × records × fields` items)
///    processed by the worker, then the same work done by a lean hand-written
///    set-based SQL pipeline (``BenchReference``) in the same database; both
///    must end in identical target rows and a ledger that verifies.
///    Then the large workload once more, with the worker taking a checkpoint
///    of the Merkle log every `checkpointEvery` seconds, as a ratio of the
///    rate without.
///    And the floor (``BenchReference/floorScript``): the same target rows
///    with one plain row per item instead of the ledger, what governance
///    costs.
/// 3. History: the large workload again after `history` ledger entries (and
///    their identifiers, records and chains) were preloaded, as a ratio of the
///    empty database's rate; then `verify_ledger` over the whole ledger
///    (rows/s).
/// 4. Identity resolution: items/s of jobs creating new records with two
///    match rules (blocked or by trigrams) and without (BenchIdentity.swift).
/// 5. Pickup latency: time from a job's `submitted_at` to its `started_at`
///    with an idle worker polling only every 10 s, so the figure is LISTEN's.
///
/// Each run shows the worker's CPU seconds next to PostgreSQL's (when the
/// server is local), and the process's peak RSS.
public struct Benchmark: Sendable {
    public struct Options: Sendable {
        public var jobs = 20
        public var records = 1000
        public var fields = 5
        public var concurrency = 2
        public var chunkSize = 500
        public var parallelChunks = 2
        public var batchJobs = 200
        public var reference = true
        public var smallJobs = 5000
        public var history = 1_000_000
        public var latencySamples = 50
        public var bigJob = 0
        public var scaling = false
        public var scalingJobs = 8
        public var scalingRecords = 500
        /// Entries certified by one bulk decision (0 = skip).
        public var bulkCertify = 100_000
        /// Records asked `record_as_of` (0 = skip; needs history).
        public var asOfSamples = 200
        /// Seconds between the checkpoints of a third run of the large
        /// workload, compared with the run without them (0 = skip).
        public var checkpointEvery = 1.0
        /// Jobs (of `identityRecords` new people each) per run of the
        /// identity figure (``identityFigures(_:url:jobs:records:print:)``); 0 skips it.
        public var identityJobs = 10
        public var identityRecords = 1000

        public init() {}
    }

    public var options: Options
    public var migrator: Migrator
    public var logger: Logger

    public init(options: Options, migrator: Migrator, logger: Logger) {
        self.options = options
        self.migrator = migrator
        self.logger = logger
    }

    /// CPU seconds of the worker (this process) and of the server over a run.
    struct CPU {
        var worker: Double
        var server: Double?

        var text: String {
            String(format: "worker CPU %.1f s", worker) + (server.map { String(format: ", PostgreSQL CPU %.1f s", $0) } ?? "")
        }

        /// CPU per job or item: where the time goes.
        func per(_ count: Int, _ unit: String) -> String {
            let n = Double(max(count, 1))
            return text + String(format: "; per %@: worker %.0f µs", unit, 1e6 * worker / n)
                + (server.map { String(format: ", PostgreSQL %.0f µs", 1e6 * $0 / n) } ?? "")
        }
    }

    public func run(url: DatabaseURL, print: @escaping @Sendable (String) -> Void) async throws {
        let options = self.options
        try await Database.withClient(url, applicationName: "syncledger bench", maximumConnections: 24, logger: logger) { client in
            try await migrator.migrate(client: client, logger: logger)
            try await Database.runScript(BenchWorkload.setup, on: client, logger: logger)
            let dataDirectory = try? await client.collect("SELECT current_setting('data_directory')", as: String.self, logger: logger).first
            func measure(_ body: () async throws -> Void) async throws -> (Double, CPU) {
                let (worker, server) = (ProcessStats.selfCPUSeconds(), dataDirectory.flatMap { ProcessStats.serverCPUSeconds(dataDirectory: $0) })
                let start = ContinuousClock.now
                try await body()
                let seconds = (ContinuousClock.now - start).seconds
                let serverAfter = dataDirectory.flatMap { ProcessStats.serverCPUSeconds(dataDirectory: $0) }
                return (seconds, CPU(worker: ProcessStats.selfCPUSeconds() - worker, server: server.flatMap { a in serverAfter.map { $0 - a } }))
            }
            print("worker settings: concurrency \(options.concurrency), chunk size \(options.chunkSize), parallel chunks \(options.parallelChunks), batch jobs \(options.batchJobs)")

            // 1. Small jobs.
            if options.smallJobs > 0 {
                try await BenchWorkload.stageSmall(client, count: options.smallJobs, logger: logger)
                let (seconds, cpu) = try await measure { try await runWorker(client, url: url, source: "bench_small", concurrency: options.concurrency) }
                try await expectFinished(client, source: "bench_small", jobs: options.smallJobs)
                print(String(format: "small jobs:    %6d one-item jobs     %8.0f jobs/s   (%.2f s; %@)", options.smallJobs,
                             Double(options.smallJobs) / seconds, seconds, cpu.per(options.smallJobs, "job")))
                let queueSeconds = try await BenchReference.drainPlainQueue(client, count: options.smallJobs, logger: logger)
                print(String(format: "plain queue:   %6d no-op jobs        %8.0f jobs/s   (one consumer, batches of 100, SKIP LOCKED)",
                             options.smallJobs, Double(options.smallJobs) / queueSeconds))
            }

            // 2. Large jobs, and the SQL reference.
            let fields = max(1, min(options.fields, BenchWorkload.fieldNames.count))
            let items = options.jobs * options.records * fields
            try await BenchWorkload.stageLarge(
                client, source: "bench", table: "bench.person_w", jobs: options.jobs, records: options.records, fields: fields, offset: 0,
                logger: logger)
            let (workerSeconds, workerCPU) = try await measure {
                try await runWorker(client, url: url, source: "bench", concurrency: options.concurrency)
            }
            try await expectFinished(client, source: "bench", jobs: options.jobs)
            let workerRate = Double(items) / workerSeconds
            print(String(format: "large jobs:    %6d jobs × %d items  %8.0f items/s  (%.2f s; %@)", options.jobs, records(items, options.jobs),
                         workerRate, workerSeconds, workerCPU.per(items, "item")))
            if options.reference {
                try await BenchWorkload.stageLarge(
                    client, source: "bench_sql", table: "bench.person_s", jobs: options.jobs, records: options.records, fields: fields,
                    offset: 0, logger: logger)
                var perStatement: [Duration] = []
                let (sqlSeconds, sqlCPU) = try await measure { perStatement = try await BenchReference.run(client, logger: logger) }
                let sqlRate = Double(items) / sqlSeconds
                print(String(format: "SQL reference: %6d jobs × %d items  %8.0f items/s  (%.2f s; %@)", options.jobs, records(items, options.jobs),
                             sqlRate, sqlSeconds, sqlCPU.per(items, "item")))
                print(String(format: "ratio:         worker at %.1f %% of the set-based SQL reference", 100 * workerRate / sqlRate))
                logger.info("reference time by statement", metadata: ["seconds": "\(perStatement.map { String(format: "%.2f", $0.seconds) })"])
                try await BenchWorkload.stageLarge(
                    client, source: "bench_floor", table: "bench.person_f", jobs: options.jobs, records: options.records, fields: fields,
                    offset: 0, logger: logger)
                let (floorSeconds, floorCPU) = try await measure {
                    _ = try await BenchReference.run(client, source: "bench_floor", script: BenchReference.floorScript, logger: logger)
                }
                let floorRate = Double(items) / floorSeconds
                print(String(format: "floor:         %6d jobs × %d items  %8.0f items/s  (%.2f s; %@)", options.jobs, records(items, options.jobs),
                             floorRate, floorSeconds, floorCPU.per(items, "item")))
                print(String(format: "ratio:         worker at %.2f of the floor (target rows, one plain ledger row and one result per item: what governance costs)",
                             workerRate / floorRate))
                let differences = try await compareTargets(client)
                print(differences == 0 ? "check:         identical target rows" : "check:         \(differences) target rows DIFFER")
            }
            var largeRuns = 1
            if options.checkpointEvery > 0 {
                try await BenchWorkload.stageLarge(
                    client, source: "bench", table: "bench.person_w", jobs: options.jobs, records: options.records, fields: fields,
                    offset: 5_000_000, logger: logger)
                let before = try await checkpointCount(client)
                let (seconds, cpu) = try await measure {
                    try await runWorker(
                        client, url: url, source: "bench", concurrency: options.concurrency,
                        checkpointEvery: .milliseconds(Int64(options.checkpointEvery * 1000)))
                }
                largeRuns += 1
                try await expectFinished(client, source: "bench", jobs: largeRuns * options.jobs)
                let taken = try await checkpointCount(client) - before
                let rate = Double(items) / seconds
                print(String(format: "checkpoints:   %8.0f items/s with a checkpoint every %.0f s (%d taken) = %.1f %% of without (%.2f s; %@)",
                             rate, options.checkpointEvery, taken, 100 * rate / workerRate, seconds, cpu.text))
            }
            let findings = try await client.collect("SELECT count(*) FROM integration.verify_ledger()", as: Int64.self, logger: logger).first ?? Int64(-1)
            let violations = try await client.collect("SELECT count(*) FROM integration.provenance_violations()", as: Int64.self, logger: logger).first ?? Int64(-1)
            print(findings == 0 && violations == 0
                  ? "check:         the ledger verifies and explains every value"
                  : "check:         \(findings) chain findings, \(violations) provenance violations")

            // Identity resolution: new records with match rules of two kinds and without.
            if options.identityJobs > 0 {
                try await identityFigures(client, url: url, jobs: options.identityJobs, records: options.identityRecords, print: print)
            }

            // 3. History.
            if options.history > 0 {
                let preloadStart = ContinuousClock.now
                try await BenchWorkload.preloadHistory(client, entries: options.history, logger: logger) { _ in }
                let preloaded = try await client.collect("SELECT count(*) FROM integration.ledger", as: Int64.self, logger: logger).first ?? Int64(0)
                try await BenchWorkload.stageLarge(
                    client, source: "bench", table: "bench.person_w", jobs: options.jobs, records: options.records, fields: fields,
                    offset: 10_000_000, logger: logger)
                let (seconds, cpu) = try await measure { try await runWorker(client, url: url, source: "bench", concurrency: options.concurrency) }
                largeRuns += 1
                try await expectFinished(client, source: "bench", jobs: largeRuns * options.jobs)
                let rate = Double(items) / seconds
                print(String(format: "history:       %8.0f items/s with %d ledger entries = %.1f %% of the empty database (%.2f s; %@; preload %.0f s)",
                             rate, preloaded, 100 * rate / workerRate, seconds, cpu.text, (ContinuousClock.now - preloadStart).seconds))

                // verify_ledger over everything: entries and events, each
                // row's digest and every chain.
                let rows = try await client.collect(
                    "SELECT (SELECT count(*) FROM integration.ledger) + (SELECT count(*) FROM integration.ledger_event)",
                    as: Int64.self, logger: logger).first ?? Int64(0)
                var found: Int64 = -1
                let (verifySeconds, verifyCPU) = try await measure {
                    found = try await client.collect("SELECT count(*) FROM integration.verify_ledger()", as: Int64.self, logger: logger).first ?? Int64(-1)
                }
                print(String(format: "verify:        %8.0f rows/s  (%d ledger entries and events in %.2f s, %d findings; %@)",
                             Double(rows) / verifySeconds, rows, verifySeconds, found, verifyCPU.text))
            }

            // The steward's workbench: a bulk certify, and as-of latency at the history's size.
            if options.bulkCertify > 0 {
                let (rate, seconds, decided) = try await bulkCertify(client, url: url, entries: options.bulkCertify, chunk: 5000) {
                    try await runWorker(client, url: url, source: "bench_q", concurrency: options.concurrency)
                }
                print(String(format: "bulk certify:  %8.0f entries/s  (%d entries in %.2f s, one decision batch in 2 parts, chunks of 5000)",
                             rate, decided, seconds))
            }
            if options.asOfSamples > 0 && options.history > 0 {
                let (p50, p95) = try await asOfLatency(client, samples: options.asOfSamples)
                let entries = try await client.collect("SELECT count(*) FROM integration.ledger", as: Int64.self, logger: logger).first ?? Int64(0)
                print(String(format: "as of:         p50 %.1f ms, p95 %.1f ms over %d records (record_as_of, %d ledger entries)",
                             p50, p95, options.asOfSamples, entries))
            }

            // 4. Pickup latency.
            if options.latencySamples > 0 {
                let (median, p99) = try await pickupLatency(client: client, url: url, samples: options.latencySamples)
                print(String(format: "pickup:        p50 %.1f ms, p99 %.1f ms over %d jobs (idle worker, 10 s poll: LISTEN)", median, p99, options.latencySamples))
            }

            // 5. One big job: memory stays flat.
            if options.bigJob > 0 {
                let perRecord = fields
                let bigRecords = max(1, options.bigJob / perRecord)
                try await BenchWorkload.stageLarge(
                    client, source: "bench", table: "bench.person_w", jobs: 1, records: bigRecords, fields: fields, offset: 20_000_000,
                    logger: logger)
                let (seconds, cpu) = try await measure { try await runWorker(client, url: url, source: "bench", concurrency: options.concurrency) }
                print(String(format: "big job:       %d items  %8.0f items/s  (%.2f s; %@); peak RSS %.1f MiB", bigRecords * perRecord,
                             Double(bigRecords * perRecord) / seconds, seconds, cpu.text, Double(ProcessStats.peakRSSKiB()) / 1024))
            }

            if options.scaling {
                var offset = 30_000_000
                for concurrency in [1, 2, 4] {
                    offset += options.scalingRecords * options.scalingJobs
                    let scaled = options.scalingJobs * options.scalingRecords * fields
                    try await BenchWorkload.stageLarge(
                        client, source: "bench", table: "bench.person_w", jobs: options.scalingJobs, records: options.scalingRecords,
                        fields: fields, offset: offset, logger: logger)
                    let (seconds, _) = try await measure { try await runWorker(client, url: url, source: "bench", concurrency: concurrency) }
                    print(String(format: "scaling:       %d claim(s) at once: %8.0f items/s (%d items, %.2f s)", concurrency, Double(scaled) / seconds, scaled, seconds))
                }
            }
            print(String(format: "peak RSS:      %.1f MiB (this process: the worker and the bench)", Double(ProcessStats.peakRSSKiB()) / 1024))
        }
    }

    private func records(_ items: Int, _ jobs: Int) -> Int { items / max(jobs, 1) }

    /// Submits the source's Draft jobs and runs an in-process worker until idle.
    func runWorker(
        _ client: PostgresClient, url: DatabaseURL, source: String, concurrency: Int, checkpointEvery: Duration? = nil
    ) async throws {
        var settings = WorkerSettings(workerID: "bench-worker")
        settings.checkpointEvery = checkpointEvery
        settings.exitWhenIdle = true
        settings.concurrency = concurrency
        settings.chunkSize = options.chunkSize
        settings.parallelChunks = options.parallelChunks
        settings.batchJobs = options.batchJobs
        try await client.run(
            "UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_status = 'Draft' AND source_system_key = \(source)",
            logger: logger)
        try await Worker(url: url, settings: settings, logger: logger).run()
    }

    private func expectFinished(_ client: PostgresClient, source: String, jobs: Int) async throws {
        let finished = try await client.collect(
            "SELECT count(*) FROM integration.sync_job WHERE source_system_key = \(source) AND job_status = 'Completed'",
            as: Int64.self, logger: logger).first ?? Int64(0)
        if finished < Int64(jobs) { logger.error("the worker completed \(finished) of \(jobs) jobs of \(source)") }
    }

    private func checkpointCount(_ client: PostgresClient) async throws -> Int {
        Int(try await client.collect("SELECT count(*) FROM integration.merkle_checkpoint", as: Int64.self, logger: logger).first ?? Int64(0))
    }

    /// Rows of the worker's table and the reference's table that differ, by external key.
    private func compareTargets(_ client: PostgresClient) async throws -> Int {
        let count = try await client.collect(
            """
            WITH w AS (SELECT x.external_key, p.full_name, p.city, p.score, p.joined_on, p.status FROM bench.person_w p
                         JOIN integration.identifier x ON x.target_id = p.id AND x.source_system_key = 'bench'),
                 s AS (SELECT x.external_key, p.full_name, p.city, p.score, p.joined_on, p.status FROM bench.person_s p
                         JOIN integration.identifier x ON x.target_id = p.id AND x.source_system_key = 'bench_sql')
            SELECT count(*)::int8 FROM (SELECT * FROM s EXCEPT SELECT * FROM w) d
            """, as: Int64.self, logger: logger).first ?? Int64(0)
        return Int(count)
    }

    // MARK: - Latency

    private func pickupLatency(client: PostgresClient, url: DatabaseURL, samples: Int) async throws -> (Double, Double) {
        var settings = WorkerSettings(workerID: "bench-latency")
        settings.pollInterval = .seconds(10)
        settings.concurrency = 1
        let worker = Worker(url: url, settings: settings, logger: logger)
        // Run as the CLI runs it, so that it is stopped the way an operator
        // stops it (a graceful shutdown), not cancelled.
        let service = ServiceGroup(configuration: .init(services: [worker], logger: logger))
        return try await withThrowingTaskGroup(of: (Double, Double)?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(500))  // the listener connects
                var latencies: [Double] = []
                for n in 0..<samples {
                    let rows = try await client.query(
                        """
                        WITH j AS (INSERT INTO integration.sync_job (source_system_key, entity_type, job_key)
                                   VALUES ('bench', 'bench.person_w', 'latency-' || \(n) || '-' || gen_random_uuid()) RETURNING job_id)
                        INSERT INTO integration.sync_item (job_id, external_key, field_name, new_value)
                        SELECT job_id, 'L' || \(n), 'city', 'Latency' FROM j RETURNING job_id
                        """, logger: logger)
                    var jobID: Int64 = 0
                    for try await id in rows.decode(Int64.self) { jobID = id }
                    while true {
                        let done = try await client.query(
                            "SELECT (extract(epoch FROM started_at - submitted_at) * 1000)::float8 FROM integration.sync_job WHERE job_id = \(jobID) AND finished_at IS NOT NULL",
                            logger: logger)
                        if let ms = try await done.single(Double.self) {
                            latencies.append(ms)
                            break
                        }
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                latencies.sort()
                let median = latencies[latencies.count / 2]
                let p99 = latencies[min(latencies.count - 1, Int((Double(latencies.count) * 0.99).rounded(.up)) - 1)]
                return (median, p99)
            }
            var result: (Double, Double)?
            while let next = try await group.next() {
                if let next {
                    result = next
                    await service.triggerGracefulShutdown()
                }
            }
            return result ?? (0, 0)
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
