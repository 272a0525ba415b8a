-- stewardship.sql — certify, reject and revoke on the aspect layer
-- (aspects.sql) and the ledger guard (ledger_guard.sql), and the views
-- stewards read (SPEC §3).
--
--   SL010  ledger entry not found        SL011  ledger entry in the wrong status
--   SL020  unknown user                  SL021  inactive user
--   SL022  not a steward                 SL023  acting in another user's name
--   SL030  conflict: the target changed since the entry was recorded
--
-- Who acts (SPEC §3): the steward argument names the app_user the session
-- acts as, and it must be the session's own: the app_user whose login_role
-- (or, without one, user_name) is session_user, the login role of the
-- connection, which SET ROLE does not change and a SECURITY DEFINER function
-- does not hide. NULL means "myself". Members of syncledger_admin may act for
-- another user (a service relaying a web form); the event records both the
-- user acted for (actor) and the role that acted (acting_role), as every
-- event does.
--
-- Lock order (aspects.sql): each action reads the entry without a lock to
-- learn its record, locks the target row, then the entry (and, for revoke,
-- the entry it restores), and re-checks the entry's status under the lock.
-- The worker locks target rows before ledger rows too, so a steward and a
-- worker never deadlock. A held item's job is recounted under a FOR NO KEY
-- UPDATE lock of its row, which the worker's FOR KEY SHARE fence does not
-- block (jobs.sql, recount_jobs).

-- ---------------------------------------------------------------------------
-- Who acts, on which entry
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

-- entry_for_action(ledger_id, status, action): the lock order of every action:
-- the entry's target row first, then the entry itself, whose status is
-- checked under the lock (of two stewards acting on one entry, the second
-- waits, then sees the first one's result and is refused).
CREATE OR REPLACE FUNCTION integration.entry_for_action(p_ledger_id bigint, p_status text, p_action text)
RETURNS integration.ledger
LANGUAGE plpgsql AS $$
DECLARE
  e integration.ledger;
BEGIN
  SELECT * INTO e FROM integration.ledger l WHERE l.ledger_id = p_ledger_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'ledger entry % not found', coalesce(p_ledger_id::text, 'NULL') USING ERRCODE = 'SL010';
  END IF;
  PERFORM integration.lock_target(e.target_table, e.target_id);
  SELECT * INTO e FROM integration.ledger l WHERE l.ledger_id = p_ledger_id FOR UPDATE;
  IF e.ledger_status <> p_status THEN
    RAISE EXCEPTION 'ledger entry % is %; only % entries can be %', p_ledger_id, e.ledger_status, p_status, p_action
      USING ERRCODE = 'SL011';
  END IF;
  RETURN e;
END
$$;

CREATE OR REPLACE FUNCTION integration.unapply(
  e             integration.ledger,
  p_owner       bigint,
  p_value       text,
  p_origin      text,
  OUT restored  boolean,
  OUT note      text)
LANGUAGE plpgsql AS $$
DECLARE
  target text := format('%s.%s of %s', e.target_table, e.aspect_key, e.target_id);
BEGIN
  restored := false;
  IF p_owner IS DISTINCT FROM e.ledger_id THEN
    note := format('target left alone: %s is owned by ledger entry %s, not by this entry',
                   target, coalesce(p_owner::text, 'none'));
  ELSIF e.ledger_aspect = 'Record' AND e.value IS DISTINCT FROM 'deleted' THEN
    note := format('target left alone: the creation of record %s in %s is not undone', e.target_id, e.target_table);
  ELSIF integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key, p_value, e.value, true) THEN
    restored := true;
    note := format('target %s set back to %L', target, p_value);
    PERFORM integration.enqueue_outbound_value(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key,
                                               p_value, p_origin, e.ledger_id);
  ELSE
    note := format('target left alone: %s now holds %L, not this entry''s value %L',
                   target, integration.aspect_state(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key), e.value);
  END IF;

  IF NOT restored THEN
    RAISE NOTICE 'ledger entry %: %', e.ledger_id, note;
  END IF;
END
$$;

