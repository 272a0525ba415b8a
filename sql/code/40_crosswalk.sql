-- crosswalk.sql — resolving external keys to target records (SPEC §2 step 2):
-- the identifier rows that link each source's record once, and the records
-- created for keys nobody has seen.
--
-- Concurrency: identifiers are locked in id order and inserted in key order
-- (ON CONFLICT DO NOTHING), so concurrent chunks never deadlock on them, and
-- only the transaction whose identifier insert won creates the record; a
-- loser waits for the winner's commit and uses its record. A known key's
-- record is read again under its identifier's lock: a steward's merge
-- (identity.sql) may have moved the identifier to the survivor meanwhile.
--
-- New keys without a hint, in tables with active match rules, are matched
-- first (identity.sql, match_new_records): a link rule's single candidate
-- takes the place of a new record. Matching claims its keys before
-- anything else (its lock order is in identity.sql); known keys are never
-- matched and cost nothing more.

-- resolve_records(records): resolves records named by external key, in one
-- call. Each element of `records` (a JSON array) is one record:
--
--   n        its number in the caller's list (returned with the answer)
--   source   the source system that names it
--   table    its registered target table
--   key      the source's external key for it
--   hint     an existing record to link a new key to (target_id), or null
--   creates  whether to create it when the key is new (false: a Delete of an
--            unknown key has nothing to delete)
--   match    the values it arrives with, {column: canonical value}, for the
--            table's match rules (null or {}: none)
--
-- Known keys get last_seen_at = now. A new key that may be created is linked
-- to its hinted record when that exists; without a hint, to the record a
-- link rule found (match_new_records); else to a new record (a row of the
-- target table with only its id). Returns, per record: its id (NULL when it
-- was not found and not created, or its hinted record already carries
-- another identifier of the source: found is then false), whether it was
-- found, whether this call created it, and for a new key linked by a match
-- rule, the rule and its score. Suspect pairs the matching found are
-- recorded in match_suspect.
CREATE OR REPLACE FUNCTION integration.resolve_records(p_records jsonb)
RETURNS TABLE (n integer, target_id uuid, found boolean, created boolean, match_rule text, match_score real)
LANGUAGE plpgsql
-- Planner settings: see "Plans" at the top of aspects.sql.
SET enable_seqscan = off SET enable_nestloop = off SET jit = off
AS $$
DECLARE
  zero      constant uuid := '00000000-0000-0000-0000-000000000000';
  k_n       integer[];
  k_source  text[];
  k_table   text[];
  k_key     text[];
  k_hint    uuid[];
  k_create  boolean[];
  k_target  uuid[];
  k_found   boolean[];
  k_created boolean[];
  k_match   jsonb[];
  k_rule    text[];
  k_score   real[];
  ident_ids bigint[];
  vh_t      text[] := '{}';
  vh_id     uuid[] := '{}';
  new_ids   uuid[];
  fresh     boolean[];
  won       boolean[];
  matched   jsonb;
  fresh_ids uuid[];
  made      uuid[] := '{}';
  tgt       record;
  tbl       text;
  ids       uuid[];
