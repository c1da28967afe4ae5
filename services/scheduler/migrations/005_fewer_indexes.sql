-- Every index is written on each insert and on most updates of the hot path. The next due time
-- is read from jobs_fire_idx (one step per priority), and a job's runs in flight from
-- runs_job_idx (a job has few runs once finished ones are deleted after the retention).
DROP INDEX jobs_next_due_idx;
DROP INDEX runs_active_idx;
