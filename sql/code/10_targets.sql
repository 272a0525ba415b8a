-- targets.sql — the registered target tables: resolving their names,
-- canonical values, reading, comparing, locking and writing one aspect of a
-- record, and the configuration version the worker checks (SPEC §2, §6).
--
-- Every identifier that reaches dynamic SQL comes from resolve_target (the
-- registry and pg_catalog) and is still interpolated with %I; type names come
-- from format_type; values are always bound parameters.
--
--   SL050  target table not registered, missing, inactive, or the column not writable
--   SL051  target record not found
--   42703  (undefined_column) the aspect names no column of the target table

-- ---------------------------------------------------------------------------
-- Canonical values
-- ---------------------------------------------------------------------------

-- use_canonical_settings(function): gives a function the settings under
-- which values become canonical text (SPEC §2, Canonical values): TimeZone
-- UTC, DateStyle ISO, IntervalStyle postgres, full float precision and hex
-- bytea, whatever the calling session has set. The one definition of those
-- settings: every function that turns values into text, or text into values,
-- calls this right after its definition.
CREATE OR REPLACE FUNCTION integration.use_canonical_settings(p_function regprocedure)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER FUNCTION %s SET TimeZone = %L SET DateStyle = %L SET IntervalStyle = %L'
                 ' SET extra_float_digits = 1 SET bytea_output = %L',
                 p_function, 'UTC', 'ISO, MDY', 'postgres', 'hex');
END
$$;

-- ---------------------------------------------------------------------------
-- Registered tables
-- ---------------------------------------------------------------------------


