-- Dead letters are decided in the transaction of their batch, with the counts, and sent to
-- orders-dlq after it commits (then deleted here): an order is either counted or dead-lettered,
-- never both and never twice, whatever retries, outages or crashes come between.
CREATE TABLE dead_letters (
  topic       text NOT NULL,
  part        integer NOT NULL,
  msg_offset  bigint NOT NULL,
  msg_key     bytea,
  msg_value   bytea,
  headers     jsonb NOT NULL,                 -- the original headers: name -> [base64 values]
  error       text NOT NULL,
  attempts    integer NOT NULL,
  reason      text NOT NULL,                  -- invalid, rule or failed
  order_id    text,
  decided_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, part, msg_offset)
);
