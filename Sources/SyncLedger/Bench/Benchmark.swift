import Foundation
import Logging
import PostgresNIO

/// `syncledger bench`: figures, not tests.
///
/// 1. Throughput: a synthetic inbound workload (`jobs × records × fields`
///    items) processed by the worker, then the same work done by a
///    hand-written set-based SQL script (resolve identifiers, create records,
///    map codes, cast and write the columns, write ledger rows and events,
///    record item results, finish the job) in the same database. Both end in
///    identical target rows, which the benchmark checks.
/// 2. Pickup latency: time from a job's `submitted_at` to its `started_at`
///    with an idle worker polling only every 10 s, so the figure is LISTEN's.
/// 3. Scaling: throughput with 1, 2 and 4 jobs processed at once.
public struct Benchmark: Sendable {
    public struct Options: Sendable {
        public var jobs = 20
        public var records = 1000
        public var fields = 5
        public var concurrency = 2
        public var chunkSize = 500
        public var parallelChunks = 2
        public var reference = true
        public var latencySamples = 50
        public var scaling = true
        public var scalingJobs = 8
        public var scalingRecords = 500

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

    static let fieldNames = ["full_name", "city", "score", "joined_on", "status"]

    public func run(url: DatabaseURL, print: @escaping @Sendable (String) -> Void) async throws {
        let options = self.options
        try await Database.withClient(url, applicationName: "syncledger bench", maximumConnections: 24, logger: logger) { client in
            try await migrator.migrate(client: client, logger: logger)
            try await Database.runScript(Self.setup, on: client, logger: logger)
            let fields = max(1, min(options.fields, Self.fieldNames.count))
            let items = options.jobs * options.records * fields
            print("workload: \(options.jobs) jobs × \(options.records) records × \(fields) fields = \(items) items")
            print("worker: concurrency \(options.concurrency), chunk size \(options.chunkSize), parallel chunks \(options.parallelChunks)")

            // Worker.
            try await stage(client, source: "bench", table: "bench.person_w", jobs: options.jobs, records: options.records, fields: fields, offset: 0)
            let workerSeconds = try await timeWorker(client: client, url: url, concurrency: options.concurrency)
            let workerRate = Double(items) / workerSeconds
            print(String(format: "worker:        %8.0f items/s  (%.2f s)", workerRate, workerSeconds))
            try await expectCompleted(client, source: "bench", items: items)

            if options.reference {
                try await stage(client, source: "bench_sql", table: "bench.person_s", jobs: options.jobs, records: options.records, fields: fields, offset: 0)
                let start = ContinuousClock.now
                try await runReference(client)
                let sqlSeconds = (ContinuousClock.now - start).seconds
                let sqlRate = Double(items) / sqlSeconds
                print(String(format: "set-based SQL: %8.0f items/s  (%.2f s)", sqlRate, sqlSeconds))
                print(String(format: "ratio:         %8.1f %% of the SQL reference", 100 * workerRate / sqlRate))
                let differences = try await compareTargets(client)
                print(differences == 0 ? "check:         worker and SQL reference wrote identical target rows" : "check:         \(differences) target rows DIFFER")
            }
            print(String(format: "peak RSS:      %8.1f MiB", Double(Self.peakRSSKiB()) / 1024))

            if options.latencySamples > 0 {
                let (median, p99) = try await pickupLatency(client: client, url: url, samples: options.latencySamples)
                print(String(format: "pickup latency (idle worker, 10 s poll, LISTEN): median %.1f ms, p99 %.1f ms over %d jobs", median, p99, options.latencySamples))
            }
            if options.scaling {
                var offset = options.records
                for concurrency in [1, 2, 4] {
                    offset += options.scalingRecords * options.scalingJobs
                    let scaled = options.scalingJobs * options.scalingRecords * fields
                    try await stage(client, source: "bench", table: "bench.person_w", jobs: options.scalingJobs, records: options.scalingRecords, fields: fields, offset: offset)
                    let seconds = try await timeWorker(client: client, url: url, concurrency: concurrency)
                    print(String(format: "scaling: %d job(s) at once: %8.0f items/s (%d items, %.2f s)", concurrency, Double(scaled) / seconds, scaled, seconds))
                }
            }
        }
    }

    // MARK: - Workload

