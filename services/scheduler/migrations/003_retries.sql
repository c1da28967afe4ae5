-- A failed attempt whose retry the executor handed over: the firing loop fires the run again at
-- retry_at (same run id), like an occurrence.
ALTER TABLE runs ADD COLUMN retry_at timestamptz;
CREATE INDEX runs_retry_idx ON runs (retry_at) WHERE retry_at IS NOT NULL;
