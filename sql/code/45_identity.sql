-- identity.sql — identity resolution (SPEC §8): a new external key without a
-- target_id hint finds the record that already exists under another
-- source's key; stewards resolve what the rules only suspect, and merge and
-- unmerge records with full provenance. The tables are in
-- sql/schema/005_identity.sql; README "Choosing match rules" says how to
-- choose rules.
--
--   SL090  a match rule that cannot be: unknown field, the id or active
--          column, a generated or a relationship column, a field twice
--   SL091  merge: not two records of one registered target table
--   SL092  merge: the table has no active_column (a merged record is deactivated)
--   SL093  merge: a record is inactive, already merged, or has absorbed others
--   SL094  merge: both records carry an identifier of the same source
--   SL095  unmerge: merge not found, or already undone
--   SL096  dismiss: suspect pair not found, or not open
--
-- Keys. A rule compares normalised values (match_normalise: lower case,
-- accents folded by unaccent, every run of punctuation and spacing one
-- space): exact rules the fields joined by '|', similar rules by ' ' with one
-- trigram similarity (pg_trgm) over them. A rule applies to a record only
-- when every one of its fields has a value. The keys of every record of a
-- rule's table are kept in integration.match_key (for active records, and for
-- inactive rules too, so that `syncledger match --dry-run` can try a rule
-- before it is turned on): write_targets (targets.sql), the one writer of
-- target rows, refreshes the keys of the records it writes when it writes a
-- column some rule compares or the active column; a rule's keys are rebuilt
-- when it changes. Matching reads match_key through its indexes and never a
-- target table.
--
-- Candidates. An exact rule's are the records with the same key (btree). A
-- similar rule's are scored by trigram similarity on the whole key, and found
-- so that the search costs no more than the rule needs:
--   over three fields or more: the records that agree exactly (normalised)
--     on all of its fields but one, through a block per field (the other
--     fields' key, btree); a transposed letter, a missing middle name, day
--     and month swapped: one field differs at a time. A btree probe per
--     field, the cost of an exact rule.
--   over one or two fields: through the GIN trigram index, which finds any
--     key similar enough, at about a millisecond per new record (a GIN probe
--     reads an index entry per trigram of the key).
--
-- Matching (match_new_records, called by resolve_records for new keys
-- without a hint): set-based over the chunk's new records. Candidates are
-- the active records a rule finds (at most 10 per record and rule, best
-- first), and the chunk's other new records (exact rules, similar rules with
-- blocks, and similar link rules over one or two fields). Link edges join
-- records into groups; a group links when it holds at most one existing
-- record, no two keys of one source, and the existing record carries no
-- identifier of those sources: its new keys are linked to the existing
-- record, or to the record of its first new key. Everything else, and every
-- suspect rule's candidate, becomes a suspect pair (at least one of them a
-- record created now). A record an exact link rule links is not looked up
-- for suspects.
--
-- Lock order, before the aspect layer's (aspects.sql):
--   identifiers    of known keys, in identifier_id order (crosswalk.sql;
--                  merge and unmerge lock both records' FOR UPDATE: they
--                  move them)
--   match claims   a transaction that may create or link a record under a
--                  link rule claims each normalised key (one claim per
--                  similar link rule and table: similar keys cannot be
--                  claimed one by one, so such a rule serialises the
--                  creation of new records of its table), in key order, by
--                  inserting and at once deleting a match_claim row; a second
--                  claimant of a key waits for the first to commit, then sees
--                  its record. Suspect rules claim nothing: a suspect pair can
--                  be missed between two racing creations (`match --dry-run`
--                  finds it later).
--   new keys       identifiers inserted in key order (crosswalk.sql)
--   target rows    in (table, id) order, FOR NO KEY UPDATE
--   ledger rows
-- The worker takes claims while resolving a chunk's first round, before any
-- target row; merge and unmerge lock both records' identifiers, claim the
-- merged record's keys (so no new key is linked to a record being merged),
-- then lock the target rows: both records and every record whose
-- relationship names the merged one, in (table, id) order; then ledger rows.
-- A deadlock or serialization failure PostgreSQL still raises is retried
-- (as decide_one does), so a steward never sees one caused by the worker.
--
-- Merge (merge_records): the merged record's identifiers move to the
-- survivor; each governed aspect of the merged record that the survivor
-- does not win is settled onto the survivor by ownership (owner_entry): the
-- two owners compete as the worker's authority rule would have it (the
-- policy's authoritative_sources, a stale owner losing its rank), then the
-- one applied last wins; relationships of other records that named the
-- merged record name the survivor; the merged record is deactivated.
-- Every change is a ledger entry (settled values carry their owner's source,
-- status, certification and staleness clock; the rest are certified by the
-- steward), each with an event of kind identity. Held values stay held, on
-- the record they were recorded for, and visible in the queue; the merged
-- record's values stay as they were. Systems whose view of a record changed
-- get outbound items. Unmerge undoes it: the merge's entries are rejected
-- (pending) or revoked (certified), every aspect the merge still owns
-- returns to the owner it had before (compare-and-set), identifiers move
-- back, suspects reopen.

-- ---------------------------------------------------------------------------
-- Normalisation (pg_trgm and unaccent, wherever they are installed)
-- ---------------------------------------------------------------------------

-- match_normalise(value): lower case, accents folded (unaccent), every run of
-- characters that are neither letters nor digits one space, trimmed; NULL
-- for nothing left. The one normalisation: keys, matching, the dry run.
-- match_similarity(a, b): pg_trgm's similarity. match_similar(a, b): pg_trgm's
-- `%` operator (similarity at least pg_trgm.similarity_threshold), inlined
-- where it is called, so the GIN trigram index serves it. Created here with
-- the extensions' schemas written out, so that no search_path decides which
-- functions they call.
DO $$
DECLARE
  trgm  name := (SELECT e.extnamespace::regnamespace::name FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_trgm');
  unacc name := (SELECT e.extnamespace::regnamespace::name FROM pg_catalog.pg_extension e WHERE e.extname = 'unaccent');
BEGIN
  IF trgm IS NULL OR unacc IS NULL THEN
    RAISE EXCEPTION 'identity resolution needs the extensions pg_trgm and unaccent'
      USING HINT = 'sql/schema/005_identity.sql installs them (PostgreSQL contrib): run syncledger migrate.';
  END IF;
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION integration.match_normalise(p_value text)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $b$
      SELECT nullif(btrim(regexp_replace(lower(%1$I.unaccent(p_value)), '[^[:alnum:]]+', ' ', 'g')), '')
    $b$ $f$, unacc);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION integration.match_similarity(p_a text, p_b text)
    RETURNS real
    LANGUAGE sql STABLE PARALLEL SAFE AS $b$
      SELECT %1$I.similarity(p_a, p_b)
    $b$ $f$, trgm);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION integration.match_similar(p_a text, p_b text)
    RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $b$
      SELECT p_a OPERATOR(%1$I.%%) p_b
    $b$ $f$, trgm);
END
$$;

-- match_key_of(method, values): a rule's key of one record: its values
-- normalised, joined by '|' (exact) or ' ' (similar, compared as one
-- string); NULL when any value is empty (the rule does not apply).
CREATE OR REPLACE FUNCTION integration.match_key_of(p_method text, p_values text[])
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT k.normalised_key FROM integration.match_keys_of(p_method, p_values) k WHERE k.part = 0
$$;

