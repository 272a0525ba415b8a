-- outbound.sql — outbound synchronisation (SPEC §4): values that were
-- applied or certified fan out to the other systems that subscribe to them,
-- as Outbound sync jobs that connectors claim and acknowledge (the claim and
-- the acknowledgement are job transitions: jobs.sql).
--
-- Who receives a value: every active source system other than the one the
-- value came from (no echoes) that subscribes to the table and field
-- (subscription.field_names NULL = all) and holds an identifier for the
-- record. Each receiver gets one Outbound job per writer transaction, found
-- by outbound_txid, a column only this code writes: upstreams may insert
-- Inbound jobs only (row-level security) and cannot set it (column
-- privileges), so no upstream can make another system's jobs, or a
-- steward's certify, fail by inserting rows (SPEC §6). The job is invisible
-- to connectors until that transaction commits, so it is created Submitted
-- and never seen half-filled.
--
-- Everything here is SECURITY INVOKER: it acts with the caller's table
-- privileges (the owner's when called from the worker's apply_chunk or the
-- steward functions, which are SECURITY DEFINER).

-- Jobs opened under the old scheme keep their key; nothing looks them up by it.

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
-- Jobs are found or created with INSERT ... ON CONFLICT DO NOTHING on
-- (receiver, this transaction); the new ones come back from RETURNING, the
-- existing ones (from earlier calls in the same transaction) are updated in
-- the same statement. The two sets are disjoint: the UPDATE sees only rows
-- that existed before the statement. items_total is maintained, and seq
-- continues from it.
CREATE OR REPLACE FUNCTION integration.enqueue_outbound_values(p_values integration.outbound_value[])
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  txid    xid8 := pg_current_xact_id();
  created integer;
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
      -- The receiver's key of the record (one per source and record), looked
      -- up by it: a plain join is planned as a merge join that reads every
      -- identifier of the receiver when nested loops are off (the chunk's
      -- planner settings).
      JOIN LATERAL (
            SELECT i.external_key
              FROM integration.identifier i
             WHERE i.source_system_key = s.source_system_key
               AND i.target_table = v.target_table
               AND i.target_id = v.target_id
             LIMIT 1) i ON true
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
    INSERT INTO integration.sync_job AS j (source_system_key, direction, job_status, outbound_txid, items_total)
    SELECT p.receiver, 'Outbound', 'Submitted', txid, p.n
      FROM per_receiver p
     ORDER BY p.receiver
    ON CONFLICT (source_system_key, outbound_txid) WHERE direction = 'Outbound' AND outbound_txid IS NOT NULL
    DO NOTHING
    RETURNING j.job_id, j.source_system_key, 0 AS seq_base
  ),
  grown AS (
    UPDATE integration.sync_job j
       SET items_total = j.items_total + p.n
      FROM per_receiver p
     WHERE j.source_system_key = p.receiver
       AND j.direction = 'Outbound'
       AND j.outbound_txid = txid
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
  SELECT count(*) INTO created FROM inserted;
  RETURN created;
END
$$;

-- enqueue_outbound(ledger_ids): send the values of these entries. Called by
-- the worker for the entries it applied in a transaction and by certify when
-- it applies one. Entries that are not applied, are rejected or revoked, or
-- are Record aspects are ignored. Returns the number of items created.
CREATE OR REPLACE FUNCTION integration.enqueue_outbound(p_ledger_ids bigint[])
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
CREATE OR REPLACE FUNCTION integration.enqueue_outbound_value(
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
