-- What the monitor keeps across restarts: the commit windows and log-end offsets consumer lag is
-- evaluated over, where its reading of __consumer_offsets has got to, the dead letters of every
-- DLQ topic with their replay records, and the recent errors of every service.

-- The last MONITOR_LAG_WINDOW commits of each partition of each consumer group, as the group
-- coordinator wrote them to __consumer_offsets (commits closer than MONITOR_LAG_MIN_DISTANCE
-- to the one before replace it, keeping its time).
CREATE TABLE group_commits (
  group_id    text NOT NULL,
  topic       text NOT NULL,
  part        integer NOT NULL,
  commit_time timestamptz NOT NULL,
  committed   bigint NOT NULL,          -- the next offset the group reads
  lag         bigint,                   -- log-end offset read last before the commit, minus committed; null when none was read
  PRIMARY KEY (group_id, topic, part, commit_time)
);

-- Log-end (and log-start) offsets of the topics, read every MONITOR_LAG_INTERVAL.
CREATE TABLE partition_ends (
  topic        text NOT NULL,
  part         integer NOT NULL,
  observed_at  timestamptz NOT NULL,
  start_offset bigint NOT NULL,
  end_offset   bigint NOT NULL,
  PRIMARY KEY (topic, part, observed_at)
);

-- The next offset to read of each partition of __consumer_offsets, kept with the windows (one
-- transaction): the monitor commits nothing there, since each commit would be a record to read.
CREATE TABLE offsets_position (
  part        integer PRIMARY KEY,
  next_offset bigint NOT NULL
);

-- Every message read from a DLQ topic, with its bytes, for browsing, counting and replay.
CREATE TABLE dead_letters (
  dlq_topic          text NOT NULL,
  part               integer NOT NULL,
  off                bigint NOT NULL,
  dead_at            timestamptz NOT NULL,   -- the DLQ record's timestamp
  original_topic     text,
  original_partition integer,
  original_offset    bigint,
  error_message      text,
  error_at           timestamptz,
  attempts           integer,
  key                bytea,
  value              bytea,
  headers            jsonb NOT NULL,         -- [[name, base64 value], ...] in the record's order
  PRIMARY KEY (dlq_topic, part, off)
);
CREATE INDEX dead_letters_time_idx ON dead_letters (dead_at DESC, dlq_topic, part, off);
CREATE INDEX dead_letters_topic_time_idx ON dead_letters (dlq_topic, dead_at DESC);

-- One row per dead letter replayed: a second replay of it needs force.
CREATE TABLE replays (
  dlq_topic        text NOT NULL,
  part             integer NOT NULL,
  off              bigint NOT NULL,
  state            text NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
  target_topic     text NOT NULL,
  target_partition integer,
  target_offset    bigint,
  times            integer NOT NULL DEFAULT 1,
  replayed_at      timestamptz NOT NULL DEFAULT now(),
  error            text,
  PRIMARY KEY (dlq_topic, part, off)
);

-- The latest MONITOR_RECENT_ERRORS errors: dead letters, error topics, failed runs.
CREATE TABLE recent_errors (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL,
  service      text NOT NULL,
  topic        text NOT NULL,
  part         integer NOT NULL,
  off          bigint NOT NULL,
  message      text NOT NULL,
  dead_letter  boolean NOT NULL,
  job_id       text,
  run_id       text,
  request_id   text,
  order_id     text,
  stock_run_id text,
  UNIQUE (topic, part, off)
);
CREATE INDEX recent_errors_at_idx ON recent_errors (at DESC);
