import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerPostgres

/// What the worker is measured against: the same outcome written by hand, as
/// lean as a DBA would write it for this workload (new records, every field
/// applied and certified by policy), one transaction per job:
///
/// 1. the missing identifiers and their new records, in one statement;
/// 2. the work in a temporary table: item, record, field, value mapped through
///    the value map, with the ledger ids and apply order it will take — one
///    statement (the crosswalk looked up per item, LATERAL ... LIMIT 1: a
///    plain join is planned from statistics taken before this job's records
///    existed, and turns quadratic);
/// 3. one UPDATE of the target table, all fields of a record in one row update;
/// 4. the ledger's entries, their version 2 digests (content and state at
///    birth: certified by the policy) and chain positions, from the schema's
///    own functions: `integration.entry_digest_v2` and
///    `integration.chain_append` (one link per record, the chain heads moved,
///    the links recorded for the Merkle log), in one statement;
/// 5. one INSERT of all entries;
/// 6. the source order marks; the item results; the job's status and counts.
///
/// The ledger this writes verifies (`integration.verify_ledger()`) and explains
/// every value (`integration.provenance_violations()`), as the worker's does:
/// the bench checks both.
enum BenchReference {
    static let temporaryTables = """
        CREATE TEMP TABLE IF NOT EXISTS ref_new (target_id uuid, external_key text, ledger_id bigint, aseq bigint);
        CREATE TEMP TABLE IF NOT EXISTS ref_w (item_id bigint, seq bigint, target_id uuid, field text, value text,
                                               ledger_id bigint, aseq bigint, rn bigint);
        CREATE TEMP TABLE IF NOT EXISTS ref_e (target_id uuid, pos bigint, d bytea, chain_seq bigint, link bytea);
        """

    /// One job of the reference; `$1` is its id.
    static let script = [
        "TRUNCATE ref_new, ref_w, ref_e",
        // 1. identifiers and records
        identifiers(source: "bench_sql", table: "bench.person_s"),
        // 2. the work
        work(source: "bench_sql", table: "bench.person_s"),
        // Temporary tables have no statistics until analyzed; without them the
        // planner joins them by nested loops.
        "ANALYZE ref_new, ref_w",
        // 3. the target rows
        targets(table: "bench.person_s"),
        // 4. the ledger's entries in chain order (per record: the Record entry,
        // then each field's entry), their version 2 digests (content and state
        // at birth: certified by the policy, applied with its apply_seq), and
        // their chain positions and links (chain_append also moves the records'
        // chain heads and records the links for the Merkle log)
        """
        INSERT INTO ref_e (target_id, pos, d, chain_seq, link)
        WITH el AS MATERIALIZED (
          SELECT x.target_id, x.pos, x.d, row_number() OVER (ORDER BY x.target_id, x.pos)::integer AS ord
            FROM (SELECT target_id, 0::bigint AS pos,
                         integration.entry_digest_v2(ledger_id, 'bench.person_s', target_id, 'Record', 'record', 'bench_sql',
                                                     'created', NULL, NULL, $1, NULL, now(), 'Certified', aseq, NULL, NULL,
                                                     NULL, NULL) AS d
                    FROM ref_new
                  UNION ALL
                  SELECT target_id, rn, integration.entry_digest_v2(ledger_id, 'bench.person_s', target_id, 'Field', field,
                                                                    'bench_sql', value, NULL, item_id, $1, NULL, now(),
                                                                    'Certified', aseq, NULL, NULL, NULL, NULL)
                    FROM ref_w) x)
        SELECT el.target_id, el.pos, el.d, c.chain_seq, c.chain_hash
          FROM integration.chain_append(ARRAY(SELECT 'bench.person_s'::text FROM el ORDER BY el.ord),
                                        ARRAY(SELECT el.target_id FROM el ORDER BY el.ord),
                                        ARRAY(SELECT el.d FROM el ORDER BY el.ord)) c
          JOIN el ON el.ord = c.ord
        """,
        "ANALYZE ref_e",
        """
        INSERT INTO integration.ledger
          (ledger_id, target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status, value, is_applied,
           applied_at, apply_seq, sync_item_id, job_id, recorded_at, confirmed_at, certified_at, chain_seq, row_hash, chain_hash,
           birth_status, birth_apply_seq)
        OVERRIDING SYSTEM VALUE
        SELECT n.ledger_id, 'bench.person_s', n.target_id, 'Record', 'record', 'bench_sql', 'Certified', 'created', true,
               now(), n.aseq, NULL, $1, now(), now(), now(), e.chain_seq, e.d, e.link, 'Certified', n.aseq
          FROM ref_new n JOIN ref_e e ON e.target_id = n.target_id AND e.pos = 0
        UNION ALL
        SELECT w.ledger_id, 'bench.person_s', w.target_id, 'Field', w.field, 'bench_sql', 'Certified', w.value, true,
               now(), w.aseq, w.item_id, $1, now(), now(), now(), e.chain_seq, e.d, e.link, 'Certified', w.aseq
          FROM ref_w w JOIN ref_e e ON e.target_id = w.target_id AND e.pos = w.rn
        """,
        // 6. order marks, item results, the job
        """
        INSERT INTO integration.source_order (target_table, target_id, aspect_key, source_system_key, any_submit, any_seq,
                                              nots_submit, nots_seq)
        SELECT 'bench.person_s', w.target_id, w.field, 'bench_sql', j.submit_seq, w.seq, j.submit_seq, w.seq
          FROM ref_w w, integration.sync_job j WHERE j.job_id = $1
        ON CONFLICT (target_table, target_id, aspect_key, source_system_key) DO UPDATE
           SET any_submit = excluded.any_submit, any_seq = excluded.any_seq,
               nots_submit = excluded.nots_submit, nots_seq = excluded.nots_seq
        """,
        itemResults(ledger: true),
        finishJob,
    ]

