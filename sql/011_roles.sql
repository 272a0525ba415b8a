-- 011_roles.sql — privileges for 006..010 (SPEC §6). See 005_roles.sql for
-- the roles themselves.
--
-- The worker now writes only through SECURITY DEFINER functions
-- (claim_jobs ... apply_chunk), which check its claim token and its policy
-- decisions: it keeps SELECT, and loses every direct write to the
-- integration tables. In particular it can no longer UPDATE the ledger (the
-- old UPDATE (confirmed_at) grant let it move the staleness clock at will)
-- nor INSERT ledger rows or events (it could have inserted a Certified entry
-- naming any steward). Its target-table grants (SELECT, INSERT, UPDATE on
-- each registered table) are no longer needed either; the functions write as
-- the owner of the integration schema, like the steward functions.

REVOKE INSERT, UPDATE ON integration.sync_job, integration.sync_item, integration.identifier FROM syncledger_worker;
REVOKE INSERT ON integration.ledger, integration.ledger_event FROM syncledger_worker;
REVOKE UPDATE (confirmed_at) ON integration.ledger FROM syncledger_worker;
-- Row-level security on the staging tables keeps its worker policies for the
-- reads; they grant no write any more.

GRANT SELECT ON integration.ledger_chain, integration.source_order, integration.config_version
  TO syncledger_worker, syncledger_steward, syncledger_admin;
GRANT SELECT ON integration.aspect_owner, integration.review_queue, integration.stale_values,
  integration.field_provenance
  TO syncledger_steward, syncledger_admin;

GRANT EXECUTE ON FUNCTION
  integration.claim_jobs(text, uuid, integer, integer, integer),
  integration.fence_jobs(uuid, bigint[]),
  integration.heartbeat(uuid[], integer),
  integration.finish_jobs(uuid, bigint[]),
  integration.release_jobs(uuid),
  integration.expire_leases_of(text),
  integration.retry_jobs(uuid, bigint[], text, integer, double precision),
  integration.pending_items(bigint[], integer, bigint, bigint, integer),
  integration.prepare_chunk(uuid, bigint[], bigint, text[], text[], text[], uuid[], boolean[], integer[], boolean[],
                            integer[], text[], text[], text[], text[], boolean[]),
  integration.apply_chunk(bigint[], text[], uuid[], text[], text[], boolean[], bigint[], bigint[], text[], uuid[], text[],
                          text[], text[], text[], text[], boolean[], text[], boolean[], boolean[], timestamptz[],
                          boolean[], bigint[], text[], uuid[], text[], text[], timestamptz[], boolean[], bigint[], bigint[],
                          bigint[], bigint[], bigint[], bigint[], bigint[], text[], text[], uuid[], boolean[], integer[])
TO syncledger_worker;

GRANT EXECUTE ON FUNCTION integration.job_item_counts(bigint[])
  TO syncledger_worker, syncledger_connector, syncledger_steward, syncledger_admin;

GRANT EXECUTE ON FUNCTION
  integration.verify_ledger(),
  integration.ledger_anchor(),
  integration.provenance_violations(),
  integration.target_holds(text, uuid, text, text, text),
  integration.current_value(text, uuid, text),
  integration.is_stale(timestamptz, integer, timestamptz),
  integration.aspect_policy(text, text, text),
  integration.owner_entry(text, uuid, text),
  integration.stale_clock(integration.ledger)
TO syncledger_steward, syncledger_admin;

-- Submitting a job takes the next submission number (sync_job.submit_seq's
-- default, and the Draft → Submitted trigger, run as the upstream).
GRANT USAGE ON SEQUENCE integration.job_submit_seq TO syncledger_upstream;

-- Administrators act for other users (a service relaying a web form): they
-- call the steward functions too, which record both names (SPEC §3).
GRANT EXECUTE ON FUNCTION
  integration.certify(bigint, text, text, boolean),
  integration.reject(bigint, text, text),
  integration.revoke(bigint, text, text)
TO syncledger_admin;
