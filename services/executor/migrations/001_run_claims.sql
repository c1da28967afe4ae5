-- One row per run this executor group has started: a redelivered jobs.due message finds it
-- and is not executed again.
CREATE TABLE run_claims (
  run_id      text PRIMARY KEY,
  job_id      text NOT NULL,
  app_name    text NOT NULL,
  executor    text NOT NULL,
  claimed_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  outcome     text,                    -- DONE or DEAD
  attempts    integer NOT NULL DEFAULT 0,  -- attempts made so far
  released_at timestamptz              -- handed back unfinished during a shutdown
);
