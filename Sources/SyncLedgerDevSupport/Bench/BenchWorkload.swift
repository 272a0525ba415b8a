import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

/// The bench's schema and data: target tables, configuration, staged jobs,
/// and preloaded history. Everything is staged as upstreams would (jobs and
/// items inserted with SQL) and left Draft until the clock starts.
enum BenchWorkload {
    static let fieldNames = ["full_name", "city", "score", "joined_on", "status"]

    static let setup = """
        CREATE SCHEMA IF NOT EXISTS bench;
        CREATE TABLE bench.person_w (id uuid PRIMARY KEY, full_name text, city text, score integer, joined_on date, status text,
                                     is_active boolean NOT NULL DEFAULT true);
        CREATE TABLE bench.person_s (LIKE bench.person_w INCLUDING ALL);
        CREATE TABLE bench.person_f (LIKE bench.person_w INCLUDING ALL);
        -- The floor's ledger: one plain row per item; no chain, digest or guard.
        CREATE TABLE bench.floor_ledger (ledger_id bigint PRIMARY KEY, target_id uuid NOT NULL, aspect_key text NOT NULL,
                                         value text, sync_item_id bigint, job_id bigint NOT NULL,
                                         recorded_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE bench.queue (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL);
        INSERT INTO integration.source_system (source_system_key, display_name) VALUES
          ('bench', 'Bench'), ('bench_sql', 'Bench (SQL reference)'), ('bench_small', 'Bench (small jobs)'),
          ('bench_hist', 'Bench (history)'), ('bench_floor', 'Bench (floor)');
        INSERT INTO integration.target_table (target_table, active_column) VALUES
          ('bench.person_w', 'is_active'), ('bench.person_s', 'is_active'),
          ('bench.person_f', 'is_active');
        INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify, code_list)
        SELECT t, f, 'OnIngest', true, CASE WHEN f = 'status' THEN 'status' END
          FROM unnest(ARRAY['bench.person_w', 'bench.person_s']) t,
               unnest(ARRAY[NULL, 'full_name', 'city', 'score', 'joined_on', 'status']) f;
        INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value)
        SELECT s, 'status', c, v FROM unnest(ARRAY['bench', 'bench_sql', 'bench_small', 'bench_hist', 'bench_floor']) s,
               (VALUES ('A', 'active'), ('B', 'blocked'), ('C', 'closed')) AS m(c, v);
        """

