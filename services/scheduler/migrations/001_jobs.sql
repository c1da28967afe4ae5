-- Jobs, their runs, and the cluster-wide idempotency keys.
CREATE TABLE jobs (
  id              uuid PRIMARY KEY,
  request_id      text NOT NULL UNIQUE,
  app_name        text NOT NULL,
  priority        smallint NOT NULL,            -- 0 high, 1 normal, 2 low
  idempotency_key text,
  job_data        jsonb NOT NULL,
  status          text NOT NULL,
  scheduled_time  timestamptz NOT NULL,
  next_fire_at    timestamptz,                  -- set while an occurrence waits to fire
  paused_fire_at  timestamptz,                  -- the pending occurrence while paused
  max_retries     integer,
  backoff         jsonb,
  trace_context   jsonb,
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX jobs_due_idx ON jobs (next_fire_at, priority) WHERE next_fire_at IS NOT NULL;
CREATE INDEX jobs_list_idx ON jobs (scheduled_time, id);
CREATE INDEX jobs_app_status_idx ON jobs (app_name, status);

CREATE TABLE runs (
  id          text PRIMARY KEY,                 -- stable per occurrence: re-firing reuses it
  job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  status      text NOT NULL,                    -- FIRED, RUNNING, FAILED, DONE, DEAD
  attempt     integer NOT NULL DEFAULT 0,
  due_at      timestamptz NOT NULL,
  fired_at    timestamptz NOT NULL,
  started_at  timestamptz,
  finished_at timestamptz,
  error       text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX runs_job_idx ON runs (job_id, due_at);

CREATE TABLE idempotency_keys (
  key        text PRIMARY KEY,
  job_id     uuid NOT NULL,
  expires_at timestamptz NOT NULL
);
