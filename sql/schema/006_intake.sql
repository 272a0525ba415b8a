-- 006_intake.sql — what the database said when it refused an item's row
-- (SPEC §6: what reaches upstreams).
--
-- An item that a target table's trigger, CHECK, foreign key or unique index
-- refuses fails alone. Its process_message, which the upstream that sent it
-- reads, names only the trigger or constraint, the field and the SQLSTATE:
-- a trigger's own text may interpolate any column of the row (another
-- system's data), and a constraint's DETAIL quotes the whole row. The full
-- text is kept here, for stewards and operators (they read every table of
-- the schema; upstreams are granted nothing on it: sql/code/95_roles.sql).
--
-- One row per refused item, written by the worker (apply_chunk) with the
-- item's result, replaced if the item is refused again after a requeue and
-- removed when it is requeued or pruned. No foreign key to sync_item: a
-- foreign key would cost every pruned item a lookup here, and prune_jobs
-- removes these rows with their items (sql/code/80_retention.sql).

CREATE TABLE integration.item_refusal (
  item_id     bigint      PRIMARY KEY,
  job_id      bigint      NOT NULL,
  sql_state   text        NOT NULL,
  message     text        NOT NULL,
  detail      text,
  hint        text,
  context     text,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX item_refusal_job ON integration.item_refusal (job_id);
COMMENT ON TABLE integration.item_refusal IS
  'The database''s full text about an item it refused (trigger, CHECK, foreign key): for stewards and operators; the item''s process_message names only the trigger or constraint, the field and the SQLSTATE.';
