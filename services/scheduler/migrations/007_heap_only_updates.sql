-- A job's and a run's state changes (status, attempts, error, start and finish times) touch no
-- B-tree index, so PostgreSQL can write them as heap-only (HOT) updates: one new row version in
-- the same page and no index entry, instead of a new entry in every index of the table. An
-- index that names a changed column, in its key or its WHERE clause, rules that out; BRIN
-- indexes do not (PostgreSQL 16 and later). Pages keep room for those versions (fillfactor):
-- half of a runs page, as a run usually changes once (FIRED to DONE); less of a jobs page, as
-- firing moves a job to a new version anyway (next_fire_at is indexed) and only DONE stays.
ALTER TABLE jobs SET (fillfactor = 70);
ALTER TABLE runs SET (fillfactor = 50);

-- Listing one app's jobs, in the list's order; a status filter is checked on the rows.
DROP INDEX jobs_app_status_idx;
CREATE INDEX jobs_app_list_idx ON jobs (app_name, scheduled_time, id);

-- Cancel and pause clear next_fire_at, so a job with one is neither cancelled nor paused.
DROP INDEX jobs_fire_idx;
CREATE INDEX jobs_fire_idx ON jobs (priority, next_fire_at) WHERE next_fire_at IS NOT NULL;

-- History retention by time of the last change: rows are changed roughly in the order they are
-- stored, which is what a BRIN index summarises well.
DROP INDEX jobs_finished_idx;
CREATE INDEX jobs_updated_brin ON jobs USING brin (updated_at) WITH (autosummarize = on);
DROP INDEX runs_finished_idx;
CREATE INDEX runs_updated_brin ON runs USING brin (updated_at) WITH (autosummarize = on);

-- A buffered run (status PENDING) is found by a flag of its own, which leaves status out of
-- every B-tree index of runs.
ALTER TABLE runs ADD COLUMN pending boolean NOT NULL DEFAULT false;
UPDATE runs SET pending = true WHERE status = 'PENDING';
DROP INDEX runs_pending_idx;
CREATE INDEX runs_pending_idx ON runs (job_id) WHERE pending;
