-- 010_outbound.sql — outbound jobs out of reach of upstreams (SPEC §6), and
-- true counts when a connector acknowledges. Replaces parts of 004_outbound.sql.
--
-- Each receiving system gets one Outbound job per writer transaction. Until
-- now that job was found by the job_key 'outbound-<transaction id>', in the
-- same (source_system_key, job_key) space that upstreams insert into: an
-- upstream that inserted jobs with such keys made other systems' jobs and a
-- steward's certify fail. The job is now found by outbound_txid, a column of
-- its own that only this function writes: upstreams may insert Inbound jobs
-- only (row-level security) and cannot set the column (column privileges).
-- Outbound jobs have no job_key.

ALTER TABLE integration.sync_job ADD COLUMN outbound_txid xid8;
COMMENT ON COLUMN integration.sync_job.outbound_txid IS
  'Outbound jobs: the transaction that opened the job (one job per receiving system per transaction).';
CREATE UNIQUE INDEX sync_job_outbound_per_transaction ON integration.sync_job (source_system_key, outbound_txid)
  WHERE direction = 'Outbound' AND outbound_txid IS NOT NULL;

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

-- ack_outbound(job_id, owner): the connector delivered the job: its items
-- become Applied, the job Completed with its true counts. With p_owner, the
-- ack is refused unless that owner still holds the lease, so a connector
-- whose lease expired and was taken over cannot complete the other's work.
CREATE OR REPLACE FUNCTION integration.ack_outbound(p_job_id bigint, p_owner text DEFAULT NULL)
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
    FROM integration.job_item_counts(ARRAY[p_job_id]) c
   WHERE j.job_id = p_job_id
  RETURNING j.* INTO job;

  RETURN job;
END
$$;