-- settle_held_item(entry, status, note): the item that was held for the
-- entry is decided: Applied (certified) or Skipped (rejected), with a note
-- appended to its message, and its job's stored counts are recounted if the
-- job has finished (recount_jobs: true whichever of the two commits first).
CREATE OR REPLACE FUNCTION integration.settle_held_item(e integration.ledger, p_status text, p_note text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  job bigint;
BEGIN
  UPDATE integration.sync_item i
     SET item_status     = p_status,
         applied_at      = CASE WHEN p_status = 'Applied' THEN now() ELSE i.applied_at END,
         process_message = concat_ws('; ', i.process_message, p_note)
   WHERE i.item_id = e.sync_item_id AND i.item_status = 'Held'
  RETURNING i.job_id INTO job;
  IF job IS NOT NULL THEN
    PERFORM integration.recount_jobs(ARRAY[job]);
  END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- certify
-- ---------------------------------------------------------------------------

-- certify_entry: one attempt of certify (see certify below).
CREATE OR REPLACE FUNCTION integration.certify_entry(
  p_ledger_id bigint, steward integration.app_user, p_notes text, p_force boolean)
RETURNS integration.ledger
LANGUAGE plpgsql AS $$
DECLARE
  e       integration.ledger := integration.entry_for_action(p_ledger_id, 'Pending', 'certified');
  applies boolean            := NOT e.is_applied;
  aseq    bigint;
  holding text;
  note    text;
BEGIN
  IF applies THEN
    IF e.ledger_aspect = 'Record' THEN
      -- A record's lifecycle has no previous value to conflict with:
      -- deleting is idempotent and creation already happened at ingest.
      IF e.value = 'deleted' THEN
        PERFORM integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key, e.value, NULL, false);
      END IF;
    ELSIF p_force THEN
      IF NOT integration.target_holds(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key, e.previous_value) THEN
        note := format('forced over a conflict: the target held %L, the entry expected %L',
                       integration.current_value(e.target_table, e.target_id, e.aspect_key), e.previous_value);
      END IF;
      PERFORM integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key, e.value, NULL, false);
    ELSIF NOT integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key,
                                       e.value, e.previous_value, true) THEN
      holding := integration.current_value(e.target_table, e.target_id, e.aspect_key);
      RAISE EXCEPTION 'conflict on ledger entry %: %.% of % now holds %, but the entry expected % (its value when the entry was recorded)',
                      e.ledger_id, e.target_table, e.aspect_key, e.target_id,
                      quote_nullable(holding), quote_nullable(e.previous_value)
        USING ERRCODE = 'SL030',
              HINT = 'Certify with force => true to apply the value anyway, or reject the entry.';
    END IF;
    aseq := nextval('integration.apply_seq');
  END IF;

  UPDATE integration.ledger l
     SET ledger_status = 'Certified',
         certified_at  = now(),
         certified_by  = steward.user_id,
         is_applied    = true,
         applied_at    = CASE WHEN applies THEN now() ELSE l.applied_at END,
         apply_seq     = CASE WHEN applies THEN aseq ELSE l.apply_seq END
   WHERE l.ledger_id = e.ledger_id
  RETURNING * INTO e;

  IF applies THEN
    -- The item that was held for this entry is now applied.
    PERFORM integration.settle_held_item(e, 'Applied', format('certified by %s', steward.user_name));

    PERFORM integration.enqueue_outbound(ARRAY[e.ledger_id]);
  END IF;

  PERFORM integration.record_events(ARRAY[e.ledger_id], ARRAY['Pending'], ARRAY['Certified'], ARRAY[steward.user_name],
                                    ARRAY[concat_ws('; ', p_notes, note)], ARRAY[aseq]);
  RETURN e;
END
$$;


-- ---------------------------------------------------------------------------
-- reject
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION integration.reject_entry(p_ledger_id bigint, steward integration.app_user, p_notes text)
RETURNS integration.ledger
LANGUAGE plpgsql AS $$
DECLARE
  e       integration.ledger := integration.entry_for_action(p_ledger_id, 'Pending', 'rejected');
  owner   bigint;
  prior   integration.ledger;
  restore text;
  undone  text;
