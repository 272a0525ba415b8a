-- 002_worker_support.sql — what the worker needs from the database besides
-- tables: wake-up notifications, Draft → Submitted bookkeeping, and a value
-- checker that casts text to a column's type without aborting the caller's
-- transaction.

-- One notification per job that becomes claimable, never one per item. The
-- payload is the job id; workers treat it only as a hint and also poll, so a
-- lost notification (or a transaction pooler) costs latency, not work.
CREATE FUNCTION integration.notify_job_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.direction = 'Inbound' AND NEW.job_status = 'Submitted'
     AND (TG_OP = 'INSERT' OR OLD.job_status IS DISTINCT FROM 'Submitted') THEN
    PERFORM pg_notify('syncledger_job_submitted', NEW.job_id::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER sync_job_notify_submitted
  AFTER INSERT OR UPDATE OF job_status ON integration.sync_job
  FOR EACH ROW EXECUTE FUNCTION integration.notify_job_submitted();

-- A Draft job's age counts from the moment its upstream flips it to Submitted.
CREATE FUNCTION integration.stamp_submitted_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.job_status = 'Draft' AND NEW.job_status = 'Submitted' THEN
    NEW.submitted_at := now();
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER sync_job_stamp_submitted_at
  BEFORE UPDATE OF job_status ON integration.sync_job
  FOR EACH ROW EXECUTE FUNCTION integration.stamp_submitted_at();

-- check_values(table, column, values): for each value, its canonical text after
-- a round trip through the column's type (e.g. '2024-1-5' → '2024-01-05' for a
-- date), or the cast error. The whole array is cast in one statement first; only
-- when that fails is each value tried alone. Exception blocks here write
-- nothing, so they assign no transaction id and are cheap. The type comes from
-- pg_attribute, never from the caller, so nothing here can be injected.
--
-- An explicit cast to varchar(n) or char(n) silently cuts a long value, where
-- writing it into the column (an assignment) would fail; so lengths are checked
-- here the way an assignment checks them (trailing spaces may be cut from char).
CREATE FUNCTION integration.check_values(tbl regclass, col name, vals text[])
RETURNS TABLE (ord integer, canonical text, error text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  type_name text;
  type_oid  oid;
  max_chars integer;
  results   text[];
  one       text;
BEGIN
  SELECT format_type(a.atttypid, a.atttypmod), a.atttypid,
         CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND a.atttypmod > 4 THEN a.atttypmod - 4 END
    INTO type_name, type_oid, max_chars
    FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
  IF type_name IS NULL THEN
    RAISE EXCEPTION 'unknown column % on %', quote_ident(col), tbl
      USING ERRCODE = 'undefined_column';
  END IF;

  IF max_chars IS NOT NULL THEN
    FOR i IN 1 .. coalesce(array_length(vals, 1), 0) LOOP
      ord := i;
      IF char_length(CASE WHEN type_oid = 'bpchar'::regtype THEN rtrim(vals[i], ' ') ELSE vals[i] END) > max_chars THEN
        canonical := NULL; error := format('value too long for type %s', type_name);
      ELSE
        error := NULL;
        EXECUTE format('SELECT ($1)::%s::text', type_name) INTO canonical USING vals[i];
      END IF;
      RETURN NEXT;
    END LOOP;
    RETURN;
  END IF;

  BEGIN
    EXECUTE format('SELECT array_agg((u.v)::%s::text ORDER BY u.o) FROM unnest($1) WITH ORDINALITY u(v, o)', type_name)
       INTO results USING vals;
    RETURN QUERY SELECT x.o::integer, x.r, NULL::text FROM unnest(results) WITH ORDINALITY x(r, o);
    RETURN;
  EXCEPTION WHEN others THEN
    NULL; -- at least one value does not cast: find which, one at a time
  END;

  FOR i IN 1 .. coalesce(array_length(vals, 1), 0) LOOP
    BEGIN
      EXECUTE format('SELECT ($1)::%s::text', type_name) INTO one USING vals[i];
      ord := i; canonical := one; error := NULL;
    EXCEPTION WHEN others THEN
      ord := i; canonical := NULL; error := SQLERRM;
    END;
    RETURN NEXT;
  END LOOP;
END
$$;
