-- 003_stewardship.sql — the append-only ledger, the steward functions
-- (certify, reject, revoke, requeue_failed) and the views stewards read
-- (SPEC §3, §6).
--
-- Errors raised here carry SQLSTATEs of their own, so that the CLI and the
-- Swift worker can tell refusals apart without parsing messages:
--
--   SL001  the ledger is append-only: DELETE, TRUNCATE, or an UPDATE outside
--          the steward functions and the worker
--   SL002  an UPDATE of the ledger changes a column that is history
--   SL003  an UPDATE of the ledger makes a status transition that is not allowed
--   SL010  ledger entry not found
--   SL011  ledger entry in the wrong status for the action
--   SL020  unknown user          SL021  inactive user     SL022  not a steward
--   SL030  conflict: the target changed since the entry was recorded
--   SL040  sync job not found
--   SL041  sync job in the wrong direction or status for the action
--   SL050  target table not registered, missing, inactive, or the column not writable
--   SL051  target record not found
--   42703  (undefined_column) the aspect names no column of the target table
--
-- Who may call what is decided by EXECUTE grants, not by these functions:
-- the functions that change ledger state are SECURITY DEFINER and EXECUTE is
-- revoked from PUBLIC, so the migration that creates the roles grants them
-- to syncledger_steward (and whoever else should act as a steward). The
-- p_steward argument names the app_user recorded as the actor; it is checked
-- against integration.app_user, not against the database role calling.

-- ---------------------------------------------------------------------------
-- Append-only ledger
-- ---------------------------------------------------------------------------

-- Every applied ledger entry carries the time it was applied: the owner of an
-- aspect is found by ordering on applied_at, so an applied entry without one
-- would be ambiguous.
ALTER TABLE integration.ledger
  ADD CONSTRAINT ledger_applied_has_applied_at CHECK (NOT is_applied OR applied_at IS NOT NULL);

-- DELETE and TRUNCATE are refused at statement level, so that even a DELETE
-- matching no row fails: a script that tries to delete from the ledger is
-- wrong whatever it matches.
CREATE FUNCTION integration.refuse_ledger_removal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: % is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'SL001',
          HINT = 'Ledger entries change only by status: use integration.reject or integration.revoke.';
END
$$;

-- ledger_event is history of history: no row of it ever changes.
CREATE FUNCTION integration.refuse_ledger_event_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'integration.ledger_event is append-only: UPDATE is refused (event %)', OLD.event_id
    USING ERRCODE = 'SL001';
END
$$;

-- A ledger row may change only in the columns that record what happened to
-- it later (status, application, confirmation, certification, notes), only
-- through the steward functions or the worker, and only along the status
-- transitions of SPEC §3. The steward functions set integration.ledger_writer
-- to 'steward' with set_config(..., true) and put the caller's value back
-- before they return; if they fail, the rollback of the transaction (or of
-- the caller's savepoint) reverts it. (A function-level SET clause would do
-- the same, but PostgreSQL 15 lets only superusers, or roles granted SET ON
-- PARAMETER, put a placeholder setting in one, and the migrations must not
-- need a superuser.) The worker sets 'worker' with set_config(..., true) in
-- the transaction in which it refreshes confirmed_at.
--
-- The setting guards against accidents, it is not a security boundary: any
-- role may set a placeholder setting. Who may UPDATE the ledger at all is
-- decided by table privileges (stewards have none and go through the
-- SECURITY DEFINER functions).
CREATE FUNCTION integration.check_ledger_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  writer  text := coalesce(current_setting('integration.ledger_writer', true), '');
  changed text;
BEGIN
  IF writer NOT IN ('steward', 'worker') THEN
    RAISE EXCEPTION 'integration.ledger is append-only: UPDATE is refused (ledger entry %)', OLD.ledger_id
      USING ERRCODE = 'SL001',
            HINT = 'Change ledger status with integration.certify, integration.reject or integration.revoke.';
  END IF;

  -- Compared generically, so that a column added later is protected by default.
  SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed
    FROM jsonb_each(to_jsonb(NEW)) n
    JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
   WHERE n.value IS DISTINCT FROM o.value
     AND n.key NOT IN ('ledger_status', 'is_applied', 'applied_at', 'confirmed_at',
                       'certified_at', 'certified_by', 'notes');
  IF changed IS NOT NULL THEN
    RAISE EXCEPTION 'integration.ledger is append-only: UPDATE of % is refused (ledger entry %)', changed, OLD.ledger_id
      USING ERRCODE = 'SL002',
            DETAIL = 'Only ledger_status, is_applied, applied_at, confirmed_at, certified_at, certified_by and notes may change.';
  END IF;

  IF NEW.ledger_status IS DISTINCT FROM OLD.ledger_status
     AND (OLD.ledger_status, NEW.ledger_status) NOT IN
         (('Pending', 'Certified'), ('Pending', 'Rejected'), ('Certified', 'Revoked')) THEN
    RAISE EXCEPTION 'integration.ledger: status transition % → % is refused (ledger entry %)',
                    OLD.ledger_status, NEW.ledger_status, OLD.ledger_id
      USING ERRCODE = 'SL003',
            DETAIL = 'Allowed: Pending → Certified, Pending → Rejected, Certified → Revoked.';
  END IF;

  RETURN NEW;