BEGIN
  SELECT o.ledger_id INTO owner FROM integration.owner_entry(e.target_table, e.target_id, e.aspect_key) o;
  UPDATE integration.ledger l SET ledger_status = 'Rejected'
   WHERE l.ledger_id = e.ledger_id
  RETURNING * INTO e;

  IF e.is_applied THEN
    -- The entry that owns the aspect now this one is rejected: if the value
    -- we restore is its value, it came from its source and is not echoed there.
    SELECT * INTO prior FROM integration.owner_entry(e.target_table, e.target_id, e.aspect_key);
    -- Without a remaining owner: previous_value, unless it was written by the
    -- entry applied just before this one and that entry has been rejected or
    -- revoked since (then nothing legitimate held the field: NULL).
    restore := CASE
      WHEN prior.ledger_id IS NOT NULL THEN prior.value
      WHEN EXISTS (SELECT 1 FROM (
                     SELECT o.ledger_status, o.value FROM integration.ledger o
                      WHERE o.target_table = e.target_table AND o.target_id = e.target_id
                        AND o.aspect_key = e.aspect_key AND o.is_applied AND o.ledger_id <> e.ledger_id
                        AND o.apply_seq < e.apply_seq
                      ORDER BY o.apply_seq DESC LIMIT 1) last_before
                    WHERE last_before.ledger_status IN ('Rejected', 'Revoked')
                      AND last_before.value IS NOT DISTINCT FROM e.previous_value) THEN NULL
      ELSE e.previous_value
    END;
    SELECT u.note INTO undone FROM integration.unapply(e, owner, restore, prior.source_system_key) u;
  END IF;

  PERFORM integration.settle_held_item(e, 'Skipped', format('rejected by %s', steward.user_name));

  PERFORM integration.record_events(ARRAY[e.ledger_id], ARRAY['Pending'], ARRAY['Rejected'], ARRAY[steward.user_name],
                                    ARRAY[concat_ws('; ', p_notes, undone)], ARRAY[NULL::bigint]);
  RETURN e;
END
$$;


-- ---------------------------------------------------------------------------
-- revoke
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION integration.revoke_entry(p_ledger_id bigint, steward integration.app_user, p_notes text)
RETURNS integration.ledger
LANGUAGE plpgsql AS $$
DECLARE
  e        integration.ledger := integration.entry_for_action(p_ledger_id, 'Certified', 'revoked');
  earlier  integration.ledger;
  owner    bigint;
  restored boolean;
  undone   text;
  aseq     bigint;
BEGIN
  SELECT o.ledger_id INTO owner FROM integration.owner_entry(e.target_table, e.target_id, e.aspect_key) o;
  SELECT * INTO earlier
    FROM integration.ledger o
   WHERE o.target_table = e.target_table AND o.target_id = e.target_id AND o.aspect_key = e.aspect_key
     AND o.ledger_status = 'Certified' AND o.is_applied AND o.ledger_id <> e.ledger_id
     AND o.apply_seq < e.apply_seq
   ORDER BY o.apply_seq DESC
   LIMIT 1
     FOR UPDATE;

  SELECT u.restored, u.note INTO restored, undone
    FROM integration.unapply(e, owner, earlier.value, earlier.source_system_key) u;

  IF restored AND earlier.ledger_id IS NOT NULL THEN
    -- Its value was written again: it owns the aspect again, even if
    -- uncertified entries were applied between the two.
    aseq := nextval('integration.apply_seq');
    UPDATE integration.ledger l SET applied_at = now(), apply_seq = aseq WHERE l.ledger_id = earlier.ledger_id;
  END IF;

  UPDATE integration.ledger l SET ledger_status = 'Revoked'
   WHERE l.ledger_id = e.ledger_id
  RETURNING * INTO e;

  IF aseq IS NOT NULL THEN
    PERFORM integration.record_events(
      ARRAY[earlier.ledger_id, e.ledger_id], ARRAY['Certified', 'Certified'], ARRAY['Certified', 'Revoked'],
      ARRAY[steward.user_name, steward.user_name],
      ARRAY[format('value restored to the target by the revocation of ledger entry %s', e.ledger_id),
            concat_ws('; ', p_notes, format('%s (the value of ledger entry %s)', undone, earlier.ledger_id))],
      ARRAY[aseq, NULL]);
  ELSE
    PERFORM integration.record_events(ARRAY[e.ledger_id], ARRAY['Certified'], ARRAY['Revoked'], ARRAY[steward.user_name],
                                      ARRAY[concat_ws('; ', p_notes, undone)], ARRAY[NULL::bigint]);
  END IF;
  RETURN e;
