-- 004_outbound.sql — outbound synchronisation (SPEC §4): values that were
-- applied or certified fan out to the other systems that subscribe to them,
-- as Outbound sync jobs that connectors claim and acknowledge.
--
-- Who receives a value: every active source system other than the one the
-- value came from (no echoes) that subscribes to the table and field
-- (subscription.field_names NULL = all) and holds an identifier for the
-- record. Each receiver gets one Outbound job per transaction, found or
-- created by the job_key 'outbound-<transaction id>', so a worker chunk or a
-- steward action produces one job per system however many values it touches.
-- The job is invisible to connectors until that transaction commits, so it
-- is created Submitted and never seen half-filled.
--
-- Errors use the SQLSTATEs listed in 003_stewardship.sql (SL040, SL041).
--
-- Everything here is SECURITY INVOKER and executable by PUBLIC: it acts with
-- the caller's table privileges (the worker's when it enqueues, a connector's
-- when it claims and acknowledges; the owner's when called from the steward
-- functions), so a grant on the function would add nothing.

-- One value to send: what enqueue_outbound_values takes, so that ledger
-- entries (enqueue_outbound) and values restored by reject/revoke, which have
-- no ledger row of their own (enqueue_outbound_value), share one code path.
CREATE TYPE integration.outbound_value AS (
  target_table  text,
  target_id     uuid,
  ledger_aspect text,    -- Field or Relationship; Record values are not sent
  aspect_key    text,    -- the column
  value         text,    -- canonical value; for Relationship the related record's uuid
  origin_source text,    -- the system the value came from: never sent back there (NULL = none)
  ledger_id     bigint   -- the entry whose action produced the item
);

