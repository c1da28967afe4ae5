-- Batched status events: a commutative merge decides whether an event is newer than the run.
-- FIRED (and PENDING) < RUNNING < FAILED < DONE = DEAD within an attempt; a later attempt is
-- newer; a finished (or skipped) run changes no more.
CREATE FUNCTION run_rank(status text) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE status WHEN 'PENDING' THEN 0 WHEN 'FIRED' THEN 0 WHEN 'RUNNING' THEN 1 WHEN 'FAILED' THEN 2 ELSE 3 END $$;

CREATE FUNCTION run_newer(cur_status text, cur_attempt integer, new_status text, new_attempt integer) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT run_rank(cur_status) < 3
           AND (new_attempt > cur_attempt OR (new_attempt = cur_attempt AND run_rank(new_status) > run_rank(cur_status))) $$;

-- Firing in priority order without sorting every due row: one index walk per priority.
CREATE INDEX jobs_fire_idx ON jobs (priority, next_fire_at)
  WHERE next_fire_at IS NOT NULL AND status NOT IN ('CANCELLED', 'PAUSED');
DROP INDEX jobs_due_idx;
CREATE INDEX jobs_next_due_idx ON jobs (next_fire_at)
  WHERE next_fire_at IS NOT NULL AND status NOT IN ('CANCELLED', 'PAUSED');

-- History retention: finished jobs by when they finished.
CREATE INDEX jobs_finished_idx ON jobs (updated_at) WHERE status IN ('DONE', 'DEAD', 'CANCELLED');
CREATE INDEX runs_finished_idx ON runs (updated_at) WHERE status IN ('DONE', 'DEAD', 'SKIPPED');