-- resolve_target(table, column): a registered target table split into quoted-
-- safe parts, with the type of one of its columns. Every identifier that
-- reaches dynamic SQL below comes from here (the registry and pg_catalog),
-- and is still interpolated with %I; the type name comes from format_type.
CREATE OR REPLACE FUNCTION integration.resolve_target(
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

-- The registered target table a foreign-key column points to, so that a
-- Relationship value (the related record's uuid) is translated through the
-- crosswalk of the right table. NULL when the column has no single-column
-- foreign key.
CREATE OR REPLACE FUNCTION integration.referenced_table(p_table text, p_column text)
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

-- column_type(table, column): the column's type as format_type names it
-- (what a cast to it is written with), its oid, and for varchar(n) and
-- char(n) the n; undefined_column when the table has no such column. The
-- one reading of a column's type for canonical_values and cast_errors.
CREATE OR REPLACE FUNCTION integration.column_type(
  tbl regclass, col name, OUT type_name text, OUT type_oid oid, OUT max_chars integer)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT format_type(a.atttypid, a.atttypmod), a.atttypid,
         CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND a.atttypmod > 4 THEN a.atttypmod - 4 END
    INTO type_name, type_oid, max_chars
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
  IF type_name IS NULL THEN
    RAISE EXCEPTION 'unknown column % on %', quote_ident(col), tbl USING ERRCODE = 'undefined_column';
  END IF;
END
$$;

-- canonical_values(table, column, values, currents): for each value, its
-- canonical text after a round trip through the column's type (e.g.
-- '2024-1-5' → '2024-01-05' for a date), or the cast error; and whether it
-- equals the matching current value on the column's type. The whole array
-- is cast in one statement first; only when that fails is each value tried
-- alone. Exception blocks here write nothing, so they are cheap. The type
-- comes from pg_attribute, never from the caller, so nothing can be injected.
--
-- An explicit cast to varchar(n) or char(n) silently cuts a long value where
-- writing it into the column (an assignment) would fail; so lengths are
-- checked here the way an assignment checks them.
CREATE OR REPLACE FUNCTION integration.canonical_values(tbl regclass, col name, vals text[], currents text[])
RETURNS TABLE (ord integer, canonical text, error text, same boolean)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  type_name text;
  type_oid  oid;
  max_chars integer;
  canon     text[];
  sames     boolean[];
  one       text;
  eq        boolean;
BEGIN
  SELECT c.type_name, c.type_oid, c.max_chars INTO type_name, type_oid, max_chars FROM integration.column_type(tbl, col) c;

  IF max_chars IS NULL THEN
    BEGIN
      EXECUTE format('SELECT array_agg((u.v)::%1$s::text ORDER BY u.o),'
                     '       array_agg((u.v)::%1$s IS NOT DISTINCT FROM (u.c)::%1$s ORDER BY u.o)'
                     '  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(v, c, o)', type_name)
         INTO canon, sames USING vals, currents;
      RETURN QUERY SELECT x.o::integer, x.r, NULL::text, x.s FROM unnest(canon, sames) WITH ORDINALITY AS x(r, s, o);
      RETURN;
    EXCEPTION WHEN others THEN
      NULL; -- at least one value does not cast: find which, one at a time
    END;
  END IF;

  FOR i IN 1 .. coalesce(array_length(vals, 1), 0) LOOP
    ord := i;
    IF max_chars IS NOT NULL
       AND char_length(CASE WHEN type_oid = 'bpchar'::regtype THEN rtrim(vals[i], ' ') ELSE vals[i] END) > max_chars THEN
      canonical := NULL; error := format('value too long for type %s', type_name); same := false;
    ELSE
      BEGIN
        EXECUTE format('SELECT ($1)::%1$s::text, ($1)::%1$s IS NOT DISTINCT FROM ($2)::%1$s', type_name)
           INTO one, eq USING vals[i], currents[i];
        canonical := one; error := NULL; same := eq;
      EXCEPTION WHEN others THEN
        canonical := NULL; error := SQLERRM; same := false;
      END;
    END IF;
    RETURN NEXT;
  END LOOP;
END
$$;
SELECT integration.use_canonical_settings('integration.canonical_values(regclass,name,text[],text[])');

-- cast_errors(table, column, values): the values that do not cast to the
-- column's type, each with the cast's error (ord: its 1-based place in
-- `values`; NULLs cast). The same casts under the same settings as
-- canonical_values, so a value this passes is one the worker writes;
-- `syncledger submit` checks a file's values with it before anything is
-- submitted (intake.sql, check_values), tens of thousands at a time.
--
-- Set-based: the whole array is cast in one statement; only when that fails
-- is it halved, and each half tried again, down to the bad values (for k bad
-- values among n, about 2·k·log2(n) statements; exception blocks here write
-- nothing, so they are cheap). varchar(n) and char(n) take any text, so for
-- them only the length is checked, as an assignment checks it (an explicit
-- cast would cut the value silently).
CREATE OR REPLACE FUNCTION integration.cast_errors(tbl regclass, col name, vals text[])
RETURNS TABLE (ord integer, error text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  type_name text;
  type_oid  oid;
  max_chars integer;
  cast_sql  text;
  n         integer := coalesce(array_length(vals, 1), 0);
  lows      integer[] := ARRAY[1];
  highs     integer[] := ARRAY[n];
  lo        integer;
  hi        integer;
  mid       integer;
BEGIN
  SELECT c.type_name, c.type_oid, c.max_chars INTO type_name, type_oid, max_chars FROM integration.column_type(tbl, col) c;
  IF n = 0 OR type_oid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype) THEN
    RETURN QUERY
    SELECT u.o::integer, format('value too long for type %s', type_name)
      FROM unnest(vals) WITH ORDINALITY AS u(v, o)
     WHERE max_chars IS NOT NULL
       AND char_length(CASE WHEN type_oid = 'bpchar'::regtype THEN rtrim(u.v, ' ') ELSE u.v END) > max_chars;
    RETURN;
  END IF;

  -- count() evaluates the cast of every value (also for array and domain types).
  cast_sql := format('SELECT count((u.v)::%s) FROM unnest($1::text[]) AS u(v)', type_name);
  WHILE cardinality(lows) > 0 LOOP
    lo := lows[cardinality(lows)];
    hi := highs[cardinality(highs)];
    lows := lows[1:cardinality(lows) - 1];
    highs := highs[1:cardinality(highs) - 1];
    BEGIN
      EXECUTE cast_sql USING vals[lo:hi];
    EXCEPTION WHEN others THEN
      IF lo = hi THEN
        ord := lo;
        error := SQLERRM;
        RETURN NEXT;
      ELSE
        -- The left half is taken next, so the results come in order.
        mid := (lo + hi) / 2;
        lows := lows || ARRAY[mid + 1, lo];
        highs := highs || ARRAY[hi, mid];
      END IF;
    END;
  END LOOP;
END
$$;
SELECT integration.use_canonical_settings('integration.cast_errors(regclass,name,text[])');

-- current_value(table, id, column): the target's current value as canonical
-- text, the form in which the ledger stores values. NULL when the record does
-- not exist, and for the Record aspect's key 'record' (which is not a
-- column). SECURITY DEFINER so that the views work for stewards who have no
-- privileges on the target tables; it reads only registered tables, one
-- column of one record.
CREATE OR REPLACE FUNCTION integration.current_value(p_table text, p_id uuid, p_column text)
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
  EXECUTE format('SELECT t.%I::text FROM %I.%I t WHERE t.%I = $1', p_column, t.rel_schema, t.rel_name, t.id_col)
     INTO result USING p_id;
  RETURN result;
