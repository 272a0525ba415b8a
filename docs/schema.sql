--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: integration; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA integration;


--
-- Name: SCHEMA integration; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA integration IS 'syncledger: inbound/outbound synchronisation, crosswalk, governance and the provenance ledger';


--
-- Name: outbound_value; Type: TYPE; Schema: integration; Owner: -
--

CREATE TYPE integration.outbound_value AS (
	target_table text,
	target_id uuid,
	ledger_aspect text,
	aspect_key text,
	value text,
	origin_source text,
	ledger_id bigint
);


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: sync_job; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.sync_job (
    job_id bigint NOT NULL,
    source_system_key text NOT NULL,
    direction text DEFAULT 'Inbound'::text NOT NULL,
    entity_type text,
    job_status text DEFAULT 'Submitted'::text NOT NULL,
    job_key text,
    priority integer DEFAULT 0 NOT NULL,
    submitted_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    lease_owner text,
    lease_expires_at timestamp with time zone,
    run_after timestamp with time zone,
    last_error text,
    items_total integer DEFAULT 0 NOT NULL,
    items_applied integer DEFAULT 0 NOT NULL,
    items_held integer DEFAULT 0 NOT NULL,
    items_skipped integer DEFAULT 0 NOT NULL,
    items_failed integer DEFAULT 0 NOT NULL,
    submit_seq bigint NOT NULL,
    claim_token uuid,
    outbound_txid xid8,
    items_done integer,
    items_per_second real,
    progress_at timestamp with time zone,
    CONSTRAINT sync_job_direction_valid CHECK ((direction = ANY (ARRAY['Inbound'::text, 'Outbound'::text]))),
    CONSTRAINT sync_job_status_valid CHECK ((job_status = ANY (ARRAY['Draft'::text, 'Submitted'::text, 'Processing'::text, 'Completed'::text, 'CompletedWithErrors'::text, 'Failed'::text, 'Cancelled'::text])))
);


--
-- Name: COLUMN sync_job.priority; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_job.priority IS 'Higher runs first; ties by submitted_at, then job_id.';


--
-- Name: COLUMN sync_job.submit_seq; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_job.submit_seq IS 'Submission order: assigned when the job becomes Submitted. With sync_item.seq, what "a later submission" means.';


--
-- Name: COLUMN sync_job.claim_token; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_job.claim_token IS 'Fencing token of the claim that holds the job (NULL when unclaimed); every worker statement about the job checks it.';


--
-- Name: COLUMN sync_job.outbound_txid; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_job.outbound_txid IS 'Outbound jobs: the transaction that opened the job (one job per receiving system per transaction).';


--
-- Name: COLUMN sync_job.items_done; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_job.items_done IS 'While Processing: items of the job with a result (not Pending), as its worker last reported (progress_at).';


--
-- Name: COLUMN sync_job.items_per_second; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_job.items_per_second IS 'While Processing: items per second its worker processed since its previous report.';


--
-- Name: COLUMN sync_job.progress_at; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_job.progress_at IS 'When the worker holding the job last reported items_done and items_per_second (with its heartbeat).';


--
-- Name: app_user; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.app_user (
    user_id bigint NOT NULL,
    user_name text NOT NULL,
    display_name text,
    email text,
    is_steward boolean DEFAULT false NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    login_role name
);


--
-- Name: TABLE app_user; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.app_user IS 'People who act on the ledger; user_name is normally the steward''s database role.';


--
-- Name: COLUMN app_user.login_role; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.app_user.login_role IS 'The database login role that acts as this user; NULL: the role named user_name.';


--
-- Name: commit_policy; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.commit_policy (
    policy_id bigint NOT NULL,
    target_table text NOT NULL,
    field_name text,
    commit_mode text DEFAULT 'OnIngest'::text NOT NULL,
    authoritative_sources text[] DEFAULT '{}'::text[] NOT NULL,
    auto_certify boolean DEFAULT false NOT NULL,
    stale_after_days integer,
    code_list text,
    min_confidence numeric,
    approvals_required integer DEFAULT 1 NOT NULL,
    CONSTRAINT commit_policy_approvals_required_range CHECK (((approvals_required >= 1) AND (approvals_required <= 2))),
    CONSTRAINT commit_policy_commit_mode_valid CHECK ((commit_mode = ANY (ARRAY['OnIngest'::text, 'OnCertify'::text]))),
    CONSTRAINT commit_policy_min_confidence_range CHECK (((min_confidence >= (0)::numeric) AND (min_confidence <= (1)::numeric))),
    CONSTRAINT commit_policy_stale_after_days_positive CHECK ((stale_after_days > 0))
);


--
-- Name: COLUMN commit_policy.field_name; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.commit_policy.field_name IS 'NULL = the record-level policy (creation, deletion).';


--
-- Name: COLUMN commit_policy.authoritative_sources; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.commit_policy.authoritative_sources IS 'Ordered, highest precedence first; empty = all sources equal; unlisted sources rank after all listed ones.';


--
-- Name: COLUMN commit_policy.approvals_required; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.commit_policy.approvals_required IS 'Stewards who must certify a value: 1, or 2 (four eyes: an approval, then a certification by another steward).';


--
-- Name: decision_batch; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.decision_batch (
    batch_id bigint NOT NULL,
    action text NOT NULL,
    steward text NOT NULL,
    acting_role name DEFAULT SESSION_USER NOT NULL,
    filter jsonb NOT NULL,
    notes text,
    reason_code text,
    max_ledger_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    decided bigint DEFAULT 0 NOT NULL,
    approved bigint DEFAULT 0 NOT NULL,
    passed_over bigint DEFAULT 0 NOT NULL,
    CONSTRAINT decision_batch_action_valid CHECK ((action = ANY (ARRAY['certify'::text, 'reject'::text, 'revoke'::text])))
);


--
-- Name: TABLE decision_batch; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.decision_batch IS 'A bulk decision (certify_where, reject_where, or the revocation of a batch): its filter, the steward, and counts.';


--
-- Name: COLUMN decision_batch.max_ledger_id; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.decision_batch.max_ledger_id IS 'The newest entry when the batch was opened: entries recorded later are not part of it.';


--
-- Name: COLUMN decision_batch.passed_over; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.decision_batch.passed_over IS 'Matching entries left as they were: decided by someone else meanwhile, or in conflict (the target changed since).';


--
-- Name: certify_where(jsonb, text, text, integer, bigint); Type: PROCEDURE; Schema: integration; Owner: -
--

CREATE PROCEDURE integration.certify_where(IN p_filter jsonb, IN p_notes text DEFAULT NULL::text, IN p_steward text DEFAULT NULL::text, IN p_chunk integer DEFAULT 5000, INOUT batch_id bigint DEFAULT NULL::bigint)
    LANGUAGE plpgsql
    AS $$
BEGIN
  batch_id := integration.open_batch('certify', p_filter, p_steward, p_notes, NULL);
  CALL integration.run_batch(batch_id, p_chunk);
END
$$;


--
-- Name: FUNCTION my_source_systems(p_role name); Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON FUNCTION integration.my_source_systems(p_role name) IS 'Source systems whose login_role is the calling role (or p_role, if the session may act as it); used by row-level security.';


--
-- Name: ledger; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.ledger (
    ledger_id bigint NOT NULL,
    target_table text NOT NULL,
    target_id uuid NOT NULL,
    ledger_aspect text NOT NULL,
    aspect_key text NOT NULL,
    source_system_key text NOT NULL,
    ledger_status text DEFAULT 'Pending'::text NOT NULL,
    value text,
    previous_value text,
    is_applied boolean DEFAULT false NOT NULL,
    applied_at timestamp with time zone,
    sync_item_id bigint,
    job_id bigint,
    source_timestamp timestamp with time zone,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    confirmed_at timestamp with time zone,
    certified_at timestamp with time zone,
    certified_by bigint,
    notes text,
    chain_seq bigint NOT NULL,
    row_hash bytea NOT NULL,
    chain_hash bytea NOT NULL,
    apply_seq bigint,
    hash_version smallint DEFAULT 2 NOT NULL,
    birth_status text,
    birth_apply_seq bigint,
    hold_reason text,
    match_rule text,
    match_score numeric(5,4),
    CONSTRAINT ledger_applied_has_applied_at CHECK (((NOT is_applied) OR (applied_at IS NOT NULL))),
    CONSTRAINT ledger_applied_has_apply_seq CHECK (((NOT is_applied) OR (apply_seq IS NOT NULL))),
    CONSTRAINT ledger_aspect_valid CHECK ((ledger_aspect = ANY (ARRAY['Field'::text, 'Record'::text, 'Relationship'::text]))),
    CONSTRAINT ledger_status_valid CHECK ((ledger_status = ANY (ARRAY['Pending'::text, 'Certified'::text, 'Rejected'::text, 'Revoked'::text])))
);


--
-- Name: COLUMN ledger.value; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.value IS 'The value as written: canonical code, cast by PostgreSQL to the column type and back to text.';


--
-- Name: COLUMN ledger.applied_at; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.applied_at IS 'When the value was written to the target (for people; ownership is ordered by apply_seq).';


--
-- Name: COLUMN ledger.confirmed_at; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.confirmed_at IS 'Last time the owning source re-sent this same value: the staleness clock.';


--
-- Name: COLUMN ledger.chain_seq; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.chain_seq IS 'Position in its target record''s chain (ledger rows and events together).';


--
-- Name: COLUMN ledger.row_hash; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.row_hash IS 'SHA-256 of the entry''s immutable content (integration.entry_digest).';


--
-- Name: COLUMN ledger.chain_hash; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.chain_hash IS 'The link that sealed the entry: SHA-256(previous link || row_hash of each element it sealed).';


--
-- Name: COLUMN ledger.apply_seq; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.apply_seq IS 'Order in which values were applied to their aspect, taken while the target row was locked: the highest applied, non-rejected, non-revoked entry owns the aspect.';


--
-- Name: COLUMN ledger.hash_version; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.hash_version IS 'How row_hash was computed: 1 (immutable content only; the state is attested by an event), 2 (content and the state at insert).';


--
-- Name: COLUMN ledger.birth_status; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.birth_status IS 'Version 2: the status the entry was written with (its state at insert; later states are in its events).';


--
-- Name: COLUMN ledger.birth_apply_seq; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.birth_apply_seq IS 'Version 2: the apply_seq the entry was written with; NULL when it was written unapplied (held).';


--
-- Name: COLUMN ledger.hold_reason; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.hold_reason IS 'Why the entry waits for a steward: on_certify, authority, confidence, not_auto_certified (applied, awaiting certification) or proposal.';


--
-- Name: COLUMN ledger.match_rule; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger.match_rule IS 'For an identity entry: the match rule that linked the record, with match_score.';


--
-- Name: FUNCTION prune_jobs(p_older_than interval, p_batch integer, p_include_failed boolean); Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON FUNCTION integration.prune_jobs(p_older_than interval, p_batch integer, p_include_failed boolean) IS 'Retention: removes up to p_batch items of finished jobs older than p_older_than, and those jobs once empty; call until more is false. Keeps jobs whose failed items wait for requeue_failed unless p_include_failed. Never touches the ledger.';


--
-- Name: reject_where(jsonb, text, text, text, integer, bigint); Type: PROCEDURE; Schema: integration; Owner: -
--

CREATE PROCEDURE integration.reject_where(IN p_filter jsonb, IN p_reason_code text DEFAULT NULL::text, IN p_notes text DEFAULT NULL::text, IN p_steward text DEFAULT NULL::text, IN p_chunk integer DEFAULT 5000, INOUT batch_id bigint DEFAULT NULL::bigint)
    LANGUAGE plpgsql
    AS $$
BEGIN
  batch_id := integration.open_batch('reject', p_filter, p_steward, p_notes, p_reason_code);
  CALL integration.run_batch(batch_id, p_chunk);
END
$$;


--
-- Name: revoke_batch(bigint, text, text, integer, bigint); Type: PROCEDURE; Schema: integration; Owner: -
--

CREATE PROCEDURE integration.revoke_batch(IN p_batch bigint, IN p_notes text DEFAULT NULL::text, IN p_steward text DEFAULT NULL::text, IN p_chunk integer DEFAULT 5000, INOUT batch_id bigint DEFAULT NULL::bigint)
    LANGUAGE plpgsql
    AS $$
BEGIN
  batch_id := integration.open_batch('revoke', jsonb_build_object('batch', p_batch), p_steward, p_notes, NULL);
  CALL integration.run_batch(batch_id, p_chunk);
END
$$;


--
-- Name: run_batch(bigint, integer); Type: PROCEDURE; Schema: integration; Owner: -
--

CREATE PROCEDURE integration.run_batch(IN p_batch bigint, IN p_chunk integer DEFAULT 5000)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: ledger_event; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.ledger_event (
    event_id bigint NOT NULL,
    ledger_id bigint NOT NULL,
    from_status text,
    to_status text NOT NULL,
    actor text NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    notes text,
    acting_role name DEFAULT SESSION_USER NOT NULL,
    apply_seq bigint,
    chain_seq bigint NOT NULL,
    row_hash bytea NOT NULL,
    chain_hash bytea NOT NULL,
    hash_version smallint DEFAULT 2 NOT NULL,
    kind text DEFAULT 'status'::text NOT NULL,
    target_note text,
    batch_id bigint,
    reason_code text,
    after_applied boolean,
    after_apply_seq bigint,
    after_applied_at timestamp with time zone,
    after_confirmed_at timestamp with time zone,
    after_certified_at timestamp with time zone,
    after_certified_by bigint,
    CONSTRAINT ledger_event_kind_valid CHECK ((kind = ANY (ARRAY['status'::text, 'approval'::text, 'confirmation'::text, 'proposal'::text, 'restoration'::text, 'attestation'::text, 'identity'::text])))
);


--
-- Name: COLUMN ledger_event.actor; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.actor IS 'The app_user acted for (user_name), or policy / worker.';


--
-- Name: COLUMN ledger_event.acting_role; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.acting_role IS 'The database login role (session_user) whose session caused the event.';


--
-- Name: COLUMN ledger_event.apply_seq; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.apply_seq IS 'When the event (re)applied the entry''s value to the target: the apply sequence it took.';


--
-- Name: COLUMN ledger_event.hash_version; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.hash_version IS 'How row_hash was computed: 1 (the event alone), 2 (the event and the entry''s whole state after it: to_status and the after_* columns).';


--
-- Name: COLUMN ledger_event.kind; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.kind IS 'status (a status change), approval (a first steward''s approval under four eyes), confirmation (the source re-sent the value: confirmed_at moved), proposal (a steward proposed the entry), restoration (revoke re-applied an earlier entry), attestation (state attested at the move to hash version 2), identity (a merge or unmerge moved the entry).';


--
-- Name: COLUMN ledger_event.target_note; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.target_note IS 'What the event did to the target, in the system''s words (set back, left alone, forced over a conflict); notes holds the person''s own words.';


--
-- Name: COLUMN ledger_event.batch_id; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.batch_id IS 'The steward decision batch the event belongs to (certify_where, reject_where), or NULL.';


--
-- Name: COLUMN ledger_event.reason_code; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.ledger_event.reason_code IS 'A rejection''s reason code (integration.reject_reason), or NULL.';


--
-- Name: app_user_user_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.app_user ALTER COLUMN user_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.app_user_user_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: apply_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

CREATE SEQUENCE integration.apply_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: VIEW aspect_owner; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON VIEW integration.aspect_owner IS 'Per (target_table, target_id, aspect_key): the owning ledger entry (integration.owner_entry) and its staleness clock.';