-- The registered target table a foreign-key column points to, so that a
-- Relationship value (the related record's uuid) is translated through the
-- crosswalk of the right table. NULL when the column has no single-column
-- foreign key.
CREATE FUNCTION integration.referenced_table(p_table text, p_column text)
RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT rn.nspname || '.' || rc.relname
    FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid
    JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
   WHERE k.contype = 'f'
     AND k.conrelid = to_regclass(format('%I.%I', split_part(p_table, '.', 1), split_part(p_table, '.', 2)))
     AND cardinality(k.conkey) = 1
     AND a.attname = p_column
   ORDER BY k.oid
   LIMIT 1
$$;

-- enqueue_outbound_values(values): the fan-out, in one statement. Returns the
-- number of items created.
--
--   Field:        operation Set, new_value = the receiver's own code for the
--                 canonical value, through the value_map of the field's
--                 code_list (highest confidence, then lowest map_id); the
--                 canonical value itself when the receiver has no mapping.
--   Relationship: operation Link, new_value = the receiver's external key for
--                 the related record; no item when it has none (it could not
--                 apply the link). A cleared link (NULL) is sent as NULL.
--
-- Jobs are found or created with INSERT ... ON CONFLICT DO NOTHING; the new
-- ones come back from RETURNING, the existing ones (from earlier calls in the
-- same transaction) are updated in the same statement. The two sets are
-- disjoint: the UPDATE sees only rows that existed before the statement.
-- items_total is maintained, and seq continues from it.
CREATE FUNCTION integration.enqueue_outbound_values(p_values integration.outbound_value[])
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  open_key text := 'outbound-' || pg_current_xact_id()::text;
  expected integer;
  created  integer;
BEGIN
  WITH v AS (
    SELECT u.*,
           CASE WHEN u.ledger_aspect = 'Relationship'
                THEN integration.referenced_table(u.target_table, u.aspect_key) END AS related_table
      FROM unnest(p_values) WITH ORDINALITY AS u
     WHERE u.ledger_aspect IN ('Field', 'Relationship')
  ),
  item AS (
    SELECT v.ordinality,
           s.source_system_key AS receiver,
           i.external_key,
           v.target_table,
           v.target_id,
           v.ledger_aspect,
           v.aspect_key,
           v.ledger_id,
           CASE v.ledger_aspect
             WHEN 'Field' THEN coalesce(back.source_code, v.value)
             ELSE related.external_key
           END AS new_value
      FROM v
      JOIN integration.subscription sub
        ON sub.target_table = v.target_table
       AND (sub.field_names IS NULL OR v.aspect_key = ANY (sub.field_names))
      JOIN integration.source_system s
        ON s.source_system_key = sub.source_system_key
       AND s.is_active
       AND s.source_system_key IS DISTINCT FROM v.origin_source
      JOIN integration.identifier i
        ON i.source_system_key = s.source_system_key
       AND i.target_table = v.target_table
       AND i.target_id = v.target_id
      LEFT JOIN integration.commit_policy pol
        ON v.ledger_aspect = 'Field'
       AND pol.target_table = v.target_table
       AND pol.field_name = v.aspect_key
      LEFT JOIN LATERAL (
            SELECT vm.source_code
              FROM integration.value_map vm
             WHERE vm.source_system_key = s.source_system_key
               AND vm.code_list = pol.code_list
               AND vm.canonical_code_value = v.value
             ORDER BY vm.confidence DESC, vm.map_id
             LIMIT 1) back ON true
      LEFT JOIN LATERAL (
            -- CASE, not a plain cast: the uuid cast must never see a Field value.
            SELECT ri.external_key
              FROM integration.identifier ri
             WHERE ri.source_system_key = s.source_system_key
               AND ri.target_id = (CASE WHEN v.ledger_aspect = 'Relationship' THEN v.value::uuid END)
               AND ri.target_table = coalesce(v.related_table, ri.target_table)
             ORDER BY ri.identifier_id
             LIMIT 1) related ON true
     WHERE v.ledger_aspect = 'Field' OR v.value IS NULL OR related.external_key IS NOT NULL
  ),
  per_receiver AS (
    SELECT item.receiver, count(*)::integer AS n FROM item GROUP BY item.receiver
  ),
  opened AS (
    INSERT INTO integration.sync_job AS j (source_system_key, direction, job_status, job_key, items_total)
    SELECT p.receiver, 'Outbound', 'Submitted', open_key, p.n
      FROM per_receiver p
     ORDER BY p.receiver
    ON CONFLICT (source_system_key, job_key) DO NOTHING
    RETURNING j.job_id, j.source_system_key, 0 AS seq_base
  ),
  grown AS (
    UPDATE integration.sync_job j
       SET items_total = j.items_total + p.n
      FROM per_receiver p
     WHERE j.source_system_key = p.receiver
       AND j.job_key = open_key
       AND j.direction = 'Outbound'
    RETURNING j.job_id, j.source_system_key, j.items_total - p.n AS seq_base
  ),
  job AS (
    SELECT * FROM opened UNION ALL SELECT * FROM grown
  ),
  inserted AS (
    INSERT INTO integration.sync_item
           (job_id, seq, external_key, target_table, operation, field_name, new_value,
            target_id, ledger_id, item_status)
    SELECT job.job_id,
           job.seq_base + row_number() OVER (PARTITION BY item.receiver ORDER BY item.ordinality),
           item.external_key,
           item.target_table,
           CASE item.ledger_aspect WHEN 'Field' THEN 'Set' ELSE 'Link' END,
           item.aspect_key,
           item.new_value,
           item.target_id,
           item.ledger_id,
           'Pending'
      FROM item
      JOIN job ON job.source_system_key = item.receiver
    RETURNING 1
  )
  SELECT (SELECT coalesce(sum(n), 0) FROM per_receiver), (SELECT count(*) FROM inserted)
    INTO expected, created;

  -- Only possible if an inbound job took this transaction's outbound key.
  IF created <> expected THEN
    RAISE EXCEPTION 'outbound job key % is taken by a job that is not outbound', open_key
      USING ERRCODE = 'SL041';
  END IF;
  RETURN created;
END
$$;

-- enqueue_outbound(ledger_ids): send the values of these entries. Called by
-- the worker for the entries it applied in a transaction and by certify when
-- it applies one. Entries that are not applied, are rejected or revoked, or
-- are Record aspects are ignored. Returns the number of items created.
CREATE FUNCTION integration.enqueue_outbound(p_ledger_ids bigint[])
RETURNS integer
LANGUAGE sql AS $$
  SELECT integration.enqueue_outbound_values(array_agg(
           ROW(l.target_table, l.target_id, l.ledger_aspect, l.aspect_key, l.value,
               l.source_system_key, l.ledger_id)::integration.outbound_value
           ORDER BY l.ledger_id))
    FROM integration.ledger l
   WHERE l.ledger_id = ANY (p_ledger_ids)
     AND l.is_applied
     AND l.ledger_status IN ('Pending', 'Certified')
     AND l.ledger_aspect IN ('Field', 'Relationship')
$$;

-- enqueue_outbound_value(...): send one value that has no ledger row of its
-- own, e.g. the value reject or revoke restored. p_origin_source is the
-- system the value came from (excluded; NULL = exclude none); p_ledger_id the
-- entry whose rejection or revocation produced it.
CREATE FUNCTION integration.enqueue_outbound_value(
  p_table         text,
  p_id            uuid,
  p_aspect        text,
  p_aspect_key    text,
  p_value         text,
  p_origin_source text,
  p_ledger_id     bigint)
RETURNS integer
LANGUAGE sql AS $$
  SELECT integration.enqueue_outbound_values(ARRAY[
           ROW(p_table, p_id, p_aspect, p_aspect_key, p_value, p_origin_source, p_ledger_id)::integration.outbound_value])
$$;

-- ---------------------------------------------------------------------------
-- Connector API
-- ---------------------------------------------------------------------------

-- claim_outbound(source, owner, lease_seconds): the oldest claimable Outbound
-- job of that system (Submitted, or Processing with an expired lease, and not
-- deferred by run_after), now Processing under owner's lease. Empty when
-- there is none. SKIP LOCKED lets several connector instances claim side by
-- side without waiting for each other.
CREATE FUNCTION integration.claim_outbound(
  p_source        text,
  p_owner         text,
  p_lease_seconds integer DEFAULT 300)
RETURNS SETOF integration.sync_job
LANGUAGE plpgsql AS $$
BEGIN
  IF p_owner IS NULL OR btrim(p_owner) = '' THEN
    RAISE EXCEPTION 'claim_outbound needs a lease owner'
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF p_lease_seconds IS NULL OR p_lease_seconds <= 0 THEN
    RAISE EXCEPTION 'lease of % seconds: it must be positive', coalesce(p_lease_seconds::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  RETURN QUERY
  WITH next_job AS (
    SELECT j.job_id
      FROM integration.sync_job j
     WHERE j.direction = 'Outbound'
       AND j.source_system_key = p_source
       AND (j.job_status = 'Submitted'
            OR (j.job_status = 'Processing' AND j.lease_expires_at < now()))
       AND (j.run_after IS NULL OR j.run_after <= now())
     ORDER BY j.submitted_at, j.job_id
     LIMIT 1
       FOR UPDATE SKIP LOCKED
  )
  UPDATE integration.sync_job j
     SET job_status       = 'Processing',
         lease_owner      = p_owner,
         lease_expires_at = now() + make_interval(secs => p_lease_seconds),
         attempts         = j.attempts + 1,
         started_at       = now()
    FROM next_job
   WHERE j.job_id = next_job.job_id
  RETURNING j.*;
END
$$;

-- ack_outbound(job_id, owner): the connector delivered the job: its items
-- become Applied, the job Completed with its counts. With p_owner, the ack
-- is refused unless that owner still holds the lease, so a connector whose
-- lease expired and was taken over cannot complete the other's work.
CREATE FUNCTION integration.ack_outbound(p_job_id bigint, p_owner text DEFAULT NULL)
RETURNS integration.sync_job
LANGUAGE plpgsql AS $$
DECLARE
  job integration.sync_job;
BEGIN
  SELECT * INTO job FROM integration.sync_job j WHERE j.job_id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'sync job % not found', coalesce(p_job_id::text, 'NULL')
      USING ERRCODE = 'SL040';
  ELSIF job.direction <> 'Outbound' THEN
    RAISE EXCEPTION 'sync job % is %; only outbound jobs are acknowledged', p_job_id, job.direction
      USING ERRCODE = 'SL041';
  ELSIF job.job_status <> 'Processing' THEN
    RAISE EXCEPTION 'sync job % is %; only Processing jobs can be acknowledged', p_job_id, job.job_status
      USING ERRCODE = 'SL041';
  ELSIF p_owner IS NOT NULL AND job.lease_owner IS DISTINCT FROM p_owner THEN
    RAISE EXCEPTION 'sync job % is leased to %, not to %', p_job_id, coalesce(job.lease_owner, 'nobody'), p_owner
      USING ERRCODE = 'SL041';
  END IF;

  UPDATE integration.sync_item i
     SET item_status = 'Applied', applied_at = now()
   WHERE i.job_id = p_job_id AND i.item_status = 'Pending';

  UPDATE integration.sync_job j
     SET job_status       = 'Completed',
         finished_at      = now(),
         lease_expires_at = NULL,
         items_total      = c.total,
         items_applied    = c.applied,
         items_held       = c.held,
         items_skipped    = c.skipped,
         items_failed     = c.failed
    FROM (SELECT count(*)::integer AS total,
                 (count(*) FILTER (WHERE i.item_status = 'Applied'))::integer AS applied,
                 (count(*) FILTER (WHERE i.item_status = 'Held'))::integer    AS held,
                 (count(*) FILTER (WHERE i.item_status = 'Skipped'))::integer AS skipped,
                 (count(*) FILTER (WHERE i.item_status = 'Failed'))::integer  AS failed
            FROM integration.sync_item i
           WHERE i.job_id = p_job_id) c
   WHERE j.job_id = p_job_id
  RETURNING j.* INTO job;

  RETURN job;
END
$$;
