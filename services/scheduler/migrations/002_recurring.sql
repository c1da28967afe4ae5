-- Recurring jobs: schedule, bounds, misfire and overlap policies; skipped and buffered runs.
ALTER TABLE jobs
  ADD COLUMN schedule           jsonb,
  ADD COLUMN start_at           timestamptz,
  ADD COLUMN end_at             timestamptz,
  ADD COLUMN misfire_policy     text NOT NULL DEFAULT 'fire_once',
  ADD COLUMN catch_up_window_ms bigint,
  ADD COLUMN overlap_policy     text NOT NULL DEFAULT 'skip',
  ADD COLUMN skipped            integer NOT NULL DEFAULT 0;

-- Runs may now be SKIPPED (not fired, with the reason in error) or PENDING (buffered).
CREATE INDEX runs_pending_idx ON runs (job_id) WHERE status = 'PENDING';
CREATE INDEX runs_active_idx ON runs (job_id) WHERE status IN ('FIRED', 'RUNNING', 'FAILED');
