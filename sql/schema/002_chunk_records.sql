-- 002_chunk_records.sql — the worker's statements read and return records
-- instead of parallel arrays (sql/code/20_jobs.sql, 50_aspects.sql). A
-- function whose result changes shape cannot be replaced in place: the old
-- one goes here, before the code files define the new one.

DROP FUNCTION IF EXISTS integration.pending_items(bigint[], integer, bigint, bigint, integer);