END
$$;

CREATE TRIGGER ledger_refuse_delete
  BEFORE DELETE ON integration.ledger
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
CREATE TRIGGER ledger_refuse_truncate
  BEFORE TRUNCATE ON integration.ledger
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
CREATE TRIGGER ledger_check_update
  BEFORE UPDATE ON integration.ledger
  FOR EACH ROW EXECUTE FUNCTION integration.check_ledger_update();

CREATE TRIGGER ledger_event_refuse_delete
  BEFORE DELETE ON integration.ledger_event
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
CREATE TRIGGER ledger_event_refuse_truncate
  BEFORE TRUNCATE ON integration.ledger_event
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
CREATE TRIGGER ledger_event_refuse_update
  BEFORE UPDATE ON integration.ledger_event
  FOR EACH ROW EXECUTE FUNCTION integration.refuse_ledger_event_update();

-- The refusals fire even under session_replication_role = replica, which a
-- superuser could otherwise set to skip them. The ledger's UPDATE check stays
-- an ordinary trigger so that a logical replica can still apply the
-- legitimate updates it receives.
ALTER TABLE integration.ledger ENABLE ALWAYS TRIGGER ledger_refuse_delete;
ALTER TABLE integration.ledger ENABLE ALWAYS TRIGGER ledger_refuse_truncate;
ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_delete;
ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_truncate;
ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_update;

-- ---------------------------------------------------------------------------
-- Ownership
-- ---------------------------------------------------------------------------

-- The entry that owns each aspect's current value: the latest applied entry
-- that is neither rejected nor revoked, by (applied_at DESC, ledger_id DESC),
-- the order of the ledger_by_aspect index. The functions and views below
-- mean this entry when they say an entry "owns" its aspect; the worker's
-- authority rule (whose source applied the current value) means it too.
CREATE VIEW integration.aspect_owner AS
SELECT DISTINCT ON (l.target_table, l.target_id, l.aspect_key) l.*
  FROM integration.ledger l
 WHERE l.is_applied AND l.ledger_status IN ('Pending', 'Certified')
 ORDER BY l.target_table, l.target_id, l.aspect_key, l.applied_at DESC, l.ledger_id DESC;
COMMENT ON VIEW integration.aspect_owner IS
  'Per (target_table, target_id, aspect_key): the latest applied, non-rejected, non-revoked ledger entry.';

-- ---------------------------------------------------------------------------
-- Reading and writing target records
-- ---------------------------------------------------------------------------

