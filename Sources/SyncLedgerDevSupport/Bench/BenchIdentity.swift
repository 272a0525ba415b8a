import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

/// The bench's identity-resolution figure (SPEC §8): jobs that create new
/// records into three identical tables: one without match rules, one with the
/// two kinds of rule the README recommends for people (an exact `link` rule on
/// name and date, a `similar` `suspect` rule over name, date and city: found
/// by blocks), and one whose `similar` rule has two fields (name and date:
/// found through the trigram index, the dearest kind); then the same keys sent
/// again with new values outside the rules' fields (known keys: never
/// matched).
///
/// Each figure is taken in two halves, in the order none, blocks, trigrams,
/// trigrams, blocks, none, so that a drift of the machine or the database's
/// growth over the run weighs on every table alike.
extension Benchmark {
    /// The tables of the figure: the table, what its rules are, and its rules.
    static let identityTables: [(table: String, label: String, rules: String)] = [
        ("bench.person_n", "without match rules", ""),
        ("bench.person_b", "with exact + similar over 3 fields (blocks)",
         """
         ('bench.person_b', 'same_name_and_date', '{full_name,joined_on}', 'exact', NULL, 'link'),
         ('bench.person_b', 'like_name_date_and_city', '{full_name,joined_on,city}', 'similar', 0.6, 'suspect')
         """),
        ("bench.person_t", "with exact + similar over 2 fields (trigrams)",
         """
         ('bench.person_t', 'same_name_and_date', '{full_name,joined_on}', 'exact', NULL, 'link'),
         ('bench.person_t', 'like_name_and_date', '{full_name,joined_on}', 'similar', 0.6, 'suspect')
         """),
    ]

    static var identitySetup: String {
        let tables = identityTables.map(\.table)
        let quoted = tables.map { "'\($0)'" }.joined(separator: ", ")
        return tables.map { "CREATE TABLE \($0) (LIKE bench.person_w INCLUDING ALL);" }.joined(separator: "\n") + """

            INSERT INTO integration.source_system (source_system_key, display_name) VALUES ('bench_id', 'Bench (identity)');
            INSERT INTO integration.target_table (target_table, active_column) SELECT t, 'is_active' FROM unnest(ARRAY[\(quoted)]) t;
            INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify)
            SELECT t, f, 'OnIngest', true
              FROM unnest(ARRAY[\(quoted)]) t, unnest(ARRAY[NULL, 'full_name', 'city', 'score', 'joined_on', 'status']) f;
            INSERT INTO integration.match_rule (target_table, rule_name, fields, method, min_score, action) VALUES
            """ + identityTables.map(\.rules).filter { !$0.isEmpty }.joined(separator: ",\n") + ";"
    }

    /// Stages `jobs` Draft jobs of `records` new people each for `table`
    /// (keys `I<n>` from `offset + 1`): distinct names (from an md5 of the
    /// key), a city, a score, a date, a status; `round` changes the score and
    /// the status (no rule's field).
    static func stageIdentity(
        _ client: PostgresClient, table: String, jobs: Int, records: Int, offset: Int, round: Int, logger: Logger
    ) async throws {
        try await client.run(
            """
            WITH new_jobs AS (
              INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
              SELECT 'bench_id', \(table), 'Draft', \(table) || '-' || \(round) || '-' || \(offset) + j FROM generate_series(1, \(jobs)) j
              RETURNING job_id, split_part(job_key, '-', 3)::int AS j
            ), people AS (
              SELECT n.job_id, r, (n.j - 1) * \(records) + r AS k FROM new_jobs n, generate_series(1, \(records)) r
            )
            INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
            SELECT p.job_id, p.r * 10 + f.o, 'I' || p.k, f.name,
                   CASE f.name
                     WHEN 'full_name' THEN initcap(substr(md5(p.k::text), 1, 7)) || ' ' || initcap(substr(md5(p.k::text), 8, 9))
                     WHEN 'city' THEN 'City ' || (p.k % 97)
                     WHEN 'score' THEN ((p.k * 7 + \(round)) % 1000)::text
                     WHEN 'joined_on' THEN to_char(date '1950-01-01' + (p.k % 18000)::int, 'YYYY-MM-DD')
                     ELSE (ARRAY['active', 'blocked', 'closed'])[(p.k + \(round)) % 3 + 1]
                   END
              FROM people p, unnest(\(fieldNamesForIdentity)::text[]) WITH ORDINALITY AS f(name, o)
            """, logger: logger)
        try await client.run("ANALYZE integration.sync_item", logger: logger)
    }

    static let fieldNamesForIdentity = ["full_name", "city", "score", "joined_on", "status"]

    /// Runs the figure; prints one line per round (new records, known keys)
    /// and table, the tables with rules as a share of the table without.
    func identityFigures(_ client: PostgresClient, url: DatabaseURL, jobs: Int, records: Int, print: @Sendable (String) -> Void)
        async throws
    {
        try await Database.runScript(Self.identitySetup, on: client, logger: logger)
        let halves = [(jobs + 1) / 2, jobs / 2].filter { $0 > 0 }
        let order = Array(Self.identityTables.indices) + Self.identityTables.indices.reversed()
        for (round, what) in [(0, "new records"), (1, "known keys ")] {
            var seconds = [Double](repeating: 0, count: Self.identityTables.count)
            for (position, table) in order.enumerated() where position / Self.identityTables.count < halves.count {
                let half = position / Self.identityTables.count
                let name = Self.identityTables[table].table
                try await Self.stageIdentity(
                    client, table: name, jobs: halves[half], records: records, offset: half == 0 ? 0 : halves[0], round: round,
                    logger: logger)
                let start = ContinuousClock.now
                try await runWorker(client, url: url, source: "bench_id", concurrency: options.concurrency)
                seconds[table] += (ContinuousClock.now - start).seconds
            }
            let items = Double(halves.reduce(0, +) * records * Self.fieldNamesForIdentity.count)
            let none = items / seconds[0]
            for (index, table) in Self.identityTables.enumerated() {
                let rate = items / seconds[index]
                let share = index == 0 ? "" : String(format: " (%.1f %%)", 100 * rate / none)
                print(String(format: "identity:      %@ %d jobs × %d items  %8.0f items/s %@%@",
                             what, jobs, records * Self.fieldNamesForIdentity.count, rate, table.label, share))
            }
        }
        for table in Self.identityTables.dropFirst().map(\.table) {
            let people = try await client.collect("SELECT count(*) FROM \(unescaped: table)", as: Int64.self, logger: logger).first ?? Int64(0)
            let suspects = try await client.collect(
                "SELECT count(*) FROM integration.match_suspect WHERE target_table = \(table)", as: Int64.self, logger: logger).first ?? Int64(0)
            print("check:         \(table): \(people) records (\(jobs * records) keys), \(suspects) suspect pairs")
        }
        let unfinished = try await client.collect(
            "SELECT count(*) FROM integration.sync_job WHERE source_system_key = 'bench_id' AND job_status <> 'Completed'", as: Int64.self,
            logger: logger).first ?? Int64(0)
        print("check:         \(unfinished) unfinished identity jobs")
    }
}
