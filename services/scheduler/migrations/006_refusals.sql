-- Job requests the ingest consumer read and sent to scheduler.jobs.dlq, by where it read them:
-- GetJob answers REFUSED, with the reason, for a request the gateway accepted at that
-- partition and offset. Kept as long as finished jobs are (SCHEDULER_RETENTION).
CREATE TABLE refusals (
  partition int NOT NULL,
  "offset" bigint NOT NULL,
  request_id text,
  reason text NOT NULL,
  refused_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partition, "offset")
);
CREATE INDEX refusals_refused_at_idx ON refusals (refused_at);