END
$$;
SELECT integration.use_canonical_settings('integration.current_value(text,uuid,text)');

-- aspect_state: like current_value, but the Record aspect reads as its
-- lifecycle: 'deleted' when the active column is false, else 'created'
-- (NULL when the record does not exist). Used in messages and undo decisions.
CREATE OR REPLACE FUNCTION integration.aspect_state(p_table text, p_id uuid, p_aspect text, p_aspect_key text)
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

-- target_holds(table, id, aspect, key, value): whether the target holds
-- value, compared on the column's type (Record: 'deleted' when the active
-- column is false, 'created' otherwise). Like current_value, SECURITY DEFINER
-- for the views (review_queue's has_conflict) that stewards read without
-- privileges on the target tables; it reads one column of one record.
CREATE OR REPLACE FUNCTION integration.target_holds(p_table text, p_id uuid, p_aspect text, p_aspect_key text, p_value text)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  t     record;
  holds boolean;
BEGIN
  IF p_aspect = 'Record' THEN
    RETURN integration.aspect_state(p_table, p_id, p_aspect, p_aspect_key) IS NOT DISTINCT FROM p_value;
  END IF;
  t := integration.resolve_target(p_table, p_aspect_key);
  EXECUTE format('SELECT t.%1$I IS NOT DISTINCT FROM ($2)::%5$s FROM %2$I.%3$I t WHERE t.%4$I = $1',
                 p_aspect_key, t.rel_schema, t.rel_name, t.id_col, t.col_type)
     INTO holds USING p_id, p_value;
  RETURN coalesce(holds, false);
END
$$;
SELECT integration.use_canonical_settings('integration.target_holds(text,uuid,text,text,text)');

-- write_targets(writes): writes aspects of target records, set-based: one
-- UPDATE per table, every written column of a record in one row update.
-- Each element of `writes` (a JSON array) is one write:
--
--   n          its number (returned with the answer)
--   table, target_id, aspect, aspect_key   the aspect written
--   value      Field, Relationship: the column's new value, cast to its type;
--              Record: 'deleted' clears the table's active column, any other
--              value sets it (creation itself is never written here)
--   expected   with check: written only if the target still holds this value,
--              compared on the column's type (Record: 'deleted' when the active
--              column is false, 'created' otherwise); the compare happens
--              under the row lock the caller holds, so it is a compare-and-set
--   check      whether to compare
--
-- Returns per write whether it was written, and whether its record exists.
-- The written records' match keys follow (identity.sql, refresh_match_keys).
-- Refuses (SL050) an unregistered, missing or inactive table, its id column,
-- and Record writes to a table without an active column. Two writes of one
-- column of one record in one call are the caller's mistake: one of them wins.
CREATE OR REPLACE FUNCTION integration.write_targets(p_writes jsonb)
RETURNS TABLE (n integer, written boolean, present boolean)
LANGUAGE plpgsql
SET enable_seqscan = off SET enable_nestloop = off SET jit = off
AS $$
DECLARE
  tbl  text;
  t    record;
  cols record;