-- resolve_target(table, column): a registered target table split into quoted-
-- safe parts, with the type of one of its columns. Every identifier that
-- reaches dynamic SQL below comes from here (the registry and pg_catalog),
-- and is still interpolated with %I; the type name comes from format_type.
CREATE FUNCTION integration.resolve_target(
  p_table             text,
  p_column            text DEFAULT NULL,
  p_column_missing_ok boolean DEFAULT false,
  OUT rel_schema      name,
  OUT rel_name        name,
  OUT id_col          name,
  OUT active_col      name,
  OUT col_type        text,
  OUT table_active    boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  reg integration.target_table;
  rel regclass;
BEGIN
  SELECT * INTO reg FROM integration.target_table t WHERE t.target_table = p_table;
  IF NOT FOUND THEN
    RAISE EXCEPTION '% is not a registered target table', coalesce(p_table, 'NULL')
      USING ERRCODE = 'SL050';
  END IF;

  rel_schema   := split_part(reg.target_table, '.', 1);
  rel_name     := split_part(reg.target_table, '.', 2);
  id_col       := reg.id_column;
  active_col   := reg.active_column;
  table_active := reg.is_active;

  rel := to_regclass(format('%I.%I', rel_schema, rel_name));
  IF rel IS NULL THEN
    RAISE EXCEPTION 'registered target table % does not exist', p_table
      USING ERRCODE = 'SL050';
  END IF;

  IF p_column IS NOT NULL THEN
    SELECT format_type(a.atttypid, a.atttypmod) INTO col_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = rel AND a.attname = p_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF col_type IS NULL AND NOT p_column_missing_ok THEN
      RAISE EXCEPTION 'unknown column "%" on %', p_column, p_table
        USING ERRCODE = 'undefined_column';
    END IF;
  END IF;
END
$$;

-- current_value(table, id, column): the target's current value as text, the
-- form in which the ledger stores values. NULL when the record does not exist,
-- and for the Record aspect's key 'record' (which is not a column). SECURITY
-- DEFINER so that the views work for stewards who have no privileges on the
-- target tables; it reads only registered tables, one column of one record.
CREATE FUNCTION integration.current_value(p_table text, p_id uuid, p_column text)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  t      record;
  result text;
BEGIN
  IF p_table IS NULL OR p_id IS NULL OR p_column IS NULL THEN
    RETURN NULL;
  END IF;
  t := integration.resolve_target(p_table, p_column, p_column_missing_ok => p_column = 'record');
  IF t.col_type IS NULL THEN
    RETURN NULL; -- the Record aspect
  END IF;
  EXECUTE format('SELECT t.%I::text FROM %I.%I t WHERE t.%I = $1',
                 p_column, t.rel_schema, t.rel_name, t.id_col)
     INTO result USING p_id;
  RETURN result;
END
$$;

-- aspect_state: like current_value, but the Record aspect reads as its
-- lifecycle: 'deleted' when the active column is false, else 'created'
-- (NULL when the record does not exist). Used in messages and undo decisions.
CREATE FUNCTION integration.aspect_state(p_table text, p_id uuid, p_aspect text, p_aspect_key text)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  t     record;
  state text;
BEGIN
  IF p_aspect <> 'Record' THEN
    RETURN integration.current_value(p_table, p_id, p_aspect_key);
  END IF;
  t := integration.resolve_target(p_table);
  IF t.active_col IS NULL THEN
    EXECUTE format('SELECT ''created'' FROM %I.%I t WHERE t.%I = $1', t.rel_schema, t.rel_name, t.id_col)
       INTO state USING p_id;
  ELSE
    EXECUTE format('SELECT CASE WHEN t.%I IS FALSE THEN ''deleted'' ELSE ''created'' END FROM %I.%I t WHERE t.%I = $1',
                   t.active_col, t.rel_schema, t.rel_name, t.id_col)
       INTO state USING p_id;
  END IF;
  RETURN state;
END
$$;

-- write_target: write one aspect of one target record, optionally only if it
-- still holds an expected value (compare-and-set in the UPDATE itself, so a
-- concurrent change committed meanwhile is seen: under READ COMMITTED the
-- WHERE clause is re-checked against the newest row version).
--
--   Field, Relationship: column aspect_key := value cast to the column's type.
--   Record: 'deleted' clears the table's active column; any other value
--           restores it (undoing a deletion). Creation is never written here.
--
-- Returns false when the expectation did not hold (nothing written); raises
-- SL051 when the record does not exist.
CREATE FUNCTION integration.write_target(
  p_table      text,
  p_id         uuid,
  p_aspect     text,
  p_aspect_key text,
  p_value      text,
  p_expected   text,
  p_check      boolean)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  t       record;
  written integer;
  present boolean;
BEGIN
  IF p_aspect = 'Record' THEN
    t := integration.resolve_target(p_table);
    IF t.active_col IS NULL THEN
      RAISE EXCEPTION '% has no active_column: its records cannot be deleted or restored', p_table
        USING ERRCODE = 'SL050';
    END IF;
  ELSE
    t := integration.resolve_target(p_table, p_aspect_key);
    IF p_aspect_key = t.id_col THEN
      RAISE EXCEPTION 'the id column "%" of % is never written', p_aspect_key, p_table
        USING ERRCODE = 'SL050';
    END IF;
  END IF;
  IF NOT t.table_active THEN
    RAISE EXCEPTION 'target table % is not active: nothing is written to it', p_table
      USING ERRCODE = 'SL050';
  END IF;

  IF p_aspect = 'Record' THEN
    EXECUTE format(
      'UPDATE %1$I.%2$I t SET %3$I = $1 WHERE t.%4$I = $2'
      ' AND (NOT $3 OR (CASE WHEN t.%3$I IS FALSE THEN ''deleted'' ELSE ''created'' END) IS NOT DISTINCT FROM $4)',
      t.rel_schema, t.rel_name, t.active_col, t.id_col)
    USING p_value IS DISTINCT FROM 'deleted', p_id, p_check, p_expected;
  ELSE
    EXECUTE format(
      'UPDATE %1$I.%2$I t SET %3$I = $1::%5$s WHERE t.%4$I = $2'
      ' AND (NOT $3 OR t.%3$I::text IS NOT DISTINCT FROM $4)',
      t.rel_schema, t.rel_name, p_aspect_key, t.id_col, t.col_type)
    USING p_value, p_id, p_check, p_expected;
  END IF;
  GET DIAGNOSTICS written = ROW_COUNT;
  IF written > 0 THEN
    RETURN true;
  END IF;

  EXECUTE format('SELECT true FROM %I.%I t WHERE t.%I = $1', t.rel_schema, t.rel_name, t.id_col)
     INTO present USING p_id;
  IF present IS NULL THEN
    RAISE EXCEPTION 'target record % not found in %', p_id, p_table
      USING ERRCODE = 'SL051';
  END IF;
  RETURN false;
END
$$;

-- ---------------------------------------------------------------------------
-- Steward functions
-- ---------------------------------------------------------------------------

-- The app_user acting as steward, or a refusal that says why not.
CREATE FUNCTION integration.steward_user(p_steward text)
RETURNS integration.app_user
LANGUAGE plpgsql STABLE AS $$
DECLARE
  u integration.app_user;
BEGIN
  SELECT * INTO u FROM integration.app_user a WHERE a.user_name = p_steward;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown user "%": no integration.app_user has that user_name', coalesce(p_steward, 'NULL')
      USING ERRCODE = 'SL020';
  ELSIF NOT u.is_active THEN
    RAISE EXCEPTION 'user "%" is inactive', p_steward
      USING ERRCODE = 'SL021';
  ELSIF NOT u.is_steward THEN
    RAISE EXCEPTION 'user "%" is not a steward', p_steward
      USING ERRCODE = 'SL022';
  END IF;
  RETURN u;
END
$$;

-- Lock a ledger entry and check its status. The lock comes before the status
-- check: of two stewards acting on the same entry, the second waits, then
-- sees the first one's result and is refused with the wrong-status error.
CREATE FUNCTION integration.lock_ledger_entry(p_ledger_id bigint, p_status text, p_action text)
RETURNS integration.ledger
LANGUAGE plpgsql AS $$
DECLARE
  e integration.ledger;
BEGIN
  SELECT * INTO e FROM integration.ledger l WHERE l.ledger_id = p_ledger_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'ledger entry % not found', coalesce(p_ledger_id::text, 'NULL')
      USING ERRCODE = 'SL010';
  END IF;
  IF e.ledger_status <> p_status THEN
    RAISE EXCEPTION 'ledger entry % is %; only % entries can be %', p_ledger_id, e.ledger_status, p_status, p_action
      USING ERRCODE = 'SL011';
  END IF;
  RETURN e;
END
$$;

-- unapply(entry, value, origin): undo an applied entry by writing value back,
-- but only if the entry still owns its aspect (no later applied, non-rejected,
-- non-revoked entry) and the target still holds the entry's value. Otherwise
-- the target is left alone: somebody changed it since, and that change wins.
-- Writes that happen are sent outbound (enqueue_outbound_value, defined in
-- 004_outbound.sql); origin is the system the restored value came from
-- (never echoed to), NULL when it came from none.
-- Returns whether it wrote, and a note for the event.
CREATE FUNCTION integration.unapply(
  e             integration.ledger,
  p_value       text,
  p_origin      text,
  OUT restored  boolean,
  OUT note      text)
LANGUAGE plpgsql AS $$
DECLARE
  owner_id bigint;
  target   text := format('%s.%s of %s', e.target_table, e.aspect_key, e.target_id);
BEGIN
  restored := false;

  SELECT o.ledger_id INTO owner_id
    FROM integration.aspect_owner o
   WHERE o.target_table = e.target_table AND o.target_id = e.target_id AND o.aspect_key = e.aspect_key;

  IF owner_id IS DISTINCT FROM e.ledger_id THEN
    note := format('target left alone: %s is owned by ledger entry %s, not by this entry',
                   target, coalesce(owner_id::text, 'none'));
  ELSIF e.ledger_aspect = 'Record' AND e.value IS DISTINCT FROM 'deleted' THEN
    note := format('target left alone: the creation of record %s in %s is not undone', e.target_id, e.target_table);
  ELSIF integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key,
                                 p_value, e.value, true) THEN
    restored := true;
    note := format('target %s set back to %L', target, p_value);
    PERFORM integration.enqueue_outbound_value(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key,
                                               p_value, p_origin, e.ledger_id);
  ELSE
    note := format('target left alone: %s now holds %L, not this entry''s value %L',
                   target,
                   integration.aspect_state(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key),
                   e.value);
  END IF;

  IF NOT restored THEN
    RAISE NOTICE 'ledger entry %: %', e.ledger_id, note;
  END IF;