    /// The floor, what governance costs (one job; `$1` is its id): the same
    /// target rows, and one plain row per item in a table with no chain, no
    /// digest, no order marks and no policy (`bench.floor_ledger`), and the
    /// item results and the job, in one transaction per job.
    static let floorScript = [
        "TRUNCATE ref_new, ref_w",
        identifiers(source: "bench_floor", table: "bench.person_f"),
        work(source: "bench_floor", table: "bench.person_f"),
        "ANALYZE ref_new, ref_w",
        targets(table: "bench.person_f"),
        """
        INSERT INTO bench.floor_ledger (ledger_id, target_id, aspect_key, value, sync_item_id, job_id)
        SELECT ledger_id, target_id, 'record', 'created', NULL, $1 FROM ref_new
        UNION ALL
        SELECT ledger_id, target_id, field, value, item_id, $1 FROM ref_w
        """,
        itemResults(ledger: false),
        finishJob,
    ]

    /// The missing identifiers of a job's keys and their new records.
    private static func identifiers(source: String, table: String) -> String {
        """
        WITH keys AS (SELECT DISTINCT external_key FROM integration.sync_item WHERE job_id = $1),
             created AS (
               INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
               SELECT '\(source)', '\(table)', external_key, gen_random_uuid() FROM keys ORDER BY 1
               ON CONFLICT DO NOTHING
               RETURNING target_id, external_key),
             records AS (INSERT INTO \(table) (id) SELECT target_id FROM created)
        INSERT INTO ref_new
        SELECT target_id, external_key, nextval('integration.ledger_ledger_id_seq'), nextval('integration.apply_seq')
          FROM created
        """
    }

    /// The job's pending items with their records, values mapped, ids taken.
    private static func work(source: String, table: String) -> String {
        """
        INSERT INTO ref_w
        SELECT s.item_id, s.seq, x.target_id, s.field_name, coalesce(m.canonical_code_value, s.new_value),
               nextval('integration.ledger_ledger_id_seq'), nextval('integration.apply_seq'),
               row_number() OVER (PARTITION BY x.target_id ORDER BY s.seq)
          FROM integration.sync_item s
         CROSS JOIN LATERAL (SELECT x.target_id FROM integration.identifier x
                              WHERE x.source_system_key = '\(source)' AND x.target_table = '\(table)'
                                AND x.external_key = s.external_key LIMIT 1) x
          LEFT JOIN integration.value_map m ON m.source_system_key = '\(source)' AND m.code_list = 'status'
                                           AND m.source_code = s.new_value AND s.field_name = 'status'
         WHERE s.job_id = $1 AND s.item_status = 'Pending'
        """
    }