END
$$;


-- ---------------------------------------------------------------------------
-- The actions
-- ---------------------------------------------------------------------------

-- steward_action(action, ledger_id, steward, notes, force): one attempt of
-- an action per loop turn, for certify, reject and revoke alike: the acting
-- user is resolved once, then the action runs; a deadlock or serialization
-- failure that PostgreSQL still raises (say, with a lock order some other
-- client breaks) rolls the attempt back to its savepoint and is tried again,
-- up to five times, so that a steward never sees one caused by the worker.
CREATE OR REPLACE FUNCTION integration.steward_action(
  p_action    text,
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text,
  p_force     boolean DEFAULT false)
RETURNS integration.ledger
LANGUAGE plpgsql AS $$
DECLARE
  steward integration.app_user := integration.acting_user(p_steward);
BEGIN
  FOR attempt IN 1 .. 5 LOOP
    BEGIN
      RETURN CASE p_action
               WHEN 'certify' THEN integration.certify_entry(p_ledger_id, steward, p_notes, p_force)
               WHEN 'reject'  THEN integration.reject_entry(p_ledger_id, steward, p_notes)
               WHEN 'revoke'  THEN integration.revoke_entry(p_ledger_id, steward, p_notes)
             END;
    EXCEPTION WHEN deadlock_detected OR serialization_failure THEN
      IF attempt = 5 THEN RAISE; END IF;
      PERFORM pg_sleep(0.01 * attempt);
    END;
  END LOOP;
END
$$;