END
$$;

-- certify(ledger_id, steward, notes, force): Pending → Certified.
-- A value not yet applied is applied now, but only if the target still holds
-- the entry's previous_value (what it held when the entry was recorded);
-- otherwise somebody changed it since and the steward must decide: refused
-- with SL030 unless p_force. Applying also sends the value outbound
-- (enqueue_outbound, defined in 004_outbound.sql) and moves the held
-- sync_item (and its job's counters) to Applied. Other pending
-- entries for the same aspect stay pending.
CREATE FUNCTION integration.certify(
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text DEFAULT NULL,
  p_force     boolean DEFAULT false)
RETURNS integration.ledger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  steward integration.app_user := integration.steward_user(p_steward);
  e       integration.ledger   := integration.lock_ledger_entry(p_ledger_id, 'Pending', 'certified');
  applies boolean              := NOT e.is_applied;
  writer  text                 := current_setting('integration.ledger_writer', true);
  holding text;
  note    text;
BEGIN
  PERFORM set_config('integration.ledger_writer', 'steward', true);

  IF applies THEN
    IF e.ledger_aspect = 'Record' THEN
      -- A record's lifecycle has no previous value to conflict with:
      -- deleting is idempotent and creation already happened at ingest.
      IF e.value = 'deleted' THEN
        PERFORM integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key,
                                         e.value, NULL, false);
      END IF;
    ELSIF p_force THEN
      holding := integration.current_value(e.target_table, e.target_id, e.aspect_key);
      IF holding IS DISTINCT FROM e.previous_value THEN
        note := format('forced over a conflict: the target held %L, the entry expected %L',
                       holding, e.previous_value);
      END IF;
      PERFORM integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key,
                                       e.value, NULL, false);
    ELSIF NOT integration.write_target(e.target_table, e.target_id, e.ledger_aspect, e.aspect_key,
                                       e.value, e.previous_value, true) THEN
      holding := integration.current_value(e.target_table, e.target_id, e.aspect_key);
      RAISE EXCEPTION 'conflict on ledger entry %: %.% of % now holds %, but the entry expected % (its value when the entry was recorded)',
                      e.ledger_id, e.target_table, e.aspect_key, e.target_id,
                      quote_nullable(holding), quote_nullable(e.previous_value)
        USING ERRCODE = 'SL030',
              HINT = 'Certify with force => true to apply the value anyway, or reject the entry.';
    END IF;
  END IF;

  UPDATE integration.ledger l
     SET ledger_status = 'Certified',
         certified_at  = now(),
         certified_by  = steward.user_id,
         is_applied    = true,
         applied_at    = CASE WHEN applies THEN now() ELSE l.applied_at END
   WHERE l.ledger_id = e.ledger_id
  RETURNING * INTO e;

  IF applies THEN
    -- The item that was held for this entry is now applied.
    WITH item AS (
      UPDATE integration.sync_item i
         SET item_status     = 'Applied',
             applied_at      = now(),
             process_message = concat_ws('; ', i.process_message, format('certified by %s', steward.user_name))
       WHERE i.item_id = e.sync_item_id AND i.item_status = 'Held'
      RETURNING i.job_id
    )
    UPDATE integration.sync_job j
       SET items_held    = j.items_held - 1,
           items_applied = j.items_applied + 1
      FROM item
     WHERE j.job_id = item.job_id;

    PERFORM integration.enqueue_outbound(ARRAY[e.ledger_id]);
  END IF;

  INSERT INTO integration.ledger_event (ledger_id, from_status, to_status, actor, notes)
  VALUES (e.ledger_id, 'Pending', 'Certified', steward.user_name, concat_ws('; ', p_notes, note));

  PERFORM set_config('integration.ledger_writer', coalesce(writer, ''), true);
  RETURN e;
