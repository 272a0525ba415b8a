-- stewardship.sql — certify, reject, revoke and propose, one entry at a time
-- or a decision batch of a million, on the aspect layer (aspects.sql) and
-- the ledger guard (ledger_guard.sql) (SPEC §3).
--
--   SL010  ledger entry not found        SL011  ledger entry in the wrong status
--   SL012  four eyes: this steward already approved the entry
--   SL013  a steward's own proposal is certified by another steward
--   SL014  unknown or inactive reject reason
--   SL015  decision batch not found, or not one that can be revoked
--   SL016  a proposal that does not apply (unknown field, a value that does not fit)
--   SL017  a queue filter that is not one (unknown key, bad value)
--   SL020  unknown user                  SL021  inactive user
--   SL022  not a steward                 SL023  acting in another user's name
--   SL030  conflict: the target changed since the entry was recorded
--   SL051  target record not found
--
-- Who acts (SPEC §3): the steward argument names the app_user the session
-- acts as, and it must be the session's own: the app_user whose login_role
-- (or, without one, user_name) is session_user, the login role of the
-- connection, which SET ROLE does not change and a SECURITY DEFINER function
-- does not hide. NULL (the default) means "myself". Members of
-- syncledger_admin may act for another user (a service relaying a web form);
-- the event records both the user acted for (actor) and the role that acted
-- (acting_role), as every event does.
--
-- One engine (decide): certify, reject and revoke of one entry and the
-- chunks of a decision batch all run the same set-based code, so a bulk
-- decision is exactly the decisions one by one. Its lock order is the
-- aspect layer's: the entries' target rows first, table by table in id
-- order, then the entries; the worker locks target rows before ledger rows
-- too, so a steward and a worker never deadlock. (merge and unmerge,
-- identity.sql, take identifiers and match claims before the target rows,
-- as the worker does.) Entries of one aspect
-- decided in one call are decided in rounds, in entry order, each round
-- seeing the last one's writes. A held item's job is recounted under a FOR
-- NO KEY UPDATE lock of its row, which the worker's FOR KEY SHARE fence does
-- not block (jobs.sql, recount_jobs).
--
-- Decision batches: a batch is opened with its filter and the newest entry
-- then (entries recorded later are not part of it), and decided a chunk at
-- a time, each chunk its own short transaction (`syncledger steward
-- certify|reject` with filters, the procedures certify_where and
-- reject_where), so no lock is held for the whole batch and the worker keeps
-- moving. Every event a batch writes carries its batch_id; revoke_batch
-- revokes what a certify batch certified.

-- ---------------------------------------------------------------------------
-- Who acts
-- ---------------------------------------------------------------------------

-- acting_user(steward): the app_user the session acts as, or a refusal that
-- says why not.
CREATE OR REPLACE FUNCTION integration.acting_user(p_steward text)
RETURNS integration.app_user
LANGUAGE plpgsql STABLE AS $$
DECLARE
  own integration.app_user;
  u   integration.app_user;
BEGIN
  SELECT * INTO own FROM integration.app_user a
   WHERE a.login_role = session_user OR (a.login_role IS NULL AND a.user_name = session_user)
   ORDER BY a.login_role IS NULL, a.user_id
   LIMIT 1;
  IF p_steward IS NULL THEN
    IF own.user_id IS NULL THEN
      RAISE EXCEPTION 'session role "%" is not an app_user: no integration.app_user has it as login_role or user_name', session_user
        USING ERRCODE = 'SL020',
              HINT = 'An administrator adds the steward to integration.app_user (user_name, login_role, is_steward).';
    END IF;
    u := own;
  ELSE
    SELECT * INTO u FROM integration.app_user a WHERE a.user_name = p_steward;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'unknown user "%": no integration.app_user has that user_name', p_steward
        USING ERRCODE = 'SL020';
    END IF;
    IF u.user_id IS DISTINCT FROM own.user_id AND NOT pg_has_role(session_user, 'syncledger_admin', 'MEMBER') THEN
      RAISE EXCEPTION 'session role "%" may not act as "%": a steward acts only in their own name', session_user, p_steward
        USING ERRCODE = 'SL023',
              DETAIL = format('"%s" is mapped to %s.', session_user,
                              CASE WHEN own.user_id IS NULL THEN 'no app_user' ELSE format('app_user "%s"', own.user_name) END),
              HINT = 'Act as yourself (pass NULL, or your own user_name); only members of syncledger_admin act for another user.';
    END IF;
  END IF;
  IF NOT u.is_active THEN
    RAISE EXCEPTION 'user "%" is inactive', u.user_name USING ERRCODE = 'SL021';
  ELSIF NOT u.is_steward THEN
    RAISE EXCEPTION 'user "%" is not a steward', u.user_name USING ERRCODE = 'SL022';
  END IF;
  RETURN u;
END
$$;

-- retrying(statement, args): runs a steward's call and returns its result.
-- `statement` is one SELECT that returns one jsonb value, its parameter $1 the
-- jsonb `args`. A deadlock or serialization failure that PostgreSQL still
-- raises (say, with a lock order some other client breaks) rolls the attempt
-- back to its savepoint and is tried again, up to five times, so that a
-- steward never sees one caused by the worker. The one retry of every steward
-- call that takes row locks: decide_one, decide_batch, merge and unmerge.
CREATE OR REPLACE FUNCTION integration.retrying(p_statement text, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  result jsonb;
BEGIN
  FOR attempt IN 1 .. 5 LOOP
    BEGIN
      EXECUTE p_statement INTO result USING p_args;
      RETURN result;
    EXCEPTION WHEN deadlock_detected OR serialization_failure THEN
      IF attempt = 5 THEN RAISE; END IF;
      PERFORM pg_sleep(0.01 * attempt);
    END;
  END LOOP;
END
$$;

-- my_source_systems(): who speaks for which source system: the source systems whose login_role is the calling
-- role. The row-level security policies below call it with no argument, so
-- p_role is the current_user of the query being checked (a default is
-- evaluated where the function is called, not inside it).
--
-- SECURITY DEFINER so that upstream roles need no privilege on
-- integration.source_system. Because p_role can also be passed explicitly,
-- the function answers only for roles the session could act as anyway
-- (its session user, or a role that user may SET ROLE to); for any other
-- role it answers with an empty array rather than reveal another system's
-- mapping.
--
-- Cost: the policies call it as an uncorrelated scalar subquery,
-- (SELECT integration.my_source_systems()), which PostgreSQL evaluates once
-- per statement (an InitPlan), not once per row.
CREATE OR REPLACE FUNCTION integration.my_source_systems(p_role name DEFAULT current_user)
RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(s.source_system_key ORDER BY s.source_system_key), '{}')
    FROM integration.source_system s
   WHERE s.login_role = p_role
     AND pg_has_role(session_user, p_role, 'MEMBER')
$$;
COMMENT ON FUNCTION integration.my_source_systems(name) IS
  'Source systems whose login_role is the calling role (or p_role, if the session may act as it); used by row-level security.';

-- ---------------------------------------------------------------------------
-- The queue: why an entry waits, and which entries a filter names
-- ---------------------------------------------------------------------------