-- certify(ledger_id, steward, notes, force): Pending → Certified.
-- A value not yet applied is applied now (taking the next apply_seq), but only
-- if the target still holds the entry's previous_value, compared on the
-- column's type; otherwise somebody changed it since and the steward must
-- decide: refused with SL030 unless p_force. Applying also sends the value
-- outbound and moves the held sync_item (and its job's counters) to Applied.
-- Other pending entries for the same aspect stay pending.
CREATE OR REPLACE FUNCTION integration.certify(
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text DEFAULT NULL,
  p_force     boolean DEFAULT false)
RETURNS integration.ledger
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT * FROM integration.steward_action('certify', p_ledger_id, p_steward, p_notes, p_force)
$$;
SELECT integration.use_canonical_settings('integration.certify(bigint,text,text,boolean)');

-- reject(ledger_id, steward, notes): Pending → Rejected. A value that was
-- already applied (OnIngest without auto_certify) is rolled back if the entry
-- still owns the aspect and the target still holds its value; otherwise the
-- target is left alone with a NOTICE. Rolled back to: the value of the entry
-- that owns the aspect once this one is gone; without one, the entry's
-- previous_value if that came from outside the ledger, else NULL (a value
-- written by an entry that was itself rejected or revoked never comes back).
-- A held item of the entry becomes Skipped: nobody is waiting for it any more.
CREATE OR REPLACE FUNCTION integration.reject(
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text DEFAULT NULL)
RETURNS integration.ledger
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT * FROM integration.steward_action('reject', p_ledger_id, p_steward, p_notes)
$$;
SELECT integration.use_canonical_settings('integration.reject(bigint,text,text)');

-- revoke(ledger_id, steward, notes): Certified → Revoked. If the entry still
-- owns the aspect and the target still holds its value, the target returns
-- to the value of the latest earlier (by apply_seq) Certified entry for the
-- aspect, or NULL when there is none; otherwise it is left alone with a
-- NOTICE. The restored entry takes the next apply_seq: it owns the aspect
-- again.
CREATE OR REPLACE FUNCTION integration.revoke(
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text DEFAULT NULL)
RETURNS integration.ledger
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT * FROM integration.steward_action('revoke', p_ledger_id, p_steward, p_notes)
$$;
SELECT integration.use_canonical_settings('integration.revoke(bigint,text,text)');

-- ---------------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------------

-- What waits for a steward. has_conflict: certify would refuse (SL030)
-- without force, because the target no longer holds previous_value (compared
-- on the column's type).
CREATE OR REPLACE VIEW integration.review_queue AS
SELECT l.ledger_id,
       l.target_table,
       l.target_id,
       l.ledger_aspect,
       l.aspect_key,
       l.source_system_key,
       cur.current_value,
       l.value AS proposed_value,
       l.previous_value,
       l.is_applied,
       (NOT l.is_applied AND l.ledger_aspect <> 'Record'
        AND NOT integration.target_holds(l.target_table, l.target_id, l.ledger_aspect, l.aspect_key, l.previous_value))
         AS has_conflict,
       l.job_id,
       l.sync_item_id,
       l.source_timestamp,
       l.recorded_at,
       now() - l.recorded_at AS age,
       l.notes,
       l.confirmed_at
  FROM integration.ledger l
 CROSS JOIN LATERAL (
       -- OFFSET 0 keeps the subquery from being flattened, so the target is
       -- read once per row, not once per use of current_value.
       SELECT CASE WHEN l.ledger_aspect = 'Record' THEN NULL
                   ELSE integration.current_value(l.target_table, l.target_id, l.aspect_key) END AS current_value
       OFFSET 0) cur
 WHERE l.ledger_status = 'Pending';
COMMENT ON VIEW integration.review_queue IS
  'Pending ledger entries with the current, proposed and previous value; has_conflict = certify needs force; confirmed_at = the source last re-sent it.';

-- Certified values whose source has not re-sent them within the policy's
-- stale_after_days: they no longer outrank other sources (SPEC §2, Authority)
-- and a steward may want to confirm them.
CREATE OR REPLACE VIEW integration.stale_values AS
SELECT o.ledger_id,
       o.target_table,
       o.target_id,
       o.ledger_aspect,
       o.aspect_key,
       o.source_system_key,
       o.value,
       CASE WHEN o.ledger_aspect = 'Record' THEN NULL
            ELSE integration.current_value(o.target_table, o.target_id, o.aspect_key) END AS current_value,
       o.stale_clock AS last_confirmed_at,
       p.stale_after_days,
       o.stale_clock + make_interval(days => p.stale_after_days) AS stale_since,
       o.certified_at,
       u.user_name AS certified_by
  FROM integration.aspect_owner o
 CROSS JOIN LATERAL integration.aspect_policy(o.target_table, o.ledger_aspect, o.aspect_key) p
  LEFT JOIN integration.app_user u ON u.user_id = o.certified_by
 WHERE o.ledger_status = 'Certified'
   AND integration.is_stale(o.stale_clock, p.stale_after_days, now());
COMMENT ON VIEW integration.stale_values IS
  'Certified values owning their aspect whose staleness clock is older than the policy''s stale_after_days.';

-- Where each governed value of each record came from. One row per aspect
-- with ledger entries; the owner columns are NULL when no entry owns it
-- (all pending and unapplied, or rejected, or revoked).
CREATE OR REPLACE VIEW integration.field_provenance AS
SELECT a.target_table,
       a.target_id,
       a.ledger_aspect,
       a.aspect_key,
       CASE WHEN a.ledger_aspect = 'Record' THEN NULL
            ELSE integration.current_value(a.target_table, a.target_id, a.aspect_key) END AS current_value,
       o.ledger_id,
       o.value AS ledger_value,
       o.source_system_key,
       o.ledger_status,
       u.user_name AS certified_by,
       o.certified_at,
       o.applied_at,
       o.confirmed_at,
       o.recorded_at,
       a.pending_entries,
       a.ledger_entries,
       o.apply_seq
  FROM (SELECT l.target_table, l.target_id, l.ledger_aspect, l.aspect_key,
               count(*) FILTER (WHERE l.ledger_status = 'Pending') AS pending_entries,
               count(*) AS ledger_entries
          FROM integration.ledger l
         GROUP BY l.target_table, l.target_id, l.ledger_aspect, l.aspect_key) a
  LEFT JOIN integration.aspect_owner o
    ON o.target_table = a.target_table AND o.target_id = a.target_id AND o.aspect_key = a.aspect_key
  LEFT JOIN integration.app_user u ON u.user_id = o.certified_by;
COMMENT ON VIEW integration.field_provenance IS
  'Per record and aspect: current value and the owning ledger entry (source, status, certified by and when).';