END
$$;

-- reject(ledger_id, steward, notes): Pending → Rejected. A value that was
-- already applied (OnIngest without auto_certify) is rolled back if the entry
-- still owns the aspect and the target still holds its value; otherwise the
-- target is left alone with a NOTICE. Rolled back to: the value of the entry
-- that owns the aspect once this one is gone; without one, the entry's
-- previous_value if that came from outside the ledger, else NULL (a value
-- written by an entry that was itself rejected or revoked never comes back).
-- A held item of the entry becomes Skipped: nobody is waiting for it any more.
CREATE FUNCTION integration.reject(
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text DEFAULT NULL)
RETURNS integration.ledger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  steward integration.app_user := integration.steward_user(p_steward);
  e       integration.ledger   := integration.lock_ledger_entry(p_ledger_id, 'Pending', 'rejected');
  writer  text                 := current_setting('integration.ledger_writer', true);
  prior   integration.ledger;
  restore text;
  undone  text;
BEGIN
  PERFORM set_config('integration.ledger_writer', 'steward', true);

  IF e.is_applied THEN
    -- The entry that owns the aspect once this one is gone: if the value we
    -- restore is its value, it came from its source and is not echoed there.
    SELECT * INTO prior
      FROM integration.ledger o
     WHERE o.target_table = e.target_table AND o.target_id = e.target_id AND o.aspect_key = e.aspect_key
       AND o.is_applied AND o.ledger_status IN ('Pending', 'Certified') AND o.ledger_id <> e.ledger_id
     ORDER BY o.applied_at DESC, o.ledger_id DESC
     LIMIT 1;
    -- Without a remaining owner: previous_value, unless it was written by the
    -- entry applied just before this one and that entry has been rejected or
    -- revoked since (then nothing legitimate held the field: NULL).
    restore := CASE
      WHEN prior.ledger_id IS NOT NULL THEN prior.value
      WHEN EXISTS (SELECT 1 FROM (
                     SELECT o.ledger_status, o.value FROM integration.ledger o
                      WHERE o.target_table = e.target_table AND o.target_id = e.target_id
                        AND o.aspect_key = e.aspect_key AND o.is_applied AND o.ledger_id <> e.ledger_id
                        AND (o.applied_at, o.ledger_id) < (e.applied_at, e.ledger_id)
                      ORDER BY o.applied_at DESC, o.ledger_id DESC LIMIT 1) last_before
                    WHERE last_before.ledger_status IN ('Rejected', 'Revoked')
                      AND last_before.value IS NOT DISTINCT FROM e.previous_value) THEN NULL
      ELSE e.previous_value
    END;
    SELECT u.note INTO undone
      FROM integration.unapply(e, restore, prior.source_system_key) u;
  END IF;

  UPDATE integration.ledger l SET ledger_status = 'Rejected'
   WHERE l.ledger_id = e.ledger_id
  RETURNING * INTO e;

  WITH item AS (
    UPDATE integration.sync_item i
       SET item_status     = 'Skipped',
           process_message = concat_ws('; ', i.process_message, format('rejected by %s', steward.user_name))
     WHERE i.item_id = e.sync_item_id AND i.item_status = 'Held'
    RETURNING i.job_id
  )
  UPDATE integration.sync_job j
     SET items_held    = j.items_held - 1,
         items_skipped = j.items_skipped + 1
    FROM item
   WHERE j.job_id = item.job_id;

  INSERT INTO integration.ledger_event (ledger_id, from_status, to_status, actor, notes)
  VALUES (e.ledger_id, 'Pending', 'Rejected', steward.user_name, concat_ws('; ', p_notes, undone));

  PERFORM set_config('integration.ledger_writer', coalesce(writer, ''), true);
  RETURN e;
