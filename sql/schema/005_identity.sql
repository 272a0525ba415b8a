-- 005_identity.sql — identity resolution (SPEC §8): the rules that find an
-- existing record for a new external key, the normalised keys they compare
-- (indexed), the claims that serialise racing creations, the suspect pairs
-- stewards resolve, and the merges they make (and undo). The code is in
-- sql/code/45_identity.sql.
--
-- pg_trgm (trigram similarity and its GIN operator class) and unaccent
-- (accent folding) ship with PostgreSQL's contrib and are trusted
-- extensions: a role with CREATE on the database installs them. Installed
-- here in the default schema unless a DBA installed them beforehand, in any
-- schema: the code finds them where they are.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- ---------------------------------------------------------------------------
-- Rules
-- ---------------------------------------------------------------------------

-- A rule compares the values a new record arrives with (its fields, in the
-- same chunk) with the records of its table. Administered like
-- commit_policy (a change bumps config_version). README, "Choosing match
-- rules", says how to choose them.
CREATE TABLE integration.match_rule (
  rule_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target_table text NOT NULL REFERENCES integration.target_table,
  rule_name    text NOT NULL
    CONSTRAINT match_rule_name_format CHECK (rule_name ~ '^[a-z][a-z0-9_]*$'),
  fields       text[] NOT NULL
    CONSTRAINT match_rule_fields_count CHECK (cardinality(fields) BETWEEN 1 AND 8),
  method       text NOT NULL DEFAULT 'exact'
    CONSTRAINT match_rule_method_valid CHECK (method IN ('exact', 'similar')),
  min_score    real
    CONSTRAINT match_rule_min_score_range CHECK (min_score BETWEEN 0 AND 1),
  action       text NOT NULL DEFAULT 'suspect'
    CONSTRAINT match_rule_action_valid CHECK (action IN ('link', 'suspect')),
  is_active    boolean NOT NULL DEFAULT true,
  CONSTRAINT match_rule_similar_has_min_score CHECK (method = 'exact' OR min_score IS NOT NULL),
  CONSTRAINT match_rule_table_name_unique UNIQUE (target_table, rule_name)
);
COMMENT ON TABLE integration.match_rule IS
  'Identity resolution: how a new external key (without a target_id hint) finds an existing record of its table.';
COMMENT ON COLUMN integration.match_rule.fields IS
  'Target columns compared, with the values the new record arrives with; a rule does not apply to a record with an empty value for any of them.';
COMMENT ON COLUMN integration.match_rule.method IS
  'exact: equal after normalising case, accents, punctuation and spacing; similar: trigram similarity (pg_trgm) of the normalised fields together.';
COMMENT ON COLUMN integration.match_rule.min_score IS
  'similar: the lowest similarity (0..1) that counts as a candidate. exact rules score 1.';
COMMENT ON COLUMN integration.match_rule.action IS
  'link: exactly one candidate links the new key to it; suspect: the record is created and the pair recorded in match_suspect.';