--
-- Name: commit_policy_policy_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.commit_policy ALTER COLUMN policy_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.commit_policy_policy_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: config_version; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.config_version (
    singleton boolean DEFAULT true NOT NULL,
    version bigint NOT NULL,
    CONSTRAINT config_version_one_row CHECK (singleton)
);


--
-- Name: decision_batch_batch_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.decision_batch ALTER COLUMN batch_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.decision_batch_batch_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: VIEW field_provenance; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON VIEW integration.field_provenance IS 'Per record and aspect: current value and the owning ledger entry (source, status, certified by and when).';


--
-- Name: identifier; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.identifier (
    identifier_id bigint NOT NULL,
    source_system_key text NOT NULL,
    target_table text NOT NULL,
    external_key text NOT NULL,
    target_id uuid NOT NULL,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: identifier_identifier_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.identifier ALTER COLUMN identifier_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.identifier_identifier_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: item_refusal; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.item_refusal (
    item_id bigint NOT NULL,
    job_id bigint NOT NULL,
    sql_state text NOT NULL,
    message text NOT NULL,
    detail text,
    hint text,
    context text,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE item_refusal; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.item_refusal IS 'The database''s full text about an item it refused (trigger, CHECK, foreign key): for stewards and operators; the item''s process_message names only the trigger or constraint, the field and the SQLSTATE.';


--
-- Name: job_submit_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

CREATE SEQUENCE integration.job_submit_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: job_submit_seq; Type: SEQUENCE OWNED BY; Schema: integration; Owner: -
--

ALTER SEQUENCE integration.job_submit_seq OWNED BY integration.sync_job.submit_seq;


--
-- Name: ledger_chain; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.ledger_chain (
    target_table text NOT NULL,
    target_id uuid NOT NULL,
    length bigint NOT NULL,
    head bytea NOT NULL
);


--
-- Name: TABLE ledger_chain; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.ledger_chain IS 'Head of each target record''s ledger chain: its length and newest link (see sql/code/ledger_guard.sql).';


--
-- Name: ledger_event_event_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.ledger_event ALTER COLUMN event_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.ledger_event_event_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: ledger_ledger_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.ledger ALTER COLUMN ledger_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.ledger_ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: ledger_link; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.ledger_link (
    txid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    link_id bigint NOT NULL,
    target_table text NOT NULL,
    target_id uuid NOT NULL,
    chain_seq bigint NOT NULL,
    link_hash bytea NOT NULL
);


--
-- Name: TABLE ledger_link; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.ledger_link IS 'Every chain link: the record, the chain position it seals up to, the link hash; appended to the Merkle log by integration.checkpoint().';


--
-- Name: ledger_link_link_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.ledger_link ALTER COLUMN link_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.ledger_link_link_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: worker; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.worker (
    worker_id text NOT NULL,
    host text NOT NULL,
    pid integer,
    version text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    slots integer NOT NULL,
    busy_slots integer DEFAULT 0 NOT NULL,
    jobs_held integer DEFAULT 0 NOT NULL,
    items_per_second real DEFAULT 0 NOT NULL,
    CONSTRAINT worker_busy_slots_range CHECK ((busy_slots >= 0)),
    CONSTRAINT worker_jobs_held_range CHECK ((jobs_held >= 0)),
    CONSTRAINT worker_slots_positive CHECK ((slots > 0))
);


--
-- Name: TABLE worker; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.worker IS 'Workers that are running (or were until expires_at): one row per worker id, renewed by its heartbeat; see integration.live_workers.';


--
-- Name: COLUMN worker.expires_at; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.worker.expires_at IS 'The row counts as gone after this: about one lease after the last heartbeat of a worker that died or lost the database.';


--
-- Name: COLUMN worker.busy_slots; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.worker.busy_slots IS 'Slots holding a claim at the last heartbeat; 0 means the worker was idle.';


--
-- Name: COLUMN worker.items_per_second; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.worker.items_per_second IS 'Items this worker processed per second since its previous heartbeat.';


--
-- Name: match_claim; Type: TABLE; Schema: integration; Owner: -
--

CREATE UNLOGGED TABLE integration.match_claim (
    claim_key bigint NOT NULL
);


--
-- Name: TABLE match_claim; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.match_claim IS 'Transient claims on normalised match keys that serialise transactions creating records a link rule would join (empty at rest).';


--
-- Name: match_key; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.match_key (
    rule_id bigint NOT NULL,
    target_id uuid NOT NULL,
    part smallint NOT NULL,
    normalised_key text NOT NULL,
    lookup text NOT NULL,
    CONSTRAINT match_key_lookup_valid CHECK ((lookup = ANY (ARRAY['value'::text, 'trigram'::text, 'none'::text])))
);


--
-- Name: TABLE match_key; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.match_key IS 'Per match rule and active record: its normalised key (part 0) and a similar rule''s blocks (part i: the key without field i), indexed for the matching.';


--
-- Name: match_rule; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.match_rule (
    rule_id bigint NOT NULL,
    target_table text NOT NULL,
    rule_name text NOT NULL,
    fields text[] NOT NULL,
    method text DEFAULT 'exact'::text NOT NULL,
    min_score real,
    action text DEFAULT 'suspect'::text NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    CONSTRAINT match_rule_action_valid CHECK ((action = ANY (ARRAY['link'::text, 'suspect'::text]))),
    CONSTRAINT match_rule_fields_count CHECK (((cardinality(fields) >= 1) AND (cardinality(fields) <= 8))),
    CONSTRAINT match_rule_method_valid CHECK ((method = ANY (ARRAY['exact'::text, 'similar'::text]))),
    CONSTRAINT match_rule_min_score_range CHECK (((min_score >= (0)::double precision) AND (min_score <= (1)::double precision))),
    CONSTRAINT match_rule_name_format CHECK ((rule_name ~ '^[a-z][a-z0-9_]*$'::text)),
    CONSTRAINT match_rule_similar_has_min_score CHECK (((method = 'exact'::text) OR (min_score IS NOT NULL)))
);


--
-- Name: TABLE match_rule; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.match_rule IS 'Identity resolution: how a new external key (without a target_id hint) finds an existing record of its table.';


--
-- Name: COLUMN match_rule.fields; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.match_rule.fields IS 'Target columns compared, with the values the new record arrives with; a rule does not apply to a record with an empty value for any of them.';


--
-- Name: COLUMN match_rule.method; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.match_rule.method IS 'exact: equal after normalising case, accents, punctuation and spacing; similar: trigram similarity (pg_trgm) of the normalised fields together.';


--
-- Name: COLUMN match_rule.min_score; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.match_rule.min_score IS 'similar: the lowest similarity (0..1) that counts as a candidate. exact rules score 1.';


--
-- Name: COLUMN match_rule.action; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.match_rule.action IS 'link: exactly one candidate links the new key to it; suspect: the record is created and the pair recorded in match_suspect.';


--
-- Name: match_rule_rule_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.match_rule ALTER COLUMN rule_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.match_rule_rule_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: match_suspect; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.match_suspect (
    suspect_id bigint NOT NULL,
    target_table text NOT NULL,
    target_id uuid NOT NULL,
    candidate_id uuid NOT NULL,
    rule_id bigint,
    rule_name text NOT NULL,
    score numeric(5,4) NOT NULL,
    source_system_key text,
    status text DEFAULT 'open'::text NOT NULL,
    found_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_at timestamp with time zone,
    decided_by text,
    notes text,
    merge_id bigint,
    CONSTRAINT match_suspect_status_valid CHECK ((status = ANY (ARRAY['open'::text, 'merged'::text, 'dismissed'::text]))),
    CONSTRAINT match_suspect_two_records CHECK ((target_id <> candidate_id))
);


--
-- Name: TABLE match_suspect; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.match_suspect IS 'Pairs of records that may be the same (a suspect rule, several link candidates): open until a steward merges or dismisses them.';


--
-- Name: COLUMN match_suspect.target_id; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.match_suspect.target_id IS 'The record created for a new external key.';


--
-- Name: COLUMN match_suspect.candidate_id; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.match_suspect.candidate_id IS 'The record it looked like.';


--
-- Name: COLUMN match_suspect.source_system_key; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.match_suspect.source_system_key IS 'The source whose new key created target_id.';


--
-- Name: match_suspect_suspect_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.match_suspect ALTER COLUMN suspect_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.match_suspect_suspect_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: merkle_checkpoint; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.merkle_checkpoint (
    tree_size bigint NOT NULL,
    root bytea NOT NULL,
    horizon xid8 NOT NULL,
    taken_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: merkle_leaf; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.merkle_leaf (
    leaf_index bigint NOT NULL,
    txid xid8 NOT NULL,
    link_id bigint NOT NULL,
    leaf_hash bytea NOT NULL
);


--
-- Name: merkle_node; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.merkle_node (
    level smallint NOT NULL,
    node_index bigint NOT NULL,
    hash bytea NOT NULL
);


--
-- Name: reject_reason; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.reject_reason (
    reason_code text NOT NULL,
    description text NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    CONSTRAINT reject_reason_code_format CHECK ((reason_code ~ '^[a-z][a-z0-9_]*$'::text))
);


--
-- Name: TABLE reject_reason; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.reject_reason IS 'Reasons a steward gives when rejecting a value (integration.reject, reject_where); upstreams read them in integration.my_decisions.';


--
-- Name: VIEW my_decisions; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON VIEW integration.my_decisions IS 'For an upstream login: stewards'' decisions on its own values (Certified, Rejected with reason, Revoked, Approved), by its own record keys.';


--
-- Name: record_merge; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.record_merge (
    merge_id bigint NOT NULL,
    target_table text NOT NULL,
    survivor_id uuid NOT NULL,
    merged_id uuid NOT NULL,
    steward text NOT NULL,
    acting_role name DEFAULT SESSION_USER NOT NULL,
    notes text,
    merged_at timestamp with time zone DEFAULT now() NOT NULL,
    identifiers bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    entries bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    unmerged_at timestamp with time zone,
    unmerged_by text,
    unmerge_notes text,
    CONSTRAINT record_merge_two_records CHECK ((survivor_id <> merged_id))
);


--
-- Name: TABLE record_merge; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.record_merge IS 'Steward merges (integration.merge): survivor and merged record, the identifiers moved and the ledger entries written; unmerged_* once undone.';


--
-- Name: COLUMN record_merge.identifiers; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.record_merge.identifiers IS 'The identifier rows moved from the merged record to the survivor.';


--
-- Name: COLUMN record_merge.entries; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.record_merge.entries IS 'The ledger entries the merge wrote (settled values, repointed relationships, moved identifiers, the deactivation).';


--
-- Name: record_merge_merge_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.record_merge ALTER COLUMN merge_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.record_merge_merge_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: VIEW review_queue; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON VIEW integration.review_queue IS 'Pending ledger entries: held or applied, why (hold_reason, reason), proposed/current/previous value (related records by external key), the owner''s source, the record''s external keys, has_conflict (certify needs force), age.';


--
-- Name: source_order; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.source_order (
    target_table text NOT NULL,
    target_id uuid NOT NULL,
    aspect_key text NOT NULL,
    source_system_key text NOT NULL,
    ts_max timestamp with time zone,
    ts_submit bigint,
    ts_seq bigint,
    any_submit bigint NOT NULL,
    any_seq bigint NOT NULL,
    nots_submit bigint,
    nots_seq bigint
);


--
-- Name: TABLE source_order; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.source_order IS 'Per aspect and source: the newest statement (source_timestamp, submission) that source made about it; see sql/code/aspects.sql.';


--
-- Name: source_system; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.source_system (
    source_system_key text NOT NULL,
    display_name text NOT NULL,
    login_role name,
    is_active boolean DEFAULT true NOT NULL,
    CONSTRAINT source_system_key_not_blank CHECK ((btrim(source_system_key) <> ''::text))
);


--
-- Name: TABLE source_system; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.source_system IS 'External systems that submit inbound jobs and receive outbound updates.';


--
-- Name: VIEW stale_values; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON VIEW integration.stale_values IS 'Certified values owning their aspect whose staleness clock is older than the policy''s stale_after_days.';


--
-- Name: subscription; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.subscription (
    subscription_id bigint NOT NULL,
    source_system_key text NOT NULL,
    target_table text NOT NULL,
    field_names text[]
);


--
-- Name: COLUMN subscription.field_names; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.subscription.field_names IS 'NULL = all fields.';


--
-- Name: subscription_subscription_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.subscription ALTER COLUMN subscription_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.subscription_subscription_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: VIEW suspect_queue; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON VIEW integration.suspect_queue IS 'Suspect pairs (match_suspect) with both records'' external keys and rule fields; status open, merged or dismissed.';


--
-- Name: sync_item; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.sync_item (
    item_id bigint NOT NULL,
    job_id bigint NOT NULL,
    seq bigint DEFAULT 0 NOT NULL,
    external_key text,
    target_table text,
    operation text DEFAULT 'Set'::text NOT NULL,
    field_name text,
    new_value text,
    source_timestamp timestamp with time zone,
    target_id uuid,
    item_status text DEFAULT 'Pending'::text NOT NULL,
    applied_at timestamp with time zone,
    process_message text,
    ledger_id bigint,
    CONSTRAINT sync_item_external_key_required CHECK (COALESCE((external_key ~ '[^[:space:]]'::text), false)),
    CONSTRAINT sync_item_field_name_required_for_set_and_link CHECK (((operation = 'Delete'::text) OR COALESCE((field_name ~ '[^[:space:]]'::text), false))),
    CONSTRAINT sync_item_operation_valid CHECK ((operation = ANY (ARRAY['Set'::text, 'Link'::text, 'Delete'::text]))),
    CONSTRAINT sync_item_status_valid CHECK ((item_status = ANY (ARRAY['Pending'::text, 'Applied'::text, 'Held'::text, 'Skipped'::text, 'Failed'::text])))
);


--
-- Name: COLUMN sync_item.seq; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_item.seq IS 'Order within the job; ties by item_id.';


--
-- Name: COLUMN sync_item.target_id; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON COLUMN integration.sync_item.target_id IS 'Input: optional hint linking a new external key to an existing record. Result: the resolved record.';


--
-- Name: sync_item_item_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.sync_item ALTER COLUMN item_id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME integration.sync_item_item_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: sync_job_job_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.sync_job ALTER COLUMN job_id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME integration.sync_job_job_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: target_table; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.target_table (
    target_table text NOT NULL,
    id_column text DEFAULT 'id'::text NOT NULL,
    active_column text,
    is_active boolean DEFAULT true NOT NULL,
    CONSTRAINT target_table_is_schema_qualified_lowercase CHECK ((target_table ~ '^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$'::text)),
    CONSTRAINT target_table_not_a_system_schema CHECK ((split_part(target_table, '.'::text, 1) <> ALL (ARRAY['integration'::text, 'pg_catalog'::text, 'information_schema'::text, 'pg_toast'::text])))
);


--
-- Name: TABLE target_table; Type: COMMENT; Schema: integration; Owner: -
--

COMMENT ON TABLE integration.target_table IS 'The only tables the worker ever writes. id_column is a uuid key; active_column (boolean) is cleared by Delete items, NULL refuses Delete.';


--
-- Name: value_map; Type: TABLE; Schema: integration; Owner: -
--

CREATE TABLE integration.value_map (
    map_id bigint NOT NULL,
    source_system_key text NOT NULL,
    code_list text NOT NULL,
    source_code text NOT NULL,
    source_label text,
    canonical_code_value text NOT NULL,
    confidence numeric DEFAULT 1 NOT NULL,
    CONSTRAINT value_map_confidence_range CHECK (((confidence >= (0)::numeric) AND (confidence <= (1)::numeric)))
);


--
-- Name: value_map_map_id_seq; Type: SEQUENCE; Schema: integration; Owner: -
--

ALTER TABLE integration.value_map ALTER COLUMN map_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME integration.value_map_map_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: sync_job submit_seq; Type: DEFAULT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.sync_job ALTER COLUMN submit_seq SET DEFAULT nextval('integration.job_submit_seq'::regclass);


--
-- Name: app_user app_user_login_role_unique; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.app_user
    ADD CONSTRAINT app_user_login_role_unique UNIQUE (login_role);


--
-- Name: app_user app_user_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.app_user
    ADD CONSTRAINT app_user_pkey PRIMARY KEY (user_id);


--
-- Name: app_user app_user_user_name_unique; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.app_user
    ADD CONSTRAINT app_user_user_name_unique UNIQUE (user_name);


--
-- Name: commit_policy commit_policy_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.commit_policy
    ADD CONSTRAINT commit_policy_pkey PRIMARY KEY (policy_id);


--
-- Name: commit_policy commit_policy_table_field_unique; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.commit_policy
    ADD CONSTRAINT commit_policy_table_field_unique UNIQUE NULLS NOT DISTINCT (target_table, field_name);


--
-- Name: config_version config_version_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.config_version
    ADD CONSTRAINT config_version_pkey PRIMARY KEY (singleton);


--
-- Name: decision_batch decision_batch_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.decision_batch
    ADD CONSTRAINT decision_batch_pkey PRIMARY KEY (batch_id);


--
-- Name: identifier identifier_one_per_source_and_record; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.identifier
    ADD CONSTRAINT identifier_one_per_source_and_record UNIQUE (target_id, target_table, source_system_key);


--
-- Name: identifier identifier_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.identifier
    ADD CONSTRAINT identifier_pkey PRIMARY KEY (identifier_id);


--
-- Name: identifier identifier_source_table_external_key_unique; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.identifier
    ADD CONSTRAINT identifier_source_table_external_key_unique UNIQUE (source_system_key, target_table, external_key);


--
-- Name: item_refusal item_refusal_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.item_refusal
    ADD CONSTRAINT item_refusal_pkey PRIMARY KEY (item_id);


--
-- Name: ledger_chain ledger_chain_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.ledger_chain
    ADD CONSTRAINT ledger_chain_pkey PRIMARY KEY (target_table, target_id);


--
-- Name: ledger_event ledger_event_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.ledger_event
    ADD CONSTRAINT ledger_event_pkey PRIMARY KEY (event_id);


--
-- Name: ledger_link ledger_link_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.ledger_link
    ADD CONSTRAINT ledger_link_pkey PRIMARY KEY (txid, link_id);


--
-- Name: ledger ledger_one_row_per_item; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.ledger
    ADD CONSTRAINT ledger_one_row_per_item UNIQUE (sync_item_id);


--
-- Name: ledger ledger_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.ledger
    ADD CONSTRAINT ledger_pkey PRIMARY KEY (ledger_id);


--
-- Name: match_claim match_claim_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_claim
    ADD CONSTRAINT match_claim_pkey PRIMARY KEY (claim_key);


--
-- Name: match_key match_key_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_key
    ADD CONSTRAINT match_key_pkey PRIMARY KEY (rule_id, target_id, part);


--
-- Name: match_rule match_rule_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_rule
    ADD CONSTRAINT match_rule_pkey PRIMARY KEY (rule_id);


--
-- Name: match_rule match_rule_table_name_unique; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_rule
    ADD CONSTRAINT match_rule_table_name_unique UNIQUE (target_table, rule_name);


--
-- Name: match_suspect match_suspect_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_suspect
    ADD CONSTRAINT match_suspect_pkey PRIMARY KEY (suspect_id);


--
-- Name: merkle_checkpoint merkle_checkpoint_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.merkle_checkpoint
    ADD CONSTRAINT merkle_checkpoint_pkey PRIMARY KEY (tree_size);


--
-- Name: merkle_leaf merkle_leaf_once_per_link; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.merkle_leaf
    ADD CONSTRAINT merkle_leaf_once_per_link UNIQUE (txid, link_id);


--
-- Name: merkle_leaf merkle_leaf_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.merkle_leaf
    ADD CONSTRAINT merkle_leaf_pkey PRIMARY KEY (leaf_index);


--
-- Name: merkle_node merkle_node_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.merkle_node
    ADD CONSTRAINT merkle_node_pkey PRIMARY KEY (level, node_index);


--
-- Name: record_merge record_merge_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.record_merge
    ADD CONSTRAINT record_merge_pkey PRIMARY KEY (merge_id);


--
-- Name: reject_reason reject_reason_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.reject_reason
    ADD CONSTRAINT reject_reason_pkey PRIMARY KEY (reason_code);


--
-- Name: source_order source_order_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.source_order
    ADD CONSTRAINT source_order_pkey PRIMARY KEY (target_table, target_id, aspect_key, source_system_key);


--
-- Name: source_system source_system_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.source_system
    ADD CONSTRAINT source_system_pkey PRIMARY KEY (source_system_key);


--
-- Name: subscription subscription_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.subscription
    ADD CONSTRAINT subscription_pkey PRIMARY KEY (subscription_id);


--
-- Name: subscription subscription_source_table_unique; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.subscription
    ADD CONSTRAINT subscription_source_table_unique UNIQUE (source_system_key, target_table);


--
-- Name: sync_item sync_item_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.sync_item
    ADD CONSTRAINT sync_item_pkey PRIMARY KEY (item_id);


--
-- Name: sync_job sync_job_job_key_unique_per_source; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.sync_job
    ADD CONSTRAINT sync_job_job_key_unique_per_source UNIQUE (source_system_key, job_key);


--
-- Name: sync_job sync_job_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.sync_job
    ADD CONSTRAINT sync_job_pkey PRIMARY KEY (job_id);


--
-- Name: target_table target_table_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.target_table
    ADD CONSTRAINT target_table_pkey PRIMARY KEY (target_table);


--
-- Name: value_map value_map_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.value_map
    ADD CONSTRAINT value_map_pkey PRIMARY KEY (map_id);


--
-- Name: value_map value_map_source_list_code_unique; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.value_map
    ADD CONSTRAINT value_map_source_list_code_unique UNIQUE (source_system_key, code_list, source_code);


--
-- Name: worker worker_pkey; Type: CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.worker
    ADD CONSTRAINT worker_pkey PRIMARY KEY (worker_id);


--
-- Name: item_refusal_job; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX item_refusal_job ON integration.item_refusal USING btree (job_id);


--
-- Name: ledger_by_aspect; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX ledger_by_aspect ON integration.ledger USING btree (target_table, target_id, aspect_key, apply_seq);


--
-- Name: ledger_by_job; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX ledger_by_job ON integration.ledger USING btree (job_id);


--
-- Name: ledger_event_by_batch; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX ledger_event_by_batch ON integration.ledger_event USING btree (batch_id) WHERE (batch_id IS NOT NULL);


--
-- Name: ledger_event_by_ledger; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX ledger_event_by_ledger ON integration.ledger_event USING btree (ledger_id, event_id);


--
-- Name: ledger_held; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX ledger_held ON integration.ledger USING btree (target_table, target_id, aspect_key, source_system_key) WHERE ((ledger_status = 'Pending'::text) AND (NOT is_applied));


--
-- Name: ledger_pending_by_id; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX ledger_pending_by_id ON integration.ledger USING btree (ledger_id) WHERE (ledger_status = 'Pending'::text);


--
-- Name: ledger_pending_by_table; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX ledger_pending_by_table ON integration.ledger USING btree (target_table, recorded_at) WHERE (ledger_status = 'Pending'::text);


--
-- Name: match_key_by_trigram; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX match_key_by_trigram ON integration.match_key USING gin (normalised_key public.gin_trgm_ops) WITH (fastupdate=off) WHERE (lookup = 'trigram'::text);


--
-- Name: match_key_by_value; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX match_key_by_value ON integration.match_key USING btree (rule_id, normalised_key) WHERE (lookup = 'value'::text);


--
-- Name: match_suspect_by_merge; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX match_suspect_by_merge ON integration.match_suspect USING btree (merge_id) WHERE (merge_id IS NOT NULL);


--
-- Name: match_suspect_open; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX match_suspect_open ON integration.match_suspect USING btree (found_at, suspect_id) WHERE (status = 'open'::text);


--
-- Name: match_suspect_pair; Type: INDEX; Schema: integration; Owner: -
--

CREATE UNIQUE INDEX match_suspect_pair ON integration.match_suspect USING btree (target_table, LEAST(target_id, candidate_id), GREATEST(target_id, candidate_id));


--
-- Name: record_merge_open_by_survivor; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX record_merge_open_by_survivor ON integration.record_merge USING btree (target_table, survivor_id) WHERE (unmerged_at IS NULL);


--
-- Name: record_merge_open_per_merged; Type: INDEX; Schema: integration; Owner: -
--

CREATE UNIQUE INDEX record_merge_open_per_merged ON integration.record_merge USING btree (target_table, merged_id) WHERE (unmerged_at IS NULL);


--
-- Name: sync_item_by_job_status; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_item_by_job_status ON integration.sync_item USING btree (job_id, item_status);


--
-- Name: sync_item_failed; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_item_failed ON integration.sync_item USING btree (job_id) WHERE (item_status = 'Failed'::text);


--
-- Name: sync_item_pending; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_item_pending ON integration.sync_item USING btree (job_id, seq, item_id) WHERE (item_status = 'Pending'::text);


--
-- Name: sync_job_by_claim; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_job_by_claim ON integration.sync_job USING btree (claim_token) WHERE (claim_token IS NOT NULL);


--
-- Name: sync_job_claim; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_job_claim ON integration.sync_job USING btree (priority DESC, submitted_at, job_id) WHERE ((direction = 'Inbound'::text) AND (job_status = ANY (ARRAY['Submitted'::text, 'Processing'::text])));


--
-- Name: sync_job_finished_by_age; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_job_finished_by_age ON integration.sync_job USING btree (COALESCE(finished_at, submitted_at), job_id) WHERE (job_status = ANY (ARRAY['Completed'::text, 'CompletedWithErrors'::text, 'Failed'::text, 'Cancelled'::text]));


--
-- Name: sync_job_open_by_status; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_job_open_by_status ON integration.sync_job USING btree (direction, job_status) WHERE (job_status = ANY (ARRAY['Draft'::text, 'Submitted'::text, 'Processing'::text, 'Failed'::text]));


--
-- Name: sync_job_outbound_claim; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX sync_job_outbound_claim ON integration.sync_job USING btree (source_system_key, submitted_at, job_id) WHERE ((direction = 'Outbound'::text) AND (job_status = ANY (ARRAY['Draft'::text, 'Submitted'::text, 'Processing'::text])));


--
-- Name: sync_job_outbound_per_transaction; Type: INDEX; Schema: integration; Owner: -
--

CREATE UNIQUE INDEX sync_job_outbound_per_transaction ON integration.sync_job USING btree (source_system_key, outbound_txid) WHERE ((direction = 'Outbound'::text) AND (outbound_txid IS NOT NULL));


--
-- Name: value_map_reverse; Type: INDEX; Schema: integration; Owner: -
--

CREATE INDEX value_map_reverse ON integration.value_map USING btree (source_system_key, code_list, canonical_code_value);


--
-- Name: commit_policy commit_policy_config_version; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER commit_policy_config_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON integration.commit_policy FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();


--
-- Name: ledger ledger_check_update; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER ledger_check_update BEFORE UPDATE ON integration.ledger FOR EACH ROW EXECUTE FUNCTION integration.check_ledger_update();


--
-- Name: ledger ledger_check_updater; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER ledger_check_updater BEFORE UPDATE ON integration.ledger FOR EACH STATEMENT EXECUTE FUNCTION integration.check_ledger_updater();


--
-- Name: ledger_event ledger_event_refuse_delete; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER ledger_event_refuse_delete BEFORE DELETE ON integration.ledger_event FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();

ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_delete;


--
-- Name: ledger_event ledger_event_refuse_truncate; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER ledger_event_refuse_truncate BEFORE TRUNCATE ON integration.ledger_event FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();

ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_truncate;


--
-- Name: ledger_event ledger_event_refuse_update; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER ledger_event_refuse_update BEFORE UPDATE ON integration.ledger_event FOR EACH ROW EXECUTE FUNCTION integration.refuse_ledger_event_update();

ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_update;


--
-- Name: ledger ledger_refuse_delete; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER ledger_refuse_delete BEFORE DELETE ON integration.ledger FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();

ALTER TABLE integration.ledger ENABLE ALWAYS TRIGGER ledger_refuse_delete;


--
-- Name: ledger ledger_refuse_truncate; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER ledger_refuse_truncate BEFORE TRUNCATE ON integration.ledger FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();

ALTER TABLE integration.ledger ENABLE ALWAYS TRIGGER ledger_refuse_truncate;


--
-- Name: match_rule match_rule_check; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER match_rule_check BEFORE INSERT OR UPDATE ON integration.match_rule FOR EACH ROW EXECUTE FUNCTION integration.check_match_rule();


--
-- Name: match_rule match_rule_config_version; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER match_rule_config_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON integration.match_rule FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();


--
-- Name: match_rule match_rule_keys; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER match_rule_keys AFTER INSERT OR UPDATE ON integration.match_rule FOR EACH ROW EXECUTE FUNCTION integration.match_rule_keys();


--
-- Name: source_system source_system_config_version; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER source_system_config_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON integration.source_system FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();


--
-- Name: subscription subscription_config_version; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER subscription_config_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON integration.subscription FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();


--
-- Name: sync_item sync_item_job_exists; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_item_job_exists AFTER INSERT ON integration.sync_item REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION integration.check_item_jobs();


--
-- Name: sync_item sync_item_job_fixed; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_item_job_fixed BEFORE UPDATE OF job_id ON integration.sync_item FOR EACH ROW WHEN ((old.job_id IS DISTINCT FROM new.job_id)) EXECUTE FUNCTION integration.refuse_job_id_change();


--
-- Name: sync_job sync_job_id_fixed; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_job_id_fixed BEFORE UPDATE OF job_id ON integration.sync_job FOR EACH ROW WHEN ((old.job_id IS DISTINCT FROM new.job_id)) EXECUTE FUNCTION integration.refuse_job_id_change();


--
-- Name: sync_job sync_job_items_gone; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_job_items_gone AFTER DELETE ON integration.sync_job REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION integration.check_jobs_deleted();


--
-- Name: sync_job sync_job_notify_inserted; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_job_notify_inserted AFTER INSERT ON integration.sync_job FOR EACH ROW WHEN (((new.direction = 'Inbound'::text) AND (new.job_status = 'Submitted'::text))) EXECUTE FUNCTION integration.notify_job_submitted();


--
-- Name: sync_job sync_job_notify_submitted; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_job_notify_submitted AFTER UPDATE OF job_status ON integration.sync_job FOR EACH ROW WHEN (((new.direction = 'Inbound'::text) AND (new.job_status = 'Submitted'::text) AND (old.job_status <> 'Submitted'::text))) EXECUTE FUNCTION integration.notify_job_submitted();


--
-- Name: sync_job sync_job_stamp_submitted_at; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_job_stamp_submitted_at BEFORE UPDATE OF job_status ON integration.sync_job FOR EACH ROW WHEN (((old.job_status = 'Draft'::text) AND (new.job_status = 'Submitted'::text))) EXECUTE FUNCTION integration.stamp_submitted_at();


--
-- Name: sync_job sync_job_truncated_with_items; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER sync_job_truncated_with_items AFTER TRUNCATE ON integration.sync_job FOR EACH STATEMENT EXECUTE FUNCTION integration.check_jobs_truncated();


--
-- Name: target_table target_table_config_version; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER target_table_config_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON integration.target_table FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();


--
-- Name: value_map value_map_config_version; Type: TRIGGER; Schema: integration; Owner: -
--

CREATE TRIGGER value_map_config_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON integration.value_map FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();


--
-- Name: commit_policy commit_policy_target_table_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.commit_policy
    ADD CONSTRAINT commit_policy_target_table_fkey FOREIGN KEY (target_table) REFERENCES integration.target_table(target_table);


--
-- Name: decision_batch decision_batch_reason_code_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.decision_batch
    ADD CONSTRAINT decision_batch_reason_code_fkey FOREIGN KEY (reason_code) REFERENCES integration.reject_reason(reason_code);


--
-- Name: identifier identifier_source_system_key_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.identifier
    ADD CONSTRAINT identifier_source_system_key_fkey FOREIGN KEY (source_system_key) REFERENCES integration.source_system(source_system_key);


--
-- Name: identifier identifier_target_table_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.identifier
    ADD CONSTRAINT identifier_target_table_fkey FOREIGN KEY (target_table) REFERENCES integration.target_table(target_table);


--
-- Name: ledger ledger_certified_by_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.ledger
    ADD CONSTRAINT ledger_certified_by_fkey FOREIGN KEY (certified_by) REFERENCES integration.app_user(user_id);


--
-- Name: ledger_event ledger_event_ledger_id_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.ledger_event
    ADD CONSTRAINT ledger_event_ledger_id_fkey FOREIGN KEY (ledger_id) REFERENCES integration.ledger(ledger_id);


--
-- Name: match_key match_key_rule_id_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_key
    ADD CONSTRAINT match_key_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES integration.match_rule(rule_id) ON DELETE CASCADE;


--
-- Name: match_rule match_rule_target_table_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_rule
    ADD CONSTRAINT match_rule_target_table_fkey FOREIGN KEY (target_table) REFERENCES integration.target_table(target_table);


--
-- Name: match_suspect match_suspect_merge_id_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_suspect
    ADD CONSTRAINT match_suspect_merge_id_fkey FOREIGN KEY (merge_id) REFERENCES integration.record_merge(merge_id);


--
-- Name: match_suspect match_suspect_rule_id_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_suspect
    ADD CONSTRAINT match_suspect_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES integration.match_rule(rule_id) ON DELETE SET NULL;


--
-- Name: match_suspect match_suspect_target_table_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.match_suspect
    ADD CONSTRAINT match_suspect_target_table_fkey FOREIGN KEY (target_table) REFERENCES integration.target_table(target_table);


--
-- Name: record_merge record_merge_target_table_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.record_merge
    ADD CONSTRAINT record_merge_target_table_fkey FOREIGN KEY (target_table) REFERENCES integration.target_table(target_table);


--
-- Name: subscription subscription_source_system_key_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.subscription
    ADD CONSTRAINT subscription_source_system_key_fkey FOREIGN KEY (source_system_key) REFERENCES integration.source_system(source_system_key);


--
-- Name: subscription subscription_target_table_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.subscription
    ADD CONSTRAINT subscription_target_table_fkey FOREIGN KEY (target_table) REFERENCES integration.target_table(target_table);


--
-- Name: value_map value_map_source_system_key_fkey; Type: FK CONSTRAINT; Schema: integration; Owner: -
--

ALTER TABLE ONLY integration.value_map
    ADD CONSTRAINT value_map_source_system_key_fkey FOREIGN KEY (source_system_key) REFERENCES integration.source_system(source_system_key);


--
-- Name: sync_item; Type: ROW SECURITY; Schema: integration; Owner: -
--

ALTER TABLE integration.sync_item ENABLE ROW LEVEL SECURITY;

--
-- Name: sync_item sync_item_connector_deliver_own; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_item_connector_deliver_own ON integration.sync_item FOR UPDATE TO syncledger_connector USING ((EXISTS ( SELECT
   FROM integration.sync_job j
  WHERE ((j.job_id = sync_item.job_id) AND (j.source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (j.direction = 'Outbound'::text))))) WITH CHECK ((EXISTS ( SELECT
   FROM integration.sync_job j
  WHERE ((j.job_id = sync_item.job_id) AND (j.source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (j.direction = 'Outbound'::text)))));


--
-- Name: sync_item sync_item_connector_own_outbound; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_item_connector_own_outbound ON integration.sync_item FOR SELECT TO syncledger_connector USING ((EXISTS ( SELECT
   FROM integration.sync_job j
  WHERE ((j.job_id = sync_item.job_id) AND (j.source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (j.direction = 'Outbound'::text)))));


--
-- Name: sync_item sync_item_read_all; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_item_read_all ON integration.sync_item FOR SELECT TO syncledger_steward, syncledger_admin USING (true);


--
-- Name: sync_item sync_item_upstream_read_own; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_item_upstream_read_own ON integration.sync_item FOR SELECT TO syncledger_upstream USING ((EXISTS ( SELECT
   FROM integration.sync_job j
  WHERE ((j.job_id = sync_item.job_id) AND (j.source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[]))))));


--
-- Name: sync_item sync_item_upstream_submit_own; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_item_upstream_submit_own ON integration.sync_item FOR INSERT TO syncledger_upstream WITH CHECK (((item_status = 'Pending'::text) AND (EXISTS ( SELECT
   FROM integration.sync_job j
  WHERE ((j.job_id = sync_item.job_id) AND integration.job_takes_upstream_items(j.*, ( SELECT integration.my_source_systems() AS my_source_systems)))))));


--
-- Name: sync_item sync_item_worker; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_item_worker ON integration.sync_item TO syncledger_worker USING (true) WITH CHECK (true);


--
-- Name: sync_job; Type: ROW SECURITY; Schema: integration; Owner: -
--

ALTER TABLE integration.sync_job ENABLE ROW LEVEL SECURITY;

--
-- Name: sync_job sync_job_connector_deliver_own; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_job_connector_deliver_own ON integration.sync_job FOR UPDATE TO syncledger_connector USING (((source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (direction = 'Outbound'::text))) WITH CHECK (((source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (direction = 'Outbound'::text)));


--
-- Name: sync_job sync_job_connector_own_outbound; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_job_connector_own_outbound ON integration.sync_job FOR SELECT TO syncledger_connector USING (((source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (direction = 'Outbound'::text)));


--
-- Name: sync_job sync_job_read_all; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_job_read_all ON integration.sync_job FOR SELECT TO syncledger_steward, syncledger_admin USING (true);


--
-- Name: sync_job sync_job_upstream_read_own; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_job_upstream_read_own ON integration.sync_job FOR SELECT TO syncledger_upstream USING ((source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])));


--
-- Name: sync_job sync_job_upstream_release_draft; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_job_upstream_release_draft ON integration.sync_job FOR UPDATE TO syncledger_upstream USING (((source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (direction = 'Inbound'::text) AND (job_status = 'Draft'::text))) WITH CHECK (((source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (direction = 'Inbound'::text) AND (job_status = ANY (ARRAY['Draft'::text, 'Submitted'::text]))));


--
-- Name: sync_job sync_job_upstream_submit_own; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_job_upstream_submit_own ON integration.sync_job FOR INSERT TO syncledger_upstream WITH CHECK (((source_system_key = ANY (( SELECT integration.my_source_systems() AS my_source_systems)::text[])) AND (direction = 'Inbound'::text) AND (job_status = ANY (ARRAY['Draft'::text, 'Submitted'::text]))));


--
-- Name: sync_job sync_job_worker; Type: POLICY; Schema: integration; Owner: -
--

CREATE POLICY sync_job_worker ON integration.sync_job TO syncledger_worker USING (true) WITH CHECK (true);


--
-- Name: SCHEMA integration; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA integration TO syncledger_upstream;
GRANT USAGE ON SCHEMA integration TO syncledger_connector;
GRANT USAGE ON SCHEMA integration TO syncledger_worker;
GRANT USAGE ON SCHEMA integration TO syncledger_steward;
GRANT USAGE ON SCHEMA integration TO syncledger_admin;


--
-- Name: TABLE sync_job; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.sync_job TO syncledger_steward;
GRANT SELECT ON TABLE integration.sync_job TO syncledger_admin;
GRANT SELECT ON TABLE integration.sync_job TO syncledger_worker;
GRANT SELECT ON TABLE integration.sync_job TO syncledger_upstream;
GRANT SELECT ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.source_system_key; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(source_system_key) ON TABLE integration.sync_job TO syncledger_upstream;


--
-- Name: COLUMN sync_job.direction; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(direction) ON TABLE integration.sync_job TO syncledger_upstream;


--
-- Name: COLUMN sync_job.entity_type; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(entity_type) ON TABLE integration.sync_job TO syncledger_upstream;


--
-- Name: COLUMN sync_job.job_status; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(job_status),UPDATE(job_status) ON TABLE integration.sync_job TO syncledger_upstream;
GRANT UPDATE(job_status) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.job_key; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(job_key) ON TABLE integration.sync_job TO syncledger_upstream;


--
-- Name: COLUMN sync_job.priority; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(priority) ON TABLE integration.sync_job TO syncledger_upstream;


--
-- Name: COLUMN sync_job.started_at; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(started_at) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.finished_at; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(finished_at) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.attempts; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(attempts) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.lease_owner; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(lease_owner) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.lease_expires_at; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(lease_expires_at) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.run_after; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(run_after) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.last_error; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(last_error) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.items_total; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(items_total) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.items_applied; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(items_applied) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.items_held; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(items_held) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.items_skipped; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(items_skipped) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.items_failed; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(items_failed) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: COLUMN sync_job.claim_token; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(claim_token) ON TABLE integration.sync_job TO syncledger_connector;


--
-- Name: FUNCTION ack_outbound(p_job_id bigint, p_claim_token uuid); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.ack_outbound(p_job_id bigint, p_claim_token uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.ack_outbound(p_job_id bigint, p_claim_token uuid) TO syncledger_connector;


--
-- Name: TABLE app_user; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.app_user TO syncledger_steward;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE integration.app_user TO syncledger_admin;


--
-- Name: FUNCTION acting_user(p_steward text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.acting_user(p_steward text) FROM PUBLIC;


--
-- Name: FUNCTION add_staged_items(p_job bigint, p_role name); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.add_staged_items(p_job bigint, p_role name) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.add_staged_items(p_job bigint, p_role name) TO syncledger_upstream;


--
-- Name: FUNCTION apply_chunk(p_token uuid, p_jobs bigint[], p_creations jsonb, p_items jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.apply_chunk(p_token uuid, p_jobs bigint[], p_creations jsonb, p_items jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.apply_chunk(p_token uuid, p_jobs bigint[], p_creations jsonb, p_items jsonb) TO syncledger_worker;


--
-- Name: FUNCTION aspect_label(p_table text, p_id uuid, p_key text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.aspect_label(p_table text, p_id uuid, p_key text) FROM PUBLIC;


--
-- Name: TABLE commit_policy; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.commit_policy TO syncledger_steward;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE integration.commit_policy TO syncledger_admin;
GRANT SELECT ON TABLE integration.commit_policy TO syncledger_worker;


--
-- Name: FUNCTION aspect_policy(p_table text, p_aspect text, p_aspect_key text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.aspect_policy(p_table text, p_aspect text, p_aspect_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.aspect_policy(p_table text, p_aspect text, p_aspect_key text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.aspect_policy(p_table text, p_aspect text, p_aspect_key text) TO syncledger_admin;


--
-- Name: FUNCTION aspect_state(p_table text, p_id uuid, p_aspect text, p_aspect_key text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.aspect_state(p_table text, p_id uuid, p_aspect text, p_aspect_key text) FROM PUBLIC;


--
-- Name: TABLE decision_batch; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.decision_batch TO syncledger_steward;
GRANT SELECT ON TABLE integration.decision_batch TO syncledger_admin;


--
-- Name: FUNCTION batch_entries(b integration.decision_batch, p_after bigint, p_limit integer, p_part integer, p_parts integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.batch_entries(b integration.decision_batch, p_after bigint, p_limit integer, p_part integer, p_parts integer) FROM PUBLIC;


--
-- Name: FUNCTION bump_config_version(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.bump_config_version() FROM PUBLIC;


--
-- Name: FUNCTION canonical_values(tbl regclass, col name, vals text[], currents text[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.canonical_values(tbl regclass, col name, vals text[], currents text[]) FROM PUBLIC;


--
-- Name: FUNCTION cast_errors(tbl regclass, col name, vals text[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.cast_errors(tbl regclass, col name, vals text[]) FROM PUBLIC;


--
-- Name: FUNCTION certify(p_ledger_id bigint, p_steward text, p_notes text, p_force boolean); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.certify(p_ledger_id bigint, p_steward text, p_notes text, p_force boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.certify(p_ledger_id bigint, p_steward text, p_notes text, p_force boolean) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.certify(p_ledger_id bigint, p_steward text, p_notes text, p_force boolean) TO syncledger_admin;


--
-- Name: FUNCTION certify_round(p_ids bigint[], p_steward integration.app_user, p_notes text, p_force boolean, p_batch bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.certify_round(p_ids bigint[], p_steward integration.app_user, p_notes text, p_force boolean, p_batch bigint) FROM PUBLIC;


--
-- Name: PROCEDURE certify_where(IN p_filter jsonb, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON PROCEDURE integration.certify_where(IN p_filter jsonb, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) FROM PUBLIC;
GRANT ALL ON PROCEDURE integration.certify_where(IN p_filter jsonb, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) TO syncledger_steward;
GRANT ALL ON PROCEDURE integration.certify_where(IN p_filter jsonb, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) TO syncledger_admin;


--
-- Name: FUNCTION chain_append(p_tables text[], p_ids uuid[], p_digests bytea[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.chain_append(p_tables text[], p_ids uuid[], p_digests bytea[]) FROM PUBLIC;


--
-- Name: FUNCTION chain_genesis(p_table text, p_id uuid); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.chain_genesis(p_table text, p_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION check_item_jobs(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.check_item_jobs() FROM PUBLIC;


--
-- Name: FUNCTION check_jobs_deleted(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.check_jobs_deleted() FROM PUBLIC;


--
-- Name: FUNCTION check_jobs_truncated(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.check_jobs_truncated() FROM PUBLIC;


--
-- Name: FUNCTION check_ledger_update(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.check_ledger_update() FROM PUBLIC;


--
-- Name: FUNCTION check_ledger_updater(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.check_ledger_updater() FROM PUBLIC;


--
-- Name: FUNCTION check_match_rule(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.check_match_rule() FROM PUBLIC;


--
-- Name: FUNCTION check_values(p_source text, p_table text, p_values jsonb, p_role name); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.check_values(p_source text, p_table text, p_values jsonb, p_role name) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.check_values(p_source text, p_table text, p_values jsonb, p_role name) TO syncledger_upstream;
GRANT ALL ON FUNCTION integration.check_values(p_source text, p_table text, p_values jsonb, p_role name) TO syncledger_admin;


--
-- Name: FUNCTION checkpoint(p_max_links bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.checkpoint(p_max_links bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.checkpoint(p_max_links bigint) TO syncledger_admin;
GRANT ALL ON FUNCTION integration.checkpoint(p_max_links bigint) TO syncledger_worker;


--
-- Name: FUNCTION claim_jobs(p_worker text, p_token uuid, p_lease_seconds integer, p_max_jobs integer, p_item_budget integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.claim_jobs(p_worker text, p_token uuid, p_lease_seconds integer, p_max_jobs integer, p_item_budget integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.claim_jobs(p_worker text, p_token uuid, p_lease_seconds integer, p_max_jobs integer, p_item_budget integer) TO syncledger_worker;


--
-- Name: FUNCTION claim_match_keys(p_keys bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.claim_match_keys(p_keys bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION claim_outbound(p_source text, p_owner text, p_lease_seconds integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.claim_outbound(p_source text, p_owner text, p_lease_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.claim_outbound(p_source text, p_owner text, p_lease_seconds integer) TO syncledger_connector;


--
-- Name: FUNCTION column_type(tbl regclass, col name, OUT type_name text, OUT type_oid oid, OUT max_chars integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.column_type(tbl regclass, col name, OUT type_name text, OUT type_oid oid, OUT max_chars integer) FROM PUBLIC;


--
-- Name: FUNCTION current_value(p_table text, p_id uuid, p_column text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.current_value(p_table text, p_id uuid, p_column text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.current_value(p_table text, p_id uuid, p_column text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.current_value(p_table text, p_id uuid, p_column text) TO syncledger_admin;


--
-- Name: FUNCTION decide(p_action text, p_ids bigint[], p_steward integration.app_user, p_notes text, p_force boolean, p_reason text, p_batch bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.decide(p_action text, p_ids bigint[], p_steward integration.app_user, p_notes text, p_force boolean, p_reason text, p_batch bigint) FROM PUBLIC;


--
-- Name: FUNCTION decide_batch(p_batch bigint, p_after bigint, p_limit integer, p_part integer, p_parts integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.decide_batch(p_batch bigint, p_after bigint, p_limit integer, p_part integer, p_parts integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.decide_batch(p_batch bigint, p_after bigint, p_limit integer, p_part integer, p_parts integer) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.decide_batch(p_batch bigint, p_after bigint, p_limit integer, p_part integer, p_parts integer) TO syncledger_admin;


--
-- Name: FUNCTION decide_one(p_action text, p_ledger_id bigint, p_steward text, p_notes text, p_force boolean, p_reason text, OUT ledger_id bigint, OUT ledger_status text, OUT outcome text, OUT detail text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.decide_one(p_action text, p_ledger_id bigint, p_steward text, p_notes text, p_force boolean, p_reason text, OUT ledger_id bigint, OUT ledger_status text, OUT outcome text, OUT detail text) FROM PUBLIC;


--
-- Name: FUNCTION deregister_worker(p_worker text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.deregister_worker(p_worker text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.deregister_worker(p_worker text) TO syncledger_worker;


--
-- Name: FUNCTION dismiss_suspect(p_suspect_id bigint, p_notes text, p_steward text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.dismiss_suspect(p_suspect_id bigint, p_notes text, p_steward text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.dismiss_suspect(p_suspect_id bigint, p_notes text, p_steward text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.dismiss_suspect(p_suspect_id bigint, p_notes text, p_steward text) TO syncledger_admin;


--
-- Name: FUNCTION enqueue_outbound(p_ledger_ids bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.enqueue_outbound(p_ledger_ids bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION enqueue_outbound_value(p_table text, p_id uuid, p_aspect text, p_aspect_key text, p_value text, p_origin_source text, p_ledger_id bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.enqueue_outbound_value(p_table text, p_id uuid, p_aspect text, p_aspect_key text, p_value text, p_origin_source text, p_ledger_id bigint) FROM PUBLIC;


--
-- Name: FUNCTION enqueue_outbound_values(p_values integration.outbound_value[], p_receivers text[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.enqueue_outbound_values(p_values integration.outbound_value[], p_receivers text[]) FROM PUBLIC;


--
-- Name: FUNCTION entry_digest(p_ledger_id bigint, p_table text, p_id uuid, p_aspect text, p_key text, p_source text, p_value text, p_previous text, p_item bigint, p_job bigint, p_source_timestamp timestamp with time zone, p_recorded_at timestamp with time zone); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.entry_digest(p_ledger_id bigint, p_table text, p_id uuid, p_aspect text, p_key text, p_source text, p_value text, p_previous text, p_item bigint, p_job bigint, p_source_timestamp timestamp with time zone, p_recorded_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION entry_digest_v2(p_ledger_id bigint, p_table text, p_id uuid, p_aspect text, p_key text, p_source text, p_value text, p_previous text, p_item bigint, p_job bigint, p_source_timestamp timestamp with time zone, p_recorded_at timestamp with time zone, p_birth_status text, p_birth_apply_seq bigint, p_notes text, p_hold_reason text, p_match_rule text, p_match_score numeric); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.entry_digest_v2(p_ledger_id bigint, p_table text, p_id uuid, p_aspect text, p_key text, p_source text, p_value text, p_previous text, p_item bigint, p_job bigint, p_source_timestamp timestamp with time zone, p_recorded_at timestamp with time zone, p_birth_status text, p_birth_apply_seq bigint, p_notes text, p_hold_reason text, p_match_rule text, p_match_score numeric) FROM PUBLIC;


--
-- Name: FUNCTION entry_hold_reason(p_is_applied boolean, p_hold_reason text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.entry_hold_reason(p_is_applied boolean, p_hold_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.entry_hold_reason(p_is_applied boolean, p_hold_reason text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.entry_hold_reason(p_is_applied boolean, p_hold_reason text) TO syncledger_admin;


--
-- Name: FUNCTION entry_proof(p_ledger_id bigint, p_tree_size bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.entry_proof(p_ledger_id bigint, p_tree_size bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.entry_proof(p_ledger_id bigint, p_tree_size bigint) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.entry_proof(p_ledger_id bigint, p_tree_size bigint) TO syncledger_admin;


--
-- Name: FUNCTION entry_states_as_of(p_table text, p_id uuid, p_at timestamp with time zone); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.entry_states_as_of(p_table text, p_id uuid, p_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION epoch_us(p_at timestamp with time zone); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.epoch_us(p_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION event_digest(p_event_id bigint, p_ledger_id bigint, p_from text, p_to text, p_actor text, p_role name, p_at timestamp with time zone, p_notes text, p_apply_seq bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.event_digest(p_event_id bigint, p_ledger_id bigint, p_from text, p_to text, p_actor text, p_role name, p_at timestamp with time zone, p_notes text, p_apply_seq bigint) FROM PUBLIC;


--
-- Name: FUNCTION event_digest_v2(p_event_id bigint, p_ledger_id bigint, p_kind text, p_from text, p_to text, p_actor text, p_role name, p_at timestamp with time zone, p_notes text, p_target_note text, p_apply_seq bigint, p_batch_id bigint, p_reason_code text, p_applied boolean, p_after_apply_seq bigint, p_applied_at timestamp with time zone, p_confirmed_at timestamp with time zone, p_certified_at timestamp with time zone, p_certified_by bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.event_digest_v2(p_event_id bigint, p_ledger_id bigint, p_kind text, p_from text, p_to text, p_actor text, p_role name, p_at timestamp with time zone, p_notes text, p_target_note text, p_apply_seq bigint, p_batch_id bigint, p_reason_code text, p_applied boolean, p_after_apply_seq bigint, p_applied_at timestamp with time zone, p_confirmed_at timestamp with time zone, p_certified_at timestamp with time zone, p_certified_by bigint) FROM PUBLIC;


--
-- Name: FUNCTION expire_leases_of(p_worker text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.expire_leases_of(p_worker text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.expire_leases_of(p_worker text) TO syncledger_worker;


--
-- Name: FUNCTION explain(p_table text, p_id uuid, p_aspect_key text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.explain(p_table text, p_id uuid, p_aspect_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.explain(p_table text, p_id uuid, p_aspect_key text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.explain(p_table text, p_id uuid, p_aspect_key text) TO syncledger_admin;


--
-- Name: FUNCTION fence_chunk(p_token uuid, p_jobs bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.fence_chunk(p_token uuid, p_jobs bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION heartbeat(p_tokens uuid[], p_lease_seconds integer, p_progress jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.heartbeat(p_tokens uuid[], p_lease_seconds integer, p_progress jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.heartbeat(p_tokens uuid[], p_lease_seconds integer, p_progress jsonb) TO syncledger_worker;


--
-- Name: FUNCTION hold_sentence(p_reason text, p_source text, p_owner_source text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.hold_sentence(p_reason text, p_source text, p_owner_source text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.hold_sentence(p_reason text, p_source text, p_owner_source text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.hold_sentence(p_reason text, p_source text, p_owner_source text) TO syncledger_admin;


--
-- Name: FUNCTION identity_snapshot(p_table text, p_ids uuid[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.identity_snapshot(p_table text, p_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION identity_table(p_a uuid, p_b uuid); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.identity_table(p_a uuid, p_b uuid) FROM PUBLIC;


--
-- Name: FUNCTION insert_staged_items(p_job bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.insert_staged_items(p_job bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.insert_staged_items(p_job bigint) TO syncledger_upstream;


--
-- Name: FUNCTION intake_code_lists(p_table text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.intake_code_lists(p_table text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.intake_code_lists(p_table text) TO syncledger_upstream;
GRANT ALL ON FUNCTION integration.intake_code_lists(p_table text) TO syncledger_admin;


--
-- Name: FUNCTION is_stale(p_clock timestamp with time zone, p_days integer, p_at timestamp with time zone); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.is_stale(p_clock timestamp with time zone, p_days integer, p_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.is_stale(p_clock timestamp with time zone, p_days integer, p_at timestamp with time zone) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.is_stale(p_clock timestamp with time zone, p_days integer, p_at timestamp with time zone) TO syncledger_admin;


--
-- Name: FUNCTION job_awaits_requeue(p_job integration.sync_job); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.job_awaits_requeue(p_job integration.sync_job) FROM PUBLIC;


--
-- Name: FUNCTION job_for_action(p_job_id bigint, p_direction text, p_statuses text[], p_action text, p_which text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.job_for_action(p_job_id bigint, p_direction text, p_statuses text[], p_action text, p_which text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.job_for_action(p_job_id bigint, p_direction text, p_statuses text[], p_action text, p_which text) TO syncledger_connector;


--
-- Name: FUNCTION job_item_counts(p_jobs bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.job_item_counts(p_jobs bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.job_item_counts(p_jobs bigint[]) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.job_item_counts(p_jobs bigint[]) TO syncledger_admin;
GRANT ALL ON FUNCTION integration.job_item_counts(p_jobs bigint[]) TO syncledger_worker;
GRANT ALL ON FUNCTION integration.job_item_counts(p_jobs bigint[]) TO syncledger_upstream;
GRANT ALL ON FUNCTION integration.job_item_counts(p_jobs bigint[]) TO syncledger_connector;


--
-- Name: FUNCTION job_status_after(p_status text, p_event text, p_failed integer, p_attempts integer, p_max_attempts integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.job_status_after(p_status text, p_event text, p_failed integer, p_attempts integer, p_max_attempts integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.job_status_after(p_status text, p_event text, p_failed integer, p_attempts integer, p_max_attempts integer) TO syncledger_connector;


--
-- Name: FUNCTION job_takes_upstream_items(j integration.sync_job, p_sources text[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.job_takes_upstream_items(j integration.sync_job, p_sources text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.job_takes_upstream_items(j integration.sync_job, p_sources text[]) TO syncledger_upstream;


--
-- Name: FUNCTION ledger_anchor(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.ledger_anchor() FROM PUBLIC;
GRANT ALL ON FUNCTION integration.ledger_anchor() TO syncledger_steward;
GRANT ALL ON FUNCTION integration.ledger_anchor() TO syncledger_admin;


--
-- Name: FUNCTION lock_records(p_records jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.lock_records(p_records jsonb) FROM PUBLIC;


--
-- Name: FUNCTION lock_target(p_table text, p_id uuid); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.lock_target(p_table text, p_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION match_claim_key(p_rule bigint, p_key text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_claim_key(p_rule bigint, p_key text) FROM PUBLIC;


--
-- Name: FUNCTION match_key_of(p_method text, p_values text[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_key_of(p_method text, p_values text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.match_key_of(p_method text, p_values text[]) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.match_key_of(p_method text, p_values text[]) TO syncledger_admin;


--
-- Name: FUNCTION match_keys_of(p_method text, p_values text[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_keys_of(p_method text, p_values text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.match_keys_of(p_method text, p_values text[]) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.match_keys_of(p_method text, p_values text[]) TO syncledger_admin;


--
-- Name: FUNCTION match_keys_of_records(p_table text, p_ids uuid[], p_rules bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_keys_of_records(p_table text, p_ids uuid[], p_rules bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION match_new_records(p_records jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_new_records(p_records jsonb) FROM PUBLIC;


--
-- Name: FUNCTION match_normalise(p_value text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_normalise(p_value text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.match_normalise(p_value text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.match_normalise(p_value text) TO syncledger_admin;


--
-- Name: FUNCTION match_preview(p_table text, p_rules text[], p_samples integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_preview(p_table text, p_rules text[], p_samples integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.match_preview(p_table text, p_rules text[], p_samples integer) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.match_preview(p_table text, p_rules text[], p_samples integer) TO syncledger_admin;


--
-- Name: FUNCTION match_rule_keys(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_rule_keys() FROM PUBLIC;


--
-- Name: FUNCTION match_similar(p_a text, p_b text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_similar(p_a text, p_b text) FROM PUBLIC;


--
-- Name: FUNCTION match_similarity(p_a text, p_b text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.match_similarity(p_a text, p_b text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.match_similarity(p_a text, p_b text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.match_similarity(p_a text, p_b text) TO syncledger_admin;


--
-- Name: FUNCTION merge(p_survivor uuid, p_merged uuid, p_notes text, p_steward text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.merge(p_survivor uuid, p_merged uuid, p_notes text, p_steward text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.merge(p_survivor uuid, p_merged uuid, p_notes text, p_steward text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.merge(p_survivor uuid, p_merged uuid, p_notes text, p_steward text) TO syncledger_admin;


--
-- Name: FUNCTION merge_records(p_survivor uuid, p_merged uuid, p_notes text, p_steward integration.app_user, OUT merge_id bigint, OUT target_table text, OUT identifiers_moved integer, OUT values_settled integer, OUT relationships_repointed integer, OUT outbound_items integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.merge_records(p_survivor uuid, p_merged uuid, p_notes text, p_steward integration.app_user, OUT merge_id bigint, OUT target_table text, OUT identifiers_moved integer, OUT values_settled integer, OUT relationships_repointed integer, OUT outbound_items integer) FROM PUBLIC;


--
-- Name: FUNCTION merkle_leaf_hash(p_link bytea); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.merkle_leaf_hash(p_link bytea) FROM PUBLIC;


--
-- Name: FUNCTION merkle_node_hash(p_left bytea, p_right bytea); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.merkle_node_hash(p_left bytea, p_right bytea) FROM PUBLIC;


--
-- Name: FUNCTION merkle_root(p_size bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.merkle_root(p_size bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.merkle_root(p_size bigint) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.merkle_root(p_size bigint) TO syncledger_admin;


--
-- Name: FUNCTION merkle_size(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.merkle_size() FROM PUBLIC;
GRANT ALL ON FUNCTION integration.merkle_size() TO syncledger_steward;
GRANT ALL ON FUNCTION integration.merkle_size() TO syncledger_admin;


--
-- Name: FUNCTION merkle_subtrees(p_subtrees jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.merkle_subtrees(p_subtrees jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.merkle_subtrees(p_subtrees jsonb) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.merkle_subtrees(p_subtrees jsonb) TO syncledger_admin;


--
-- Name: FUNCTION my_source_systems(p_role name); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.my_source_systems(p_role name) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.my_source_systems(p_role name) TO syncledger_upstream;
GRANT ALL ON FUNCTION integration.my_source_systems(p_role name) TO syncledger_connector;


--
-- Name: FUNCTION notify_job_submitted(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.notify_job_submitted() FROM PUBLIC;


--
-- Name: FUNCTION open_batch(p_action text, p_filter jsonb, p_steward text, p_notes text, p_reason text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.open_batch(p_action text, p_filter jsonb, p_steward text, p_notes text, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.open_batch(p_action text, p_filter jsonb, p_steward text, p_notes text, p_reason text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.open_batch(p_action text, p_filter jsonb, p_steward text, p_notes text, p_reason text) TO syncledger_admin;


--
-- Name: TABLE ledger; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.ledger TO syncledger_steward;
GRANT SELECT ON TABLE integration.ledger TO syncledger_admin;
GRANT SELECT ON TABLE integration.ledger TO syncledger_worker;


--
-- Name: FUNCTION owner_entry(p_table text, p_id uuid, p_aspect_key text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.owner_entry(p_table text, p_id uuid, p_aspect_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.owner_entry(p_table text, p_id uuid, p_aspect_key text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.owner_entry(p_table text, p_id uuid, p_aspect_key text) TO syncledger_admin;


--
-- Name: FUNCTION pending_items(p_jobs bigint[], p_after_job integer, p_after_seq bigint, p_after_item bigint, p_limit integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.pending_items(p_jobs bigint[], p_after_job integer, p_after_seq bigint, p_after_item bigint, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.pending_items(p_jobs bigint[], p_after_job integer, p_after_seq bigint, p_after_item bigint, p_limit integer) TO syncledger_worker;


--
-- Name: FUNCTION prepare_chunk(p_token uuid, p_jobs bigint[], p_config_version bigint, p_items jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.prepare_chunk(p_token uuid, p_jobs bigint[], p_config_version bigint, p_items jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.prepare_chunk(p_token uuid, p_jobs bigint[], p_config_version bigint, p_items jsonb) TO syncledger_worker;


--
-- Name: FUNCTION propose(p_table text, p_id uuid, p_field text, p_value text, p_notes text, p_steward text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.propose(p_table text, p_id uuid, p_field text, p_value text, p_notes text, p_steward text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.propose(p_table text, p_id uuid, p_field text, p_value text, p_notes text, p_steward text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.propose(p_table text, p_id uuid, p_field text, p_value text, p_notes text, p_steward text) TO syncledger_admin;


--
-- Name: FUNCTION provenance_violations(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.provenance_violations() FROM PUBLIC;
GRANT ALL ON FUNCTION integration.provenance_violations() TO syncledger_steward;
GRANT ALL ON FUNCTION integration.provenance_violations() TO syncledger_admin;


--
-- Name: FUNCTION prune_jobs(p_older_than interval, p_batch integer, p_include_failed boolean); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.prune_jobs(p_older_than interval, p_batch integer, p_include_failed boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.prune_jobs(p_older_than interval, p_batch integer, p_include_failed boolean) TO syncledger_admin;
GRANT ALL ON FUNCTION integration.prune_jobs(p_older_than interval, p_batch integer, p_include_failed boolean) TO syncledger_worker;


--
-- Name: FUNCTION prune_preview(p_older_than interval, p_include_failed boolean); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.prune_preview(p_older_than interval, p_include_failed boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.prune_preview(p_older_than interval, p_include_failed boolean) TO syncledger_admin;
GRANT ALL ON FUNCTION integration.prune_preview(p_older_than interval, p_include_failed boolean) TO syncledger_worker;


--
-- Name: FUNCTION queue_counts(p_filter jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.queue_counts(p_filter jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.queue_counts(p_filter jsonb) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.queue_counts(p_filter jsonb) TO syncledger_admin;


--
-- Name: FUNCTION queue_filter(p_filter jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.queue_filter(p_filter jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.queue_filter(p_filter jsonb) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.queue_filter(p_filter jsonb) TO syncledger_admin;


--
-- Name: FUNCTION queue_matches(p_filter jsonb, p_table text, p_field text, p_source text, p_is_applied boolean, p_hold_reason text, p_recorded_at timestamp with time zone); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.queue_matches(p_filter jsonb, p_table text, p_field text, p_source text, p_is_applied boolean, p_hold_reason text, p_recorded_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.queue_matches(p_filter jsonb, p_table text, p_field text, p_source text, p_is_applied boolean, p_hold_reason text, p_recorded_at timestamp with time zone) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.queue_matches(p_filter jsonb, p_table text, p_field text, p_source text, p_is_applied boolean, p_hold_reason text, p_recorded_at timestamp with time zone) TO syncledger_admin;


--
-- Name: FUNCTION record_as_of(p_table text, p_id uuid, p_at timestamp with time zone); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.record_as_of(p_table text, p_id uuid, p_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.record_as_of(p_table text, p_id uuid, p_at timestamp with time zone) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.record_as_of(p_table text, p_id uuid, p_at timestamp with time zone) TO syncledger_admin;


--
-- Name: FUNCTION record_events(p_events jsonb, p_batch bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.record_events(p_events jsonb, p_batch bigint) FROM PUBLIC;


--
-- Name: FUNCTION record_fields(p_table text, p_id uuid, p_fields text[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.record_fields(p_table text, p_id uuid, p_fields text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.record_fields(p_table text, p_id uuid, p_fields text[]) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.record_fields(p_table text, p_id uuid, p_fields text[]) TO syncledger_admin;


--
-- Name: FUNCTION record_label(p_table text, p_id uuid); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.record_label(p_table text, p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.record_label(p_table text, p_id uuid) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.record_label(p_table text, p_id uuid) TO syncledger_admin;


--
-- Name: FUNCTION recount_jobs(p_jobs bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.recount_jobs(p_jobs bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION referenced_table(p_table text, p_column text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.referenced_table(p_table text, p_column text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.referenced_table(p_table text, p_column text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.referenced_table(p_table text, p_column text) TO syncledger_admin;


--
-- Name: FUNCTION refresh_match_keys(p_table text, p_ids uuid[], p_rules bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.refresh_match_keys(p_table text, p_ids uuid[], p_rules bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION refuse_job_id_change(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.refuse_job_id_change() FROM PUBLIC;


--
-- Name: FUNCTION refuse_ledger_event_update(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.refuse_ledger_event_update() FROM PUBLIC;


--
-- Name: FUNCTION refuse_ledger_removal(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.refuse_ledger_removal() FROM PUBLIC;


--
-- Name: FUNCTION register_worker(p_state jsonb, p_expires_seconds integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.register_worker(p_state jsonb, p_expires_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.register_worker(p_state jsonb, p_expires_seconds integer) TO syncledger_worker;


--
-- Name: FUNCTION reject(p_ledger_id bigint, p_steward text, p_notes text, p_reason_code text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.reject(p_ledger_id bigint, p_steward text, p_notes text, p_reason_code text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.reject(p_ledger_id bigint, p_steward text, p_notes text, p_reason_code text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.reject(p_ledger_id bigint, p_steward text, p_notes text, p_reason_code text) TO syncledger_admin;


--
-- Name: FUNCTION reject_round(p_ids bigint[], p_steward integration.app_user, p_notes text, p_reason text, p_batch bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.reject_round(p_ids bigint[], p_steward integration.app_user, p_notes text, p_reason text, p_batch bigint) FROM PUBLIC;


--
-- Name: PROCEDURE reject_where(IN p_filter jsonb, IN p_reason_code text, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON PROCEDURE integration.reject_where(IN p_filter jsonb, IN p_reason_code text, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) FROM PUBLIC;
GRANT ALL ON PROCEDURE integration.reject_where(IN p_filter jsonb, IN p_reason_code text, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) TO syncledger_steward;
GRANT ALL ON PROCEDURE integration.reject_where(IN p_filter jsonb, IN p_reason_code text, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) TO syncledger_admin;


--
-- Name: FUNCTION requeue_failed(p_job_id bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.requeue_failed(p_job_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.requeue_failed(p_job_id bigint) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.requeue_failed(p_job_id bigint) TO syncledger_admin;


--
-- Name: FUNCTION resolve_records(p_records jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.resolve_records(p_records jsonb) FROM PUBLIC;


--
-- Name: FUNCTION resolve_target(p_table text, p_column text, p_column_missing_ok boolean, OUT rel_schema name, OUT rel_name name, OUT id_col name, OUT active_col name, OUT col_type text, OUT table_active boolean); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.resolve_target(p_table text, p_column text, p_column_missing_ok boolean, OUT rel_schema name, OUT rel_name name, OUT id_col name, OUT active_col name, OUT col_type text, OUT table_active boolean) FROM PUBLIC;


--
-- Name: FUNCTION retrying(p_statement text, p_args jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.retrying(p_statement text, p_args jsonb) FROM PUBLIC;


--
-- Name: FUNCTION revoke(p_ledger_id bigint, p_steward text, p_notes text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.revoke(p_ledger_id bigint, p_steward text, p_notes text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.revoke(p_ledger_id bigint, p_steward text, p_notes text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.revoke(p_ledger_id bigint, p_steward text, p_notes text) TO syncledger_admin;


--
-- Name: PROCEDURE revoke_batch(IN p_batch bigint, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON PROCEDURE integration.revoke_batch(IN p_batch bigint, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) FROM PUBLIC;
GRANT ALL ON PROCEDURE integration.revoke_batch(IN p_batch bigint, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) TO syncledger_steward;
GRANT ALL ON PROCEDURE integration.revoke_batch(IN p_batch bigint, IN p_notes text, IN p_steward text, IN p_chunk integer, INOUT batch_id bigint) TO syncledger_admin;


--
-- Name: FUNCTION revoke_round(p_ids bigint[], p_steward integration.app_user, p_notes text, p_batch bigint); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.revoke_round(p_ids bigint[], p_steward integration.app_user, p_notes text, p_batch bigint) FROM PUBLIC;


--
-- Name: PROCEDURE run_batch(IN p_batch bigint, IN p_chunk integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON PROCEDURE integration.run_batch(IN p_batch bigint, IN p_chunk integer) FROM PUBLIC;
GRANT ALL ON PROCEDURE integration.run_batch(IN p_batch bigint, IN p_chunk integer) TO syncledger_steward;
GRANT ALL ON PROCEDURE integration.run_batch(IN p_batch bigint, IN p_chunk integer) TO syncledger_admin;


--
-- Name: FUNCTION settle_held_items(p_ledger_ids bigint[], p_status text, p_note text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.settle_held_items(p_ledger_ids bigint[], p_status text, p_note text) FROM PUBLIC;


--
-- Name: FUNCTION shown_value(p_table text, p_aspect text, p_key text, p_value text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.shown_value(p_table text, p_aspect text, p_key text, p_value text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.shown_value(p_table text, p_aspect text, p_key text, p_value text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.shown_value(p_table text, p_aspect text, p_key text, p_value text) TO syncledger_admin;


--
-- Name: FUNCTION snapshot_keys(p_source text, p_table text, p_role name); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.snapshot_keys(p_source text, p_table text, p_role name) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.snapshot_keys(p_source text, p_table text, p_role name) TO syncledger_upstream;
GRANT ALL ON FUNCTION integration.snapshot_keys(p_source text, p_table text, p_role name) TO syncledger_admin;


--
-- Name: FUNCTION stale_clock(l integration.ledger); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.stale_clock(l integration.ledger) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.stale_clock(l integration.ledger) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.stale_clock(l integration.ledger) TO syncledger_admin;


--
-- Name: FUNCTION stamp_submitted_at(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.stamp_submitted_at() FROM PUBLIC;


--
-- Name: FUNCTION stored_entry_digest(l integration.ledger); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.stored_entry_digest(l integration.ledger) FROM PUBLIC;


--
-- Name: TABLE ledger_event; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.ledger_event TO syncledger_steward;
GRANT SELECT ON TABLE integration.ledger_event TO syncledger_admin;
GRANT SELECT ON TABLE integration.ledger_event TO syncledger_worker;


--
-- Name: FUNCTION stored_event_digest(e integration.ledger_event); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.stored_event_digest(e integration.ledger_event) FROM PUBLIC;


--
-- Name: FUNCTION target_holds(p_table text, p_id uuid, p_aspect text, p_aspect_key text, p_value text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.target_holds(p_table text, p_id uuid, p_aspect text, p_aspect_key text, p_value text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.target_holds(p_table text, p_id uuid, p_aspect text, p_aspect_key text, p_value text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.target_holds(p_table text, p_id uuid, p_aspect text, p_aspect_key text, p_value text) TO syncledger_admin;


--
-- Name: FUNCTION transition_jobs(p_token uuid, p_jobs bigint[], p_event text, p_error text, p_max_attempts integer, p_backoff_seconds double precision); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.transition_jobs(p_token uuid, p_jobs bigint[], p_event text, p_error text, p_max_attempts integer, p_backoff_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.transition_jobs(p_token uuid, p_jobs bigint[], p_event text, p_error text, p_max_attempts integer, p_backoff_seconds double precision) TO syncledger_worker;
GRANT ALL ON FUNCTION integration.transition_jobs(p_token uuid, p_jobs bigint[], p_event text, p_error text, p_max_attempts integer, p_backoff_seconds double precision) TO syncledger_connector;


--
-- Name: FUNCTION unapply(p_entries jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.unapply(p_entries jsonb) FROM PUBLIC;


--
-- Name: FUNCTION unmerge(p_merge_id bigint, p_notes text, p_steward text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.unmerge(p_merge_id bigint, p_notes text, p_steward text) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.unmerge(p_merge_id bigint, p_notes text, p_steward text) TO syncledger_steward;
GRANT ALL ON FUNCTION integration.unmerge(p_merge_id bigint, p_notes text, p_steward text) TO syncledger_admin;


--
-- Name: FUNCTION unmerge_records(p_merge bigint, p_notes text, p_steward integration.app_user, OUT target_table text, OUT survivor_id uuid, OUT merged_id uuid, OUT identifiers_restored integer, OUT values_restored integer, OUT relationships_restored integer, OUT outbound_items integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.unmerge_records(p_merge bigint, p_notes text, p_steward integration.app_user, OUT target_table text, OUT survivor_id uuid, OUT merged_id uuid, OUT identifiers_restored integer, OUT values_restored integer, OUT relationships_restored integer, OUT outbound_items integer) FROM PUBLIC;


--
-- Name: FUNCTION use_canonical_settings(p_function regprocedure); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.use_canonical_settings(p_function regprocedure) FROM PUBLIC;


--
-- Name: FUNCTION verify_ledger(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.verify_ledger() FROM PUBLIC;
GRANT ALL ON FUNCTION integration.verify_ledger() TO syncledger_steward;
GRANT ALL ON FUNCTION integration.verify_ledger() TO syncledger_admin;


--
-- Name: FUNCTION verify_log(); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.verify_log() FROM PUBLIC;
GRANT ALL ON FUNCTION integration.verify_log() TO syncledger_steward;
GRANT ALL ON FUNCTION integration.verify_log() TO syncledger_admin;


--
-- Name: FUNCTION wait_for_chunks(p_token uuid, p_jobs bigint[]); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.wait_for_chunks(p_token uuid, p_jobs bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION worker_heartbeat(p_state jsonb, p_expires_seconds integer); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.worker_heartbeat(p_state jsonb, p_expires_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION integration.worker_heartbeat(p_state jsonb, p_expires_seconds integer) TO syncledger_worker;


--
-- Name: FUNCTION write_identity_entries(p_entries jsonb, p_steward integration.app_user, p_notes text); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.write_identity_entries(p_entries jsonb, p_steward integration.app_user, p_notes text) FROM PUBLIC;


--
-- Name: FUNCTION write_targets(p_writes jsonb); Type: ACL; Schema: integration; Owner: -
--

REVOKE ALL ON FUNCTION integration.write_targets(p_writes jsonb) FROM PUBLIC;


--
-- Name: TABLE aspect_owner; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.aspect_owner TO syncledger_steward;
GRANT SELECT ON TABLE integration.aspect_owner TO syncledger_admin;


--
-- Name: TABLE config_version; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.config_version TO syncledger_steward;
GRANT SELECT ON TABLE integration.config_version TO syncledger_admin;
GRANT SELECT ON TABLE integration.config_version TO syncledger_worker;


--
-- Name: TABLE field_provenance; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.field_provenance TO syncledger_steward;
GRANT SELECT ON TABLE integration.field_provenance TO syncledger_admin;


--
-- Name: TABLE identifier; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.identifier TO syncledger_steward;
GRANT SELECT ON TABLE integration.identifier TO syncledger_admin;
GRANT SELECT ON TABLE integration.identifier TO syncledger_worker;


--
-- Name: TABLE item_refusal; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.item_refusal TO syncledger_steward;
GRANT SELECT ON TABLE integration.item_refusal TO syncledger_admin;


--
-- Name: SEQUENCE job_submit_seq; Type: ACL; Schema: integration; Owner: -
--

GRANT USAGE ON SEQUENCE integration.job_submit_seq TO syncledger_upstream;


--
-- Name: TABLE ledger_chain; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.ledger_chain TO syncledger_steward;
GRANT SELECT ON TABLE integration.ledger_chain TO syncledger_admin;
GRANT SELECT ON TABLE integration.ledger_chain TO syncledger_worker;


--
-- Name: TABLE ledger_link; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.ledger_link TO syncledger_steward;
GRANT SELECT ON TABLE integration.ledger_link TO syncledger_admin;


--
-- Name: TABLE worker; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.worker TO syncledger_steward;
GRANT SELECT ON TABLE integration.worker TO syncledger_admin;
GRANT SELECT ON TABLE integration.worker TO syncledger_worker;


--
-- Name: TABLE live_workers; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.live_workers TO syncledger_steward;
GRANT SELECT ON TABLE integration.live_workers TO syncledger_admin;
GRANT SELECT ON TABLE integration.live_workers TO syncledger_worker;


--
-- Name: TABLE match_claim; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.match_claim TO syncledger_steward;
GRANT SELECT ON TABLE integration.match_claim TO syncledger_admin;


--
-- Name: TABLE match_key; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.match_key TO syncledger_steward;
GRANT SELECT ON TABLE integration.match_key TO syncledger_admin;


--
-- Name: TABLE match_rule; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.match_rule TO syncledger_steward;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE integration.match_rule TO syncledger_admin;


--
-- Name: TABLE match_suspect; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.match_suspect TO syncledger_steward;
GRANT SELECT ON TABLE integration.match_suspect TO syncledger_admin;


--
-- Name: TABLE merkle_checkpoint; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.merkle_checkpoint TO syncledger_steward;
GRANT SELECT ON TABLE integration.merkle_checkpoint TO syncledger_admin;


--
-- Name: TABLE merkle_leaf; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.merkle_leaf TO syncledger_steward;
GRANT SELECT ON TABLE integration.merkle_leaf TO syncledger_admin;


--
-- Name: TABLE merkle_node; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.merkle_node TO syncledger_steward;
GRANT SELECT ON TABLE integration.merkle_node TO syncledger_admin;


--
-- Name: TABLE reject_reason; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.reject_reason TO syncledger_steward;
GRANT SELECT ON TABLE integration.reject_reason TO syncledger_admin;


--
-- Name: TABLE my_decisions; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.my_decisions TO syncledger_steward;
GRANT SELECT ON TABLE integration.my_decisions TO syncledger_admin;
GRANT SELECT ON TABLE integration.my_decisions TO syncledger_upstream;


--
-- Name: TABLE record_merge; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.record_merge TO syncledger_steward;
GRANT SELECT ON TABLE integration.record_merge TO syncledger_admin;


--
-- Name: TABLE review_queue; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.review_queue TO syncledger_steward;
GRANT SELECT ON TABLE integration.review_queue TO syncledger_admin;


--
-- Name: TABLE source_order; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.source_order TO syncledger_steward;
GRANT SELECT ON TABLE integration.source_order TO syncledger_admin;
GRANT SELECT ON TABLE integration.source_order TO syncledger_worker;


--
-- Name: TABLE source_system; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.source_system TO syncledger_steward;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE integration.source_system TO syncledger_admin;
GRANT SELECT ON TABLE integration.source_system TO syncledger_worker;


--
-- Name: COLUMN source_system.source_system_key; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT(source_system_key) ON TABLE integration.source_system TO syncledger_upstream;
GRANT SELECT(source_system_key) ON TABLE integration.source_system TO syncledger_connector;


--
-- Name: COLUMN source_system.is_active; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT(is_active) ON TABLE integration.source_system TO syncledger_upstream;
GRANT SELECT(is_active) ON TABLE integration.source_system TO syncledger_connector;


--
-- Name: TABLE stale_values; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.stale_values TO syncledger_steward;
GRANT SELECT ON TABLE integration.stale_values TO syncledger_admin;


--
-- Name: TABLE subscription; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.subscription TO syncledger_steward;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE integration.subscription TO syncledger_admin;
GRANT SELECT ON TABLE integration.subscription TO syncledger_worker;


--
-- Name: TABLE suspect_queue; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.suspect_queue TO syncledger_steward;
GRANT SELECT ON TABLE integration.suspect_queue TO syncledger_admin;


--
-- Name: TABLE sync_item; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.sync_item TO syncledger_steward;
GRANT SELECT ON TABLE integration.sync_item TO syncledger_admin;
GRANT SELECT ON TABLE integration.sync_item TO syncledger_worker;
GRANT SELECT ON TABLE integration.sync_item TO syncledger_upstream;
GRANT SELECT ON TABLE integration.sync_item TO syncledger_connector;


--
-- Name: COLUMN sync_item.job_id; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(job_id) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.seq; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(seq) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.external_key; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(external_key) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.target_table; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(target_table) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.operation; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(operation) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.field_name; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(field_name) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.new_value; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(new_value) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.source_timestamp; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(source_timestamp) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.target_id; Type: ACL; Schema: integration; Owner: -
--

GRANT INSERT(target_id) ON TABLE integration.sync_item TO syncledger_upstream;


--
-- Name: COLUMN sync_item.item_status; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(item_status) ON TABLE integration.sync_item TO syncledger_connector;


--
-- Name: COLUMN sync_item.applied_at; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(applied_at) ON TABLE integration.sync_item TO syncledger_connector;


--
-- Name: COLUMN sync_item.process_message; Type: ACL; Schema: integration; Owner: -
--

GRANT UPDATE(process_message) ON TABLE integration.sync_item TO syncledger_connector;


--
-- Name: TABLE target_table; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.target_table TO syncledger_steward;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE integration.target_table TO syncledger_admin;
GRANT SELECT ON TABLE integration.target_table TO syncledger_worker;
GRANT SELECT ON TABLE integration.target_table TO syncledger_upstream;


--
-- Name: TABLE value_map; Type: ACL; Schema: integration; Owner: -
--

GRANT SELECT ON TABLE integration.value_map TO syncledger_steward;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE integration.value_map TO syncledger_admin;
GRANT SELECT ON TABLE integration.value_map TO syncledger_worker;


--
-- PostgreSQL database dump complete
--



--
-- Functions and views: their definitions are in sql/code/ (each in exactly one file).
--

-- FUNCTION integration.ack_outbound(bigint,uuid)
--   RETURNS integration.sync_job; LANGUAGE plpgsql
--   EXECUTE: syncledger_connector

-- FUNCTION integration.acting_user(text)
--   RETURNS integration.app_user; LANGUAGE plpgsql; STABLE

-- FUNCTION integration.add_staged_items(bigint,name)
--   RETURNS bigint; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_upstream

-- FUNCTION integration.apply_chunk(uuid,bigint[],jsonb,jsonb)
--   RETURNS integer; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, enable_nestloop=off, jit=off, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_worker

-- FUNCTION integration.aspect_label(text,uuid,text)
--   RETURNS text; LANGUAGE sql; IMMUTABLE

-- FUNCTION integration.aspect_policy(text,text,text)
--   RETURNS SETOF integration.commit_policy; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.aspect_state(text,uuid,text,text)
--   RETURNS text; LANGUAGE plpgsql; STABLE

-- FUNCTION integration.batch_entries(integration.decision_batch,bigint,integer,integer,integer)
--   RETURNS bigint[]; LANGUAGE sql; STABLE

-- FUNCTION integration.bump_config_version()
--   RETURNS trigger; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp

-- FUNCTION integration.canonical_values(regclass,name,text[],text[])
--   RETURNS TABLE(ord integer, canonical text, error text, same boolean); LANGUAGE plpgsql; STABLE; SET TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex

-- FUNCTION integration.cast_errors(regclass,name,text[])
--   RETURNS TABLE(ord integer, error text); LANGUAGE plpgsql; STABLE; SET TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex

-- FUNCTION integration.certify(bigint,text,text,boolean)
--   RETURNS TABLE(ledger_id bigint, ledger_status text, outcome text, detail text); LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.certify_round(bigint[],integration.app_user,text,boolean,bigint)
--   RETURNS TABLE(ledger_id bigint, outcome text, detail text, notice boolean); LANGUAGE plpgsql

-- FUNCTION integration.certify_where(jsonb,text,text,integer,bigint)
--   RETURNS ; LANGUAGE plpgsql
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.chain_append(text[],uuid[],bytea[])
--   RETURNS TABLE(ord integer, chain_seq bigint, chain_hash bytea); LANGUAGE plpgsql; SET enable_seqscan=off, jit=off

-- FUNCTION integration.chain_genesis(text,uuid)
--   RETURNS bytea; LANGUAGE sql; IMMUTABLE

-- FUNCTION integration.check_item_jobs()
--   RETURNS trigger; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp

-- FUNCTION integration.check_jobs_deleted()
--   RETURNS trigger; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp

-- FUNCTION integration.check_jobs_truncated()
--   RETURNS trigger; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp

-- FUNCTION integration.check_ledger_update()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.check_ledger_updater()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.check_match_rule()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.check_values(text,text,jsonb,name)
--   RETURNS TABLE(field text, ord integer, unmapped_in text, cast_error text); LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_upstream, syncledger_admin

-- FUNCTION integration.checkpoint(bigint)
--   RETURNS TABLE(tree_size bigint, root text, taken_at timestamp with time zone, links_added bigint, complete boolean); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, jit=off
--   EXECUTE: syncledger_admin, syncledger_worker

-- FUNCTION integration.claim_jobs(text,uuid,integer,integer,integer)
--   RETURNS TABLE(job_id bigint, source_system_key text, entity_type text, attempts integer, submit_seq bigint, rescued_from text, last_error text); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, jit=off
--   EXECUTE: syncledger_worker

-- FUNCTION integration.claim_match_keys(bigint[])
--   RETURNS void; LANGUAGE plpgsql

-- FUNCTION integration.claim_outbound(text,text,integer)
--   RETURNS SETOF integration.sync_job; LANGUAGE plpgsql; SET enable_seqscan=off, jit=off
--   EXECUTE: syncledger_connector

-- FUNCTION integration.column_type(regclass,name)
--   RETURNS record; LANGUAGE plpgsql; STABLE

-- FUNCTION integration.current_value(text,uuid,text)
--   RETURNS text; LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.decide(text,bigint[],integration.app_user,text,boolean,text,bigint)
--   RETURNS TABLE(ledger_id bigint, outcome text, detail text, notice boolean); LANGUAGE plpgsql; SET jit=off

-- FUNCTION integration.decide_batch(bigint,bigint,integer,integer,integer)
--   RETURNS TABLE(last_ledger_id bigint, decided bigint, approved bigint, passed_over bigint, done boolean); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.decide_one(text,bigint,text,text,boolean,text)
--   RETURNS record; LANGUAGE plpgsql

-- FUNCTION integration.deregister_worker(text)
--   RETURNS void; LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_worker

-- FUNCTION integration.dismiss_suspect(bigint,text,text)
--   RETURNS TABLE(suspect_id bigint, status text, decided_by text, decided_at timestamp with time zone); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.enqueue_outbound(bigint[])
--   RETURNS integer; LANGUAGE sql

-- FUNCTION integration.enqueue_outbound_value(text,uuid,text,text,text,text,bigint)
--   RETURNS integer; LANGUAGE sql

-- FUNCTION integration.enqueue_outbound_values(integration.outbound_value[],text[])
--   RETURNS integer; LANGUAGE plpgsql

-- FUNCTION integration.entry_digest(bigint,text,uuid,text,text,text,text,text,bigint,bigint,timestamp with time zone,timestamp with time zone)
--   RETURNS bytea; LANGUAGE sql; STABLE

-- FUNCTION integration.entry_digest_v2(bigint,text,uuid,text,text,text,text,text,bigint,bigint,timestamp with time zone,timestamp with time zone,text,bigint,text,text,text,numeric)
--   RETURNS bytea; LANGUAGE sql; STABLE

-- FUNCTION integration.entry_hold_reason(boolean,text)
--   RETURNS text; LANGUAGE sql; IMMUTABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.entry_proof(bigint,bigint)
--   RETURNS jsonb; LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.entry_states_as_of(text,uuid,timestamp with time zone)
--   RETURNS TABLE(ledger_id bigint, ledger_aspect text, aspect_key text, source_system_key text, value text, ledger_status text, is_applied boolean, apply_seq bigint, certified_by bigint, certified_at timestamp with time zone); LANGUAGE sql; STABLE

-- FUNCTION integration.epoch_us(timestamp with time zone)
--   RETURNS bigint; LANGUAGE sql; STABLE

-- FUNCTION integration.event_digest(bigint,bigint,text,text,text,name,timestamp with time zone,text,bigint)
--   RETURNS bytea; LANGUAGE sql; STABLE

-- FUNCTION integration.event_digest_v2(bigint,bigint,text,text,text,text,name,timestamp with time zone,text,text,bigint,bigint,text,boolean,bigint,timestamp with time zone,timestamp with time zone,timestamp with time zone,bigint)
--   RETURNS bytea; LANGUAGE sql; STABLE

-- FUNCTION integration.expire_leases_of(text)
--   RETURNS bigint[]; LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, jit=off
--   EXECUTE: syncledger_worker

-- FUNCTION integration.explain(text,uuid,text)
--   RETURNS TABLE(ledger_id bigint, source_system_key text, value text, ledger_status text, is_applied boolean, apply_seq bigint, recorded_at timestamp with time zone, verdict text, reason text); LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.fence_chunk(uuid,bigint[])
--   RETURNS void; LANGUAGE plpgsql; SET enable_seqscan=off, jit=off

-- FUNCTION integration.heartbeat(uuid[],integer,jsonb)
--   RETURNS uuid[]; LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, jit=off
--   EXECUTE: syncledger_worker

-- FUNCTION integration.hold_sentence(text,text,text)
--   RETURNS text; LANGUAGE sql; IMMUTABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.identity_snapshot(text,uuid[])
--   RETURNS TABLE(target_id uuid, ledger_aspect text, aspect_key text, value text); LANGUAGE sql; STABLE

-- FUNCTION integration.identity_table(uuid,uuid)
--   RETURNS text; LANGUAGE plpgsql; STABLE

-- FUNCTION integration.insert_staged_items(bigint)
--   RETURNS bigint; LANGUAGE plpgsql
--   EXECUTE: syncledger_upstream

-- FUNCTION integration.intake_code_lists(text)
--   RETURNS TABLE(field text, code_list text); LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_upstream, syncledger_admin

-- FUNCTION integration.is_stale(timestamp with time zone,integer,timestamp with time zone)
--   RETURNS boolean; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.job_awaits_requeue(integration.sync_job)
--   RETURNS boolean; LANGUAGE sql; STABLE; SET search_path=pg_catalog, integration, pg_temp

-- FUNCTION integration.job_for_action(bigint,text,text[],text,text)
--   RETURNS integration.sync_job; LANGUAGE plpgsql
--   EXECUTE: syncledger_connector

-- FUNCTION integration.job_item_counts(bigint[])
--   RETURNS TABLE(job_id bigint, total integer, applied integer, held integer, skipped integer, failed integer, pending integer); LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin, syncledger_worker, syncledger_upstream, syncledger_connector

-- FUNCTION integration.job_status_after(text,text,integer,integer,integer)
--   RETURNS text; LANGUAGE sql; IMMUTABLE
--   EXECUTE: syncledger_connector

-- FUNCTION integration.job_takes_upstream_items(integration.sync_job,text[])
--   RETURNS boolean; LANGUAGE sql; IMMUTABLE
--   EXECUTE: syncledger_upstream

-- FUNCTION integration.ledger_anchor()
--   RETURNS TABLE(records bigint, elements bigint, anchor text); LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.lock_records(jsonb)
--   RETURNS TABLE("table" text, id uuid); LANGUAGE plpgsql

-- FUNCTION integration.lock_target(text,uuid)
--   RETURNS void; LANGUAGE plpgsql

-- FUNCTION integration.match_claim_key(bigint,text)
--   RETURNS bigint; LANGUAGE sql; IMMUTABLE

-- FUNCTION integration.match_key_of(text,text[])
--   RETURNS text; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.match_keys_of(text,text[])
--   RETURNS TABLE(part smallint, normalised_key text, lookup text); LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.match_keys_of_records(text,uuid[],bigint[])
--   RETURNS TABLE(rule_id bigint, target_id uuid, part smallint, normalised_key text, lookup text, live boolean); LANGUAGE plpgsql; STABLE; SET TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex

-- FUNCTION integration.match_new_records(jsonb)
--   RETURNS TABLE(kind text, n integer, "table" text, target_id uuid, other_id uuid, rule_id bigint, rule_name text, score real, source text); LANGUAGE plpgsql; SET enable_seqscan=off, enable_nestloop=on, jit=off

-- FUNCTION integration.match_normalise(text)
--   RETURNS text; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.match_preview(text,text[],integer)
--   RETURNS TABLE(rule_name text, method text, min_score real, action text, is_active boolean, records_keyed bigint, pairs bigint, records_in_pairs bigint, would_link bigint, would_suspect bigint, samples jsonb); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_nestloop=on, jit=off, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.match_rule_keys()
--   RETURNS trigger; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp

-- FUNCTION integration.match_similar(text,text)
--   RETURNS boolean; LANGUAGE sql; STABLE

-- FUNCTION integration.match_similarity(text,text)
--   RETURNS real; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.merge(uuid,uuid,text,text)
--   RETURNS TABLE(merge_id bigint, target_table text, survivor_id uuid, merged_id uuid, identifiers_moved integer, values_settled integer, relationships_repointed integer, outbound_items integer); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.merge_records(uuid,uuid,text,integration.app_user)
--   RETURNS record; LANGUAGE plpgsql

-- FUNCTION integration.merkle_leaf_hash(bytea)
--   RETURNS bytea; LANGUAGE sql; IMMUTABLE

-- FUNCTION integration.merkle_node_hash(bytea,bytea)
--   RETURNS bytea; LANGUAGE sql; IMMUTABLE

-- FUNCTION integration.merkle_root(bigint)
--   RETURNS bytea; LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.merkle_size()
--   RETURNS bigint; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.merkle_subtrees(jsonb)
--   RETURNS TABLE(level integer, node_index bigint, hash bytea); LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.my_source_systems(name)
--   RETURNS text[]; LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, pg_temp
--   EXECUTE: syncledger_upstream, syncledger_connector

-- FUNCTION integration.notify_job_submitted()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.open_batch(text,jsonb,text,text,text)
--   RETURNS bigint; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.owner_entry(text,uuid,text)
--   RETURNS SETOF integration.ledger; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.pending_items(bigint[],integer,bigint,bigint,integer)
--   RETURNS TABLE(job_index integer, item_id bigint, seq bigint, target_table text, external_key text, operation text, field_name text, new_value text, source_timestamp timestamp with time zone, target_id uuid); LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, jit=off
--   EXECUTE: syncledger_worker

-- FUNCTION integration.prepare_chunk(uuid,bigint[],bigint,jsonb)
--   RETURNS TABLE(n integer, target_id uuid, created boolean, key_conflict boolean, related_id uuid, related_created boolean, related_conflict boolean, value text, cast_error text, current_value text, equals_current boolean, owner_ledger bigint, owner_source text, owner_stale boolean, held_duplicate bigint, ts_max timestamp with time zone, ts_submit bigint, ts_seq bigint, any_submit bigint, any_seq bigint, nots_submit bigint, nots_seq bigint, match_rule text, match_score real); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, enable_nestloop=off, jit=off, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_worker

-- FUNCTION integration.propose(text,uuid,text,text,text,text)
--   RETURNS bigint; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.provenance_violations()
--   RETURNS TABLE(target_table text, target_id uuid, aspect_key text, current_value text, expected_value text, ledger_id bigint, violation text); LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, work_mem=512MB, jit=off, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.prune_jobs(interval,integer,boolean)
--   RETURNS TABLE(jobs_pruned integer, items_pruned integer, more boolean); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, jit=off
--   EXECUTE: syncledger_admin, syncledger_worker

-- FUNCTION integration.prune_preview(interval,boolean)
--   RETURNS TABLE(jobs bigint, items bigint, cutoff timestamp with time zone, newest timestamp with time zone, kept_for_requeue bigint); LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, jit=off
--   EXECUTE: syncledger_admin, syncledger_worker

-- FUNCTION integration.queue_counts(jsonb)
--   RETURNS TABLE(state text, hold_reason text, entries bigint); LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.queue_filter(jsonb)
--   RETURNS jsonb; LANGUAGE plpgsql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.queue_matches(jsonb,text,text,text,boolean,text,timestamp with time zone)
--   RETURNS boolean; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.record_as_of(text,uuid,timestamp with time zone)
--   RETURNS TABLE(ledger_aspect text, aspect_key text, value text, ledger_id bigint, source_system_key text, ledger_status text, certified_by text, certified_at timestamp with time zone); LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.record_events(jsonb,bigint)
--   RETURNS void; LANGUAGE plpgsql

-- FUNCTION integration.record_fields(text,uuid,text[])
--   RETURNS text; LANGUAGE sql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.record_label(text,uuid)
--   RETURNS text; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.recount_jobs(bigint[])
--   RETURNS void; LANGUAGE sql; SET enable_seqscan=off, jit=off

-- FUNCTION integration.referenced_table(text,text)
--   RETURNS text; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.refresh_match_keys(text,uuid[],bigint[])
--   RETURNS void; LANGUAGE plpgsql

-- FUNCTION integration.refuse_job_id_change()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.refuse_ledger_event_update()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.refuse_ledger_removal()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.register_worker(jsonb,integer)
--   RETURNS void; LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_worker

-- FUNCTION integration.reject(bigint,text,text,text)
--   RETURNS TABLE(ledger_id bigint, ledger_status text, outcome text, detail text); LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.reject_round(bigint[],integration.app_user,text,text,bigint)
--   RETURNS TABLE(ledger_id bigint, outcome text, detail text, notice boolean); LANGUAGE plpgsql

-- FUNCTION integration.reject_where(jsonb,text,text,text,integer,bigint)
--   RETURNS ; LANGUAGE plpgsql
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.requeue_failed(bigint)
--   RETURNS integer; LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, jit=off
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.resolve_records(jsonb)
--   RETURNS TABLE(n integer, target_id uuid, found boolean, created boolean, match_rule text, match_score real); LANGUAGE plpgsql; SET enable_seqscan=off, enable_nestloop=off, jit=off

-- FUNCTION integration.resolve_target(text,text,boolean)
--   RETURNS record; LANGUAGE plpgsql; STABLE

-- FUNCTION integration.retrying(text,jsonb)
--   RETURNS jsonb; LANGUAGE plpgsql

-- FUNCTION integration.revoke(bigint,text,text)
--   RETURNS TABLE(ledger_id bigint, ledger_status text, outcome text, detail text); LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.revoke_batch(bigint,text,text,integer,bigint)
--   RETURNS ; LANGUAGE plpgsql
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.revoke_round(bigint[],integration.app_user,text,bigint)
--   RETURNS TABLE(ledger_id bigint, outcome text, detail text, notice boolean); LANGUAGE plpgsql

-- FUNCTION integration.run_batch(bigint,integer)
--   RETURNS ; LANGUAGE plpgsql
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.settle_held_items(bigint[],text,text)
--   RETURNS void; LANGUAGE plpgsql

-- FUNCTION integration.shown_value(text,text,text,text)
--   RETURNS text; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.snapshot_keys(text,text,name)
--   RETURNS TABLE(external_key text); LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_upstream, syncledger_admin

-- FUNCTION integration.stale_clock(integration.ledger)
--   RETURNS timestamp with time zone; LANGUAGE sql; STABLE
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.stamp_submitted_at()
--   RETURNS trigger; LANGUAGE plpgsql

-- FUNCTION integration.stored_entry_digest(integration.ledger)
--   RETURNS bytea; LANGUAGE sql; STABLE

-- FUNCTION integration.stored_event_digest(integration.ledger_event)
--   RETURNS bytea; LANGUAGE sql; STABLE

-- FUNCTION integration.target_holds(text,uuid,text,text,text)
--   RETURNS boolean; LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.transition_jobs(uuid,bigint[],text,text,integer,double precision)
--   RETURNS TABLE(job_id bigint, job_status text, attempts integer, total integer, applied integer, held integer, skipped integer, failed integer, pending integer); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, enable_seqscan=off, jit=off
--   EXECUTE: syncledger_worker, syncledger_connector

-- FUNCTION integration.unapply(jsonb)
--   RETURNS TABLE(ledger_id bigint, restored boolean, note text); LANGUAGE plpgsql

-- FUNCTION integration.unmerge(bigint,text,text)
--   RETURNS TABLE(merge_id bigint, target_table text, survivor_id uuid, merged_id uuid, identifiers_restored integer, values_restored integer, relationships_restored integer, outbound_items integer); LANGUAGE plpgsql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.unmerge_records(bigint,text,integration.app_user)
--   RETURNS record; LANGUAGE plpgsql

-- FUNCTION integration.use_canonical_settings(regprocedure)
--   RETURNS void; LANGUAGE plpgsql

-- FUNCTION integration.verify_ledger()
--   RETURNS TABLE(finding text, target_table text, target_id uuid, ledger_id bigint, event_id bigint, detail text); LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, work_mem=512MB, jit=off, parallel_tuple_cost=0.001, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.verify_log()
--   RETURNS TABLE(finding text, detail text); LANGUAGE plpgsql; STABLE; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp, work_mem=512MB, jit=off
--   EXECUTE: syncledger_steward, syncledger_admin

-- FUNCTION integration.wait_for_chunks(uuid,bigint[])
--   RETURNS void; LANGUAGE sql; SET enable_seqscan=off, jit=off

-- FUNCTION integration.worker_heartbeat(jsonb,integer)
--   RETURNS void; LANGUAGE sql; SECURITY DEFINER; SET search_path=pg_catalog, integration, pg_temp
--   EXECUTE: syncledger_worker

-- FUNCTION integration.write_identity_entries(jsonb,integration.app_user,text)
--   RETURNS bigint[]; LANGUAGE plpgsql

-- FUNCTION integration.write_targets(jsonb)
--   RETURNS TABLE(n integer, written boolean, present boolean); LANGUAGE plpgsql; SET enable_seqscan=off, enable_nestloop=off, jit=off, TimeZone=UTC, DateStyle=ISO, MDY, IntervalStyle=postgres, extra_float_digits=1, bytea_output=hex

-- VIEW integration.aspect_owner (target_table text, target_id uuid, aspect_key text, ledger_id bigint, ledger_aspect text, source_system_key text, ledger_status text, value text, previous_value text, is_applied boolean, applied_at timestamp with time zone, apply_seq bigint, sync_item_id bigint, job_id bigint, source_timestamp timestamp with time zone, recorded_at timestamp with time zone, confirmed_at timestamp with time zone, certified_at timestamp with time zone, certified_by bigint, notes text, stale_clock timestamp with time zone)

-- VIEW integration.field_provenance (target_table text, target_id uuid, ledger_aspect text, aspect_key text, current_value text, ledger_id bigint, ledger_value text, source_system_key text, ledger_status text, certified_by text, certified_at timestamp with time zone, applied_at timestamp with time zone, confirmed_at timestamp with time zone, recorded_at timestamp with time zone, pending_entries bigint, ledger_entries bigint, apply_seq bigint)

-- VIEW integration.live_workers (worker_id text, host text, pid integer, version text, started_at timestamp with time zone, heartbeat_at timestamp with time zone, expires_at timestamp with time zone, state text, slots integer, busy_slots integer, jobs_held integer, items_per_second real, heartbeat_age_seconds double precision)

-- VIEW integration.my_decisions (ledger_id bigint, source_system_key text, item_id bigint, job_id bigint, target_table text, external_key text, field text, value text, decision text, reason_code text, reason text, notes text, decided_by text, decided_at timestamp with time zone)

-- VIEW integration.review_queue (ledger_id bigint, target_table text, target_id uuid, record_keys text, ledger_aspect text, aspect_key text, source_system_key text, state text, is_applied boolean, hold_reason text, reason text, proposed_value text, current_value text, previous_value text, owner_ledger_id bigint, owner_source text, has_conflict boolean, job_id bigint, sync_item_id bigint, source_timestamp timestamp with time zone, recorded_at timestamp with time zone, age interval, notes text, confirmed_at timestamp with time zone)

-- VIEW integration.stale_values (ledger_id bigint, target_table text, target_id uuid, ledger_aspect text, aspect_key text, source_system_key text, value text, current_value text, last_confirmed_at timestamp with time zone, stale_after_days integer, stale_since timestamp with time zone, certified_at timestamp with time zone, certified_by text)

-- VIEW integration.suspect_queue (suspect_id bigint, status text, target_table text, target_id uuid, target_keys text, target_values text, candidate_id uuid, candidate_keys text, candidate_values text, rule_name text, score numeric(5,4), source_system_key text, found_at timestamp with time zone, age interval, decided_at timestamp with time zone, decided_by text, notes text, merge_id bigint)