END
$$;

-- revoke(ledger_id, steward, notes): Certified → Revoked. If the entry still
-- owns the aspect and the target still holds its value, the target returns
-- to the value of the latest earlier (by applied_at, ledger_id) Certified
-- entry for the aspect, or NULL when there is none; otherwise it is left
-- alone with a NOTICE. The restored entry's applied_at moves to now: its
-- value was written again, and that makes it the owner of the aspect again
-- even if uncertified entries were applied between the two.
CREATE FUNCTION integration.revoke(
  p_ledger_id bigint,
  p_steward   text,
  p_notes     text DEFAULT NULL)
RETURNS integration.ledger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  steward  integration.app_user := integration.steward_user(p_steward);
  e        integration.ledger   := integration.lock_ledger_entry(p_ledger_id, 'Certified', 'revoked');
  writer   text                 := current_setting('integration.ledger_writer', true);
  earlier  integration.ledger;
  restored boolean;
  undone   text;
BEGIN
  PERFORM set_config('integration.ledger_writer', 'steward', true);

  SELECT * INTO earlier
    FROM integration.ledger o
   WHERE o.target_table = e.target_table AND o.target_id = e.target_id AND o.aspect_key = e.aspect_key
     AND o.ledger_status = 'Certified' AND o.is_applied AND o.ledger_id <> e.ledger_id
     AND (o.applied_at, o.ledger_id) < (e.applied_at, e.ledger_id)
   ORDER BY o.applied_at DESC, o.ledger_id DESC
   LIMIT 1
     FOR UPDATE;

  SELECT u.restored, u.note INTO restored, undone
    FROM integration.unapply(e, earlier.value, earlier.source_system_key) u;

  IF restored AND earlier.ledger_id IS NOT NULL THEN
    UPDATE integration.ledger l SET applied_at = now() WHERE l.ledger_id = earlier.ledger_id;
    INSERT INTO integration.ledger_event (ledger_id, from_status, to_status, actor, notes)
    VALUES (earlier.ledger_id, 'Certified', 'Certified', steward.user_name,
            format('value restored to the target by the revocation of ledger entry %s', e.ledger_id));
  END IF;

  UPDATE integration.ledger l SET ledger_status = 'Revoked'
   WHERE l.ledger_id = e.ledger_id
  RETURNING * INTO e;

  INSERT INTO integration.ledger_event (ledger_id, from_status, to_status, actor, notes)
  VALUES (e.ledger_id, 'Certified', 'Revoked', steward.user_name,
          concat_ws('; ', p_notes,
                    CASE WHEN restored AND earlier.ledger_id IS NOT NULL
                         THEN format('%s (the value of ledger entry %s)', undone, earlier.ledger_id)
                         ELSE undone END));

  PERFORM set_config('integration.ledger_writer', coalesce(writer, ''), true);
  RETURN e;
