import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

/// The bench's identity-resolution figure (SPEC §8): jobs that create new
/// records, with two active match rules on their table (an exact `link` rule
/// and a `similar` `suspect` rule on name and date) next to an identical
/// table without rules; then the same keys sent again with new values (known
/// keys: never matched, but the rules' keys follow the values).
extension Benchmark {
    static let identitySetup = """
        CREATE TABLE bench.person_r (LIKE bench.person_w INCLUDING ALL);
        CREATE TABLE bench.person_n (LIKE bench.person_w INCLUDING ALL);
        INSERT INTO integration.source_system (source_system_key, display_name) VALUES ('bench_id', 'Bench (identity)');
        INSERT INTO integration.target_table (target_table, active_column) VALUES ('bench.person_r', 'is_active'), ('bench.person_n', 'is_active');
        INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify)
        SELECT t, f, 'OnIngest', true
          FROM unnest(ARRAY['bench.person_r', 'bench.person_n']) t, unnest(ARRAY[NULL, 'full_name', 'city', 'score', 'joined_on', 'status']) f;
        INSERT INTO integration.match_rule (target_table, rule_name, fields, method, min_score, action) VALUES
          ('bench.person_r', 'same_name_and_date', '{full_name,joined_on}', 'exact', NULL, 'link'),
          ('bench.person_r', 'like_name_and_date', '{full_name,joined_on}', 'similar', 0.6, 'suspect');
        """

    /// Stages `jobs` Draft jobs of `records` new people each for `table`
    /// (keys `I<n>` from `offset`): distinct names (from an md5 of the key),
    /// a city, a score, a date, a status; `round` changes every value but the
    /// name and date.
    static func stageIdentity(
        _ client: PostgresClient, table: String, jobs: Int, records: Int, round: Int, logger: Logger
    ) async throws {
        try await client.run(
            """
            WITH new_jobs AS (
              INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
              SELECT 'bench_id', \(table), 'Draft', \(table) || '-' || \(round) || '-' || j FROM generate_series(1, \(jobs)) j
              RETURNING job_id, split_part(job_key, '-', 3)::int AS j
            ), people AS (
              SELECT n.job_id, r, (n.j - 1) * \(records) + r AS k FROM new_jobs n, generate_series(1, \(records)) r
            )
            INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
            SELECT p.job_id, p.r * 10 + f.o, 'I' || p.k, f.name,
                   CASE f.name
                     WHEN 'full_name' THEN initcap(substr(md5(p.k::text), 1, 7)) || ' ' || initcap(substr(md5(p.k::text), 8, 9))
                     WHEN 'city' THEN 'City ' || ((p.k + \(round)) % 97)
                     WHEN 'score' THEN ((p.k * 7 + \(round)) % 1000)::text
                     WHEN 'joined_on' THEN to_char(date '1950-01-01' + (p.k % 18000)::int, 'YYYY-MM-DD')
                     ELSE (ARRAY['active', 'blocked', 'closed'])[(p.k + \(round)) % 3 + 1]
                   END
              FROM people p, unnest(\(fieldNamesForIdentity)::text[]) WITH ORDINALITY AS f(name, o)
            """, logger: logger)
        try await client.run("ANALYZE integration.sync_item", logger: logger)
    }

    static let fieldNamesForIdentity = ["full_name", "city", "score", "joined_on", "status"]

    /// Runs the figure; prints two lines (new records, known keys), each with
    /// the table without rules and the table with two.
    func identityFigures(_ client: PostgresClient, url: DatabaseURL, jobs: Int, records: Int, print: @Sendable (String) -> Void)
        async throws
    {
        try await Database.runScript(Self.identitySetup, on: client, logger: logger)
        let items = jobs * records * Self.fieldNamesForIdentity.count
        func rate(_ table: String, round: Int) async throws -> Double {
            try await Self.stageIdentity(client, table: table, jobs: jobs, records: records, round: round, logger: logger)
            let start = ContinuousClock.now
            try await runWorker(client, url: url, source: "bench_id", concurrency: options.concurrency)
            return Double(items) / (ContinuousClock.now - start).seconds
        }
        for (round, what) in [(0, "new records"), (1, "known keys ")] {
            let none = try await rate("bench.person_n", round: round)
            let rules = try await rate("bench.person_r", round: round)
            print(String(format: "identity:      %@ %d jobs × %d items  %8.0f items/s without match rules, %8.0f with two (%.1f %%)",
                         what, jobs, items / max(jobs, 1), none, rules, 100 * rules / none))
        }
        let people = try await client.collect("SELECT count(*) FROM bench.person_r", as: Int64.self, logger: logger).first ?? Int64(0)
        let suspects = try await client.collect(
            "SELECT count(*) FROM integration.match_suspect WHERE target_table = 'bench.person_r'", as: Int64.self, logger: logger).first ?? Int64(0)
        let unfinished = try await client.collect(
            "SELECT count(*) FROM integration.sync_job WHERE source_system_key = 'bench_id' AND job_status <> 'Completed'", as: Int64.self,
            logger: logger).first ?? Int64(0)
        print("check:         \(people) records with rules (\(jobs * records) keys), \(suspects) suspect pairs, \(unfinished) unfinished jobs")
    }
}