BEGIN
  SELECT coalesce(array_agg(r.n ORDER BY r.n), '{}'), coalesce(array_agg(r.source ORDER BY r.n), '{}'),
         coalesce(array_agg(r."table" ORDER BY r.n), '{}'), coalesce(array_agg(r.key ORDER BY r.n), '{}'),
         coalesce(array_agg(r.hint ORDER BY r.n), '{}'), coalesce(array_agg(r.creates ORDER BY r.n), '{}'),
         coalesce(array_agg(r.match ORDER BY r.n), '{}')
    INTO k_n, k_source, k_table, k_key, k_hint, k_create, k_match
    FROM jsonb_to_recordset(p_records) AS r(n integer, source text, "table" text, key text, hint uuid, creates boolean,
                                            match jsonb);
  k_rule := array_fill(NULL::text, ARRAY[cardinality(k_n)]);
  k_score := array_fill(NULL::real, ARRAY[cardinality(k_n)]);

  -- 1. Known keys; their identifiers locked (last_seen_at) in id order, and
  --    their records read again under the lock (a merge moves identifiers).
  SELECT coalesce(array_agg(coalesce(x.target_id, zero) ORDER BY k.o), '{}'),
         coalesce(array_agg(x.identifier_id IS NOT NULL ORDER BY k.o), '{}'),
         coalesce(array_agg(x.identifier_id) FILTER (WHERE x.identifier_id IS NOT NULL), '{}')
    INTO k_target, k_found, ident_ids
    FROM unnest(k_source, k_table, k_key) WITH ORDINALITY AS k(s, t, e, o)
    LEFT JOIN LATERAL (SELECT x.target_id, x.identifier_id FROM integration.identifier x
                        WHERE x.source_system_key = k.s AND x.target_table = k.t AND x.external_key = k.e LIMIT 1) x ON true;
  IF cardinality(ident_ids) > 0 THEN
    WITH locked AS (
      UPDATE integration.identifier x SET last_seen_at = now()
        FROM (SELECT y.identifier_id FROM integration.identifier y
               WHERE y.identifier_id = ANY (ident_ids) ORDER BY y.identifier_id FOR NO KEY UPDATE) l
       WHERE x.identifier_id = l.identifier_id
      RETURNING x.source_system_key AS s, x.target_table AS t, x.external_key AS e, x.target_id AS id
    )
    SELECT array_agg(coalesce(lk.id, k.kt) ORDER BY k.o) INTO k_target
      FROM unnest(k_source, k_table, k_key, k_target) WITH ORDINALITY AS k(s, t, e, kt, o)
      LEFT JOIN locked lk ON lk.s = k.s AND lk.t = k.t AND lk.e = k.e;
  END IF;
  k_created := array_fill(false, ARRAY[cardinality(k_n)]);

  -- 2. New keys: link to the hinted record when it exists, else a new record.
  IF EXISTS (SELECT FROM unnest(k_found, k_create) AS u(f, c) WHERE NOT u.f AND u.c) THEN
    FOR tbl IN SELECT DISTINCT u.t FROM unnest(k_table, k_found, k_create, k_hint) AS u(t, f, c, h)
                WHERE NOT u.f AND u.c AND u.h IS NOT NULL LOOP
      tgt := integration.resolve_target(tbl);
      EXECUTE format('SELECT coalesce(array_agg(t.%1$I), ''{}'') FROM %2$I.%3$I t WHERE t.%1$I = ANY ($1)',
                     tgt.id_col, tgt.rel_schema, tgt.rel_name)
         INTO ids
         USING ARRAY(SELECT u.h FROM unnest(k_table, k_hint, k_found, k_create) AS u(t, h, f, c)
                      WHERE u.t = tbl AND NOT u.f AND u.c AND u.h IS NOT NULL);
      vh_t := vh_t || array_fill(tbl, ARRAY[cardinality(ids)]);
      vh_id := vh_id || ids;
    END LOOP;

    SELECT array_agg(CASE WHEN NOT k.f AND k.c THEN coalesce(v.id, gen_random_uuid()) ELSE zero END ORDER BY k.o),
           array_agg(NOT k.f AND k.c AND v.id IS NULL ORDER BY k.o)
      INTO new_ids, fresh
      FROM unnest(k_table, k_hint, k_found, k_create) WITH ORDINALITY AS k(t, h, f, c, o)
      LEFT JOIN (SELECT DISTINCT v.t, v.id FROM unnest(vh_t, vh_id) AS v(t, id)) v ON v.t = k.t AND v.id = k.h;

    -- New keys without a hint, in tables with active match rules: a link
    -- rule's candidate (an existing record, or another new key's record of
    -- this call) takes the place of the new record.
    IF EXISTS (SELECT FROM unnest(k_table, k_found, k_create, k_hint, k_match) AS u(t, f, c, h, m)
                WHERE NOT u.f AND u.c AND u.h IS NULL AND u.m IS NOT NULL AND u.m <> '{}'
                  AND EXISTS (SELECT FROM integration.match_rule r WHERE r.target_table = u.t AND r.is_active)) THEN
      fresh_ids := ARRAY(SELECT u.id FROM unnest(new_ids, fresh) AS u(id, fr) WHERE u.fr);
      SELECT coalesce(jsonb_agg(to_jsonb(m)), '[]') INTO matched
        FROM integration.match_new_records(
               (SELECT jsonb_agg(jsonb_build_object('n', u.o, 'source', u.s, 'table', u.t, 'id', u.id, 'match', u.m))
                  FROM unnest(k_source, k_table, k_found, k_create, k_hint, k_match, new_ids)
                       WITH ORDINALITY AS u(s, t, f, c, h, m, id, o)
                 WHERE NOT u.f AND u.c AND u.h IS NULL AND u.m IS NOT NULL AND u.m <> '{}')) m;
      SELECT array_agg(coalesce(l.target_id, u.id) ORDER BY u.o),
             array_agg(CASE WHEN l.n IS NULL THEN u.fr ELSE l.target_id = ANY (fresh_ids) END ORDER BY u.o),
             array_agg(l.rule_name ORDER BY u.o), array_agg(l.score ORDER BY u.o)
        INTO new_ids, fresh, k_rule, k_score
        FROM unnest(new_ids, fresh) WITH ORDINALITY AS u(id, fr, o)
        LEFT JOIN jsonb_to_recordset(matched) AS l(kind text, n integer, target_id uuid, rule_name text, score real)
          ON l.kind = 'link' AND l.n = u.o;
    END IF;

    -- Inserted in key order; the ones this transaction won come back.
    WITH ins AS (
      INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
      SELECT k.s, k.t, k.e, k.id
        FROM unnest(k_source, k_table, k_key, new_ids, k_found, k_create) AS k(s, t, e, id, f, c)
       WHERE NOT k.f AND k.c
       ORDER BY k.t, k.s, k.e
      ON CONFLICT DO NOTHING
      RETURNING source_system_key AS s, target_table AS t, external_key AS e
    )
    SELECT array_agg(ins.s IS NOT NULL ORDER BY k.o) INTO won
      FROM unnest(k_source, k_table, k_key) WITH ORDINALITY AS k(s, t, e, o)
      LEFT JOIN ins ON ins.s = k.s AND ins.t = k.t AND ins.e = k.e;

    -- Records only for identifiers this transaction created, fresh ones only,
    -- each once (new keys a match joined share one); the record is created
    -- by the first key that won it, the others are linked to it.
    FOR tbl IN SELECT DISTINCT u.t FROM unnest(k_table, won, fresh) AS u(t, w, f) WHERE u.w AND u.f ORDER BY 1 LOOP
      tgt := integration.resolve_target(tbl);
      EXECUTE format('INSERT INTO %I.%I (%I) SELECT DISTINCT unnest($1::uuid[])', tgt.rel_schema, tgt.rel_name, tgt.id_col)
        USING ARRAY(SELECT u.id FROM unnest(k_table, new_ids, won, fresh) AS u(t, id, w, f) WHERE u.t = tbl AND u.w AND u.f);
    END LOOP;
    SELECT array_agg(CASE WHEN u.w THEN u.nid ELSE u.kt END ORDER BY u.o),
           array_agg(u.kf OR u.w ORDER BY u.o),
           array_agg(u.w AND u.fr AND u.o = u.first ORDER BY u.o),
           array_agg(CASE WHEN u.w AND NOT (u.fr AND u.o = u.first) THEN u.rule END ORDER BY u.o),
           array_agg(CASE WHEN u.w AND NOT (u.fr AND u.o = u.first) THEN u.score END ORDER BY u.o),
           coalesce(array_agg(DISTINCT u.nid) FILTER (WHERE u.w AND u.fr), '{}')
      INTO k_target, k_found, k_created, k_rule, k_score, made
      FROM (SELECT x.*, min(x.o) FILTER (WHERE x.w AND x.fr) OVER (PARTITION BY x.t, x.nid) AS first
              FROM unnest(k_table, k_target, k_found, new_ids, won, fresh, k_rule, k_score)
                   WITH ORDINALITY AS x(t, kt, kf, nid, w, fr, rule, score, o)) u;

    -- Suspect pairs the matching found, between records that exist: ones
    -- created here, and ones that existed before.
    IF matched IS NOT NULL THEN
      INSERT INTO integration.match_suspect
        (target_table, target_id, candidate_id, rule_id, rule_name, score, source_system_key)
      SELECT x."table", x.target_id, x.other_id, x.rule_id, x.rule_name, round(x.score::numeric, 4), x.source
        FROM jsonb_to_recordset(matched)
             AS x(kind text, "table" text, target_id uuid, other_id uuid, rule_id bigint, rule_name text, score real,
                  source text)
       WHERE x.kind = 'suspect'
         AND (x.target_id = ANY (made) OR x.target_id <> ALL (fresh_ids))
         AND (x.other_id = ANY (made) OR x.other_id <> ALL (fresh_ids))
       ORDER BY 1, 2, 3
      ON CONFLICT DO NOTHING;
    END IF;

    -- Lost races: the winner committed (we waited on its key): use its record.
    -- Not found at all: the hinted record already carries another identifier
    -- from this source (a conflict: found stays false).
    IF EXISTS (SELECT FROM unnest(k_found, k_create) AS u(f, c) WHERE NOT u.f AND u.c) THEN
      SELECT array_agg(CASE WHEN k.f THEN k.kt ELSE coalesce(x.target_id, zero) END ORDER BY k.o),
             array_agg(k.f OR x.target_id IS NOT NULL ORDER BY k.o)
        INTO k_target, k_found
        FROM unnest(k_source, k_table, k_key, k_target, k_found) WITH ORDINALITY AS k(s, t, e, kt, f, o)
        LEFT JOIN LATERAL (SELECT x.target_id FROM integration.identifier x
                            WHERE NOT k.f AND x.source_system_key = k.s AND x.target_table = k.t AND x.external_key = k.e
                            LIMIT 1) x ON true;
    END IF;
  END IF;

  RETURN QUERY
  SELECT k.n, CASE WHEN k.f THEN k.id END, k.f, k.c, k.r, k.sc
    FROM unnest(k_n, k_target, k_found, k_created, k_rule, k_score) AS k(n, id, f, c, r, sc)
   ORDER BY k.n;
END
$$;