END
$$;

-- requeue_failed(job_id): after an administrator fixed what made items fail
-- (typically a missing value_map row), send the job's failed items round
-- again. The job returns to Submitted with a fresh attempt budget and no
-- lease; the worker is woken by the job's notification trigger. Returns the
-- number of items requeued. Only finished inbound jobs qualify: a running
-- job is its worker's, an outbound job is its connector's, and a Cancelled
-- job was stopped on purpose.
CREATE FUNCTION integration.requeue_failed(p_job_id bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  job      integration.sync_job;
  requeued integer;
BEGIN
  SELECT * INTO job FROM integration.sync_job j WHERE j.job_id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'sync job % not found', coalesce(p_job_id::text, 'NULL')
      USING ERRCODE = 'SL040';
  ELSIF job.direction <> 'Inbound' THEN
    RAISE EXCEPTION 'sync job % is %; only inbound jobs can be requeued', p_job_id, job.direction
      USING ERRCODE = 'SL041';
  ELSIF job.job_status NOT IN ('Completed', 'CompletedWithErrors', 'Failed') THEN
    RAISE EXCEPTION 'sync job % is %; only finished jobs (Completed, CompletedWithErrors, Failed) can be requeued',
                    p_job_id, job.job_status
      USING ERRCODE = 'SL041';
  END IF;

  UPDATE integration.sync_item i
     SET item_status = 'Pending', process_message = NULL
   WHERE i.job_id = p_job_id AND i.item_status = 'Failed';
  GET DIAGNOSTICS requeued = ROW_COUNT;

  UPDATE integration.sync_job j
     SET job_status       = 'Submitted',
         finished_at      = NULL,
         lease_owner      = NULL,
         lease_expires_at = NULL,
         run_after        = NULL,
         attempts         = 0,
         last_error       = NULL,
         items_failed     = greatest(j.items_failed - requeued, 0)
   WHERE j.job_id = p_job_id;

  RETURN requeued;
END
$$;

-- ---------------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------------

-- What waits for a steward. has_conflict: certify would refuse (SL030)
-- without force, because the target no longer holds previous_value.
CREATE VIEW integration.review_queue AS
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
        AND cur.current_value IS DISTINCT FROM l.previous_value) AS has_conflict,
       l.job_id,
       l.sync_item_id,
       l.source_timestamp,
       l.recorded_at,
       now() - l.recorded_at AS age,
       l.notes
  FROM integration.ledger l
 CROSS JOIN LATERAL (
       -- OFFSET 0 keeps the subquery from being flattened, so the target is
       -- read once per row, not once per use of current_value.
       SELECT CASE WHEN l.ledger_aspect = 'Record' THEN NULL
                   ELSE integration.current_value(l.target_table, l.target_id, l.aspect_key) END AS current_value
       OFFSET 0) cur
 WHERE l.ledger_status = 'Pending';
