-- Running and windowed order totals per product, the consumed offset of each partition (kept
-- with the totals, in the same transaction), and the order ids counted lately (for dedupe).
-- Money is numeric: sums are exact.
CREATE TABLE product_totals (
  product    text PRIMARY KEY,
  total      numeric NOT NULL,                 -- sum of price x quantity
  count      bigint NOT NULL,
  quantity   bigint NOT NULL,
  min_amount numeric NOT NULL,                 -- smallest order (price x quantity)
  max_amount numeric NOT NULL,
  first_at   timestamptz NOT NULL,
  last_at    timestamptz NOT NULL
);

-- Tumbling windows, aligned to the epoch: [window_start, window_start + size_ms).
CREATE TABLE product_windows (
  product      text NOT NULL,
  size_ms      bigint NOT NULL,
  window_start timestamptz NOT NULL,
  total        numeric NOT NULL,
  count        bigint NOT NULL,
  quantity     bigint NOT NULL,
  min_amount   numeric NOT NULL,
  max_amount   numeric NOT NULL,
  PRIMARY KEY (product, size_ms, window_start)
);

-- Per partition of `orders`: the next offset to apply (advanced by compare-and-set with the
-- totals), its stream time (the latest order time seen, for lateness), and what it counted.
CREATE TABLE partition_offsets (
  topic         text NOT NULL,
  part          integer NOT NULL,
  next_offset   bigint NOT NULL,
  stream_time   timestamptz,
  processed     bigint NOT NULL DEFAULT 0,
  duplicates    bigint NOT NULL DEFAULT 0,
  late          bigint NOT NULL DEFAULT 0,
  dead_lettered bigint NOT NULL DEFAULT 0,
  retried       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, part)
);

-- Order ids counted within ORDERS_DEDUPE_WINDOW (by order time); older ones are deleted.
CREATE TABLE counted_orders (
  order_id   text PRIMARY KEY,
  counted_at timestamptz NOT NULL
);
CREATE INDEX counted_orders_at_idx ON counted_orders (counted_at);