    /// Stages `jobs` Draft jobs of `records` records × `fields` fields each,
    /// keys `P<n>` numbered from `offset`.
    static func stageLarge(
        _ client: PostgresClient, source: String, table: String, jobs: Int, records: Int, fields: Int, offset: Int, logger: Logger
    ) async throws {
        let names = Array(fieldNames.prefix(fields))
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

    /// Stages `count` Draft jobs of one item each: a city Set on a record of
    /// bench.person_w, half of them on records that exist already.
    static func stageSmall(_ client: PostgresClient, count: Int, logger: Logger) async throws {
        // The known half: records and identifiers created beforehand.
        try await client.run(
            """
            WITH ids AS (
              INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
              SELECT 'bench_small', 'bench.person_w', 'S' || n, gen_random_uuid() FROM generate_series(1, \(count / 2)) n
              RETURNING target_id)
            INSERT INTO bench.person_w (id) SELECT target_id FROM ids
            """, logger: logger)
        try await client.run(
            """
            WITH new_jobs AS (
              INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key)
              SELECT 'bench_small', 'bench.person_w', 'Draft', 'small-' || n FROM generate_series(1, \(count)) n
              RETURNING job_id, split_part(job_key, '-', 2)::int AS n
            )
            INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
            SELECT job_id, 1, 'S' || n, 'city', 'Small town ' || n FROM new_jobs
            """, logger: logger)
        try await client.run("ANALYZE integration.sync_item", logger: logger)
        try await client.run("ANALYZE integration.sync_job", logger: logger)
    }

    /// Preloads `entries` ledger entries of history: records of the worker's
    /// own table, bench.person_w (so that the target table grows with the
    /// ledger, as it does in a deployment), with five fields each, their
    /// identifiers, order marks and sealed chains, in batches; then analyzes
    /// the tables as autovacuum would.
    static func preloadHistory(_ client: PostgresClient, entries: Int, logger: Logger, progress: @Sendable (Int) -> Void) async throws {
        let fields = fieldNames.count
        let records = max(1, entries / (fields + 1))
        let batch = 100_000
        var done = 0
        while done < records {
            let count = min(batch, records - done)
            let from = done + 1
            try await client.transaction(logger: logger) { conn in
                try await conn.run(
                    """
                    CREATE TEMP TABLE h_rec ON COMMIT DROP AS
                    SELECT n, gen_random_uuid() AS id FROM generate_series(\(from), \(from + count - 1)) n
                    """, logger: logger)
                try await conn.run("INSERT INTO bench.person_w (id, full_name, city, score, joined_on, status) SELECT id, 'History ' || n, 'City', n % 1000, date '2000-01-01', 'active' FROM h_rec", logger: logger)
                try await conn.run(
                    """
                    INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
                    SELECT 'bench_hist', 'bench.person_w', 'H' || n, id FROM h_rec
                    """, logger: logger)
                // One Record entry and five Field entries per record, each
                // certified by policy at birth (version 2 digests, as the
                // worker writes them), sealed as one link per record; the
                // links recorded for the Merkle log.
                try await conn.run(
                    """
                    CREATE TEMP TABLE h_ent ON COMMIT DROP AS
                    SELECT r.id AS target_id, a.pos, a.aspect, a.akey, a.value,
                           nextval('integration.ledger_ledger_id_seq') AS ledger_id,
                           nextval('integration.apply_seq') AS aseq
                      FROM h_rec r
                     CROSS JOIN LATERAL (VALUES (1, 'Record', 'record', 'created'), (2, 'Field', 'full_name', 'History ' || r.n),
                                                (3, 'Field', 'city', 'City'), (4, 'Field', 'score', (r.n % 1000)::text),
                                                (5, 'Field', 'joined_on', '2000-01-01'), (6, 'Field', 'status', 'active'))
                           AS a(pos, aspect, akey, value)
                    """, logger: logger)
                try await conn.run(
                    """
                    CREATE TEMP TABLE h_el ON COMMIT DROP AS
                    SELECT e.target_id, e.pos,
                           integration.entry_digest_v2(e.ledger_id, 'bench.person_w', e.target_id, e.aspect, e.akey, 'bench_hist',
                                                       e.value, NULL, NULL, NULL, NULL, now(), 'Certified', e.aseq, NULL, NULL,
                                                       NULL, NULL) AS d
                      FROM h_ent e
                    """, logger: logger)
                try await conn.run(
                    """
                    CREATE TEMP TABLE h_link ON COMMIT DROP AS
                    SELECT target_id, sha256(integration.chain_genesis('bench.person_w', target_id) || string_agg(d, ''::bytea ORDER BY pos)) AS link
                      FROM h_el GROUP BY target_id
                    """, logger: logger)
                try await conn.run(
                    """
                    INSERT INTO integration.ledger
                      (ledger_id, target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status, value,
                       is_applied, applied_at, apply_seq, recorded_at, confirmed_at, certified_at, chain_seq, row_hash, chain_hash,
                       birth_status, birth_apply_seq)
                    OVERRIDING SYSTEM VALUE
                    SELECT e.ledger_id, 'bench.person_w', e.target_id, e.aspect, e.akey, 'bench_hist', 'Certified', e.value,
                           true, now(), e.aseq, now(), now(), now(), e.pos, el.d, l.link, 'Certified', e.aseq
                      FROM h_ent e JOIN h_el el ON el.target_id = e.target_id AND el.pos = e.pos
                      JOIN h_link l ON l.target_id = e.target_id
                    """, logger: logger)
                try await conn.run(
                    """
                    INSERT INTO integration.ledger_chain (target_table, target_id, length, head)
                    SELECT 'bench.person_w', target_id, 6, link FROM h_link
                    """, logger: logger)
                try await conn.run(
                    """
                    INSERT INTO integration.ledger_link (target_table, target_id, chain_seq, link_hash)
                    SELECT 'bench.person_w', target_id, 6, link FROM h_link ORDER BY target_id
                    """, logger: logger)
                try await conn.run(
                    """
                    INSERT INTO integration.source_order (target_table, target_id, aspect_key, source_system_key, any_submit, any_seq,
                                                          nots_submit, nots_seq)
                    SELECT 'bench.person_w', target_id, akey, 'bench_hist', 1, pos, 1, pos FROM h_ent
                    """, logger: logger)
                // The items the entries came from, as retention would keep
                // them: one finished job per batch.
                try await conn.run(
                    """
                    WITH j AS (
                      INSERT INTO integration.sync_job (source_system_key, entity_type, job_status, job_key, finished_at,
                                                        items_total, items_applied)
                      VALUES ('bench_hist', 'bench.person_w', 'Completed', 'history-' || \(from), now(), \(count * fields),
                              \(count * fields))
                      RETURNING job_id)
                    INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value, item_status, target_id,
                                                       ledger_id, applied_at)
                    SELECT j.job_id, e.ledger_id, 'H' || r.n, e.akey, e.value, 'Applied', e.target_id, e.ledger_id, now()
                      FROM h_ent e JOIN h_rec r ON r.id = e.target_id CROSS JOIN j
                     WHERE e.aspect = 'Field'
                    """, logger: logger)
            }
            done += count
            progress(done * (fields + 1))
        }
        for table in ["integration.ledger", "integration.ledger_event", "integration.identifier", "integration.ledger_chain",
                      "integration.source_order", "integration.sync_job", "integration.sync_item", "bench.person_w"] {
            try await client.run(PostgresQuery(unsafeSQL: "ANALYZE \(table)"), logger: logger)
        }
    }
}
