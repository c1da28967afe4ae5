-- Progress of the market-data runs, from their announcements (stock-runs) and the completion
-- and error topics of both stages. Each report is kept once, by its key: a redelivered event
-- changes nothing, and the counts are read from these rows.

-- A run as announced (regions, source, trading date, filter); a run whose events came before its
-- announcement has a row with announced false until it comes. finished_at is set (to the time
-- of its last report) once every region reported and every emitted symbol was processed or failed.
CREATE TABLE pipeline_runs (
  run_id         text PRIMARY KEY,
  announced      boolean NOT NULL DEFAULT false,
  regions        text[] NOT NULL DEFAULT '{}',
  source         text NOT NULL DEFAULT '',
  trading_date   text NOT NULL DEFAULT '',
  origin         text NOT NULL DEFAULT '',
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pipeline_runs_started_idx ON pipeline_runs (started_at DESC, run_id);
CREATE INDEX pipeline_runs_running_idx ON pipeline_runs (started_at DESC, run_id) WHERE finished_at IS NULL;

-- One row per (run, region) the scraper reported: completed (with the symbols it emitted) or
-- failed (with the error and the attempts). A completion wins over a failure.
CREATE TABLE pipeline_regions (
  run_id          text NOT NULL,
  region          text NOT NULL,
  state           text NOT NULL CHECK (state IN ('completed', 'failed')),
  symbols_emitted integer NOT NULL DEFAULT 0,
  duration_ms     bigint NOT NULL DEFAULT 0,
  error           text NOT NULL DEFAULT '',
  attempts        integer NOT NULL DEFAULT 0,
  reported_at     timestamptz NOT NULL,
  PRIMARY KEY (run_id, region)
);

-- One row per (run, region, symbol) the processor reported: completed or failed (with the
-- error). A completion wins over a failure.
CREATE TABLE pipeline_symbols (
  run_id      text NOT NULL,
  region      text NOT NULL,
  symbol      text NOT NULL,
  state       text NOT NULL CHECK (state IN ('completed', 'failed')),
  error       text NOT NULL DEFAULT '',
  reported_at timestamptz NOT NULL,
  PRIMARY KEY (run_id, region, symbol)
);
CREATE INDEX pipeline_symbols_failed_idx ON pipeline_symbols (run_id, reported_at DESC) WHERE state = 'failed';
