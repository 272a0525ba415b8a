import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

/// The steward's workbench under load: a bulk certify of entries the worker
/// applied and left for certification (entries/s, a decision batch in
/// chunks, as `syncledger steward certify` with filters runs it), and
/// `record_as_of` latency on records of the preloaded history.
extension Benchmark {
    static let workbenchSetup = """
        CREATE TABLE IF NOT EXISTS bench.person_q (LIKE bench.person_w INCLUDING ALL);
        INSERT INTO integration.target_table (target_table, active_column) VALUES ('bench.person_q', 'is_active')
          ON CONFLICT DO NOTHING;
        INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
          ('bench.person_q', NULL, 'OnIngest', true), ('bench.person_q', 'full_name', 'OnIngest', true),
          ('bench.person_q', 'city', 'OnIngest', false)
          ON CONFLICT DO NOTHING;
        INSERT INTO integration.source_system (source_system_key, display_name) VALUES ('bench_q', 'Bench (workbench)')
          ON CONFLICT DO NOTHING;
        INSERT INTO integration.app_user (user_name, display_name, is_steward) VALUES ('bench_steward', 'Bench steward', true)
          ON CONFLICT DO NOTHING;
        """

    /// Bulk certify: `entries` pending entries, applied by the worker, then
    /// certified as one batch. Returns entries/s.
    func bulkCertify(
        _ client: PostgresClient, url: DatabaseURL, entries: Int, chunk: Int, runWorker: () async throws -> Void
    ) async throws -> (rate: Double, seconds: Double, decided: Int64) {
        try await Database.runScript(Self.workbenchSetup, on: client, logger: logger)
        try await BenchWorkload.stageLarge(
            client, source: "bench_q", table: "bench.person_q", jobs: max(1, entries / 50_000), records: min(entries, 50_000),
            fields: 2, offset: 40_000_000, logger: logger)
        // The city of each record waits for certification; its full name is certified at ingest.
        try await runWorker()
        try await client.run("VACUUM ANALYZE integration.ledger", logger: logger)
        let steward = StewardQueries(client: client, logger: logger)
        let start = ContinuousClock.now
        let outcome = try await steward.decide(
            .certify, where: .init(table: "bench.person_q", field: "city", state: .applied), as: "bench_steward",
            notes: "bench", chunk: chunk, parts: 2)
        let seconds = (ContinuousClock.now - start).seconds
        return (Double(outcome.decided) / seconds, seconds, outcome.decided)
    }

    /// `record_as_of` on `samples` random records of the preloaded history,
    /// at a moment after their entries: p50 and p95 in milliseconds.
    func asOfLatency(_ client: PostgresClient, samples: Int) async throws -> (p50: Double, p95: Double) {
        let ids = try await client.collect(
            "SELECT target_id::text FROM integration.identifier WHERE source_system_key = 'bench_hist' ORDER BY random() LIMIT \(samples)",
            as: String.self, logger: logger)
        var times: [Double] = []
        for id in ids {
            let start = ContinuousClock.now
            _ = try await client.collect(
                "SELECT count(*) FROM integration.record_as_of('bench.person_w', \(id)::uuid, now() - interval '1 second')",
                as: Int64.self, logger: logger)
            times.append((ContinuousClock.now - start).seconds * 1000)
        }
        times.sort()
        guard !times.isEmpty else { return (0, 0) }
        return (times[times.count / 2], times[min(times.count - 1, Int(Double(times.count) * 0.95))])
    }
}