BEGIN
  FOR tbl IN SELECT DISTINCT x."table" FROM jsonb_to_recordset(p_writes) AS x("table" text) ORDER BY 1 LOOP
    t := integration.resolve_target(tbl);
    IF NOT t.table_active THEN
      RAISE EXCEPTION 'target table % is not active: nothing is written to it', tbl USING ERRCODE = 'SL050';
    END IF;
    IF t.active_col IS NULL AND EXISTS (SELECT FROM jsonb_to_recordset(p_writes) AS x("table" text, aspect text)
                                         WHERE x."table" = tbl AND x.aspect = 'Record') THEN
      RAISE EXCEPTION '% has no active_column: its records cannot be deleted or restored', tbl USING ERRCODE = 'SL050';
    END IF;
    IF EXISTS (SELECT FROM jsonb_to_recordset(p_writes) AS x("table" text, aspect text, aspect_key text)
                WHERE x."table" = tbl AND x.aspect <> 'Record' AND x.aspect_key = t.id_col) THEN
      RAISE EXCEPTION 'the id column "%" of % is never written', t.id_col, tbl USING ERRCODE = 'SL050';
    END IF;
    -- The columns written, with their types; the active column is compared
    -- as a lifecycle (NULL counts as active).
    SELECT string_agg(format('bool_or(w.c = %1$L) AS p%2$s, (array_agg(w.v) FILTER (WHERE w.c = %1$L))[1] AS v%2$s,'
                             ' (array_agg(w.e) FILTER (WHERE w.c = %1$L))[1] AS e%2$s,'
                             ' coalesce(bool_or(w.chk) FILTER (WHERE w.c = %1$L), false) AS c%2$s', c.col, c.o), ', ' ORDER BY c.o)
             AS aggs,
           string_agg(format('(NOT r.c%1$s OR %2$s IS NOT DISTINCT FROM (r.e%1$s)::%3$s) AS h%1$s', c.o,
                             CASE WHEN c.col = t.active_col THEN format('coalesce(t.%I, true)', c.col) ELSE format('t.%I', c.col) END,
                             c.typ), ', ' ORDER BY c.o) AS holds,
           string_agg(format('%1$I = CASE WHEN h.p%2$s AND h.h%2$s THEN (h.v%2$s)::%3$s ELSE t.%1$I END', c.col, c.o, c.typ),
                      ', ' ORDER BY c.o) AS sets,
           string_agg(format('WHEN %1$L THEN h.p%2$s AND h.h%2$s', c.col, c.o), ' ' ORDER BY c.o) AS outcome,
           array_agg(c.col::text) AS written
      INTO cols
      FROM (SELECT row_number() OVER (ORDER BY u.col) AS o, u.col, format_type(a.atttypid, a.atttypmod) AS typ
              FROM (SELECT DISTINCT CASE WHEN x.aspect = 'Record' THEN t.active_col::text ELSE x.aspect_key END AS col
                      FROM jsonb_to_recordset(p_writes) AS x("table" text, aspect text, aspect_key text)
                     WHERE x."table" = tbl) u
              JOIN pg_attribute a ON a.attrelid = format('%I.%I', t.rel_schema, t.rel_name)::regclass
                                 AND a.attname = u.col AND a.attnum > 0 AND NOT a.attisdropped) c;
    IF cols.sets IS NULL THEN
      RAISE EXCEPTION 'unknown column on %', tbl USING ERRCODE = 'undefined_column';
    END IF;
    -- The target rows are read and updated through their key (= ANY): with
    -- nested loops off (see "Plans" in aspects.sql), a plain join to the
    -- target table is a merge join that reads all of it, for every chunk.
    RETURN QUERY EXECUTE format(
      $q$WITH w AS (
            SELECT x.n, x.target_id AS id,
                   CASE WHEN x.aspect = 'Record' THEN $3 ELSE x.aspect_key END AS c,
                   CASE WHEN x.aspect = 'Record' THEN (x.value IS DISTINCT FROM 'deleted')::text ELSE x.value END AS v,
                   CASE WHEN x.aspect = 'Record' THEN (x.expected IS DISTINCT FROM 'deleted')::text ELSE x.expected END AS e,
                   coalesce(x."check", false) AS chk
              FROM jsonb_to_recordset($1) AS x(n integer, "table" text, target_id uuid, aspect text, aspect_key text,
                                               value text, expected text, "check" boolean)
             WHERE x."table" = $2),
          r AS MATERIALIZED (SELECT w.id, %1$s FROM w GROUP BY w.id),
          h AS MATERIALIZED (SELECT r.*, %2$s FROM r JOIN %4$I.%5$I t ON t.%6$I = r.id
                              WHERE t.%6$I = ANY (ARRAY(SELECT r.id FROM r))),
          u AS (UPDATE %4$I.%5$I t SET %3$s FROM h
                 WHERE t.%6$I = h.id AND t.%6$I = ANY (ARRAY(SELECT h.id FROM h)))
       SELECT w.n, coalesce(CASE w.c %7$s END, false), h.id IS NOT NULL
         FROM w LEFT JOIN h ON h.id = w.id$q$,
      cols.aggs, cols.holds, cols.sets, t.rel_schema, t.rel_name, t.id_col, cols.outcome)
    USING p_writes, tbl, t.active_col::text;
    -- The records' match keys (identity.sql), when a column some match rule
    -- compares, or the active column, was written.
    IF EXISTS (SELECT FROM integration.match_rule r
                WHERE r.target_table = tbl AND (r.fields && cols.written OR t.active_col::text = ANY (cols.written))) THEN
      PERFORM integration.refresh_match_keys(tbl, ARRAY(SELECT DISTINCT x.target_id
                                                           FROM jsonb_to_recordset(p_writes) AS x("table" text, target_id uuid)
                                                          WHERE x."table" = tbl ORDER BY 1));
    END IF;
  END LOOP;