COMMENT ON VIEW integration.review_queue IS
  'Pending ledger entries with the current, proposed and previous value; has_conflict = certify needs force.';

-- Certified values whose source has not re-sent them within the policy's
-- stale_after_days: they no longer outrank other sources (SPEC §2, Authority)
-- and a steward may want to confirm them. The policy is the field's policy
-- for Field and Relationship aspects, the record-level policy for Record.
CREATE VIEW integration.stale_values AS
SELECT o.ledger_id,
       o.target_table,
       o.target_id,
       o.ledger_aspect,
       o.aspect_key,
       o.source_system_key,
       o.value,
       CASE WHEN o.ledger_aspect = 'Record' THEN NULL
            ELSE integration.current_value(o.target_table, o.target_id, o.aspect_key) END AS current_value,
       coalesce(o.confirmed_at, o.applied_at, o.recorded_at) AS last_confirmed_at,
       p.stale_after_days,
       coalesce(o.confirmed_at, o.applied_at, o.recorded_at)
         + make_interval(days => p.stale_after_days) AS stale_since,
       o.certified_at,
       u.user_name AS certified_by
  FROM integration.aspect_owner o
  JOIN integration.commit_policy p
    ON p.target_table = o.target_table
   AND p.field_name IS NOT DISTINCT FROM (CASE WHEN o.ledger_aspect = 'Record' THEN NULL ELSE o.aspect_key END)
  LEFT JOIN integration.app_user u ON u.user_id = o.certified_by
 WHERE o.ledger_status = 'Certified'
   AND p.stale_after_days IS NOT NULL
   AND coalesce(o.confirmed_at, o.applied_at, o.recorded_at) < now() - make_interval(days => p.stale_after_days);
COMMENT ON VIEW integration.stale_values IS
  'Certified values owning their aspect whose last confirmation is older than the policy''s stale_after_days.';

-- Where each governed value of each record came from. One row per aspect
-- with ledger entries; the owner columns are NULL when no entry owns it
-- (all pending and unapplied, or rejected, or revoked).
CREATE VIEW integration.field_provenance AS
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
       a.ledger_entries
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

-- ---------------------------------------------------------------------------
-- The provenance invariant
-- ---------------------------------------------------------------------------

-- provenance_violations(): every Field aspect whose current, non-null target
-- value differs from the value of the entry that owns it (aspect_owner). An
-- empty result means the target tables agree with the ledger. One query per
-- (table, column) pair, joined to the target table, not one per record.
CREATE FUNCTION integration.provenance_violations()
RETURNS TABLE (target_table   text,
               target_id      uuid,
               aspect_key     text,
               current_value  text,
               expected_value text,
               ledger_id      bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  pair record;
  t    record;
BEGIN
  FOR pair IN
    SELECT DISTINCT l.target_table AS tbl, l.aspect_key AS col
      FROM integration.ledger l
     WHERE l.ledger_aspect = 'Field'
     ORDER BY 1, 2
  LOOP
    t := integration.resolve_target(pair.tbl, pair.col);
    RETURN QUERY EXECUTE format(
      'SELECT o.target_table, o.target_id, o.aspect_key, t.%1$I::text, o.value, o.ledger_id'
      '  FROM integration.aspect_owner o'
      '  JOIN %2$I.%3$I t ON t.%4$I = o.target_id'
      ' WHERE o.target_table = $1 AND o.aspect_key = $2 AND o.ledger_aspect = ''Field'''
      '   AND t.%1$I IS NOT NULL AND t.%1$I::text IS DISTINCT FROM o.value'
      ' ORDER BY o.target_id',
      pair.col, t.rel_schema, t.rel_name, t.id_col)
    USING pair.tbl, pair.col;
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------

-- SECURITY DEFINER functions run as the migration's owner: nobody may call
-- them until granted. The internal helpers are not an interface at all.
REVOKE EXECUTE ON FUNCTION
  integration.certify(bigint, text, text, boolean),
  integration.reject(bigint, text, text),
  integration.revoke(bigint, text, text),
  integration.requeue_failed(bigint),
  integration.current_value(text, uuid, text),
  integration.provenance_violations(),
  integration.resolve_target(text, text, boolean),
  integration.aspect_state(text, uuid, text, text),
  integration.write_target(text, uuid, text, text, text, text, boolean),
  integration.steward_user(text),
  integration.lock_ledger_entry(bigint, text, text),
  integration.unapply(integration.ledger, text, text)
FROM PUBLIC;