    static let setup = """
        CREATE SCHEMA IF NOT EXISTS bench;
        CREATE TABLE bench.person_w (id uuid PRIMARY KEY, full_name text, city text, score integer, joined_on date, status text,
                                     is_active boolean NOT NULL DEFAULT true);
        CREATE TABLE bench.person_s (LIKE bench.person_w INCLUDING ALL);
        INSERT INTO integration.source_system (source_system_key, display_name) VALUES ('bench', 'Bench'), ('bench_sql', 'Bench (SQL reference)');
        INSERT INTO integration.target_table (target_table, active_column) VALUES ('bench.person_w', 'is_active'), ('bench.person_s', 'is_active');
        INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify, code_list)
        SELECT t, f, 'OnIngest', true, CASE WHEN f = 'status' THEN 'status' END
          FROM unnest(ARRAY['bench.person_w', 'bench.person_s']) t,
               unnest(ARRAY[NULL, 'full_name', 'city', 'score', 'joined_on', 'status']) f;
        INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value)
        SELECT s, 'status', c, v FROM unnest(ARRAY['bench', 'bench_sql']) s,
               (VALUES ('A', 'active'), ('B', 'blocked'), ('C', 'closed')) AS m(c, v);
        """

    /// Stages `jobs` Draft jobs with their items (as upstreams would), then
    /// leaves them Draft until the clock starts.
    private func stage(_ client: PostgresClient, source: String, table: String, jobs: Int, records: Int, fields: Int, offset: Int) async throws {
        let names = Array(Self.fieldNames.prefix(fields))
        try await client.run(
            """
            WITH new_jobs AS (
              INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
              SELECT \(source), \(table), 'Draft', \(source) || '-' || \(offset) || '-' || j FROM generate_series(1, \(jobs)) j
              RETURNING job_id, split_part(job_key, '-', 3)::int AS j
            )
            INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
            SELECT n.job_id, r * 10 + f, 'P' || (\(offset) + (n.j - 1) * \(records) + r), (\(names))[f],
                   CASE (\(names))[f]
                     WHEN 'full_name' THEN 'Person ' || r
                     WHEN 'city' THEN 'City ' || (r % 97)
                     WHEN 'score' THEN ((r * 7) % 1000)::text
                     WHEN 'joined_on' THEN to_char(date '2000-01-01' + (r % 9000)::int, 'YYYY-MM-DD')
                     ELSE (ARRAY['A', 'B', 'C'])[r % 3 + 1]
                   END
              FROM new_jobs n, generate_series(1, \(records)) r, generate_series(1, \(fields)) f
            """, logger: logger)
        try await client.run("ANALYZE integration.sync_item", logger: logger)
    }

    private func timeWorker(client: PostgresClient, url: DatabaseURL, concurrency: Int) async throws -> Double {
        var settings = WorkerSettings(workerID: "bench-worker")
        settings.exitWhenIdle = true
        settings.concurrency = concurrency
        settings.chunkSize = options.chunkSize
        settings.parallelChunks = options.parallelChunks
        let start = ContinuousClock.now
        try await client.run("UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_status = 'Draft' AND source_system_key = 'bench'", logger: logger)
        try await Worker(client: client, url: url, settings: settings, logger: logger).run()
        return (ContinuousClock.now - start).seconds
    }

    private func expectCompleted(_ client: PostgresClient, source: String, items: Int) async throws {
        let rows = try await client.query(
            "SELECT count(*) FILTER (WHERE item_status = 'Applied')::int8 FROM integration.sync_item i JOIN integration.sync_job j USING (job_id) WHERE j.source_system_key = \(source)",
            logger: logger)
        for try await applied in rows.decode(Int64.self) where applied < items {
            logger.error("the worker applied \(applied) of \(items) items")
        }
    }

    /// The same work as hand-written set-based SQL, one transaction per job.
    private func runReference(_ client: PostgresClient) async throws {
        try await client.run("UPDATE integration.sync_job SET job_status = 'Processing' WHERE job_status = 'Draft' AND source_system_key = 'bench_sql'", logger: logger)
        let rows = try await client.query("SELECT job_id FROM integration.sync_job WHERE source_system_key = 'bench_sql' AND job_status = 'Processing' ORDER BY job_id", logger: logger)
        var jobIDs: [Int64] = []
        for try await id in rows.decode(Int64.self) { jobIDs.append(id) }
        var perStatement = Array(repeating: Duration.zero, count: Self.referenceScript.count)
        for jobID in jobIDs {
            perStatement = try await client.withConnection { conn in
                var times = perStatement
                try await conn.transaction(logger: logger) { conn in
                    for (index, statement) in Self.referenceScript.enumerated() {
                        let start = ContinuousClock.now
                        try await conn.run(PostgresQuery(unsafeSQL: statement, binds: { var b = PostgresBindings(); b.append(jobID); return b }()), logger: logger)
                        times[index] += ContinuousClock.now - start
                    }
                }
                return times
            }
        }
        logger.info("reference time by statement", metadata: ["seconds": "\(perStatement.map { String(format: "%.2f", $0.seconds) })"])
    }