-- entry_hold_reason(is_applied, hold_reason): why a pending entry waits, as
-- a code: the one the worker (or propose) recorded; for entries recorded
-- before reasons were, not_auto_certified when applied, else on_certify.
CREATE OR REPLACE FUNCTION integration.entry_hold_reason(p_is_applied boolean, p_hold_reason text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(p_hold_reason, CASE WHEN p_is_applied THEN 'not_auto_certified' ELSE 'on_certify' END)
$$;

-- hold_sentence(reason, source, owner_source): the reason in words.
CREATE OR REPLACE FUNCTION integration.hold_sentence(p_reason text, p_source text, p_owner_source text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE p_reason
    WHEN 'on_certify' THEN 'held: the field''s policy is OnCertify, so a steward certifies every value before it is applied'
    WHEN 'authority' THEN format('held: the current value from %s outranks %s and is not stale',
                                 coalesce(p_owner_source, 'an authoritative source'), p_source)
    WHEN 'confidence' THEN 'held: the value map''s confidence for this code is below the policy''s minimum'
    WHEN 'not_auto_certified' THEN 'applied, awaiting certification: the policy does not certify values at ingest'
    WHEN 'proposal' THEN 'a steward''s proposal: held until a different steward certifies it'
  END
$$;

-- queue_filter(filter): checks a queue filter (a JSON object) and returns it
-- with its keys' values normalised. Keys, all optional, all combined with AND:
--
--   table        the target table ("schema.table")
--   field        the aspect key: a column, or 'record' for the record itself
--   source       the source system of the entry
--   reason       the hold reason (entry_hold_reason)
--   state        'held' (not applied: awaiting a decision) or 'applied'
--                (applied, awaiting certification)
--   older_than   an interval: entries recorded longer ago than that
--
-- A key it does not know is refused (SL017): a misspelt filter must not
-- select the whole queue.
CREATE OR REPLACE FUNCTION integration.queue_filter(p_filter jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  unknown text;
  f       jsonb := coalesce(p_filter, '{}');
BEGIN
  IF jsonb_typeof(f) <> 'object' THEN
    RAISE EXCEPTION 'a queue filter is a JSON object, not %', f USING ERRCODE = 'SL017',
          HINT = 'For example {"table": "crm.person", "field": "email", "reason": "authority"}.';
  END IF;
  SELECT string_agg(k, ', ' ORDER BY k) INTO unknown
    FROM jsonb_object_keys(f) k
   WHERE k NOT IN ('table', 'field', 'source', 'reason', 'state', 'older_than');
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown queue filter key: %', unknown USING ERRCODE = 'SL017',
          HINT = 'Filter keys: table, field, source, reason, state (held or applied), older_than (an interval).';
  END IF;
  IF f->>'state' IS NOT NULL AND f->>'state' NOT IN ('held', 'applied') THEN
    RAISE EXCEPTION 'queue filter state is "held" or "applied", not "%"', f->>'state' USING ERRCODE = 'SL017';
  END IF;
  IF f->>'reason' IS NOT NULL
     AND f->>'reason' NOT IN ('on_certify', 'authority', 'confidence', 'not_auto_certified', 'proposal') THEN
    RAISE EXCEPTION 'unknown hold reason "%"', f->>'reason' USING ERRCODE = 'SL017',
          HINT = 'Hold reasons: on_certify, authority, confidence, not_auto_certified, proposal.';
  END IF;
  IF f->>'older_than' IS NOT NULL THEN
    BEGIN
      f := jsonb_set(f, '{older_than}', to_jsonb((f->>'older_than')::interval::text));
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
      RAISE EXCEPTION 'queue filter older_than "%" is not an interval', f->>'older_than' USING ERRCODE = 'SL017',
            HINT = 'For example "2 days" or "36 hours".';
    END;
  END IF;
  RETURN f;
END
$$;

-- queue_matches(...): whether a pending entry matches a filter
-- (queue_filter). The one definition of the filter: the queue's listing and
-- counts, and decision batches, all ask it. A SQL expression PostgreSQL
-- inlines, so a filter on the table or field uses the ledger's indexes.
CREATE OR REPLACE FUNCTION integration.queue_matches(
  p_filter jsonb, p_table text, p_field text, p_source text, p_is_applied boolean, p_hold_reason text,
  p_recorded_at timestamptz)
RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT (p_filter->>'table' IS NULL OR p_table = p_filter->>'table')
     AND (p_filter->>'field' IS NULL OR p_field = p_filter->>'field')
     AND (p_filter->>'source' IS NULL OR p_source = p_filter->>'source')
     AND (p_filter->>'reason' IS NULL OR integration.entry_hold_reason(p_is_applied, p_hold_reason) = p_filter->>'reason')
     AND (p_filter->>'state' IS NULL OR p_is_applied = (p_filter->>'state' = 'applied'))
     AND (p_filter->>'older_than' IS NULL OR p_recorded_at < now() - (p_filter->>'older_than')::interval)
$$;

-- queue_counts(filter): the pending entries a filter matches, per state and
-- reason. Reads the ledger only (no target values), so it is quick on a
-- queue of millions.
CREATE OR REPLACE FUNCTION integration.queue_counts(p_filter jsonb DEFAULT '{}')
RETURNS TABLE (state text, hold_reason text, entries bigint)
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN l.is_applied THEN 'applied' ELSE 'held' END,
         integration.entry_hold_reason(l.is_applied, l.hold_reason), count(*)
    FROM integration.ledger l, integration.queue_filter(p_filter) f
   WHERE l.ledger_status = 'Pending'
     AND integration.queue_matches(f, l.target_table, l.aspect_key, l.source_system_key, l.is_applied, l.hold_reason,
                                   l.recorded_at)
   GROUP BY 1, 2
   ORDER BY 1, 2
$$;

-- ---------------------------------------------------------------------------
-- What a decision changes besides the entry
-- ---------------------------------------------------------------------------

-- settle_held_items(ledger_ids, status, note): the items that were held for
-- these entries are decided: Applied (certified) or Skipped (rejected), with
-- a note appended to their messages, and their jobs' stored counts are
-- recounted if the jobs have finished (recount_jobs: true whichever of the
-- two commits first).
CREATE OR REPLACE FUNCTION integration.settle_held_items(p_ledger_ids bigint[], p_status text, p_note text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  jobs bigint[];
BEGIN
  IF cardinality(p_ledger_ids) = 0 THEN
    RETURN;
  END IF;
  WITH settled AS (
    UPDATE integration.sync_item i
       SET item_status     = p_status,
           applied_at      = CASE WHEN p_status = 'Applied' THEN now() ELSE i.applied_at END,
           process_message = concat_ws('; ', i.process_message, p_note)
      FROM integration.ledger l
     WHERE l.ledger_id = ANY (p_ledger_ids) AND i.item_id = l.sync_item_id AND i.item_status = 'Held'
    RETURNING i.job_id
  )
  SELECT coalesce(array_agg(DISTINCT s.job_id), '{}') INTO jobs FROM settled s;
  IF cardinality(jobs) > 0 THEN
    PERFORM integration.recount_jobs(jobs);
  END IF;
END
$$;

-- aspect_label(table, id, key): "table.key of id", the aspect in messages.
CREATE OR REPLACE FUNCTION integration.aspect_label(p_table text, p_id uuid, p_key text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT format('%s.%s of %s', p_table, p_key, p_id)
$$;

-- unapply(entries): a rejected or revoked entry's value leaves the target,
-- set-based. Each element of `entries` (a JSON array) names an entry whose
-- value was applied (ledger_id, table, target_id, aspect, aspect_key, value),
-- owner (the entry that owned the aspect before the decision), restore (the
-- value the target returns to) and origin (the source of that value, which
-- it is not echoed to). The value leaves only if the entry still owned the
-- aspect and the target still holds it (a compare-and-set, under the target
-- row lock the caller holds); never a record's creation. Returns per entry
-- whether the target was set back, and what happened in words (the event's
-- target_note). Restored values go outbound.
CREATE OR REPLACE FUNCTION integration.unapply(p_entries jsonb)
RETURNS TABLE (ledger_id bigint, restored boolean, note text)
LANGUAGE plpgsql AS $$
DECLARE
  written jsonb;
BEGIN
  -- The writes, numbered by position.
  SELECT coalesce(jsonb_object_agg(w.n::text, w.written), '{}') INTO written
    FROM integration.write_targets(coalesce(
           (SELECT jsonb_agg(jsonb_build_object('n', x.o, 'table', x."table", 'target_id', x.target_id, 'aspect', x.aspect,
                                                'aspect_key', x.aspect_key, 'value', x.restore, 'expected', x.value,
                                                'check', true))
              FROM ROWS FROM (jsonb_to_recordset(p_entries)
                              AS (ledger_id bigint, "table" text, target_id uuid, aspect text, aspect_key text, value text,
                                  owner bigint, restore text))
                   WITH ORDINALITY AS x(ledger_id, "table", target_id, aspect, aspect_key, value, owner, restore, o)
             WHERE x.owner IS NOT DISTINCT FROM x.ledger_id
               AND NOT (x.aspect = 'Record' AND x.value IS DISTINCT FROM 'deleted')), '[]')) w;

  RETURN QUERY
  WITH r AS MATERIALIZED (
    SELECT x.*, coalesce((written->>(x.o::text))::boolean, false) AS done
      FROM ROWS FROM (jsonb_to_recordset(p_entries)
                      AS (ledger_id bigint, "table" text, target_id uuid, aspect text, aspect_key text, value text,
                          owner bigint, restore text, origin text))
           WITH ORDINALITY AS x(ledger_id, "table", target_id, aspect, aspect_key, value, owner, restore, origin, o)
  ), sent AS (
    SELECT integration.enqueue_outbound_values(array_agg(
             ROW(r."table", r.target_id, r.aspect, r.aspect_key, r.restore, r.origin, r.ledger_id)::integration.outbound_value
             ORDER BY r.o)) AS n
      FROM r WHERE r.done AND r.aspect <> 'Record'
  )
  SELECT r.ledger_id, r.done,
         CASE WHEN r.owner IS DISTINCT FROM r.ledger_id
                THEN format('target left alone: %s is owned by ledger entry %s, not by this entry',
                            integration.aspect_label(r."table", r.target_id, r.aspect_key), coalesce(r.owner::text, 'none'))
              WHEN r.aspect = 'Record' AND r.value IS DISTINCT FROM 'deleted'
                THEN format('target left alone: the creation of record %s in %s is not undone', r.target_id, r."table")
              WHEN r.done
                THEN format('target %s set back to %L', integration.aspect_label(r."table", r.target_id, r.aspect_key), r.restore)
              ELSE format('target left alone: %s now holds %L, not this entry''s value %L',
                          integration.aspect_label(r."table", r.target_id, r.aspect_key),
                          integration.aspect_state(r."table", r.target_id, r.aspect, r.aspect_key), r.value)
         END
    FROM r
   WHERE (SELECT count(*) FROM sent) >= 0
   ORDER BY r.o;
END
$$;

-- ---------------------------------------------------------------------------
-- The rounds: one entry per aspect, entries locked and in the right status
-- ---------------------------------------------------------------------------

-- certify_round(ledger_ids, steward, notes, force, batch): Pending →
-- Certified. A value not yet applied is applied now (taking the next
-- apply_seq) if the target still holds the entry's previous_value, compared
-- on the column's type; otherwise somebody changed it since and the steward
-- must decide: a conflict, unless force. Applying also sends the value
-- outbound and moves the held item (and its job's counts) to Applied. A
-- record's lifecycle has no previous value to conflict with: a deletion is
-- applied, a creation happened at ingest. Four eyes (approvals_required 2):
-- a first steward's certify is an approval; nobody approves twice, and a
-- steward's own proposal counts as their approval, so it is certified by
-- another.
CREATE OR REPLACE FUNCTION integration.certify_round(
  p_ids bigint[], p_steward integration.app_user, p_notes text, p_force boolean, p_batch bigint)
RETURNS TABLE (ledger_id bigint, outcome text, detail text, notice boolean)
LANGUAGE plpgsql AS $$
DECLARE
  approve   bigint[];
  certify   bigint[];
  applies   bigint[];
  own_appr  bigint[];
  own_prop  bigint[];
  conflicts bigint[] := '{}';
  forced    jsonb := '{}';
  four_eyes boolean := EXISTS (SELECT FROM integration.commit_policy p WHERE p.approvals_required > 1);
BEGIN
  -- 1. What each entry needs: an approval, a refusal, or certification
  --    (applying it first when it is held).
  SELECT coalesce(array_agg(x.ledger_id) FILTER (WHERE x.step = 'approve'), '{}'),
         coalesce(array_agg(x.ledger_id) FILTER (WHERE x.step = 'certify'), '{}'),
         coalesce(array_agg(x.ledger_id ORDER BY x.ledger_id) FILTER (WHERE x.step = 'apply'), '{}'),
         coalesce(array_agg(x.ledger_id) FILTER (WHERE x.step = 'own_approval'), '{}'),
         coalesce(array_agg(x.ledger_id) FILTER (WHERE x.step = 'own_proposal'), '{}')
    INTO approve, certify, applies, own_appr, own_prop
    FROM (SELECT l.ledger_id,
                 CASE WHEN p_steward.user_name = ANY (ey.eyes) AND ey.proposer = p_steward.user_name THEN 'own_proposal'
                      WHEN p_steward.user_name = ANY (ey.eyes) THEN 'own_approval'
                      WHEN cardinality(ey.eyes) + 1 < ey.need THEN 'approve'
                      WHEN l.is_applied OR (l.ledger_aspect = 'Record' AND l.value IS DISTINCT FROM 'deleted') THEN 'certify'
                      ELSE 'apply' END AS step
            FROM integration.ledger l
           CROSS JOIN LATERAL (
                 SELECT n.need,
                        CASE WHEN n.need > 1 OR l.source_system_key = 'steward' THEN
                          ARRAY(SELECT v.actor FROM integration.ledger_event v
                                 WHERE v.ledger_id = l.ledger_id AND v.kind IN ('approval', 'proposal'))
                        ELSE '{}' END AS eyes,
                        CASE WHEN l.source_system_key = 'steward' THEN
                          (SELECT v.actor FROM integration.ledger_event v
                            WHERE v.ledger_id = l.ledger_id AND v.kind = 'proposal' LIMIT 1)
                        END AS proposer
                   FROM (SELECT CASE WHEN four_eyes THEN
                                  coalesce((SELECT p.approvals_required
                                              FROM integration.aspect_policy(l.target_table, l.ledger_aspect, l.aspect_key) p),
                                           1)
                                ELSE 1 END AS need) n) ey
           WHERE l.ledger_id = ANY (p_ids)) x;

  -- 2. Held values are written: a compare-and-set on previous_value, unless
  --    forced (then what the target held is noted); a deletion as it is.
  IF cardinality(applies) > 0 THEN
    IF p_force THEN
      SELECT coalesce(jsonb_object_agg(l.ledger_id::text,
                        format('forced over a conflict: the target held %L, the entry expected %L',
                               integration.current_value(l.target_table, l.target_id, l.aspect_key), l.previous_value)), '{}')
        INTO forced
        FROM integration.ledger l
       WHERE l.ledger_id = ANY (applies) AND l.ledger_aspect <> 'Record'
         AND NOT integration.target_holds(l.target_table, l.target_id, l.ledger_aspect, l.aspect_key, l.previous_value);
    END IF;
    SELECT coalesce(array_agg(a.id) FILTER (WHERE NOT w.written), '{}') INTO conflicts
      FROM integration.write_targets(
             (SELECT jsonb_agg(jsonb_build_object('n', a.o, 'table', l.target_table, 'target_id', l.target_id,
                                                  'aspect', l.ledger_aspect, 'aspect_key', l.aspect_key, 'value', l.value,
                                                  'expected', l.previous_value,
                                                  'check', NOT p_force AND l.ledger_aspect <> 'Record'))
                FROM unnest(applies) WITH ORDINALITY AS a(id, o)
                JOIN integration.ledger l ON l.ledger_id = a.id)) w
      JOIN unnest(applies) WITH ORDINALITY AS a(id, o) ON a.o = w.n;
    applies := ARRAY(SELECT a FROM unnest(applies) a WHERE a NOT IN (SELECT unnest(conflicts)) ORDER BY a);
  END IF;

  -- 3. The entries; the values applied now: their held items, and outbound.
  UPDATE integration.ledger l
     SET ledger_status = 'Certified',
         certified_at  = now(),
         certified_by  = p_steward.user_id,
         is_applied    = true,
         applied_at    = CASE WHEN s.aseq IS NOT NULL THEN now() ELSE l.applied_at END,
         apply_seq     = coalesce(s.aseq, l.apply_seq)
    FROM (SELECT c.id, NULL::bigint AS aseq FROM unnest(certify) c(id)
          UNION ALL
          SELECT a.id, nextval('integration.apply_seq') FROM unnest(applies) WITH ORDINALITY a(id, o)) s
   WHERE l.ledger_id = s.id;
  IF cardinality(applies) > 0 THEN
    PERFORM integration.settle_held_items(applies, 'Applied', format('certified by %s', p_steward.user_name));
    PERFORM integration.enqueue_outbound(applies);
  END IF;

  -- 4. The events: approvals, certifications.
  PERFORM integration.record_events(coalesce(
    (SELECT jsonb_agg(jsonb_build_object(
              'ledger_id', e.id, 'kind', e.kind, 'from', 'Pending', 'to', e.status, 'actor', p_steward.user_name,
              'notes', p_notes, 'target_note', forced->>(e.id::text),
              'apply_seq', CASE WHEN e.applied THEN (SELECT l.apply_seq FROM integration.ledger l WHERE l.ledger_id = e.id) END)
              ORDER BY e.id)
       FROM (SELECT a.id, 'approval' AS kind, 'Pending' AS status, false AS applied FROM unnest(approve) a(id)
             UNION ALL SELECT c.id, 'status', 'Certified', false FROM unnest(certify) c(id)
             UNION ALL SELECT a.id, 'status', 'Certified', true FROM unnest(applies) a(id)) e), '[]'), p_batch);

  RETURN QUERY
  SELECT i.id, 'certified', forced->>(i.id::text), false FROM unnest(certify || applies) i(id)
  UNION ALL
  SELECT i.id, 'approved', format('approved by %s: a second, different steward certifies it', p_steward.user_name), false
    FROM unnest(approve) i(id)
  UNION ALL
  SELECT i.id, 'own_approval',
         format('%s approved this entry already: a second, different steward certifies it', p_steward.user_name), false
    FROM unnest(own_appr) i(id)
  UNION ALL
  SELECT i.id, 'own_proposal', format('%s proposed this value: a different steward certifies it', p_steward.user_name), false
    FROM unnest(own_prop) i(id)
  UNION ALL
  SELECT l.ledger_id, 'conflict',
         format('conflict on ledger entry %s: %s now holds %s, but the entry expected %s (its value when the entry was recorded)',
                l.ledger_id, integration.aspect_label(l.target_table, l.target_id, l.aspect_key),
                quote_nullable(integration.current_value(l.target_table, l.target_id, l.aspect_key)),
                quote_nullable(l.previous_value)), false
    FROM integration.ledger l WHERE l.ledger_id = ANY (conflicts);
END
$$;

-- reject_round(ledger_ids, steward, notes, reason, batch): Pending →
-- Rejected. A value that was already applied (OnIngest without
-- auto_certify) leaves the target (unapply) if the entry still owns the
-- aspect and the target still holds its value; otherwise the target is left
-- alone. It returns to the value of the entry that owns the aspect once this
-- one is gone; without one, to the entry's previous_value if that came from
-- outside the ledger, else NULL (a value written by an entry that was itself
-- rejected or revoked never comes back). A held item of the entry becomes
-- Skipped: nobody is waiting for it any more; its message says why.
CREATE OR REPLACE FUNCTION integration.reject_round(
  p_ids bigint[], p_steward integration.app_user, p_notes text, p_reason text, p_batch bigint)
RETURNS TABLE (ledger_id bigint, outcome text, detail text, notice boolean)
LANGUAGE plpgsql AS $$
DECLARE
  owners jsonb;
  undone jsonb;
BEGIN
  -- 1. Who owns each aspect before the decision.
  SELECT coalesce(jsonb_object_agg(l.ledger_id::text,
                                   (SELECT o.ledger_id FROM integration.owner_entry(l.target_table, l.target_id, l.aspect_key) o)),
                  '{}')
    INTO owners
    FROM integration.ledger l
   WHERE l.ledger_id = ANY (p_ids) AND l.is_applied;

  -- 2. The decision.
  UPDATE integration.ledger l SET ledger_status = 'Rejected' WHERE l.ledger_id = ANY (p_ids);

  -- 3. Applied values leave the target, for the owner it has now.
  SELECT coalesce(jsonb_object_agg(u.ledger_id::text, jsonb_build_object('note', u.note, 'restored', u.restored)), '{}')
    INTO undone
    FROM integration.unapply(coalesce(
           (SELECT jsonb_agg(jsonb_build_object(
                     'ledger_id', l.ledger_id, 'table', l.target_table, 'target_id', l.target_id, 'aspect', l.ledger_aspect,
                     'aspect_key', l.aspect_key, 'value', l.value, 'owner', (owners->>(l.ledger_id::text))::bigint,
                     'origin', prior.source_system_key,
                     'restore', CASE
                        WHEN prior.ledger_id IS NOT NULL THEN prior.value
                        WHEN EXISTS (SELECT FROM (
                                       SELECT o.ledger_status, o.value FROM integration.ledger o
                                        WHERE o.target_table = l.target_table AND o.target_id = l.target_id
                                          AND o.aspect_key = l.aspect_key AND o.is_applied AND o.ledger_id <> l.ledger_id
                                          AND o.apply_seq < l.apply_seq
                                        ORDER BY o.apply_seq DESC LIMIT 1) last_before
                                      WHERE last_before.ledger_status IN ('Rejected', 'Revoked')
                                        AND last_before.value IS NOT DISTINCT FROM l.previous_value) THEN NULL
                        ELSE l.previous_value END)
                     ORDER BY l.ledger_id)
              FROM integration.ledger l
              LEFT JOIN LATERAL integration.owner_entry(l.target_table, l.target_id, l.aspect_key) prior ON true
             WHERE l.ledger_id = ANY (p_ids) AND l.is_applied), '[]')) u;

  -- 4. Held items, events, the answer.
  PERFORM integration.settle_held_items(
    p_ids, 'Skipped',
    concat(format('rejected by %s', p_steward.user_name),
           (SELECT format(' (%s: %s)', r.reason_code, r.description) FROM integration.reject_reason r
             WHERE r.reason_code = p_reason)));
  PERFORM integration.record_events(coalesce(
    (SELECT jsonb_agg(jsonb_build_object(
              'ledger_id', i.id, 'from', 'Pending', 'to', 'Rejected', 'actor', p_steward.user_name, 'notes', p_notes,
              'target_note', undone->(i.id::text)->>'note', 'reason_code', p_reason) ORDER BY i.id)
       FROM unnest(p_ids) AS i(id)), '[]'), p_batch);

  RETURN QUERY
  SELECT i.id, 'rejected', undone->(i.id::text)->>'note',
         coalesce(NOT (undone->(i.id::text)->>'restored')::boolean, false)
    FROM unnest(p_ids) AS i(id)
   ORDER BY i.id;
END
$$;

-- revoke_round(ledger_ids, steward, notes, batch): Certified → Revoked. If
-- the entry still owns the aspect and the target still holds its value, the
-- target returns to the value of the latest earlier (by apply_seq)
-- Certified entry for the aspect; without one, to the value of the entry
-- that owns the aspect once this one is revoked (applied, awaiting
-- certification), or NULL when none does; otherwise it is left alone. The restored entry takes the next apply_seq (an event of
-- kind restoration): it owns the aspect again, even if uncertified entries
-- were applied between the two.
CREATE OR REPLACE FUNCTION integration.revoke_round(
  p_ids bigint[], p_steward integration.app_user, p_notes text, p_batch bigint)
RETURNS TABLE (ledger_id bigint, outcome text, detail text, notice boolean)
LANGUAGE plpgsql AS $$
DECLARE
  facts  jsonb;
  undone jsonb;
BEGIN
  -- 1. Each entry's owner and the earlier certified entry it would restore
  --    (locked: it changes if the value comes back).
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'ledger_id', l.ledger_id, 'table', l.target_table, 'target_id', l.target_id, 'aspect', l.ledger_aspect,
           'aspect_key', l.aspect_key, 'value', l.value,
           'owner', (SELECT o.ledger_id FROM integration.owner_entry(l.target_table, l.target_id, l.aspect_key) o),
           'earlier', earlier.ledger_id, 'restore', earlier.value, 'origin', earlier.source_system_key)
           ORDER BY l.ledger_id), '[]')
    INTO facts
    FROM integration.ledger l
    LEFT JOIN LATERAL (
          SELECT o.ledger_id, o.value, o.source_system_key FROM integration.ledger o
           WHERE o.target_table = l.target_table AND o.target_id = l.target_id AND o.aspect_key = l.aspect_key
             AND o.ledger_status = 'Certified' AND o.is_applied AND o.ledger_id <> l.ledger_id
             AND o.apply_seq < l.apply_seq
           ORDER BY o.apply_seq DESC
           LIMIT 1) earlier ON true
   WHERE l.ledger_id = ANY (p_ids);
  PERFORM FROM integration.ledger l
   WHERE l.ledger_id = ANY (ARRAY(SELECT (e->>'earlier')::bigint FROM jsonb_array_elements(facts) e))
   ORDER BY l.ledger_id FOR UPDATE;

  -- 2. The decision. Without an earlier certified entry, the target returns
  --    to the value of the entry that owns the aspect now (an applied entry
  --    awaiting certification), or NULL when none does: never a value no
  --    entry owns.
  UPDATE integration.ledger l SET ledger_status = 'Revoked' WHERE l.ledger_id = ANY (p_ids);
  SELECT coalesce(jsonb_agg(CASE WHEN f.e->>'earlier' IS NOT NULL OR o.ledger_id IS NULL THEN f.e
                                 ELSE f.e || jsonb_build_object('restore', o.value, 'origin', o.source_system_key,
                                                                'remaining', o.ledger_id) END
                            ORDER BY (f.e->>'ledger_id')::bigint), '[]')
    INTO facts
    FROM jsonb_array_elements(facts) AS f(e)
    LEFT JOIN LATERAL integration.owner_entry(f.e->>'table', (f.e->>'target_id')::uuid, f.e->>'aspect_key') o ON true;

  -- 3. Values leave the target; restored earlier entries own their aspect again.
  SELECT coalesce(jsonb_object_agg(u.ledger_id::text, jsonb_build_object('note', u.note, 'restored', u.restored)), '{}')
    INTO undone
    FROM integration.unapply(facts) u;
  UPDATE integration.ledger l
     SET applied_at = now(), apply_seq = nextval('integration.apply_seq')
    FROM (SELECT (e->>'earlier')::bigint AS earlier FROM jsonb_array_elements(facts) e
           WHERE e->>'earlier' IS NOT NULL AND (undone->(e->>'ledger_id')->>'restored')::boolean
           ORDER BY 1) r
   WHERE l.ledger_id = r.earlier;

  -- 4. The events: each restoration before its revocation.
  PERFORM integration.record_events(coalesce(
    (SELECT jsonb_agg(ev.e ORDER BY ev.k) FROM (
       SELECT x.ledger_id * 2 AS k,
              jsonb_build_object('ledger_id', x.earlier, 'kind', 'restoration', 'from', 'Certified', 'to', 'Certified',
                                 'actor', p_steward.user_name,
                                 'target_note', format('value restored to the target by the revocation of ledger entry %s',
                                                       x.ledger_id),
                                 'apply_seq', (SELECT l.apply_seq FROM integration.ledger l WHERE l.ledger_id = x.earlier)) AS e
         FROM jsonb_to_recordset(facts) AS x(ledger_id bigint, earlier bigint)
        WHERE x.earlier IS NOT NULL AND (undone->(x.ledger_id::text)->>'restored')::boolean
       UNION ALL
       SELECT x.ledger_id * 2 + 1,
              jsonb_build_object('ledger_id', x.ledger_id, 'from', 'Certified', 'to', 'Revoked', 'actor', p_steward.user_name,
                                 'notes', p_notes,
                                 'target_note', concat(undone->(x.ledger_id::text)->>'note',
                                                       CASE WHEN x.earlier IS NOT NULL
                                                             AND (undone->(x.ledger_id::text)->>'restored')::boolean
                                                            THEN format(' (the value of ledger entry %s)', x.earlier)
                                                            WHEN x.remaining IS NOT NULL
                                                             AND (undone->(x.ledger_id::text)->>'restored')::boolean
                                                            THEN format(' (the value of ledger entry %s, which owns it now)',
                                                                        x.remaining) END))
         FROM jsonb_to_recordset(facts) AS x(ledger_id bigint, earlier bigint, remaining bigint)) ev), '[]'), p_batch);

  RETURN QUERY
  SELECT x.ledger_id, 'revoked', undone->(x.ledger_id::text)->>'note',
         NOT coalesce((undone->(x.ledger_id::text)->>'restored')::boolean, false)
    FROM jsonb_to_recordset(facts) AS x(ledger_id bigint)
   ORDER BY x.ledger_id;
END
$$;

-- ---------------------------------------------------------------------------
-- The engine
-- ---------------------------------------------------------------------------

-- decide(action, ledger_ids, steward, notes, force, reason, batch): certify,
-- reject or revoke a set of entries, set-based, in the lock order of the
-- aspect layer (see the top of this file). One row per entry, outcome:
--
--   certified, approved (four eyes: the first of two), rejected, revoked
--   not_found, record_missing, wrong_status (detail: the status),
--   own_approval, own_proposal, conflict (detail: what the target holds)
--
-- with, in detail, what happened to the target (the event's target_note),
-- and notice when the target was left alone. Entries of one aspect are
-- decided in rounds, in entry order, each seeing the last one's writes.
CREATE OR REPLACE FUNCTION integration.decide(
  p_action  text,
  p_ids     bigint[],
  p_steward integration.app_user,
  p_notes   text DEFAULT NULL,
  p_force   boolean DEFAULT false,
  p_reason  text DEFAULT NULL,
  p_batch   bigint DEFAULT NULL)
RETURNS TABLE (ledger_id bigint, outcome text, detail text, notice boolean)
LANGUAGE plpgsql
SET jit = off
AS $$
DECLARE
  want      text := CASE p_action WHEN 'revoke' THEN 'Certified' ELSE 'Pending' END;
  grp       record;
  reg       record;
  part      uuid[];
  locked    uuid[] := '{}';
  v_ids     bigint[];
  v_rounds  bigint[];
  v_status  text[];
  round     bigint[];
BEGIN
  IF p_action IS NULL OR p_action NOT IN ('certify', 'reject', 'revoke') THEN
    RAISE EXCEPTION 'decide: "%" is not certify, reject or revoke', p_action USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_reason IS NOT NULL AND p_action <> 'reject' THEN
    RAISE EXCEPTION 'a reason code goes with a rejection, not with %', p_action USING ERRCODE = 'SL014';
  END IF;
  IF p_reason IS NOT NULL
     AND NOT EXISTS (SELECT FROM integration.reject_reason r WHERE r.reason_code = p_reason AND r.is_active) THEN
    RAISE EXCEPTION 'unknown or inactive reject reason "%"', p_reason
      USING ERRCODE = 'SL014',
            HINT = 'Use an active reason_code of integration.reject_reason (an administrator adds new ones).';
  END IF;

  -- 1. The target rows, table by table in id order.
  FOR grp IN SELECT l.target_table AS tbl, array_agg(DISTINCT l.target_id) AS ids
             FROM integration.ledger l WHERE l.ledger_id = ANY (p_ids)
            GROUP BY l.target_table ORDER BY l.target_table LOOP
    reg := integration.resolve_target(grp.tbl);
    EXECUTE format('SELECT coalesce(array_agg(x.id), ''{}'') FROM (SELECT t.%1$I AS id FROM %2$I.%3$I t'
                   ' WHERE t.%1$I = ANY ($1) ORDER BY t.%1$I FOR NO KEY UPDATE) x', reg.id_col, reg.rel_schema, reg.rel_name)
       INTO part USING grp.ids;
    locked := locked || part;
  END LOOP;

  -- 2. The entries, in id order, each with its round: the first entry of
  --    each aspect is decided in round 1, the next in round 2, ... Those that
  --    cannot be decided are answered at once, after the locks (so the
  --    status seen is the final one).
  WITH e AS MATERIALIZED (
    SELECT l.ledger_id, l.ledger_status, l.target_table, l.target_id, l.aspect_key
      FROM integration.ledger l WHERE l.ledger_id = ANY (p_ids) ORDER BY l.ledger_id FOR UPDATE
  ), w AS (
    SELECT e.ledger_id, e.ledger_status,
           CASE WHEN e.target_id NOT IN (SELECT unnest(locked)) THEN 0
                WHEN e.ledger_status <> want THEN -1
                ELSE row_number() OVER (PARTITION BY e.target_table, e.target_id, e.aspect_key, e.ledger_status = want
                                        ORDER BY e.ledger_id) END AS r
      FROM e
  )
  SELECT coalesce(array_agg(w.ledger_id ORDER BY w.ledger_id), '{}'),
         coalesce(array_agg(w.r ORDER BY w.ledger_id), '{}'),
         coalesce(array_agg(w.ledger_status ORDER BY w.ledger_id), '{}')
    INTO v_ids, v_rounds, v_status
    FROM w;
  RETURN QUERY
  SELECT u.id, 'not_found', format('ledger entry %s not found', u.id), false
    FROM (SELECT DISTINCT v.id FROM unnest(p_ids) AS v(id)) u
   WHERE u.id NOT IN (SELECT unnest(v_ids)) OR u.id IS NULL
  UNION ALL
  SELECT x.id, CASE x.r WHEN 0 THEN 'record_missing' ELSE 'wrong_status' END,
         CASE x.r WHEN 0 THEN (SELECT format('target record %s not found in %s', l.target_id, l.target_table)
                                 FROM integration.ledger l WHERE l.ledger_id = x.id)
                  ELSE x.s END, false
    FROM unnest(v_ids, v_rounds, v_status) AS x(id, r, s)
   WHERE x.r <= 0;

  -- 3. The rounds.
  FOR n IN 1 .. coalesce((SELECT max(x) FROM unnest(v_rounds) x), 0) LOOP
    round := ARRAY(SELECT x.id FROM unnest(v_ids, v_rounds) AS x(id, r) WHERE x.r = n ORDER BY x.id);
    IF p_action = 'certify' THEN
      RETURN QUERY SELECT * FROM integration.certify_round(round, p_steward, p_notes, p_force, p_batch);
    ELSIF p_action = 'reject' THEN
      RETURN QUERY SELECT * FROM integration.reject_round(round, p_steward, p_notes, p_reason, p_batch);
    ELSE
      RETURN QUERY SELECT * FROM integration.revoke_round(round, p_steward, p_notes, p_batch);
    END IF;
  END LOOP;
END
$$;

-- decide_one(action, ledger_id, steward, notes, force, reason): one entry,
-- for certify, reject and revoke: the acting user is resolved, the entry
-- decided (retrying), and an outcome other than a decision raised as an
-- error that says what to do.
CREATE OR REPLACE FUNCTION integration.decide_one(
  p_action    text,
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text,
  p_force     boolean,
  p_reason    text,
  OUT ledger_id     bigint,
  OUT ledger_status text,
  OUT outcome       text,
  OUT detail        text)
LANGUAGE plpgsql AS $$
DECLARE
  steward integration.app_user := integration.acting_user(p_steward);
  r       record;
  done    text := CASE p_action WHEN 'certify' THEN 'certified' WHEN 'reject' THEN 'rejected' ELSE 'revoked' END;
BEGIN
  SELECT * INTO r
    FROM jsonb_to_record(integration.retrying(
           'SELECT to_jsonb(d) FROM integration.decide($1->>''action'', ARRAY[($1->>''id'')::bigint],'
           ' jsonb_populate_record(NULL::integration.app_user, $1->''steward''), $1->>''notes'','
           ' ($1->>''force'')::boolean, $1->>''reason'') d',
           jsonb_build_object('action', p_action, 'id', p_ledger_id, 'steward', to_jsonb(steward), 'notes', p_notes,
                              'force', p_force, 'reason', p_reason))) AS x(outcome text, detail text, notice boolean);

  CASE r.outcome
    WHEN 'not_found' THEN
      RAISE EXCEPTION 'ledger entry % not found', coalesce(p_ledger_id::text, 'NULL') USING ERRCODE = 'SL010';
    WHEN 'record_missing' THEN
      RAISE EXCEPTION '%', r.detail USING ERRCODE = 'SL051';
    WHEN 'wrong_status' THEN
      RAISE EXCEPTION 'ledger entry % is %; only % entries can be %', p_ledger_id, r.detail,
                      CASE p_action WHEN 'revoke' THEN 'Certified' ELSE 'Pending' END, done
        USING ERRCODE = 'SL011';
    WHEN 'own_approval' THEN
      RAISE EXCEPTION 'ledger entry %: %', p_ledger_id, r.detail USING ERRCODE = 'SL012',
            HINT = 'Four eyes: the field''s policy requires two different stewards (commit_policy.approvals_required).';
    WHEN 'own_proposal' THEN
      RAISE EXCEPTION 'ledger entry %: %', p_ledger_id, r.detail USING ERRCODE = 'SL013',
            HINT = 'A steward''s proposal is certified or rejected by another steward; reject it yourself to withdraw it.';
    WHEN 'conflict' THEN
      RAISE EXCEPTION '%', r.detail USING ERRCODE = 'SL030',
            HINT = 'Certify with force => true to apply the value anyway, or reject the entry.';
    ELSE
      IF r.notice THEN
        RAISE NOTICE 'ledger entry %: %', p_ledger_id, r.detail;
      END IF;
  END CASE;
  ledger_id := p_ledger_id;
  SELECT l.ledger_status INTO ledger_status FROM integration.ledger l WHERE l.ledger_id = p_ledger_id;
  outcome := r.outcome;
  detail := r.detail;
END
$$;

-- certify(ledger_id, steward, notes, force): Pending → Certified (see
-- certify_round); under four eyes, the first steward's certify is an
-- approval. The steward is the session's own user unless named. SL030 when
-- the target changed since the entry was recorded, unless force.
CREATE OR REPLACE FUNCTION integration.certify(
  p_ledger_id bigint,
  p_steward   text DEFAULT NULL,
  p_notes     text DEFAULT NULL,
  p_force     boolean DEFAULT false)
RETURNS TABLE (ledger_id bigint, ledger_status text, outcome text, detail text)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT * FROM integration.decide_one('certify', p_ledger_id, p_steward, p_notes, p_force, NULL)
$$;
SELECT integration.use_canonical_settings('integration.certify(bigint,text,text,boolean)');

-- reject(ledger_id, steward, notes, reason_code): Pending → Rejected (see
-- reject_round), with a reason from integration.reject_reason that the
-- entry's upstream reads in my_decisions. A NOTICE when the target is left
-- alone.
CREATE OR REPLACE FUNCTION integration.reject(
  p_ledger_id   bigint,
  p_steward     text DEFAULT NULL,
  p_notes       text DEFAULT NULL,
  p_reason_code text DEFAULT NULL)
RETURNS TABLE (ledger_id bigint, ledger_status text, outcome text, detail text)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT * FROM integration.decide_one('reject', p_ledger_id, p_steward, p_notes, false, p_reason_code)
$$;
SELECT integration.use_canonical_settings('integration.reject(bigint,text,text,text)');

-- revoke(ledger_id, steward, notes): Certified → Revoked (see
-- revoke_round). A NOTICE when the target is left alone.
CREATE OR REPLACE FUNCTION integration.revoke(
  p_ledger_id bigint,
  p_steward   text DEFAULT NULL,
  p_notes     text DEFAULT NULL)
RETURNS TABLE (ledger_id bigint, ledger_status text, outcome text, detail text)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT * FROM integration.decide_one('revoke', p_ledger_id, p_steward, p_notes, false, NULL)
$$;
SELECT integration.use_canonical_settings('integration.revoke(bigint,text,text)');

-- ---------------------------------------------------------------------------
-- Decision batches
-- ---------------------------------------------------------------------------

-- open_batch(action, filter, steward, notes, reason): opens a decision batch
-- of certify or reject over the pending entries a queue filter matches
-- (queue_filter; an empty filter is refused: a batch names at least one
-- key), or of revoke over what a certify batch certified
-- ({"batch": N}). Records the newest entry now: entries recorded later are
-- not part of the batch. Decided a chunk at a time by decide_batch.
CREATE OR REPLACE FUNCTION integration.open_batch(
  p_action  text,
  p_filter  jsonb,
  p_steward text DEFAULT NULL,
  p_notes   text DEFAULT NULL,
  p_reason  text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  steward integration.app_user := integration.acting_user(p_steward);
  f       jsonb;
  id      bigint;
  source  integration.decision_batch;
BEGIN
  IF p_action = 'revoke' THEN
    SELECT * INTO source FROM integration.decision_batch b
     WHERE b.batch_id = (CASE WHEN jsonb_typeof(p_filter->'batch') = 'number' THEN (p_filter->>'batch')::bigint END);
    IF source.batch_id IS NULL OR source.action <> 'certify' OR (SELECT count(*) FROM jsonb_object_keys(p_filter)) <> 1 THEN
      RAISE EXCEPTION 'decision batch % cannot be revoked: only what a certify batch certified is revoked',
                      coalesce(p_filter->>'batch', p_filter::text)
        USING ERRCODE = 'SL015',
              HINT = 'Name a certify batch: {"batch": N} (integration.decision_batch lists them); rejections are final.';
    END IF;
    f := p_filter;
  ELSIF p_action IN ('certify', 'reject') THEN
    f := integration.queue_filter(p_filter);
    IF f = '{}' THEN
      RAISE EXCEPTION 'a decision batch names at least one filter key: an empty filter would decide the whole queue'
        USING ERRCODE = 'SL017',
              HINT = 'Filter by table, field, source, reason, state or older_than.';
    END IF;
  ELSE
    RAISE EXCEPTION 'a decision batch certifies, rejects or revokes, not "%"', p_action USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_reason IS NOT NULL AND p_action <> 'reject' THEN
    RAISE EXCEPTION 'a reason code goes with a rejection, not with %', p_action USING ERRCODE = 'SL014';
  END IF;
  IF p_reason IS NOT NULL
     AND NOT EXISTS (SELECT FROM integration.reject_reason r WHERE r.reason_code = p_reason AND r.is_active) THEN
    RAISE EXCEPTION 'unknown or inactive reject reason "%"', p_reason USING ERRCODE = 'SL014',
          HINT = 'Use an active reason_code of integration.reject_reason (an administrator adds new ones).';
  END IF;
  INSERT INTO integration.decision_batch (action, steward, filter, notes, reason_code, max_ledger_id)
  VALUES (p_action, steward.user_name, f, p_notes, p_reason,
          coalesce((SELECT max(l.ledger_id) FROM integration.ledger l), 0))
  RETURNING batch_id INTO id;
  RETURN id;
END
$$;
SELECT integration.use_canonical_settings('integration.open_batch(text,jsonb,text,text,text)');

-- batch_entries(batch, after, limit, part, parts): the next entries of a
-- batch after ledger entry `after`, in id order: pending entries its filter
-- matches, or for a revoke batch the entries the revoked batch certified.
-- With parts > 1, only the entries of records in part `part` (0 ..
-- parts - 1, by a hash of the record): parts decided at once never lock the
-- same record, and each record's entries stay in one part, in order.
CREATE OR REPLACE FUNCTION integration.batch_entries(
  b integration.decision_batch, p_after bigint, p_limit integer, p_part integer DEFAULT 0, p_parts integer DEFAULT 1)
RETURNS bigint[]
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN b.action = 'revoke' THEN
           ARRAY(SELECT DISTINCT v.ledger_id FROM integration.ledger_event v
                  JOIN integration.ledger l ON l.ledger_id = v.ledger_id
                  WHERE v.batch_id = (b.filter->>'batch')::bigint AND v.kind = 'status' AND v.to_status = 'Certified'
                    AND v.ledger_id > p_after
                    AND (p_parts <= 1 OR abs(hashtext(l.target_id::text)) % p_parts = p_part)
                  ORDER BY v.ledger_id LIMIT p_limit)
         ELSE
           ARRAY(SELECT l.ledger_id FROM integration.ledger l
                  WHERE l.ledger_status = 'Pending' AND l.ledger_id > p_after AND l.ledger_id <= b.max_ledger_id
                    AND integration.queue_matches(b.filter, l.target_table, l.aspect_key, l.source_system_key, l.is_applied,
                                                  l.hold_reason, l.recorded_at)
                    AND (p_parts <= 1 OR abs(hashtext(l.target_id::text)) % p_parts = p_part)
                  ORDER BY l.ledger_id LIMIT p_limit)
         END
$$;

-- decide_batch(batch, after, limit, part, parts): decides the next chunk of
-- a batch (of part `part` of `parts`, see batch_entries), in one
-- transaction of the caller's, and adds its counts to the batch's row (last:
-- parts decided at once wait for each other only for that). Returns the
-- last entry of the chunk (pass it as `after` next) and the chunk's counts;
-- done when nothing was left. Entries decided by someone else meanwhile, or
-- in conflict, are passed over and stay as they are.
CREATE OR REPLACE FUNCTION integration.decide_batch(
  p_batch bigint, p_after bigint DEFAULT 0, p_limit integer DEFAULT 5000, p_part integer DEFAULT 0,
  p_parts integer DEFAULT 1)
RETURNS TABLE (last_ledger_id bigint, decided bigint, approved bigint, passed_over bigint, done boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  b       integration.decision_batch;
  steward integration.app_user;
  ids     bigint[];
  c       record;
BEGIN
  SELECT * INTO b FROM integration.decision_batch x WHERE x.batch_id = p_batch;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'decision batch % not found', p_batch USING ERRCODE = 'SL015';
  END IF;
  IF p_parts < 1 OR p_part < 0 OR p_part >= p_parts THEN
    RAISE EXCEPTION 'part % of % does not exist: parts are numbered 0 to parts - 1', p_part, p_parts
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  steward := integration.acting_user(b.steward);
  ids := integration.batch_entries(b, coalesce(p_after, 0), greatest(coalesce(p_limit, 5000), 1), p_part, p_parts);
  IF cardinality(ids) = 0 THEN
    UPDATE integration.decision_batch x SET finished_at = now() WHERE x.batch_id = p_batch;
    RETURN QUERY SELECT p_after, 0::bigint, 0::bigint, 0::bigint, true;
    RETURN;
  END IF;
  SELECT (x ->> 'decided')::bigint AS decided, (x ->> 'approved')::bigint AS approved, (x ->> 'passed')::bigint AS passed
    INTO c
    FROM integration.retrying(
           'SELECT jsonb_build_object('
           '  ''decided'', count(*) FILTER (WHERE d.outcome IN (''certified'', ''rejected'', ''revoked'')),'
           '  ''approved'', count(*) FILTER (WHERE d.outcome = ''approved''),'
           '  ''passed'', count(*) FILTER (WHERE d.outcome NOT IN (''certified'', ''rejected'', ''revoked'', ''approved'')))'
           '  FROM integration.decide($1->>''action'', ARRAY(SELECT jsonb_array_elements_text($1->''ids'')::bigint),'
           '       jsonb_populate_record(NULL::integration.app_user, $1->''steward''), $1->>''notes'', false,'
           '       $1->>''reason'', ($1->>''batch'')::bigint) d',
           jsonb_build_object('action', b.action, 'ids', to_jsonb(ids), 'steward', to_jsonb(steward), 'notes', b.notes,
                              'reason', b.reason_code, 'batch', p_batch)) x;
  UPDATE integration.decision_batch x
     SET decided = x.decided + c.decided, approved = x.approved + c.approved, passed_over = x.passed_over + c.passed
   WHERE x.batch_id = p_batch;
  RETURN QUERY SELECT ids[cardinality(ids)], c.decided, c.approved, c.passed, false;
END
$$;
SELECT integration.use_canonical_settings('integration.decide_batch(bigint,bigint,integer,integer,integer)');

-- run_batch(batch, chunk): decides a whole batch, committing after every
-- chunk (a procedure: CALL it outside a transaction block).
CREATE OR REPLACE PROCEDURE integration.run_batch(p_batch bigint, p_chunk integer DEFAULT 5000)
LANGUAGE plpgsql AS $$
DECLARE
  after bigint := 0;
  r     record;
BEGIN
  COMMIT;
  LOOP
    SELECT * INTO r FROM integration.decide_batch(p_batch, after, p_chunk);
    COMMIT;
    EXIT WHEN r.done;
    after := r.last_ledger_id;
  END LOOP;
END
$$;

-- certify_where(filter, notes, steward, chunk, batch_id): certifies every
-- pending entry a queue filter matches (queue_filter), as one decision
-- batch, a chunk per transaction; batch_id comes back. For example:
--   CALL integration.certify_where('{"table": "crm.person", "field": "email", "state": "applied"}', 'checked');
CREATE OR REPLACE PROCEDURE integration.certify_where(
  p_filter  jsonb,
  p_notes   text DEFAULT NULL,
  p_steward text DEFAULT NULL,
  p_chunk   integer DEFAULT 5000,
  INOUT batch_id bigint DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
  batch_id := integration.open_batch('certify', p_filter, p_steward, p_notes, NULL);
  CALL integration.run_batch(batch_id, p_chunk);
END
$$;

-- reject_where(filter, reason_code, notes, steward, chunk, batch_id): rejects
-- every pending entry a queue filter matches, with a reason, as one batch.
CREATE OR REPLACE PROCEDURE integration.reject_where(
  p_filter      jsonb,
  p_reason_code text DEFAULT NULL,
  p_notes       text DEFAULT NULL,
  p_steward     text DEFAULT NULL,
  p_chunk       integer DEFAULT 5000,
  INOUT batch_id bigint DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
  batch_id := integration.open_batch('reject', p_filter, p_steward, p_notes, p_reason_code);
  CALL integration.run_batch(batch_id, p_chunk);
END
$$;

-- revoke_batch(batch, notes, steward, chunk, batch_id): revokes what a
-- certify batch certified (entries still Certified), as a batch of its own.
CREATE OR REPLACE PROCEDURE integration.revoke_batch(
  p_batch   bigint,
  p_notes   text DEFAULT NULL,
  p_steward text DEFAULT NULL,
  p_chunk   integer DEFAULT 5000,
  INOUT batch_id bigint DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
  batch_id := integration.open_batch('revoke', jsonb_build_object('batch', p_batch), p_steward, p_notes, NULL);
  CALL integration.run_batch(batch_id, p_chunk);
END
$$;

-- ---------------------------------------------------------------------------
-- Proposals
-- ---------------------------------------------------------------------------

-- propose(table, id, field, value, notes, steward): a steward's own value
-- for a field or relationship of a record: a ledger entry of source
-- 'steward', held (hold_reason proposal) until a different steward
-- certifies it, which applies it (compare-and-set on the value the record
-- held when it was proposed) and sends it outbound to every subscribed
-- system. The value is checked against the column's type now (SL016). A
-- relationship's value is the related record's id. Returns the entry.
CREATE OR REPLACE FUNCTION integration.propose(
  p_table   text,
  p_id      uuid,
  p_field   text,
  p_value   text,
  p_notes   text DEFAULT NULL,
  p_steward text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  steward  integration.app_user := integration.acting_user(p_steward);
  t        record;
  aspect   text;
  value    text;
  current  text;
  id       bigint;
  at       timestamptz := now();
  h        bytea;
  c        record;
  problem  text;
  same     boolean;
  related  record;
BEGIN
  BEGIN
    t := integration.resolve_target(p_table, p_field);
  EXCEPTION WHEN SQLSTATE 'SL050' OR undefined_column THEN
    RAISE EXCEPTION 'cannot propose %.%: %', p_table, p_field, SQLERRM USING ERRCODE = 'SL016',
          HINT = 'Name a registered target table and one of its columns (not its id column).';
  END;
  IF p_field = t.id_col OR p_field = t.active_col THEN
    RAISE EXCEPTION 'cannot propose %.%: the id and active columns change only through records', p_table, p_field
      USING ERRCODE = 'SL016';
  END IF;
  aspect := CASE WHEN integration.referenced_table(p_table, p_field) IS NOT NULL THEN 'Relationship' ELSE 'Field' END;
  PERFORM integration.lock_target(p_table, p_id);
  current := integration.current_value(p_table, p_id, p_field);
  SELECT v.canonical, v.error, v.same INTO value, problem, same
    FROM integration.canonical_values(format('%I.%I', t.rel_schema, t.rel_name)::regclass, p_field::name,
                                      ARRAY[p_value], ARRAY[current]) v;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'cannot propose % for %.%: %', quote_nullable(p_value), p_table, p_field, problem USING ERRCODE = 'SL016';
  ELSIF same THEN
    RAISE EXCEPTION 'nothing to propose: %.% of % holds % already', p_table, p_field, p_id, quote_nullable(value)
      USING ERRCODE = 'SL016';
  END IF;
  IF aspect = 'Relationship' AND value IS NOT NULL THEN
    related := integration.resolve_target(integration.referenced_table(p_table, p_field));
    EXECUTE format('SELECT EXISTS (SELECT FROM %I.%I r WHERE r.%I = $1::uuid)', related.rel_schema, related.rel_name,
                   related.id_col)
       INTO same USING value;
    IF NOT same THEN
      RAISE EXCEPTION 'cannot propose %.% of % = %: no such record in %', p_table, p_field, p_id, value,
                      integration.referenced_table(p_table, p_field) USING ERRCODE = 'SL016';
    END IF;
  END IF;

  id := nextval(pg_get_serial_sequence('integration.ledger', 'ledger_id')::regclass);
  h := integration.entry_digest_v2(id, p_table, p_id, aspect, p_field, 'steward', value, current, NULL, NULL, NULL, at,
                                   'Pending', NULL, p_notes, 'proposal', NULL, NULL);
  SELECT * INTO c FROM integration.chain_append(ARRAY[p_table], ARRAY[p_id], ARRAY[h]);
  INSERT INTO integration.ledger
    (ledger_id, target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status, value,
     previous_value, is_applied, recorded_at, notes, chain_seq, row_hash, chain_hash, birth_status, hold_reason)
  OVERRIDING SYSTEM VALUE
  VALUES (id, p_table, p_id, aspect, p_field, 'steward', 'Pending', value, current, false, at, p_notes, c.chain_seq, h,
          c.chain_hash, 'Pending', 'proposal');
  PERFORM integration.record_events(jsonb_build_array(jsonb_build_object(
    'ledger_id', id, 'kind', 'proposal', 'from', 'Pending', 'to', 'Pending', 'actor', steward.user_name, 'notes', p_notes)));
  RETURN id;
END
$$;
SELECT integration.use_canonical_settings('integration.propose(text,uuid,text,text,text,text)');