-- match_keys_of(method, values): every key of one record under a rule, as
-- match_key holds them: part 0, the rule's key (match_key_of), found by
-- value (exact), by trigrams (similar over one or two fields) or not at all
-- (similar over three fields or more: read to score); and for a similar
-- rule over three fields or more, per field i, part i: the block 'i:' and
-- the other fields' exact key, found by value. Keys are NULL when any value
-- is empty.
CREATE OR REPLACE FUNCTION integration.match_keys_of(p_method text, p_values text[])
RETURNS TABLE (part smallint, normalised_key text, lookup text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH v AS (
    SELECT x.n, coalesce(cardinality(p_values), 0) > 0 AND array_position(x.n, NULL) IS NULL AS full
      FROM (SELECT array_agg(integration.match_normalise(u.v) ORDER BY u.o) AS n
              FROM unnest(p_values) WITH ORDINALITY AS u(v, o)) x
  )
  SELECT 0::smallint,
         CASE WHEN v.full THEN array_to_string(v.n, CASE WHEN p_method = 'exact' THEN '|' ELSE ' ' END) END,
         CASE WHEN p_method = 'exact' THEN 'value' WHEN cardinality(p_values) < 3 THEN 'trigram' ELSE 'none' END
    FROM v
  UNION ALL
  SELECT i::smallint, CASE WHEN v.full THEN i || ':' || array_to_string(v.n[:i - 1] || v.n[i + 1:], '|') END, 'value'
    FROM v, generate_subscripts(p_values, 1) AS i
   WHERE p_method = 'similar' AND cardinality(p_values) >= 3
$$;

-- match_claim_key(rule, key): the claim a link rule's key takes: one per
-- normalised key, or (key NULL) one for a similar rule as a whole.
CREATE OR REPLACE FUNCTION integration.match_claim_key(p_rule bigint, p_key text)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT hashtextextended(p_rule::text || CASE WHEN p_key IS NULL THEN ' similar' ELSE ':' || p_key END, 5386436863276462949)
$$;

-- claim_match_keys(keys): claims keys in order (see "Lock order" above):
-- waits for every transaction that claimed one of them and has not ended.
CREATE OR REPLACE FUNCTION integration.claim_match_keys(p_keys bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(cardinality(p_keys), 0) = 0 THEN
    RETURN;
  END IF;
  INSERT INTO integration.match_claim (claim_key)
  SELECT DISTINCT k FROM unnest(p_keys) AS k ORDER BY 1
  ON CONFLICT DO NOTHING;
  DELETE FROM integration.match_claim c WHERE c.claim_key = ANY (p_keys);
END
$$;

-- ---------------------------------------------------------------------------
-- Rules and keys
-- ---------------------------------------------------------------------------

-- check_match_rule(): a rule's fields must be real, writable value columns
-- of its table, each once (SL090).
CREATE OR REPLACE FUNCTION integration.check_match_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  t   record;
  bad text;
BEGIN
  t := integration.resolve_target(NEW.target_table);
  IF EXISTS (SELECT FROM unnest(NEW.fields) f WHERE f IS NULL)
     OR (SELECT count(DISTINCT f) FROM unnest(NEW.fields) f) <> cardinality(NEW.fields) THEN
    RAISE EXCEPTION 'match rule %: its fields must be distinct column names, not %', NEW.rule_name, NEW.fields
      USING ERRCODE = 'SL090';
  END IF;
  SELECT string_agg(quote_ident(f.f), ', ' ORDER BY f.o) INTO bad
    FROM unnest(NEW.fields) WITH ORDINALITY AS f(f, o)
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = format('%I.%I', t.rel_schema, t.rel_name)::regclass
                                       AND a.attname = f.f AND a.attnum > 0 AND NOT a.attisdropped
   WHERE a.attname IS NULL;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'match rule %: unknown field % on %', NEW.rule_name, bad, NEW.target_table
      USING ERRCODE = 'SL090', HINT = 'Name columns of the target table.';
  END IF;
  SELECT string_agg(quote_ident(f.f), ', ' ORDER BY f.o) INTO bad
    FROM unnest(NEW.fields) WITH ORDINALITY AS f(f, o)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = format('%I.%I', t.rel_schema, t.rel_name)::regclass AND a.attname = f.f
   WHERE f.f IN (t.id_col, t.active_col) OR a.attgenerated <> ''
      OR integration.referenced_table(NEW.target_table, f.f) IS NOT NULL;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'match rule %: % cannot be compared: a rule compares the values a record arrives with', NEW.rule_name, bad
      USING ERRCODE = 'SL090',
            HINT = 'Not the id or active column, a generated column (no item ever sets it) or a relationship column.';
  END IF;
  RETURN NEW;
END
$$;

-- match_keys_of_records(table, ids, rules): the keys of records of a table
-- (all of them when ids is NULL) under its rules (all, or these), computed
-- from their rows (match_keys_of): the one definition of a record's keys.
-- live: the record is active and has the key.
CREATE OR REPLACE FUNCTION integration.match_keys_of_records(p_table text, p_ids uuid[], p_rules bigint[] DEFAULT NULL)
RETURNS TABLE (rule_id bigint, target_id uuid, part smallint, normalised_key text, lookup text, live boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  t    record;
  vals text;
BEGIN
  SELECT string_agg(format('(%s::bigint, %L::text, ARRAY[%s]::text[])',
                           r.rule_id, r.method,
                           (SELECT string_agg(format('t.%I::text', f.f), ', ' ORDER BY f.o)
                              FROM unnest(r.fields) WITH ORDINALITY AS f(f, o))), ', ' ORDER BY r.rule_id)
    INTO vals
    FROM integration.match_rule r
   WHERE r.target_table = p_table AND (p_rules IS NULL OR r.rule_id = ANY (p_rules));
  IF vals IS NULL THEN
    RETURN;
  END IF;
  t := integration.resolve_target(p_table);
  RETURN QUERY EXECUTE format(
    'SELECT r.rule_id, t.%1$I, k.part, k.normalised_key, k.lookup, k.normalised_key IS NOT NULL AND %4$s'
    '  FROM %2$I.%3$I t CROSS JOIN LATERAL (VALUES %5$s) AS r(rule_id, method, vals)'
    ' CROSS JOIN LATERAL integration.match_keys_of(r.method, r.vals) k %6$s',
    t.id_col, t.rel_schema, t.rel_name,
    CASE WHEN t.active_col IS NULL THEN 'true' ELSE format('t.%I IS DISTINCT FROM false', t.active_col) END, vals,
    CASE WHEN p_ids IS NULL THEN '' ELSE format('WHERE t.%I = ANY ($1)', t.id_col) END)
  USING p_ids;
END
$$;
SELECT integration.use_canonical_settings('integration.match_keys_of_records(text,uuid[],bigint[])');

-- refresh_match_keys(table, ids, rules): brings match_key up to date for
-- these records (all when ids is NULL) under the table's rules (all, or
-- these). Called by write_targets for the records it wrote, and when a rule
-- changes.
CREATE OR REPLACE FUNCTION integration.refresh_match_keys(p_table text, p_ids uuid[] DEFAULT NULL, p_rules bigint[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t record;
BEGIN
  WITH cur AS MATERIALIZED (
    SELECT * FROM integration.match_keys_of_records(p_table, p_ids, p_rules)
  ), gone AS (
    DELETE FROM integration.match_key m
     USING cur
     WHERE NOT cur.live AND m.rule_id = cur.rule_id AND m.target_id = cur.target_id AND m.part = cur.part
  )
  INSERT INTO integration.match_key AS m (rule_id, target_id, part, normalised_key, lookup)
  SELECT cur.rule_id, cur.target_id, cur.part, cur.normalised_key, cur.lookup FROM cur WHERE cur.live
   ORDER BY 1, 2, 3
  ON CONFLICT (rule_id, target_id, part) DO UPDATE
     SET normalised_key = excluded.normalised_key, lookup = excluded.lookup
   WHERE m.normalised_key IS DISTINCT FROM excluded.normalised_key OR m.lookup IS DISTINCT FROM excluded.lookup;
  IF p_ids IS NULL THEN
    -- Keys of records that are gone.
    t := integration.resolve_target(p_table);
    EXECUTE format('DELETE FROM integration.match_key m WHERE m.rule_id IN (SELECT r.rule_id FROM integration.match_rule r'
                   ' WHERE r.target_table = $1 AND ($2::bigint[] IS NULL OR r.rule_id = ANY ($2)))'
                   ' AND NOT EXISTS (SELECT FROM %I.%I t WHERE t.%I = m.target_id)', t.rel_schema, t.rel_name, t.id_col)
      USING p_table, p_rules;
  END IF;
END
$$;

-- match_rule_keys(): a rule's keys, rebuilt when it is created or its
-- table, fields or method change. SECURITY DEFINER: administrators write
-- rules, not keys, and may not read the target tables.
CREATE OR REPLACE FUNCTION integration.match_rule_keys() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.target_table = OLD.target_table AND NEW.fields = OLD.fields AND NEW.method = OLD.method THEN
    RETURN NULL;
  END IF;
  DELETE FROM integration.match_key k WHERE k.rule_id = NEW.rule_id;
  PERFORM integration.refresh_match_keys(NEW.target_table, NULL, ARRAY[NEW.rule_id]);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER match_rule_check BEFORE INSERT OR UPDATE ON integration.match_rule
  FOR EACH ROW EXECUTE FUNCTION integration.check_match_rule();

CREATE OR REPLACE TRIGGER match_rule_keys AFTER INSERT OR UPDATE ON integration.match_rule
  FOR EACH ROW EXECUTE FUNCTION integration.match_rule_keys();

CREATE OR REPLACE TRIGGER match_rule_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integration.match_rule
  FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();

-- ---------------------------------------------------------------------------
-- Matching new records (the worker's crosswalk)
-- ---------------------------------------------------------------------------

-- match_new_records(records): the matching of a chunk's new keys (see the
-- top of this file). Each element of `records` (a JSON array) is a new
-- record: n, source, table, id (the id it gets if it is created), match
-- (its values, {column: canonical value}). Claims the keys of its link
-- rules first. Returns rows of two kinds:
--
--   link     record n is linked to target_id (an existing record, or the
--            id of another new record of this call) by rule_name with score
--   suspect  target_id (a new record's id) and other_id (the record it may
--            be) by rule_name with score; source: the new record's source
CREATE OR REPLACE FUNCTION integration.match_new_records(p_records jsonb)
RETURNS TABLE (kind text, n integer, "table" text, target_id uuid, other_id uuid, rule_id bigint, rule_name text,
               score real, source text)
LANGUAGE plpgsql
-- Candidates are found by index probes per new record (nested loops); see
-- "Plans" at the top of aspects.sql for the rest.
SET enable_seqscan = off SET enable_nestloop = on SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  threshold text := current_setting('pg_trgm.similarity_threshold', true);
  -- Per new record and rule: its key (part 0) and how it is compared.
  q_n       integer[];
  q_rule    bigint[];
  q_name    text[];
  q_key     text[];
  q_link    boolean[];
  q_sim     boolean[];
  q_block   boolean[];
  q_min     real[];
  -- Per new record and similar rule with blocks: its blocks.
  b_n       integer[];
  b_rule    bigint[];
  b_key     text[];
  -- Edges: new record n to record e_to, by a rule, with a score.
  e_n       integer[] := '{}';
  e_to      uuid[] := '{}';
  e_rule    bigint[] := '{}';
  e_name    text[] := '{}';
  e_score   real[] := '{}';
  e_link    boolean[] := '{}';
  settled   integer[];
  sr        record;
BEGIN
  -- 1. Keys: per new record and active rule of its table whose fields all
  --    arrived with a value (match_keys_of).
  WITH k AS MATERIALIZED (
    SELECT x.n, r.rule_id, r.rule_name, r.action = 'link' AS link, r.method = 'similar' AS sim,
           r.method = 'similar' AND cardinality(r.fields) >= 3 AS block, coalesce(r.min_score, 1) AS min, k.part,
           k.normalised_key
      FROM jsonb_to_recordset(p_records) AS x(n integer, "table" text, match jsonb)
      JOIN integration.match_rule r ON r.target_table = x."table" AND r.is_active
     -- The values apart from the call: with a subquery among its arguments,
     -- match_keys_of would run as a function of its own per record and rule
     -- instead of being planned into this statement (a third of the time).
     CROSS JOIN LATERAL (SELECT ARRAY(SELECT x.match ->> f.f FROM unnest(r.fields) WITH ORDINALITY AS f(f, o)
                                       ORDER BY f.o) AS vals OFFSET 0) v
     CROSS JOIN LATERAL integration.match_keys_of(r.method, v.vals) k
     WHERE k.normalised_key IS NOT NULL
  )
  SELECT coalesce(array_agg(k.n ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.rule_id ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.rule_name ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.normalised_key ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.link ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.sim ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.block ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.min ORDER BY k.n, k.rule_id) FILTER (WHERE k.part = 0), '{}'),
         coalesce(array_agg(k.n ORDER BY k.n, k.rule_id, k.part) FILTER (WHERE k.part > 0), '{}'),
         coalesce(array_agg(k.rule_id ORDER BY k.n, k.rule_id, k.part) FILTER (WHERE k.part > 0), '{}'),
         coalesce(array_agg(k.normalised_key ORDER BY k.n, k.rule_id, k.part) FILTER (WHERE k.part > 0), '{}')
    INTO q_n, q_rule, q_name, q_key, q_link, q_sim, q_block, q_min, b_n, b_rule, b_key
    FROM k;
  IF cardinality(q_n) = 0 THEN
    RETURN;
  END IF;

  -- 2. Claims on the link rules' keys, before anything is looked up.
  PERFORM integration.claim_match_keys(ARRAY(
    SELECT integration.match_claim_key(q.rule, CASE WHEN q.sim THEN NULL ELSE q.key END)
      FROM unnest(q_rule, q_key, q_link, q_sim) AS q(rule, key, link, sim)
     WHERE q.link));

  -- 3. Existing records: exact keys by value, at most 10 per record and rule.
  SELECT coalesce(array_agg(q.n), '{}'), coalesce(array_agg(c.target_id), '{}'), coalesce(array_agg(q.rule), '{}'),
         coalesce(array_agg(q.name), '{}'), coalesce(array_agg(1::real), '{}'), coalesce(array_agg(q.link), '{}')
    INTO e_n, e_to, e_rule, e_name, e_score, e_link
    FROM unnest(q_n, q_rule, q_name, q_key, q_link, q_sim) AS q(n, rule, name, key, link, sim)
   CROSS JOIN LATERAL (SELECT k.target_id FROM integration.match_key k
                        WHERE k.rule_id = q.rule AND k.lookup = 'value' AND k.normalised_key = q.key
                        ORDER BY k.target_id LIMIT 10) c
   WHERE NOT q.sim;
  -- Records an exact link rule links to its one candidate: no suspect rule
  -- applies to them (nothing is created), so they are not looked up for
  -- suspects.
  settled := ARRAY(SELECT e.n FROM unnest(e_n, e_to, e_link) AS e(n, b, link) WHERE e.link
                    GROUP BY e.n HAVING count(DISTINCT e.b) = 1);
  -- Similar rules over three fields or more: the records that share a
  -- block (agree on all fields but one; at most 50 per block), scored on the
  -- whole key; the 10 most similar per record and rule.
  IF cardinality(b_n) > 0 THEN
    SELECT e_n || coalesce(array_agg(s.n), '{}'), e_to || coalesce(array_agg(s.target_id), '{}'),
           e_rule || coalesce(array_agg(s.rule), '{}'), e_name || coalesce(array_agg(s.name), '{}'),
           e_score || coalesce(array_agg(s.s), '{}'), e_link || coalesce(array_agg(s.link), '{}')
      INTO e_n, e_to, e_rule, e_name, e_score, e_link
      FROM (SELECT q.n, q.rule, q.name, q.link, c.target_id, sc.s,
                   row_number() OVER (PARTITION BY q.n, q.rule ORDER BY sc.s DESC, c.target_id) AS k
              FROM (SELECT DISTINCT b.n, b.rule, c.target_id
                      FROM unnest(b_n, b_rule, b_key) AS b(n, rule, key)
                     CROSS JOIN LATERAL (SELECT k.target_id FROM integration.match_key k
                                          WHERE k.rule_id = b.rule AND k.lookup = 'value' AND k.normalised_key = b.key
                                          LIMIT 50) c) c
              JOIN unnest(q_n, q_rule, q_name, q_key, q_link, q_min) AS q(n, rule, name, key, link, min)
                ON q.n = c.n AND q.rule = c.rule
             CROSS JOIN LATERAL (SELECT integration.match_similarity(k.normalised_key, q.key) AS s
                                   FROM integration.match_key k
                                  WHERE k.rule_id = q.rule AND k.target_id = c.target_id AND k.part = 0) sc
             WHERE sc.s >= q.min AND (q.link OR q.n <> ALL (settled))) s
     WHERE s.k <= 10;
  END IF;
  -- Similar rules over one or two fields: by trigrams (a GIN index probe per
  -- record, the dearest part of matching), rule by rule (pg_trgm's % reads
  -- its threshold from a setting), the 10 most similar per record.
  FOR sr IN SELECT DISTINCT q.rule, q.min FROM unnest(q_rule, q_sim, q_block, q_min) AS q(rule, sim, block, min)
             WHERE q.sim AND NOT q.block ORDER BY 1 LOOP
    PERFORM set_config('pg_trgm.similarity_threshold', sr.min::text, true);
    SELECT e_n || coalesce(array_agg(q.n), '{}'), e_to || coalesce(array_agg(c.target_id), '{}'),
           e_rule || coalesce(array_agg(q.rule), '{}'), e_name || coalesce(array_agg(q.name), '{}'),
           e_score || coalesce(array_agg(c.s), '{}'), e_link || coalesce(array_agg(q.link), '{}')
      INTO e_n, e_to, e_rule, e_name, e_score, e_link
      FROM unnest(q_n, q_rule, q_name, q_key, q_link, q_min) AS q(n, rule, name, key, link, min)
     CROSS JOIN LATERAL (SELECT k.target_id, integration.match_similarity(k.normalised_key, q.key) AS s
                           FROM integration.match_key k
                          WHERE k.lookup = 'trigram' AND integration.match_similar(k.normalised_key, q.key) AND k.rule_id = q.rule
                          ORDER BY 2 DESC, 1 LIMIT 10) c
     WHERE q.rule = sr.rule AND (q.link OR q.n <> ALL (settled)) AND c.s >= q.min;
  END LOOP;
  PERFORM set_config('pg_trgm.similarity_threshold', coalesce(threshold, '0.3'), true);

  -- 4. The chunk's other new records (a later record to the earlier one):
  --    equal exact keys, shared blocks of similar rules that score enough
  --    (both by hash), and for similar link rules over one or two fields,
  --    similar keys (each pair of the chunk's records compared).
  SELECT e_n || coalesce(array_agg(b.n), '{}'), e_to || coalesce(array_agg(ra.id), '{}'),
         e_rule || coalesce(array_agg(b.rule), '{}'), e_name || coalesce(array_agg(b.name), '{}'),
         e_score || coalesce(array_agg(1::real), '{}'), e_link || coalesce(array_agg(b.link), '{}')
    INTO e_n, e_to, e_rule, e_name, e_score, e_link
    FROM unnest(q_n, q_rule, q_key, q_sim) AS a(n, rule, key, sim)
    JOIN unnest(q_n, q_rule, q_name, q_key, q_link, q_sim) AS b(n, rule, name, key, link, sim)
      ON b.rule = a.rule AND b.key = a.key AND b.n > a.n AND NOT b.sim
    JOIN jsonb_to_recordset(p_records) AS ra(n integer, id uuid) ON ra.n = a.n;
  IF cardinality(b_n) > 0 THEN
    SELECT e_n || coalesce(array_agg(p.n), '{}'), e_to || coalesce(array_agg(p.id), '{}'),
           e_rule || coalesce(array_agg(p.rule), '{}'), e_name || coalesce(array_agg(p.name), '{}'),
           e_score || coalesce(array_agg(p.s), '{}'), e_link || coalesce(array_agg(p.link), '{}')
      INTO e_n, e_to, e_rule, e_name, e_score, e_link
      -- The pairs first, then each pair scored once (joined in one
      -- statement, the planner, blind to the arrays' sizes, may score every
      -- record against every other).
      FROM (WITH pairs AS MATERIALIZED (
              SELECT DISTINCT ba.n AS a, bb.n AS b, ba.rule
                FROM unnest(b_n, b_rule, b_key) AS ba(n, rule, key)
                JOIN unnest(b_n, b_rule, b_key) AS bb(n, rule, key) ON bb.rule = ba.rule AND bb.key = ba.key AND bb.n > ba.n
            ), q AS MATERIALIZED (
              SELECT * FROM unnest(q_n, q_rule, q_name, q_key, q_link, q_min) AS q(n, rule, name, key, link, min)
            )
            SELECT qb.n, ra.id, qb.rule, qb.name, qb.link, integration.match_similarity(qa.key, qb.key) AS s, qb.min
              FROM pairs
              JOIN q qa ON qa.n = pairs.a AND qa.rule = pairs.rule
              JOIN q qb ON qb.n = pairs.b AND qb.rule = pairs.rule
              JOIN jsonb_to_recordset(p_records) AS ra(n integer, id uuid) ON ra.n = pairs.a) p
     WHERE p.s >= p.min;
  END IF;
  IF EXISTS (SELECT FROM unnest(q_sim, q_link, q_block) AS q(sim, link, block) WHERE q.sim AND q.link AND NOT q.block) THEN
    SELECT e_n || coalesce(array_agg(b.n), '{}'), e_to || coalesce(array_agg(ra.id), '{}'),
           e_rule || coalesce(array_agg(b.rule), '{}'), e_name || coalesce(array_agg(b.name), '{}'),
           e_score || coalesce(array_agg(integration.match_similarity(a.key, b.key)), '{}'), e_link || coalesce(array_agg(true), '{}')
      INTO e_n, e_to, e_rule, e_name, e_score, e_link
      FROM unnest(q_n, q_rule, q_key, q_sim, q_link, q_block) AS a(n, rule, key, sim, link, block)
      JOIN unnest(q_n, q_rule, q_name, q_key, q_sim, q_link, q_min) AS b(n, rule, name, key, sim, link, min)
        ON b.rule = a.rule AND b.n > a.n AND b.sim AND b.link AND a.sim AND a.link AND NOT a.block
       AND integration.match_similarity(a.key, b.key) >= b.min
      JOIN jsonb_to_recordset(p_records) AS ra(n integer, id uuid) ON ra.n = a.n;
  END IF;

  -- 5. Groups joined by link edges, what each new record becomes, and the
  --    suspect pairs left.
  RETURN QUERY
  WITH RECURSIVE recs AS MATERIALIZED (
    SELECT x.n, x.source, x."table" AS t, x.id FROM jsonb_to_recordset(p_records) AS x(n integer, source text, "table" text, id uuid)
  ), edges AS MATERIALIZED (
    SELECT rc.id AS a, e.b, e.rule, e.name, e.score, e.link, rc.t
      FROM unnest(e_n, e_to, e_rule, e_name, e_score, e_link) AS e(n, b, rule, name, score, link)
      JOIN recs rc ON rc.n = e.n
  ), le AS (
    SELECT edges.a, edges.b FROM edges WHERE edges.link
    UNION
    SELECT edges.b, edges.a FROM edges WHERE edges.link
  ), walk(start, node) AS (
    SELECT DISTINCT le.a, le.a FROM le
    UNION
    SELECT w.start, le.b FROM walk w JOIN le ON le.a = w.node
  ), grp AS MATERIALIZED (
    SELECT w.start AS node, min(w.node::text) AS g FROM walk w GROUP BY w.start
  ), verdict AS MATERIALIZED (
    SELECT grp.g,
           count(*) FILTER (WHERE rc.n IS NULL) AS existing,
           count(*) FILTER (WHERE rc.n IS NOT NULL) AS news,
           count(DISTINCT rc.source) AS sources,
           (array_agg(grp.node) FILTER (WHERE rc.n IS NULL))[1] AS ex,
           (array_agg(grp.node ORDER BY rc.n) FILTER (WHERE rc.n IS NOT NULL))[1] AS root,
           array_agg(rc.source) FILTER (WHERE rc.n IS NOT NULL) AS srcs,
           min(rc.t) AS t
      FROM grp LEFT JOIN recs rc ON rc.id = grp.node
     GROUP BY grp.g
  ), joined AS MATERIALIZED (
    -- Groups that link: their target.
    SELECT v.g, coalesce(v.ex, v.root) AS target
      FROM verdict v
     WHERE v.existing <= 1 AND v.sources = v.news
       AND NOT EXISTS (SELECT FROM integration.identifier i
                        WHERE v.ex IS NOT NULL AND i.target_id = v.ex AND i.target_table = v.t
                          AND i.source_system_key = ANY (v.srcs))
  ), fin AS MATERIALIZED (
    -- Every new record: the record it ends as.
    SELECT rc.n, rc.id, rc.t, rc.source, coalesce(j.target, rc.id) AS final
      FROM recs rc
      LEFT JOIN grp ON grp.node = rc.id
      LEFT JOIN joined j ON j.g = grp.g
  ), links AS (
    SELECT 'link'::text AS kind, f.n, f.t, f.final AS target_id, NULL::uuid AS other_id, best.rule, best.name, best.score,
           f.source
      FROM fin f
     CROSS JOIN LATERAL (SELECT e.rule, e.name, e.score FROM edges e
                          WHERE e.link AND (e.a = f.id OR e.b = f.id)
                          ORDER BY e.score DESC, e.name LIMIT 1) best
     WHERE f.final <> f.id
  ), pairs AS (
    -- Edges between records that stay apart, at least one of them new: per
    -- pair, the best score (a link rule's before a suspect rule's).
    SELECT DISTINCT ON (least(p.x, p.y), greatest(p.x, p.y)) p.*
      FROM (SELECT e.t, fa.final AS x, coalesce(fb.final, e.b) AS y, e.rule, e.name, e.score, e.link
              FROM edges e
              JOIN fin fa ON fa.id = e.a
              LEFT JOIN fin fb ON fb.id = e.b) p
     WHERE p.x <> p.y
       AND (p.x IN (SELECT recs.id FROM recs) OR p.y IN (SELECT recs.id FROM recs))
     ORDER BY least(p.x, p.y), greatest(p.x, p.y), p.score DESC, p.link DESC, p.name
  )
  SELECT l.kind, l.n, l.t, l.target_id, l.other_id, l.rule, l.name, l.score, l.source FROM links l
  UNION ALL
  SELECT 'suspect', NULL, p.t,
         CASE WHEN p.x IN (SELECT recs.id FROM recs) THEN p.x ELSE p.y END,
         CASE WHEN p.x IN (SELECT recs.id FROM recs) THEN p.y ELSE p.x END,
         p.rule, p.name, p.score,
         (SELECT rc.source FROM recs rc WHERE rc.id = CASE WHEN p.x IN (SELECT recs.id FROM recs) THEN p.x ELSE p.y END)
    FROM pairs p;
END
$$;

-- ---------------------------------------------------------------------------
-- The dry run (`syncledger match --dry-run`)
-- ---------------------------------------------------------------------------

-- match_preview(table, rules, samples): what rules would find among the
-- table's existing active records: per rule (the active ones, or the ones
-- named, active or not), how many records have a key, the pairs of records
-- it finds (as the matching finds candidates: by key, by block, or by
-- trigrams, the 10 most similar per record), how many
-- records are in a pair, and which pairs it would link (a link rule, each
-- record the other's only candidate, no source with a key on both) or
-- leave as suspects; with up to `samples` pairs of each kind: the records'
-- external keys, the rule's fields of both, the score. Changes nothing.
CREATE OR REPLACE FUNCTION integration.match_preview(p_table text, p_rules text[] DEFAULT NULL, p_samples integer DEFAULT 5)
RETURNS TABLE (rule_name text, method text, min_score real, action text, is_active boolean, records_keyed bigint,
               pairs bigint, records_in_pairs bigint, would_link bigint, would_suspect bigint, samples jsonb)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_nestloop = on SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  r         record;
  threshold text := current_setting('pg_trgm.similarity_threshold', true);
BEGIN
  PERFORM integration.resolve_target(p_table);
  FOR r IN SELECT m.* FROM integration.match_rule m
            WHERE m.target_table = p_table AND (CASE WHEN p_rules IS NULL THEN m.is_active ELSE m.rule_name = ANY (p_rules) END)
            ORDER BY m.rule_name LOOP
    PERFORM set_config('pg_trgm.similarity_threshold', coalesce(r.min_score, 1)::text, true);
    RETURN QUERY
    WITH k AS MATERIALIZED (
      SELECT mk.target_id, mk.normalised_key, mk.lookup FROM integration.match_key mk WHERE mk.rule_id = r.rule_id AND mk.part = 0
    ), p AS MATERIALIZED (
      -- exact: equal keys
      SELECT a.target_id AS x, b.target_id AS y, 1::real AS s
        FROM k a JOIN k b ON b.normalised_key = a.normalised_key AND b.target_id > a.target_id
       WHERE r.method = 'exact'
      UNION ALL
      -- similar with blocks: a shared block, scored on the whole key
      SELECT x.x, x.y, integration.match_similarity(ka.normalised_key, kb.normalised_key)
        FROM (SELECT DISTINCT a.target_id AS x, b.target_id AS y
                FROM integration.match_key a
                JOIN integration.match_key b ON b.rule_id = a.rule_id AND b.part = a.part AND b.normalised_key = a.normalised_key
                                            AND b.target_id > a.target_id
               WHERE a.rule_id = r.rule_id AND a.part > 0) x
        JOIN k ka ON ka.target_id = x.x JOIN k kb ON kb.target_id = x.y
       WHERE r.method = 'similar' AND integration.match_similarity(ka.normalised_key, kb.normalised_key) >= r.min_score
      UNION ALL
      -- similar by trigrams: the 10 most similar of each record
      SELECT a.target_id, c.target_id, c.s
        FROM k a
       CROSS JOIN LATERAL (SELECT mk.target_id, integration.match_similarity(mk.normalised_key, a.normalised_key) AS s
                             FROM integration.match_key mk
                            WHERE mk.lookup = 'trigram' AND integration.match_similar(mk.normalised_key, a.normalised_key)
                              AND mk.rule_id = r.rule_id AND mk.target_id <> a.target_id
                            ORDER BY 2 DESC, 1 LIMIT 10) c
       WHERE a.lookup = 'trigram' AND c.target_id > a.target_id AND c.s >= r.min_score
    ), deg AS MATERIALIZED (
      SELECT d.id, count(*) AS partners FROM (SELECT p.x AS id FROM p UNION ALL SELECT p.y FROM p) d GROUP BY d.id
    ), judged AS MATERIALIZED (
      SELECT p.*,
             CASE WHEN r.action = 'link' AND dx.partners = 1 AND dy.partners = 1
                       AND NOT EXISTS (SELECT FROM integration.identifier i JOIN integration.identifier j
                                         ON j.source_system_key = i.source_system_key AND j.target_table = p_table
                                        WHERE i.target_table = p_table AND i.target_id = p.x AND j.target_id = p.y)
                  THEN 'link' ELSE 'suspect' END AS outcome
        FROM p JOIN deg dx ON dx.id = p.x JOIN deg dy ON dy.id = p.y
    ), shown AS (
      SELECT j.outcome, jsonb_build_object(
               'outcome', j.outcome, 'score', round(j.s::numeric, 4),
               'record', integration.record_label(p_table, j.x), 'record_values', integration.record_fields(p_table, j.x, r.fields),
               'other', integration.record_label(p_table, j.y), 'other_values', integration.record_fields(p_table, j.y, r.fields))
               AS sample,
             row_number() OVER (PARTITION BY j.outcome ORDER BY j.s DESC, j.x, j.y) AS k
        FROM judged j
    )
    SELECT r.rule_name, r.method, r.min_score, r.action, r.is_active,
           (SELECT count(*) FROM k), (SELECT count(*) FROM p), (SELECT count(*) FROM deg),
           (SELECT count(*) FROM judged WHERE judged.outcome = 'link'),
           (SELECT count(*) FROM judged WHERE judged.outcome = 'suspect'),
           coalesce((SELECT jsonb_agg(shown.sample ORDER BY shown.outcome, shown.k) FROM shown WHERE shown.k <= p_samples), '[]');
  END LOOP;
  PERFORM set_config('pg_trgm.similarity_threshold', coalesce(threshold, '0.3'), true);
END
$$;
SELECT integration.use_canonical_settings('integration.match_preview(text,text[],integer)');

-- ---------------------------------------------------------------------------
-- Suspects
-- ---------------------------------------------------------------------------

-- record_fields(table, id, fields): a record's fields as a steward reads
-- them, "field: value · field: value" (∅ for NULL). SECURITY DEFINER like
-- current_value, which it asks. Stewards read suspect pairs in the view
-- integration.suspect_queue (review.sql, with the other queues).
CREATE OR REPLACE FUNCTION integration.record_fields(p_table text, p_id uuid, p_fields text[])
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT string_agg(f.f || ': ' || coalesce(integration.current_value(p_table, p_id, f.f), '∅'), ' · ' ORDER BY f.o)
    FROM unnest(p_fields) WITH ORDINALITY AS f(f, o)
$$;

-- dismiss_suspect(suspect_id, notes, steward): a steward records that the
-- two records are not the same (SL096 when the pair is not open).
CREATE OR REPLACE FUNCTION integration.dismiss_suspect(p_suspect_id bigint, p_notes text DEFAULT NULL, p_steward text DEFAULT NULL)
RETURNS TABLE (suspect_id bigint, status text, decided_by text, decided_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  steward integration.app_user := integration.acting_user(p_steward);
  s       integration.match_suspect;
BEGIN
  SELECT * INTO s FROM integration.match_suspect x WHERE x.suspect_id = p_suspect_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'suspect pair % not found', coalesce(p_suspect_id::text, 'NULL') USING ERRCODE = 'SL096',
          HINT = 'integration.suspect_queue (syncledger steward suspects) lists them.';
  ELSIF s.status <> 'open' THEN
    RAISE EXCEPTION 'suspect pair % is %, not open', p_suspect_id, s.status USING ERRCODE = 'SL096',
          HINT = CASE WHEN s.status = 'merged' THEN format('Undo the merge with integration.unmerge(%s, ...).', s.merge_id)
                      ELSE 'It was dismissed already.' END;
  END IF;
  RETURN QUERY
  UPDATE integration.match_suspect x
     SET status = 'dismissed', decided_at = now(), decided_by = steward.user_name, notes = p_notes
   WHERE x.suspect_id = p_suspect_id
  RETURNING x.suspect_id, x.status, x.decided_by, x.decided_at;
END
$$;
SELECT integration.use_canonical_settings('integration.dismiss_suspect(bigint,text,text)');

-- ---------------------------------------------------------------------------
-- Merge and unmerge
-- ---------------------------------------------------------------------------

-- identity_table(a, b): the registered target table holding both records
-- (SL091 otherwise), read through each table's id index.
CREATE OR REPLACE FUNCTION integration.identity_table(p_a uuid, p_b uuid)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  reg   record;
  t     record;
  found integer;
  seen  text;
BEGIN
  IF p_a IS NULL OR p_b IS NULL OR p_a = p_b THEN
    RAISE EXCEPTION 'a merge joins two different records, not % and %', coalesce(p_a::text, 'NULL'), coalesce(p_b::text, 'NULL')
      USING ERRCODE = 'SL091';
  END IF;
  FOR reg IN SELECT tt.target_table FROM integration.target_table tt ORDER BY 1 LOOP
    BEGIN
      t := integration.resolve_target(reg.target_table);
    EXCEPTION WHEN sqlstate 'SL050' THEN
      CONTINUE;
    END;
    EXECUTE format('SELECT count(*) FROM %I.%I t WHERE t.%I = ANY ($1)', t.rel_schema, t.rel_name, t.id_col)
       INTO found USING ARRAY[p_a, p_b];
    IF found = 2 THEN
      RETURN reg.target_table;
    ELSIF found = 1 THEN
      seen := concat_ws(', ', seen, reg.target_table);
    END IF;
  END LOOP;
  RAISE EXCEPTION 'records % and % are not two records of one registered target table', p_a, p_b
    USING ERRCODE = 'SL091',
          DETAIL = coalesce(format('Only one of them is in %s.', seen), 'Neither is a record of a registered target table.'),
          HINT = 'Pass the target_id of two records of the same table (syncledger steward suspects shows them).';
END
$$;

-- lock_records(records): locks target rows FOR NO KEY UPDATE in (table, id)
-- order; returns those found. Each element of `records`: table, id.
CREATE OR REPLACE FUNCTION integration.lock_records(p_records jsonb)
RETURNS TABLE ("table" text, id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  grp record;
  t   record;
BEGIN
  FOR grp IN SELECT x."table" AS tbl, array_agg(DISTINCT x.id) AS ids
               FROM jsonb_to_recordset(p_records) AS x("table" text, id uuid)
              GROUP BY x."table" ORDER BY x."table" LOOP
    t := integration.resolve_target(grp.tbl);
    RETURN QUERY EXECUTE format('SELECT %L::text, x.id FROM (SELECT t.%I AS id FROM %I.%I t WHERE t.%I = ANY ($1)'
                                ' ORDER BY t.%I FOR NO KEY UPDATE) x',
                                grp.tbl, t.id_col, t.rel_schema, t.rel_name, t.id_col, t.id_col)
      USING grp.ids;
  END LOOP;
END
$$;

-- identity_snapshot(table, id): every governed aspect (Field, Relationship)
-- of a record that has ledger entries, with its current value: what a
-- system holding a key of the record sees, for outbound.
CREATE OR REPLACE FUNCTION integration.identity_snapshot(p_table text, p_ids uuid[])
RETURNS TABLE (target_id uuid, ledger_aspect text, aspect_key text, value text)
LANGUAGE sql STABLE AS $$
  SELECT a.target_id, a.ledger_aspect, a.aspect_key, integration.current_value(p_table, a.target_id, a.aspect_key)
    FROM (SELECT DISTINCT l.target_id, l.ledger_aspect, l.aspect_key FROM integration.ledger l
           WHERE l.target_table = p_table AND l.target_id = ANY (p_ids) AND l.ledger_aspect IN ('Field', 'Relationship')) a
$$;

-- write_identity_entries(entries, steward, notes): the ledger entries of a
-- merge, in order, under the target row locks the caller holds: each
-- applied (the next apply_seq) and written Pending, then given the state it
-- carries (status, certification, staleness clock) by an event of kind
-- identity whose digest covers that state. Each element of `entries`: table,
-- target_id, aspect, aspect_key, source, value, previous, status (Pending or
-- Certified), certified_at, certified_by, confirmed_at (NULL: now), note
-- (the entry's notes, and the event's target_note). Returns the ledger ids.
CREATE OR REPLACE FUNCTION integration.write_identity_entries(p_entries jsonb, p_steward integration.app_user, p_notes text)
RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
  at   timestamptz := now();
  ids  bigint[];
BEGIN
  IF jsonb_array_length(p_entries) = 0 THEN
    RETURN '{}';
  END IF;
  WITH e AS MATERIALIZED (
    SELECT x.o::integer AS o, nextval(pg_get_serial_sequence('integration.ledger', 'ledger_id')::regclass) AS ledger_id,
           x."table", x.target_id, x.aspect, x.aspect_key, x.source, x.value, x.previous, x.note,
           nextval('integration.apply_seq') AS aseq
      FROM ROWS FROM (jsonb_to_recordset(p_entries)
                      AS ("table" text, target_id uuid, aspect text, aspect_key text, source text, value text,
                          previous text, note text))
           WITH ORDINALITY AS x("table", target_id, aspect, aspect_key, source, value, previous, note, o)
     ORDER BY x.o
  ), h AS MATERIALIZED (
    SELECT e.*, integration.entry_digest_v2(e.ledger_id, e."table", e.target_id, e.aspect, e.aspect_key, e.source, e.value,
                                            e.previous, NULL, NULL, NULL, at, 'Pending', e.aseq, e.note, NULL, NULL, NULL) AS d
      FROM e
  ), chained AS MATERIALIZED (
    SELECT c.* FROM integration.chain_append(ARRAY(SELECT h."table" FROM h ORDER BY h.o),
                                             ARRAY(SELECT h.target_id FROM h ORDER BY h.o),
                                             ARRAY(SELECT h.d FROM h ORDER BY h.o)) c
  ), ins AS (
    INSERT INTO integration.ledger
      (ledger_id, target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status, value, previous_value,
       is_applied, applied_at, apply_seq, recorded_at, confirmed_at, notes, chain_seq, row_hash, chain_hash, birth_status,
       birth_apply_seq)
    OVERRIDING SYSTEM VALUE
    SELECT h.ledger_id, h."table", h.target_id, h.aspect, h.aspect_key, h.source, 'Pending', h.value, h.previous, true, at,
           h.aseq, at, at, h.note, c.chain_seq, h.d, c.chain_hash, 'Pending', h.aseq
      FROM h JOIN chained c ON c.ord = h.o
     ORDER BY h.o
    RETURNING ledger_id
  )
  SELECT array_agg(h.ledger_id ORDER BY h.o) INTO ids FROM h WHERE (SELECT count(*) FROM ins) >= 0;

  -- The state each entry carries.
  UPDATE integration.ledger l
     SET ledger_status = x.status,
         certified_at  = CASE WHEN x.status = 'Certified' THEN coalesce(x.certified_at, at) END,
         certified_by  = CASE WHEN x.status = 'Certified' THEN x.certified_by END,
         confirmed_at  = coalesce(x.confirmed_at, l.confirmed_at)
    FROM ROWS FROM (jsonb_to_recordset(p_entries)
                    AS (status text, certified_at timestamptz, certified_by bigint, confirmed_at timestamptz))
         WITH ORDINALITY AS x(status, certified_at, certified_by, confirmed_at, o)
   WHERE l.ledger_id = ids[x.o];
  PERFORM integration.record_events(
    (SELECT jsonb_agg(jsonb_build_object('ledger_id', ids[x.o], 'kind', 'identity', 'from', 'Pending', 'to', x.status,
                                         'actor', p_steward.user_name, 'notes', p_notes, 'target_note', x.note) ORDER BY x.o)
       FROM ROWS FROM (jsonb_to_recordset(p_entries) AS (status text, note text)) WITH ORDINALITY AS x(status, note, o)));
  RETURN ids;
END
$$;

-- merge_records(survivor, merged, notes, steward): the merge (see the top of
-- this file), in the caller's transaction. Returns the merge and counts.
CREATE OR REPLACE FUNCTION integration.merge_records(
  p_survivor uuid, p_merged uuid, p_notes text, p_steward integration.app_user,
  OUT merge_id bigint, OUT target_table text, OUT identifiers_moved integer, OUT values_settled integer,
  OUT relationships_repointed integer, OUT outbound_items integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  tbl      text := integration.identity_table(p_survivor, p_merged);
  t        record;
  refs     jsonb := '[]';
  part     jsonb;
  fk       record;
  locked   jsonb;
  state    record;
  clash    text;
  settle   jsonb;
  repoint  jsonb := '[]';
  moved    jsonb;
  entries  jsonb;
  ids      bigint[];
  s_sys    text[];
  m_sys    text[];
  before   jsonb;
  sent     integer := 0;
BEGIN
  target_table := tbl;
  t := integration.resolve_target(tbl);
  IF t.active_col IS NULL THEN
    RAISE EXCEPTION '% has no active_column: merging deactivates the merged record', tbl
      USING ERRCODE = 'SL092',
            HINT = 'Register the table''s boolean active column (integration.target_table.active_column) to merge its records.';
  END IF;

  -- 1. Both records' identifiers, in id order.
  PERFORM FROM integration.identifier i
   WHERE i.target_id IN (p_survivor, p_merged) AND i.target_table = tbl
   ORDER BY i.identifier_id FOR UPDATE;

  -- 2. Claims on the merged record's keys under link rules: no new key is
  --    linked to it while it is merged.
  PERFORM integration.claim_match_keys(ARRAY(
    SELECT integration.match_claim_key(k.rule_id, CASE WHEN r.method = 'similar' THEN NULL ELSE k.normalised_key END)
      FROM integration.match_keys_of_records(tbl, ARRAY[p_merged]) k
      JOIN integration.match_rule r ON r.rule_id = k.rule_id AND r.is_active AND r.action = 'link'
     WHERE k.part = 0 AND k.normalised_key IS NOT NULL));

  -- 3. Target rows: both records, and every record of a registered table
  --    whose relationship names the merged one, in (table, id) order.
  FOR fk IN SELECT tt.target_table AS rt, a.attname::text AS col
              FROM integration.target_table tt
              JOIN pg_catalog.pg_constraint k ON k.conrelid = to_regclass(tt.target_table) AND k.contype = 'f'
                                             AND cardinality(k.conkey) = 1 AND k.confrelid = to_regclass(tbl)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
             ORDER BY 1, 2 LOOP
    DECLARE
      rt record := integration.resolve_target(fk.rt);
    BEGIN
      EXECUTE format('SELECT coalesce(jsonb_agg(jsonb_build_object(''table'', %L, ''id'', t.%I, ''column'', %L)), ''[]'')'
                     '  FROM %I.%I t WHERE t.%I = $1 AND t.%I <> $1',
                     fk.rt, rt.id_col, fk.col, rt.rel_schema, rt.rel_name, fk.col, rt.id_col)
         INTO part USING p_merged;
      refs := refs || part;
    END;
  END LOOP;
  SELECT coalesce(jsonb_agg(jsonb_build_object('table', l."table", 'id', l.id)), '[]') INTO locked
    FROM integration.lock_records(jsonb_build_array(jsonb_build_object('table', tbl, 'id', p_survivor),
                                                    jsonb_build_object('table', tbl, 'id', p_merged)) || refs) l;
  EXECUTE format('SELECT bool_and(t.%1$I = $1 OR t.%2$I IS DISTINCT FROM false) AS survivor_active,'
                 '       bool_and(t.%1$I = $2 OR t.%2$I IS DISTINCT FROM false) AS merged_active, count(*) AS found'
                 '  FROM %3$I.%4$I t WHERE t.%1$I IN ($1, $2)', t.id_col, t.active_col, t.rel_schema, t.rel_name)
     INTO state USING p_merged, p_survivor;
  IF state.found < 2 THEN
    RAISE EXCEPTION 'records % and % are not two records of %', p_survivor, p_merged, tbl USING ERRCODE = 'SL091';
  ELSIF EXISTS (SELECT FROM integration.record_merge m WHERE m.target_table = tbl AND m.merged_id = p_merged AND m.unmerged_at IS NULL) THEN
    RAISE EXCEPTION 'record % is merged into another record already', p_merged USING ERRCODE = 'SL093',
          HINT = 'integration.record_merge says into which; unmerge that merge first.';
  ELSIF NOT state.merged_active OR NOT state.survivor_active THEN
    RAISE EXCEPTION 'record % of % is inactive (deleted or merged): only active records are merged',
                    CASE WHEN NOT state.survivor_active THEN p_survivor ELSE p_merged END, tbl
      USING ERRCODE = 'SL093';
  ELSIF EXISTS (SELECT FROM integration.record_merge m WHERE m.target_table = tbl AND m.survivor_id = p_merged AND m.unmerged_at IS NULL) THEN
    RAISE EXCEPTION 'record % has absorbed other records (merge %): merge the other record into it instead', p_merged,
                    (SELECT min(m.merge_id) FROM integration.record_merge m
                      WHERE m.target_table = tbl AND m.survivor_id = p_merged AND m.unmerged_at IS NULL)
      USING ERRCODE = 'SL093', HINT = 'Swap survivor and merged record, or unmerge what it absorbed first.';
  END IF;
  -- Relationships that still name the merged record, under the locks.
  refs := '[]';
  FOR fk IN SELECT tt.target_table AS rt, a.attname::text AS col
              FROM integration.target_table tt
              JOIN pg_catalog.pg_constraint k ON k.conrelid = to_regclass(tt.target_table) AND k.contype = 'f'
                                             AND cardinality(k.conkey) = 1 AND k.confrelid = to_regclass(tbl)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
             ORDER BY 1, 2 LOOP
    DECLARE
      rt record := integration.resolve_target(fk.rt);
    BEGIN
      EXECUTE format('SELECT coalesce(jsonb_agg(jsonb_build_object(''table'', %L, ''id'', t.%I, ''column'', %L)), ''[]'')'
                     '  FROM %I.%I t WHERE t.%I = $1 AND t.%I <> $1'
                     '   AND t.%I IN (SELECT x.id FROM jsonb_to_recordset($2) AS x("table" text, id uuid) WHERE x."table" = %L)',
                     fk.rt, rt.id_col, fk.col, rt.rel_schema, rt.rel_name, fk.col, rt.id_col, rt.id_col, fk.rt)
         INTO part USING p_merged, locked;
      refs := refs || part;
    END;
  END LOOP;

  -- 4. One identifier per source and record: a source that knows both
  --    records has a duplicate of its own.
  SELECT string_agg(format('%s (%s and %s)', a.source_system_key, a.external_key, b.external_key), ', '
                    ORDER BY a.source_system_key)
    INTO clash
    FROM integration.identifier a
    JOIN integration.identifier b ON b.source_system_key = a.source_system_key AND b.target_table = tbl
                                 AND b.target_id = p_merged
   WHERE a.target_id = p_survivor AND a.target_table = tbl;
  IF clash IS NOT NULL THEN
    RAISE EXCEPTION 'both records carry an identifier of the same source: %', clash
      USING ERRCODE = 'SL094',
            HINT = 'A record carries one identifier per source: the duplicate is in that source itself. Fix it there (a Delete of one key), or dismiss the pair.';
  END IF;

  -- 5. The merge, and what each system saw before it.
  INSERT INTO integration.record_merge (target_table, survivor_id, merged_id, steward, notes)
  VALUES (tbl, p_survivor, p_merged, p_steward.user_name, p_notes)
  RETURNING record_merge.merge_id INTO merge_id;
  s_sys := ARRAY(SELECT i.source_system_key FROM integration.identifier i WHERE i.target_id = p_survivor AND i.target_table = tbl);
  m_sys := ARRAY(SELECT i.source_system_key FROM integration.identifier i WHERE i.target_id = p_merged AND i.target_table = tbl);
  SELECT coalesce(jsonb_object_agg(s.target_id::text || ' ' || s.aspect_key, s.value), '{}') INTO before
    FROM integration.identity_snapshot(tbl, ARRAY[p_survivor, p_merged]) s;

  -- 6. Settled values: each aspect the merged record's owner wins, by the
  --    worker's authority rule (a stale owner loses its rank), then by
  --    apply order (owner_entry's).
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'table', tbl, 'target_id', p_survivor, 'aspect', om.ledger_aspect, 'aspect_key', a.aspect_key,
           'source', om.source_system_key, 'value', om.value, 'previous', cur.v, 'status', om.ledger_status,
           'certified_at', om.certified_at, 'certified_by', om.certified_by, 'confirmed_at', integration.stale_clock(om),
           'note', format('merge %s: the value of record %s (ledger entry %s), settled onto %s', merge_id, p_merged,
                          om.ledger_id, p_survivor))
           ORDER BY a.aspect_key), '[]')
    INTO settle
    FROM (SELECT DISTINCT l.aspect_key FROM integration.ledger l
           WHERE l.target_table = tbl AND l.target_id = p_merged AND l.ledger_aspect IN ('Field', 'Relationship')) a
   CROSS JOIN LATERAL integration.owner_entry(tbl, p_merged, a.aspect_key) om
    LEFT JOIN LATERAL integration.owner_entry(tbl, p_survivor, a.aspect_key) os ON true
    LEFT JOIN LATERAL integration.aspect_policy(tbl, om.ledger_aspect, a.aspect_key) p ON true
   CROSS JOIN LATERAL (SELECT integration.current_value(tbl, p_survivor, a.aspect_key) AS v) cur
   CROSS JOIN LATERAL (
         SELECT CASE WHEN integration.is_stale(integration.stale_clock(om), p.stale_after_days, now()) THEN 2147483647
                     ELSE coalesce(array_position(p.authoritative_sources, om.source_system_key), 2147483647) END AS m_rank,
                CASE WHEN os.ledger_id IS NULL THEN NULL
                     WHEN integration.is_stale(integration.stale_clock(os), p.stale_after_days, now()) THEN 2147483647
                     ELSE coalesce(array_position(p.authoritative_sources, os.source_system_key), 2147483647) END AS s_rank) rk
   WHERE (os.ledger_id IS NULL OR rk.m_rank < rk.s_rank OR (rk.m_rank = rk.s_rank AND om.apply_seq > os.apply_seq))
     AND om.value IS DISTINCT FROM cur.v;

  -- 7. Relationships of other records that named the merged record.
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'table', r."table", 'target_id', r.id, 'aspect', 'Relationship', 'aspect_key', r."column",
           'source', coalesce(o.source_system_key, 'steward'), 'value', p_survivor::text, 'previous', p_merged::text,
           'status', 'Certified', 'certified_by', p_steward.user_id,
           'note', format('merge %s: %s merged into %s, so the relationship names the survivor', merge_id, p_merged,
                          p_survivor))
           ORDER BY r."table", r.id, r."column"), '[]')
    INTO repoint
    FROM jsonb_to_recordset(refs) AS r("table" text, id uuid, "column" text)
    LEFT JOIN LATERAL integration.owner_entry(r."table", r.id, r."column") o ON true;

  -- 8. The identifiers move: each is a Record entry of its source on the
  --    survivor, certified by the steward.
  WITH m AS (
    UPDATE integration.identifier i SET target_id = p_survivor
     WHERE i.target_id = p_merged AND i.target_table = tbl
    RETURNING i.identifier_id, i.source_system_key, i.external_key
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'identifier_id', m.identifier_id, 'table', tbl, 'target_id', p_survivor, 'aspect', 'Record',
           'aspect_key', 'record', 'source', m.source_system_key, 'value', 'created', 'previous', 'created',
           'status', 'Certified', 'certified_by', p_steward.user_id,
           'note', format('merge %s: identifier %s:%s moved from record %s', merge_id, m.source_system_key, m.external_key,
                          p_merged))
           ORDER BY m.identifier_id), '[]')
    INTO moved
    FROM m;

  -- 9. The writes: settled values, repointed relationships, the merged
  --    record deactivated; then the entries.
  PERFORM integration.write_targets(coalesce(
    (SELECT jsonb_agg(jsonb_build_object('n', w.o, 'table', w."table", 'target_id', w.target_id, 'aspect', w.aspect,
                                         'aspect_key', w.aspect_key, 'value', w.value))
       FROM ROWS FROM (jsonb_to_recordset(settle || repoint || jsonb_build_array(jsonb_build_object(
                         'table', tbl, 'target_id', p_merged, 'aspect', 'Record', 'aspect_key', 'record', 'value', 'deleted')))
                       AS ("table" text, target_id uuid, aspect text, aspect_key text, value text))
            WITH ORDINALITY AS w("table", target_id, aspect, aspect_key, value, o)), '[]'));
  entries := settle || repoint || moved || jsonb_build_array(jsonb_build_object(
    'table', tbl, 'target_id', p_merged, 'aspect', 'Record', 'aspect_key', 'record', 'source', 'steward', 'value', 'deleted',
    'previous', 'created', 'status', 'Certified', 'certified_by', p_steward.user_id,
    'note', format('merge %s: merged into %s', merge_id, p_survivor)));
  ids := integration.write_identity_entries(entries, p_steward, p_notes);

  -- 10. Staleness marks: the survivor learns the merged record's sources'
  --     order marks (an older statement of theirs stays out of order).
  INSERT INTO integration.source_order AS o
    (target_table, target_id, aspect_key, source_system_key, ts_max, ts_submit, ts_seq, any_submit, any_seq, nots_submit, nots_seq)
  SELECT so.target_table, p_survivor, so.aspect_key, so.source_system_key, so.ts_max, so.ts_submit, so.ts_seq, so.any_submit,
         so.any_seq, so.nots_submit, so.nots_seq
    FROM integration.source_order so
   WHERE so.target_table = tbl AND so.target_id = p_merged AND so.source_system_key = ANY (m_sys)
   ORDER BY so.aspect_key, so.source_system_key
  ON CONFLICT ON CONSTRAINT source_order_pkey DO NOTHING;

  -- 11. Suspect pairs of the two records are resolved.
  UPDATE integration.match_suspect s
     SET status = 'merged', merge_id = merge_records.merge_id, decided_at = now(), decided_by = p_steward.user_name,
         notes = p_notes
   WHERE s.target_table = tbl AND s.status = 'open'
     AND least(s.target_id, s.candidate_id) = least(p_survivor, p_merged)
     AND greatest(s.target_id, s.candidate_id) = greatest(p_survivor, p_merged);

  -- 12. Outbound: the survivor's systems get what changed on it; the merged
  --     record's systems what differs from what they saw; the repointed
  --     relationships go to their records' systems.
  SELECT coalesce(sum(x.n), 0) INTO sent FROM (
    SELECT integration.enqueue_outbound_values(array_agg(
             ROW(tbl, p_survivor, s.ledger_aspect, s.aspect_key, s.value, o.source_system_key, NULL)::integration.outbound_value
             ORDER BY s.aspect_key), s_sys) AS n
      FROM integration.identity_snapshot(tbl, ARRAY[p_survivor]) s
      LEFT JOIN LATERAL integration.owner_entry(tbl, p_survivor, s.aspect_key) o ON true
     WHERE s.value IS DISTINCT FROM before ->> (p_survivor::text || ' ' || s.aspect_key)
    HAVING count(*) > 0
    UNION ALL
    SELECT integration.enqueue_outbound_values(array_agg(
             ROW(tbl, p_survivor, s.ledger_aspect, s.aspect_key, s.value, o.source_system_key, NULL)::integration.outbound_value
             ORDER BY s.aspect_key), m_sys)
      FROM integration.identity_snapshot(tbl, ARRAY[p_survivor]) s
      LEFT JOIN LATERAL integration.owner_entry(tbl, p_survivor, s.aspect_key) o ON true
     WHERE s.value IS DISTINCT FROM before ->> (p_merged::text || ' ' || s.aspect_key)
    HAVING count(*) > 0
    UNION ALL
    SELECT integration.enqueue_outbound(ids[jsonb_array_length(settle) + 1 : jsonb_array_length(settle) + jsonb_array_length(repoint)])) x;

  UPDATE integration.record_merge m
     SET identifiers = ARRAY(SELECT (x ->> 'identifier_id')::bigint FROM jsonb_array_elements(moved) x), entries = ids
   WHERE m.merge_id = merge_records.merge_id;
  identifiers_moved := jsonb_array_length(moved);
  values_settled := jsonb_array_length(settle);
  relationships_repointed := jsonb_array_length(repoint);
  outbound_items := sent;
END
$$;

-- merge(survivor, merged, notes, steward): a steward merges two records of
-- one table: `merged` into `survivor` (see the top of this file). The steward
-- is the session's own user unless named (acting_user); a deadlock or
-- serialization failure is retried (retrying, stewardship.sql).
CREATE OR REPLACE FUNCTION integration.merge(
  p_survivor uuid,
  p_merged   uuid,
  p_notes    text DEFAULT NULL,
  p_steward  text DEFAULT NULL)
RETURNS TABLE (merge_id bigint, target_table text, survivor_id uuid, merged_id uuid, identifiers_moved integer,
               values_settled integer, relationships_repointed integer, outbound_items integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  steward integration.app_user := integration.acting_user(p_steward);
  r       record;
BEGIN
  SELECT * INTO r
    FROM jsonb_to_record(integration.retrying(
           'SELECT to_jsonb(m) FROM integration.merge_records(($1->>''survivor'')::uuid, ($1->>''merged'')::uuid,'
           ' $1->>''notes'', jsonb_populate_record(NULL::integration.app_user, $1->''steward'')) m',
           jsonb_build_object('survivor', p_survivor, 'merged', p_merged, 'notes', p_notes, 'steward', to_jsonb(steward))))
      AS x(merge_id bigint, target_table text, identifiers_moved integer, values_settled integer,
           relationships_repointed integer, outbound_items integer);
  RETURN QUERY SELECT r.merge_id, r.target_table, p_survivor, p_merged, r.identifiers_moved, r.values_settled,
                      r.relationships_repointed, r.outbound_items;
END
$$;
SELECT integration.use_canonical_settings('integration.merge(uuid,uuid,text,text)');

-- unmerge_records(merge, notes, steward): undoes a merge (see the top of
-- this file), in the caller's transaction.
CREATE OR REPLACE FUNCTION integration.unmerge_records(
  p_merge bigint, p_notes text, p_steward integration.app_user,
  OUT target_table text, OUT survivor_id uuid, OUT merged_id uuid, OUT identifiers_restored integer,
  OUT values_restored integer, OUT relationships_restored integer, OUT outbound_items integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  m        integration.record_merge;
  tbl      text;
  owners    jsonb;
  restores  jsonb;
  withdrawn bigint[];
  done     jsonb;
  m_sys    text[];
  before   jsonb;
  sent     integer := 0;
BEGIN
  SELECT * INTO m FROM integration.record_merge x WHERE x.merge_id = p_merge FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'merge % not found', coalesce(p_merge::text, 'NULL') USING ERRCODE = 'SL095',
          HINT = 'integration.record_merge lists the merges.';
  ELSIF m.unmerged_at IS NOT NULL THEN
    RAISE EXCEPTION 'merge % was undone already (by %, %)', p_merge, m.unmerged_by, m.unmerged_at USING ERRCODE = 'SL095';
  END IF;
  tbl := m.target_table;
  target_table := tbl;
  survivor_id := m.survivor_id;
  merged_id := m.merged_id;

  -- 1. Both records' identifiers, claims on the merged record's keys (it
  --    becomes a candidate again), the target rows of every record the
  --    merge wrote, then its entries.
  PERFORM FROM integration.identifier i
   WHERE i.target_id IN (m.survivor_id, m.merged_id) AND i.target_table = tbl
   ORDER BY i.identifier_id FOR UPDATE;
  PERFORM integration.claim_match_keys(ARRAY(
    SELECT integration.match_claim_key(k.rule_id, CASE WHEN r.method = 'similar' THEN NULL ELSE k.normalised_key END)
      FROM integration.match_keys_of_records(tbl, ARRAY[m.merged_id]) k
      JOIN integration.match_rule r ON r.rule_id = k.rule_id AND r.is_active AND r.action = 'link'
     WHERE k.part = 0 AND k.normalised_key IS NOT NULL));
  PERFORM FROM integration.lock_records(
    (SELECT jsonb_agg(DISTINCT jsonb_build_object('table', l.target_table, 'id', l.target_id))
       FROM integration.ledger l WHERE l.ledger_id = ANY (m.entries))
    || jsonb_build_array(jsonb_build_object('table', tbl, 'id', m.survivor_id), jsonb_build_object('table', tbl, 'id', m.merged_id)));
  PERFORM FROM integration.ledger l WHERE l.ledger_id = ANY (m.entries) ORDER BY l.ledger_id FOR UPDATE;

  SELECT coalesce(jsonb_object_agg(s.target_id::text || ' ' || s.aspect_key, s.value), '{}') INTO before
    FROM integration.identity_snapshot(tbl, ARRAY[m.survivor_id]) s;

  -- 2. The aspects whose owner is one of the merge's entries.
  SELECT coalesce(jsonb_agg(jsonb_build_object('table', a.target_table, 'target_id', a.target_id, 'aspect', a.ledger_aspect,
                                               'aspect_key', a.aspect_key, 'owner', o.ledger_id, 'value', o.value,
                                               'first_previous', a.first_previous)), '[]')
    INTO owners
    FROM (SELECT l.target_table, l.target_id, l.ledger_aspect, l.aspect_key,
                 (array_agg(l.previous_value ORDER BY l.ledger_id))[1] AS first_previous
            FROM integration.ledger l WHERE l.ledger_id = ANY (m.entries)
           GROUP BY l.target_table, l.target_id, l.ledger_aspect, l.aspect_key) a
   CROSS JOIN LATERAL integration.owner_entry(a.target_table, a.target_id, a.aspect_key) o
   WHERE o.ledger_id = ANY (m.entries);

  -- 3. The merge's entries are withdrawn: pending ones rejected, certified
  --    ones revoked.
  WITH w AS (
    UPDATE integration.ledger l
       SET ledger_status = CASE l.ledger_status WHEN 'Pending' THEN 'Rejected' ELSE 'Revoked' END
     WHERE l.ledger_id = ANY (m.entries) AND l.ledger_status IN ('Pending', 'Certified')
    RETURNING l.ledger_id
  )
  SELECT coalesce(array_agg(w.ledger_id ORDER BY w.ledger_id), '{}') INTO withdrawn FROM w;

  -- 4. Each aspect they still owned returns to its owner now (or, with none,
  --    to the value it had before the merge's first entry), if the target
  --    still holds the merge's value (compare-and-set).
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'n', x.o, 'table', x."table", 'target_id', x.target_id, 'aspect', x.aspect, 'aspect_key', x.aspect_key,
           'value', CASE WHEN o.ledger_id IS NOT NULL THEN o.value ELSE x.first_previous END,
           'expected', x.value, 'check', true, 'owner', x.owner)), '[]')
    INTO restores
    FROM ROWS FROM (jsonb_to_recordset(owners)
                    AS ("table" text, target_id uuid, aspect text, aspect_key text, owner bigint, value text,
                        first_previous text))
         WITH ORDINALITY AS x("table", target_id, aspect, aspect_key, owner, value, first_previous, o)
    LEFT JOIN LATERAL integration.owner_entry(x."table", x.target_id, x.aspect_key) o ON true
   WHERE NOT (x.aspect = 'Record' AND x.value IS DISTINCT FROM 'deleted');
  SELECT coalesce(jsonb_object_agg(w.n::text, w.written), '{}') INTO done
    FROM integration.write_targets(restores) w;

  -- 5. Identifiers move back; the survivor forgets their sources' marks.
  WITH b AS (
    UPDATE integration.identifier i SET target_id = m.merged_id
     WHERE i.identifier_id = ANY (m.identifiers) AND i.target_id = m.survivor_id
    RETURNING i.source_system_key
  )
  SELECT coalesce(array_agg(b.source_system_key), '{}') INTO m_sys FROM b;
  identifiers_restored := cardinality(m_sys);
  DELETE FROM integration.source_order so
   WHERE so.target_table = tbl AND so.target_id = m.survivor_id AND so.source_system_key = ANY (m_sys);

  -- 6. Suspect pairs the merge resolved are open again.
  UPDATE integration.match_suspect s
     SET status = 'open', merge_id = NULL, decided_at = NULL, decided_by = NULL, notes = NULL
   WHERE s.merge_id = p_merge;

  -- 7. Events: every entry withdrawn, saying what happened to its target.
  PERFORM integration.record_events(coalesce(
    (SELECT jsonb_agg(jsonb_build_object(
              'ledger_id', l.ledger_id, 'kind', 'identity', 'from', CASE l.ledger_status WHEN 'Rejected' THEN 'Pending' ELSE 'Certified' END,
              'to', l.ledger_status, 'actor', p_steward.user_name, 'notes', p_notes,
              'target_note', format('unmerge of merge %s: %s', p_merge,
                                    CASE WHEN r.x IS NOT NULL AND (done ->> (r.x ->> 'n'))::boolean
                                           THEN format('%s set back to %L',
                                                       integration.aspect_label(l.target_table, l.target_id, l.aspect_key),
                                                       r.x ->> 'value')
                                         WHEN r.x IS NOT NULL THEN 'the target changed since the merge: left alone'
                                         WHEN l.ledger_aspect = 'Record' AND l.value = 'created'
                                           THEN 'the identifier moved back to the merged record'
                                         ELSE 'the entry no longer owned its aspect: target left alone' END))
              ORDER BY l.ledger_id)
       FROM integration.ledger l
       LEFT JOIN LATERAL (SELECT e AS x FROM jsonb_array_elements(restores) e
                           WHERE (e ->> 'owner')::bigint = l.ledger_id) r ON true
      WHERE l.ledger_id = ANY (withdrawn)), '[]'));
  SELECT count(*) FILTER (WHERE (done ->> (e ->> 'n'))::boolean AND (e ->> 'target_id')::uuid = m.survivor_id),
         count(*) FILTER (WHERE (done ->> (e ->> 'n'))::boolean AND (e ->> 'target_id')::uuid <> ALL (ARRAY[m.survivor_id, m.merged_id]))
    INTO values_restored, relationships_restored
    FROM jsonb_array_elements(restores) e;

  -- 8. Outbound: the survivor's systems get what changed back; the merged
  --    record's systems its own values where they differ from what they
  --    saw; restored relationships go to their records' systems. Values go
  --    to their own source too: it was told otherwise during the merge.
  SELECT coalesce(sum(x.n), 0) INTO sent FROM (
    SELECT integration.enqueue_outbound_values(array_agg(
             ROW(tbl, m.survivor_id, s.ledger_aspect, s.aspect_key, s.value, NULL, NULL)::integration.outbound_value
             ORDER BY s.aspect_key), NULL) AS n
      FROM integration.identity_snapshot(tbl, ARRAY[m.survivor_id]) s
     WHERE s.value IS DISTINCT FROM before ->> (m.survivor_id::text || ' ' || s.aspect_key)
    HAVING count(*) > 0
    UNION ALL
    SELECT integration.enqueue_outbound_values(array_agg(
             ROW(tbl, m.merged_id, s.ledger_aspect, s.aspect_key, s.value, NULL, NULL)::integration.outbound_value
             ORDER BY s.aspect_key), m_sys)
      FROM integration.identity_snapshot(tbl, ARRAY[m.merged_id]) s
     WHERE s.value IS DISTINCT FROM before ->> (m.survivor_id::text || ' ' || s.aspect_key)
    HAVING count(*) > 0
    UNION ALL
    SELECT integration.enqueue_outbound_values(array_agg(
             ROW(e ->> 'table', (e ->> 'target_id')::uuid, 'Relationship', e ->> 'aspect_key', e ->> 'value', NULL, NULL)::integration.outbound_value),
             NULL)
      FROM jsonb_array_elements(restores) e
     WHERE (done ->> (e ->> 'n'))::boolean AND (e ->> 'target_id')::uuid <> ALL (ARRAY[m.survivor_id, m.merged_id])
    HAVING count(*) > 0) x;
  outbound_items := sent;

  UPDATE integration.record_merge x
     SET unmerged_at = now(), unmerged_by = p_steward.user_name, unmerge_notes = p_notes
   WHERE x.merge_id = p_merge;
END
$$;

-- unmerge(merge_id, notes, steward): a steward undoes a merge (see the top
-- of this file), retrying as merge does.
CREATE OR REPLACE FUNCTION integration.unmerge(p_merge_id bigint, p_notes text DEFAULT NULL, p_steward text DEFAULT NULL)
RETURNS TABLE (merge_id bigint, target_table text, survivor_id uuid, merged_id uuid, identifiers_restored integer,
               values_restored integer, relationships_restored integer, outbound_items integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  steward integration.app_user := integration.acting_user(p_steward);
  r       record;
BEGIN
  SELECT * INTO r
    FROM jsonb_to_record(integration.retrying(
           'SELECT to_jsonb(u) FROM integration.unmerge_records(($1->>''merge'')::bigint, $1->>''notes'','
           ' jsonb_populate_record(NULL::integration.app_user, $1->''steward'')) u',
           jsonb_build_object('merge', p_merge_id, 'notes', p_notes, 'steward', to_jsonb(steward))))
      AS x(target_table text, survivor_id uuid, merged_id uuid, identifiers_restored integer, values_restored integer,
           relationships_restored integer, outbound_items integer);
  RETURN QUERY SELECT p_merge_id, r.target_table, r.survivor_id, r.merged_id, r.identifiers_restored, r.values_restored,
                      r.relationships_restored, r.outbound_items;
END
$$;
SELECT integration.use_canonical_settings('integration.unmerge(bigint,text,text)');