    static let referenceScript = [
        """
        WITH keys AS (SELECT DISTINCT external_key FROM integration.sync_item WHERE job_id = $1),
             created AS (
               INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
               SELECT 'bench_sql', 'bench.person_s', external_key, gen_random_uuid() FROM keys
               ON CONFLICT DO NOTHING
               RETURNING target_id)
        INSERT INTO bench.person_s (id) SELECT target_id FROM created
        """,
        """
        UPDATE bench.person_s p
           SET full_name = coalesce(v.full_name, p.full_name), city = coalesce(v.city, p.city),
               score = coalesce(v.score::integer, p.score), joined_on = coalesce(v.joined_on::date, p.joined_on),
               status = coalesce(v.status, p.status)
          FROM (SELECT x.target_id,
                       max(s.new_value) FILTER (WHERE s.field_name = 'full_name') AS full_name,
                       max(s.new_value) FILTER (WHERE s.field_name = 'city') AS city,
                       max(s.new_value) FILTER (WHERE s.field_name = 'score') AS score,
                       max(s.new_value) FILTER (WHERE s.field_name = 'joined_on') AS joined_on,
                       max(m.canonical_code_value) FILTER (WHERE s.field_name = 'status') AS status
                  FROM integration.sync_item s
                  JOIN integration.identifier x ON x.source_system_key = 'bench_sql' AND x.target_table = 'bench.person_s'
                                               AND x.external_key = s.external_key
                  LEFT JOIN integration.value_map m ON m.source_system_key = 'bench_sql' AND m.code_list = 'status'
                                                   AND m.source_code = s.new_value AND s.field_name = 'status'
                 WHERE s.job_id = $1
                 GROUP BY x.target_id) v
         WHERE p.id = v.target_id
        """,
        """
        INSERT INTO integration.ledger (target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status,
                                        value, is_applied, applied_at, sync_item_id, job_id, confirmed_at, certified_at)
        SELECT 'bench.person_s', x.target_id, 'Field', s.field_name, 'bench_sql', 'Certified',
               coalesce(m.canonical_code_value, s.new_value), true, now(), s.item_id, s.job_id, now(), now()
          FROM integration.sync_item s
          JOIN integration.identifier x ON x.source_system_key = 'bench_sql' AND x.target_table = 'bench.person_s'
                                       AND x.external_key = s.external_key
          LEFT JOIN integration.value_map m ON m.source_system_key = 'bench_sql' AND m.code_list = 'status'
                                           AND m.source_code = s.new_value AND s.field_name = 'status'
         WHERE s.job_id = $1
         ORDER BY s.seq
        """,
        """
        INSERT INTO integration.ledger_event (ledger_id, from_status, to_status, actor)
        SELECT ledger_id, 'Pending', 'Certified', 'policy' FROM integration.ledger WHERE job_id = $1
        """,
        """
        UPDATE integration.sync_item s
           SET item_status = 'Applied', applied_at = now(), target_id = l.target_id, ledger_id = l.ledger_id
          FROM integration.ledger l
         WHERE s.job_id = $1 AND l.sync_item_id = s.item_id
        """,
        """
        UPDATE integration.sync_job
           SET job_status = 'Completed', finished_at = now(),
               items_total = (SELECT count(*) FROM integration.sync_item WHERE job_id = $1),
               items_applied = (SELECT count(*) FROM integration.sync_item WHERE job_id = $1)
         WHERE job_id = $1
        """,
    ]

    /// Rows of the worker's table and the reference's table that differ, by external key.
    private func compareTargets(_ client: PostgresClient) async throws -> Int {
        let rows = try await client.query(
            """
            WITH w AS (SELECT x.external_key, p.full_name, p.city, p.score, p.joined_on, p.status FROM bench.person_w p
                         JOIN integration.identifier x ON x.target_id = p.id AND x.source_system_key = 'bench'),
                 s AS (SELECT x.external_key, p.full_name, p.city, p.score, p.joined_on, p.status FROM bench.person_s p
                         JOIN integration.identifier x ON x.target_id = p.id AND x.source_system_key = 'bench_sql')
            SELECT count(*)::int8 FROM (SELECT * FROM s EXCEPT SELECT * FROM w) d
            """, logger: logger)
        var count = 0
        for try await n in rows.decode(Int64.self) { count = Int(n) }
        return count
    }

    // MARK: - Latency

    private func pickupLatency(client: PostgresClient, url: DatabaseURL, samples: Int) async throws -> (Double, Double) {
        var settings = WorkerSettings(workerID: "bench-latency")
        settings.pollInterval = .seconds(10)
        settings.concurrency = 1
        let worker = Worker(client: client, url: url, settings: settings, logger: logger)
        return try await withThrowingTaskGroup(of: (Double, Double)?.self) { group in
            group.addTask {
                try await worker.run()
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
            let result = try await group.next()!!
            group.cancelAll()
            return result
        }
    }

    /// Peak resident set size of this process, from /proc (Linux).
    static func peakRSSKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