-- The keys of every record of a rule's table that has a value for each of
-- the rule's fields (active records only), kept by the writers of the target
-- tables (write_targets) and rebuilt when a rule changes: what the matching
-- looks candidates up in, so that it never reads a target table. Per rule
-- and record, part 0 is the rule's key; a similar rule over three fields or
-- more also has, per field i, part i: its block, the other fields' key (the
-- records that agree on all fields but one are its candidates). lookup says
-- how a row is found: 'value' (btree: exact keys and blocks), 'trigram'
-- (GIN: the keys of similar rules over one or two fields), 'none' (the key
-- of a similar rule with blocks: read by primary key, to score). The GIN
-- index takes its keys at once (no fastupdate): every chunk that creates
-- records both inserts keys and searches them, and a search would read the
-- whole pending list.
CREATE TABLE integration.match_key (
  rule_id        bigint   NOT NULL REFERENCES integration.match_rule ON DELETE CASCADE,
  target_id      uuid     NOT NULL,
  part           smallint NOT NULL,
  normalised_key text     NOT NULL,
  lookup         text     NOT NULL
    CONSTRAINT match_key_lookup_valid CHECK (lookup IN ('value', 'trigram', 'none')),
  PRIMARY KEY (rule_id, target_id, part)
);
CREATE INDEX match_key_by_value ON integration.match_key (rule_id, normalised_key) WHERE lookup = 'value';
DO $$
BEGIN
  EXECUTE format('CREATE INDEX match_key_by_trigram ON integration.match_key USING gin (normalised_key %I.gin_trgm_ops)'
                 ' WITH (fastupdate = off) WHERE lookup = ''trigram''',
                 (SELECT e.extnamespace::regnamespace::name FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_trgm'));
END
$$;
COMMENT ON TABLE integration.match_key IS
  'Per match rule and active record: its normalised key (part 0) and a similar rule''s blocks (part i: the key without field i), indexed for the matching.';

-- Claims: a transaction about to create or link records under a link rule
-- inserts one row per normalised key (per rule for similar rules) and deletes
-- it again at once; a second transaction claiming the same key waits until the
-- first has committed, and then sees its record. Rows never outlive their
-- transaction, so the table is empty at rest; unlogged, as nothing in it
-- needs to survive a crash.
CREATE UNLOGGED TABLE integration.match_claim (
  claim_key bigint PRIMARY KEY
);
COMMENT ON TABLE integration.match_claim IS
  'Transient claims on normalised match keys that serialise transactions creating records a link rule would join (empty at rest).';

-- ---------------------------------------------------------------------------
-- Merges and suspects
-- ---------------------------------------------------------------------------

-- One steward merge: what it moved and wrote, so that unmerge restores it.
CREATE TABLE integration.record_merge (
  merge_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target_table  text        NOT NULL REFERENCES integration.target_table,
  survivor_id   uuid        NOT NULL,
  merged_id     uuid        NOT NULL,
  steward       text        NOT NULL,
  acting_role   name        NOT NULL DEFAULT session_user,
  notes         text,
  merged_at     timestamptz NOT NULL DEFAULT now(),
  identifiers   bigint[]    NOT NULL DEFAULT '{}',
  entries       bigint[]    NOT NULL DEFAULT '{}',
  unmerged_at   timestamptz,
  unmerged_by   text,
  unmerge_notes text,
  CONSTRAINT record_merge_two_records CHECK (survivor_id <> merged_id)
);
COMMENT ON TABLE integration.record_merge IS
  'Steward merges (integration.merge): survivor and merged record, the identifiers moved and the ledger entries written; unmerged_* once undone.';
COMMENT ON COLUMN integration.record_merge.identifiers IS 'The identifier rows moved from the merged record to the survivor.';
COMMENT ON COLUMN integration.record_merge.entries IS
  'The ledger entries the merge wrote (settled values, repointed relationships, moved identifiers, the deactivation).';
-- A record is merged into one survivor at a time.
CREATE UNIQUE INDEX record_merge_open_per_merged ON integration.record_merge (target_table, merged_id)
  WHERE unmerged_at IS NULL;
CREATE INDEX record_merge_open_by_survivor ON integration.record_merge (target_table, survivor_id)
  WHERE unmerged_at IS NULL;

-- Pairs of records that may be one: target_id was created for a new key, and
-- candidate_id looked like it under rule_name with score. A pair is
-- recorded once, whatever its order.
CREATE TABLE integration.match_suspect (
  suspect_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target_table      text          NOT NULL REFERENCES integration.target_table,
  target_id         uuid          NOT NULL,
  candidate_id      uuid          NOT NULL,
  rule_id           bigint        REFERENCES integration.match_rule ON DELETE SET NULL,
  rule_name         text          NOT NULL,
  score             numeric(5, 4) NOT NULL,
  source_system_key text,
  status            text          NOT NULL DEFAULT 'open'
    CONSTRAINT match_suspect_status_valid CHECK (status IN ('open', 'merged', 'dismissed')),
  found_at          timestamptz   NOT NULL DEFAULT now(),
  decided_at        timestamptz,
  decided_by        text,
  notes             text,
  merge_id          bigint        REFERENCES integration.record_merge,
  CONSTRAINT match_suspect_two_records CHECK (target_id <> candidate_id)
);
COMMENT ON TABLE integration.match_suspect IS
  'Pairs of records that may be the same (a suspect rule, several link candidates): open until a steward merges or dismisses them.';
COMMENT ON COLUMN integration.match_suspect.target_id IS 'The record created for a new external key.';
COMMENT ON COLUMN integration.match_suspect.candidate_id IS 'The record it looked like.';
COMMENT ON COLUMN integration.match_suspect.source_system_key IS 'The source whose new key created target_id.';
CREATE UNIQUE INDEX match_suspect_pair ON integration.match_suspect
  (target_table, least(target_id, candidate_id), greatest(target_id, candidate_id));
CREATE INDEX match_suspect_open ON integration.match_suspect (found_at, suspect_id) WHERE status = 'open';
CREATE INDEX match_suspect_by_merge ON integration.match_suspect (merge_id) WHERE merge_id IS NOT NULL;

-- The worker's crosswalk and chunk functions return the rule that linked a
-- record (their result rows change shape), and the outbound fan-out takes
-- the receivers a merge's values are for: the old ones go here, before the
-- code files define the new ones.
DROP FUNCTION IF EXISTS integration.prepare_chunk(uuid, bigint[], bigint, jsonb);
DROP FUNCTION IF EXISTS integration.resolve_records(jsonb);
DROP FUNCTION IF EXISTS integration.enqueue_outbound_values(integration.outbound_value[]);