END
$$;
SELECT integration.use_canonical_settings('integration.write_targets(jsonb)');

-- lock_target(table, id): the first lock of every steward action: the target
-- row, FOR NO KEY UPDATE, as the worker's chunks lock it. Raises SL051 when
-- the record does not exist.
CREATE OR REPLACE FUNCTION integration.lock_target(p_table text, p_id uuid)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t     record;
  found boolean;
BEGIN
  t := integration.resolve_target(p_table);
  EXECUTE format('SELECT true FROM %I.%I t WHERE t.%I = $1 FOR NO KEY UPDATE', t.rel_schema, t.rel_name, t.id_col)
     INTO found USING p_id;
  IF found IS NULL THEN
    RAISE EXCEPTION 'target record % not found in %', p_id, p_table USING ERRCODE = 'SL051';
  END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Configuration version
-- ---------------------------------------------------------------------------

-- Bumped by every change to the configuration the worker caches (sources,
-- target tables, policies, value maps, subscriptions). The worker checks it
-- in every chunk transaction and reloads when it moved (SL061), so it never
-- writes with a stale configuration.
CREATE OR REPLACE FUNCTION integration.bump_config_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
BEGIN
  UPDATE integration.config_version SET version = version + 1;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER source_system_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integration.source_system
  FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();

CREATE OR REPLACE TRIGGER target_table_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integration.target_table
  FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();

CREATE OR REPLACE TRIGGER commit_policy_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integration.commit_policy
  FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();

CREATE OR REPLACE TRIGGER value_map_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integration.value_map
  FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();

CREATE OR REPLACE TRIGGER subscription_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integration.subscription
  FOR EACH STATEMENT EXECUTE FUNCTION integration.bump_config_version();
