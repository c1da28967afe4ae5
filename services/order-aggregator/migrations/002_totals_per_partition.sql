-- Totals and windows kept per partition of `orders`, so that the transactions of different
-- partitions never wait on each other's rows (every batch touches most products). Readers sum
-- the partitions through the two views, which keep the names the tables had.
ALTER TABLE product_totals ADD COLUMN part integer NOT NULL DEFAULT -1;
ALTER TABLE product_totals DROP CONSTRAINT product_totals_pkey;
ALTER TABLE product_totals ADD PRIMARY KEY (product, part);
ALTER TABLE product_totals RENAME TO partition_totals;

ALTER TABLE product_windows ADD COLUMN part integer NOT NULL DEFAULT -1;
ALTER TABLE product_windows DROP CONSTRAINT product_windows_pkey;
ALTER TABLE product_windows ADD PRIMARY KEY (product, size_ms, window_start, part);
ALTER TABLE product_windows RENAME TO partition_windows;

CREATE VIEW product_totals AS
  SELECT product, sum(total) AS total, sum(count) AS count, sum(quantity) AS quantity,
         min(min_amount) AS min_amount, max(max_amount) AS max_amount, min(first_at) AS first_at, max(last_at) AS last_at
    FROM partition_totals GROUP BY product;

CREATE VIEW product_windows AS
  SELECT product, size_ms, window_start, sum(total) AS total, sum(count) AS count, sum(quantity) AS quantity,
         min(min_amount) AS min_amount, max(max_amount) AS max_amount
    FROM partition_windows GROUP BY product, size_ms, window_start;

-- counted_at grows with the order in which ids are counted: a BRIN index finds the expired ones
-- for the cleanup at a fraction of a B-tree's cost per insert.
DROP INDEX counted_orders_at_idx;
CREATE INDEX counted_orders_at_brin ON counted_orders USING brin (counted_at);