    /// One UPDATE of the target table, all fields of a record in one row update.
    private static func targets(table: String) -> String {
        """
        UPDATE \(table) p
           SET full_name = coalesce(v.full_name, p.full_name), city = coalesce(v.city, p.city),
               score = coalesce(v.score::integer, p.score), joined_on = coalesce(v.joined_on::date, p.joined_on),
               status = coalesce(v.status, p.status)
          FROM (SELECT target_id,
                       max(value) FILTER (WHERE field = 'full_name') AS full_name,
                       max(value) FILTER (WHERE field = 'city') AS city,
                       max(value) FILTER (WHERE field = 'score') AS score,
                       max(value) FILTER (WHERE field = 'joined_on') AS joined_on,
                       max(value) FILTER (WHERE field = 'status') AS status
                  FROM ref_w GROUP BY target_id) v
         WHERE p.id = v.target_id
        """
    }

    /// The item results, naming their ledger entries when they are in
    /// integration.ledger.
    private static func itemResults(ledger: Bool) -> String {
        """
        UPDATE integration.sync_item s
           SET item_status = 'Applied', applied_at = now(), target_id = w.target_id, ledger_id = \(ledger ? "w.ledger_id" : "NULL")
          FROM ref_w w
         WHERE s.item_id = w.item_id
        """
    }

    private static let finishJob = """
        UPDATE integration.sync_job
           SET job_status = 'Completed', finished_at = now(), items_total = (SELECT count(*) FROM ref_w),
               items_applied = (SELECT count(*) FROM ref_w)
         WHERE job_id = $1
        """

    /// Runs `script` (the reference, or the floor) over every job of
    /// `source`; returns the seconds per statement.
    static func run(
        _ client: PostgresClient, source: String = "bench_sql", script: [String] = script, logger: Logger
    ) async throws -> [Duration] {
        try await client.run(
            "UPDATE integration.sync_job SET job_status = 'Processing' WHERE job_status = 'Draft' AND source_system_key = \(source)",
            logger: logger)
        let jobIDs = try await client.collect(
            "SELECT job_id FROM integration.sync_job WHERE source_system_key = \(source) AND job_status = 'Processing' ORDER BY job_id",
            as: Int64.self, logger: logger)
        return try await client.withConnection { conn in
            // Fresh statistics for what the pipeline joins, as a DBA would take them.
            try await conn.run("ANALYZE integration.identifier, integration.ledger_chain, integration.sync_item", logger: logger)
            for statement in SQLScript.statements(temporaryTables) {
                try await conn.run(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            var times = Array(repeating: Duration.zero, count: script.count)
            for jobID in jobIDs {
                try await conn.transaction(logger: logger) { conn in
                    for (index, statement) in script.enumerated() {
                        let start = ContinuousClock.now
                        var binds = PostgresBindings()
                        if statement.contains("$1") { binds.append(jobID) }
                        try await conn.run(PostgresQuery(unsafeSQL: statement, binds: binds), logger: logger)
                        times[index] += ContinuousClock.now - start
                    }
                }
            }
            return times
        }
    }

    /// A plain PostgreSQL queue, for scale: `count` no-op jobs drained by one
    /// consumer taking batches of 100 with FOR UPDATE SKIP LOCKED (claim and
    /// acknowledge in one statement, as queue libraries do). Returns seconds.
    static func drainPlainQueue(_ client: PostgresClient, count: Int, logger: Logger) async throws -> Double {
        try await client.run("INSERT INTO bench.queue (payload) SELECT 'no-op ' || n FROM generate_series(1, \(count)) n", logger: logger)
        try await client.run("ANALYZE bench.queue", logger: logger)
        let start = ContinuousClock.now
        try await client.withConnection { conn in
            while true {
                let taken = try await conn.checkedRows(
                    """
                    WITH batch AS (SELECT id FROM bench.queue ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED)
                    DELETE FROM bench.queue q USING batch WHERE q.id = batch.id RETURNING q.id
                    """, logger: logger
                ).decoded(Int64.self)
                if taken.isEmpty { break }
            }
        }
        return (ContinuousClock.now - start).seconds
    }
}
