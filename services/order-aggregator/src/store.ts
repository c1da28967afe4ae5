// All SQL of the order-aggregator, one named function per operation, over its tables in the
// `orders` schema (migrations/): totals and windows are kept per partition (partition_totals,
// partition_windows) and read summed over the partitions (the views product_totals and
// product_windows). A batch is applied by lockPartition,
// applyOrders and advancePartition in one transaction: the aggregates and the partition's
// offset change together or not at all.
import { withTransaction, type Pool, type PoolClient } from '@pipewright/platform';
import type { CountedOrder } from './aggregate';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Channel of the notifications sent when aggregates change: a JSON array of products, or "*" for many. */
export const CHANGES_CHANNEL = 'orders_aggregates';
/** PostgreSQL refuses notification payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;

export interface PartitionState {
  /** Next offset to apply. */
  nextOffset: bigint;
  streamTime: number | null;
}

/** Where each partition resumes, for those the store knows. */
export async function storedOffsets(db: Queryable, topic: string, partitions: number[]): Promise<Array<{ partition: number; nextOffset: string }>> {
  const { rows } = await db.query<{ part: number; next_offset: string }>('SELECT part, next_offset FROM partition_offsets WHERE topic = $1 AND part = ANY($2::int[])', [topic, partitions]);
  return rows.map((r) => ({ partition: r.part, nextOffset: r.next_offset }));
}

/** Locks the partition's row for this transaction (making it on first use) and returns its state. */
export async function lockPartition(client: PoolClient, topic: string, partition: number): Promise<PartitionState> {
  const select = () =>
    client.query<{ next_offset: string; stream_ms: string | null }>(
      `SELECT next_offset, (extract(epoch FROM stream_time) * 1000)::bigint AS stream_ms
         FROM partition_offsets WHERE topic = $1 AND part = $2 FOR UPDATE`,
      [topic, partition],
    );
  let { rows } = await select();
  if (rows.length === 0) {
    await client.query('INSERT INTO partition_offsets (topic, part, next_offset) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING', [topic, partition]);
    ({ rows } = await select());
  }
  return { nextOffset: BigInt(rows[0].next_offset), streamTime: rows[0].stream_ms === null ? null : Number(rows[0].stream_ms) };
}

// The orders of the batch whose id was not counted within the dedupe window (by the time they
// were counted): inserting an id counts it; an id counted longer ago is counted again.
const DEDUPED = `
  fresh AS (
    INSERT INTO counted_orders AS c (order_id, counted_at)
    SELECT order_id, now() FROM input
    ON CONFLICT (order_id) DO UPDATE SET counted_at = EXCLUDED.counted_at
      WHERE c.counted_at < now() - $2::bigint * interval '1 millisecond'
    RETURNING order_id
  )`;
const NOT_DEDUPED = `
  fresh AS (SELECT order_id FROM input WHERE $2::bigint IS NOT NULL)`;

// The batch comes as one JSON array (cheaper to send than an array per column). The price, a
// 32-bit float, is counted as the shortest decimal that reads back as the same float (its
// float4 text, exact since PostgreSQL 12): written as 19.99, counted as 19.99. Window starts
// are computed here; lateFor's bit i says the order is too late for the i-th window size.
const applySql = (dedupe: boolean) => `
WITH input AS (
  SELECT i AS order_id, p AS product, c::text::numeric AS price, q AS quantity, t AS at_ms, l AS late_for
    FROM json_to_recordset($1::json) AS x(i text, p text, c float4, q int, t bigint, l int)
),${dedupe ? DEDUPED : NOT_DEDUPED},
applied AS (
  SELECT i.order_id, i.product, i.quantity, i.at_ms, i.late_for, i.price * i.quantity AS amount FROM input i JOIN fresh USING (order_id)
),
totals AS (
  INSERT INTO partition_totals AS p (product, part, total, count, quantity, min_amount, max_amount, first_at, last_at)
  SELECT product, $4, sum(amount), count(*), sum(quantity), min(amount), max(amount), to_timestamp(min(at_ms) / 1000.0), to_timestamp(max(at_ms) / 1000.0)
    FROM applied GROUP BY product ORDER BY product
  ON CONFLICT (product, part) DO UPDATE SET
    total = p.total + EXCLUDED.total,
    count = p.count + EXCLUDED.count,
    quantity = p.quantity + EXCLUDED.quantity,
    min_amount = LEAST(p.min_amount, EXCLUDED.min_amount),
    max_amount = GREATEST(p.max_amount, EXCLUDED.max_amount),
    first_at = LEAST(p.first_at, EXCLUDED.first_at),
    last_at = GREATEST(p.last_at, EXCLUDED.last_at)
  RETURNING product
),
windows AS (
  INSERT INTO partition_windows AS w (product, part, size_ms, window_start, total, count, quantity, min_amount, max_amount)
  SELECT product, $4, size_ms, to_timestamp(start_ms / 1000.0), sum(amount), count(*), sum(quantity), min(amount), max(amount)
    FROM (SELECT a.product, a.amount, a.quantity, s.size_ms, a.at_ms - ((a.at_ms % s.size_ms) + s.size_ms) % s.size_ms AS start_ms
            FROM applied a CROSS JOIN unnest($3::bigint[]) WITH ORDINALITY AS s(size_ms, n)
           WHERE a.late_for & (1 << (s.n::int - 1)) = 0) x
   GROUP BY product, size_ms, start_ms ORDER BY 1, 3, 4
  ON CONFLICT (product, size_ms, window_start, part) DO UPDATE SET
    total = w.total + EXCLUDED.total,
    count = w.count + EXCLUDED.count,
    quantity = w.quantity + EXCLUDED.quantity,
    min_amount = LEAST(w.min_amount, EXCLUDED.min_amount),
    max_amount = GREATEST(w.max_amount, EXCLUDED.max_amount)
  RETURNING 1
)
SELECT (SELECT count(*) FROM applied)::int AS applied,
       (SELECT coalesce(array_agg(product), '{}') FROM totals) AS products,
       (SELECT count(*) FROM windows)::int AS windows`;

/**
 * Counts the orders of one partition (those not already counted within dedupeMs; 0 turns dedupe
 * off) into that partition's running totals and into each window they are not late for.
 * Returns how many were counted and the products whose totals changed.
 */
export async function applyOrders(client: PoolClient, partition: number, orders: CountedOrder[], windowSizes: number[], dedupeMs: number): Promise<{ applied: number; products: string[] }> {
  if (orders.length === 0) return { applied: 0, products: [] };
  const input = JSON.stringify(orders.map((o) => ({ i: o.orderId, p: o.product, c: o.price, q: o.quantity, t: o.at, l: o.lateFor })));
  const { rows } = await client.query<{ applied: number; products: string[] }>(applySql(dedupeMs > 0), [input, dedupeMs, windowSizes, partition]);
  return rows[0];
}

export interface PartitionAdvance {
  topic: string;
  partition: number;
  /** The next offset the transaction read under its lock: the compare of compare-and-set. */
  expected: bigint;
  next: bigint;
  streamTime: number | null;
  processed: number;
  duplicates: number;
  late: number;
  deadLettered: number;
  retried: number;
  /** Products whose aggregates changed, for WatchAggregates. */
  changed: string[];
}

/** Moves the partition's offset from expected to next with its counts; false when another member moved it first. */
export async function advancePartition(client: PoolClient, a: PartitionAdvance): Promise<boolean> {
  const payload = JSON.stringify(a.changed);
  const { rows } = await client.query<{ n: number }>(
    `WITH moved AS (
       UPDATE partition_offsets SET
         next_offset = $4, stream_time = to_timestamp($5::bigint / 1000.0),
         processed = processed + $6, duplicates = duplicates + $7, late = late + $8,
         dead_lettered = dead_lettered + $9, retried = retried + $10
        WHERE topic = $1 AND part = $2 AND next_offset = $3
       RETURNING 1
     )
     SELECT count(*)::int AS n, CASE WHEN count(*) > 0 AND $11::text <> '[]' THEN pg_notify($12, $11) END FROM moved`,
    [
      a.topic,
      a.partition,
      a.expected.toString(),
      a.next.toString(),
      a.streamTime,
      a.processed,
      a.duplicates,
      a.late,
      a.deadLettered,
      a.retried,
      payload.length < MAX_PAYLOAD ? payload : '"*"',
      CHANGES_CHANNEL,
    ],
  );
  return rows[0].n === 1;
}

/** The figures of an aggregate or a window, as PostgreSQL gives them (numeric and bigint as text). */
export interface Figures {
  total: string;
  count: string;
  average: string;
  min_amount: string;
  max_amount: string;
  quantity: string;
}

export interface AggregateRow extends Figures {
  product: string;
  first_at: Date | null;
  last_at: Date | null;
}

// Money as exact decimal text without trailing zeros (12.5 x 2 is "25", not "25.0").
const AGGREGATE_COLUMNS = `product, trim_scale(total)::text AS total, count::text, trim_scale(round(total / count, 6))::text AS average,
  trim_scale(min_amount)::text AS min_amount, trim_scale(max_amount)::text AS max_amount, quantity::text, first_at, last_at`;

/** One product's running aggregate, or undefined when none of its orders was counted. */
export async function productAggregate(db: Queryable, product: string): Promise<AggregateRow | undefined> {
  const { rows } = await db.query<AggregateRow>(`SELECT ${AGGREGATE_COLUMNS} FROM product_totals WHERE product = $1`, [product]);
  return rows[0];
}

/** The running aggregates of these products (those that have one). */
export async function productAggregates(db: Queryable, products: string[]): Promise<AggregateRow[]> {
  const { rows } = await db.query<AggregateRow>(`SELECT ${AGGREGATE_COLUMNS} FROM product_totals WHERE product = ANY($1::text[]) ORDER BY product`, [products]);
  return rows;
}

/** Every product together: summed from the per-product rows, so no single row is written by every batch. */
export async function overallAggregate(db: Queryable): Promise<AggregateRow> {
  const { rows } = await db.query<AggregateRow>(
    `SELECT '' AS product, trim_scale(coalesce(sum(total), 0))::text AS total, coalesce(sum(count), 0)::text AS count,
            trim_scale(coalesce(round(sum(total) / nullif(sum(count), 0), 6), 0))::text AS average,
            trim_scale(coalesce(min(min_amount), 0))::text AS min_amount, trim_scale(coalesce(max(max_amount), 0))::text AS max_amount,
            coalesce(sum(quantity), 0)::text AS quantity, min(first_at) AS first_at, max(last_at) AS last_at
       FROM product_totals`,
  );
  return rows[0];
}

export type AggregateSort = 'product' | 'total' | 'count' | 'average';
// Qualified: the selected columns of the same names are text.
const SORT_KEY: Record<AggregateSort, string> = { product: 't.product', total: 't.total', count: 't.count', average: '(t.total / t.count)' };

/**
 * A page of aggregates: by product A to Z, or by the largest total, count or average (ties by
 * product). after is the last row of the previous page (its sort value and product).
 */
export async function listAggregates(db: Queryable, sort: AggregateSort, limit: number, after?: { value: string; product: string }): Promise<Array<AggregateRow & { sort_value: string }>> {
  const key = SORT_KEY[sort];
  const params: unknown[] = [limit];
  let where = '';
  if (after) {
    if (sort === 'product') {
      params.push(after.product);
      where = 'WHERE t.product > $2';
    } else {
      params.push(after.value, after.product);
      where = `WHERE (${key} < $2::numeric OR (${key} = $2::numeric AND t.product > $3))`;
    }
  }
  const order = sort === 'product' ? 't.product' : `${key} DESC, t.product`;
  const { rows } = await db.query<AggregateRow & { sort_value: string }>(`SELECT ${AGGREGATE_COLUMNS}, ${key}::text AS sort_value FROM product_totals t ${where} ORDER BY ${order} LIMIT $1`, params);
  return rows;
}

export interface WindowRow extends Figures {
  product: string;
  size_ms: string;
  window_start: Date;
}

/** Windows of one product and size that start in [from, to), oldest first, after the given start. */
export async function listWindows(db: Queryable, q: { product: string; sizeMs: number; from: Date; to: Date; limit: number; afterStart?: Date }): Promise<WindowRow[]> {
  const { rows } = await db.query<WindowRow>(
    `SELECT product, size_ms::text, window_start, trim_scale(total)::text AS total, count::text, trim_scale(round(total / count, 6))::text AS average,
            trim_scale(min_amount)::text AS min_amount, trim_scale(max_amount)::text AS max_amount, quantity::text
       FROM product_windows
      WHERE product = $1 AND size_ms = $2 AND window_start >= $3 AND window_start < $4 AND ($6::timestamptz IS NULL OR window_start > $6)
      ORDER BY window_start LIMIT $5`,
    [q.product, q.sizeMs, q.from, q.to, q.limit, q.afterStart ?? null],
  );
  return rows;
}

export interface StoredStats {
  processed: string;
  duplicates: string;
  late: string;
  dead_lettered: string;
  retried: string;
}

/** What every replica counted, summed over the partitions. */
export async function aggregatorStats(db: Queryable, topic: string): Promise<StoredStats> {
  const { rows } = await db.query<StoredStats>(
    `SELECT coalesce(sum(processed), 0)::text AS processed, coalesce(sum(duplicates), 0)::text AS duplicates,
            coalesce(sum(late), 0)::text AS late, coalesce(sum(dead_lettered), 0)::text AS dead_lettered,
            coalesce(sum(retried), 0)::text AS retried
       FROM partition_offsets WHERE topic = $1`,
    [topic],
  );
  return rows[0];
}

/** A dead letter decided in a batch's transaction, waiting to be sent to orders-dlq. */
export interface PendingDeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The original headers, each value as bytes. */
  headers: Record<string, Buffer[]>;
  error: string;
  attempts: number;
  reason: string;
  orderId: string | null;
}

/** Records dead letters with the batch that decided them (they are sent after it commits). */
export async function insertDeadLetters(client: PoolClient, letters: PendingDeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const rows = letters.map((l) => ({
    t: l.topic,
    p: l.partition,
    o: l.offset,
    k: l.key?.toString('base64') ?? null,
    v: l.value?.toString('base64') ?? null,
    h: Object.fromEntries(Object.entries(l.headers).map(([name, values]) => [name, values.map((b) => b.toString('base64'))])),
    e: l.error,
    a: l.attempts,
    r: l.reason,
    i: l.orderId,
  }));
  await client.query(
    `INSERT INTO dead_letters (topic, part, msg_offset, msg_key, msg_value, headers, error, attempts, reason, order_id)
     SELECT t, p, o, decode(k, 'base64'), decode(v, 'base64'), h, e, a, r, i
       FROM json_to_recordset($1::json) AS x(t text, p int, o bigint, k text, v text, h jsonb, e text, a int, r text, i text)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/**
 * Hands dead letters waiting to be sent (of one partition, or any) to send, oldest first, and
 * deletes those it sent, in one transaction: rows another process is sending are skipped.
 */
export async function sendDeadLetters(pool: Pool, send: (letters: PendingDeadLetter[]) => Promise<void>, only?: { topic: string; partition: number }, limit = 500): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      topic: string;
      part: number;
      msg_offset: string;
      msg_key: Buffer | null;
      msg_value: Buffer | null;
      headers: Record<string, string[]>;
      error: string;
      attempts: number;
      reason: string;
      order_id: string | null;
    }>(
      `SELECT topic, part, msg_offset::text, msg_key, msg_value, headers, error, attempts, reason, order_id FROM dead_letters
        WHERE ($1::text IS NULL OR (topic = $1 AND part = $2)) ORDER BY topic, part, msg_offset LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [only?.topic ?? null, only?.partition ?? null, limit],
    );
    if (rows.length === 0) return 0;
    await send(
      rows.map((r) => ({
        topic: r.topic,
        partition: r.part,
        offset: r.msg_offset,
        key: r.msg_key,
        value: r.msg_value,
        headers: Object.fromEntries(Object.entries(r.headers).map(([name, values]) => [name, values.map((b) => Buffer.from(b, 'base64'))])),
        error: r.error,
        attempts: r.attempts,
        reason: r.reason,
        orderId: r.order_id,
      })),
    );
    await client.query('DELETE FROM dead_letters WHERE (topic, part, msg_offset) IN (SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]))', [
      rows.map((r) => r.topic),
      rows.map((r) => r.part),
      rows.map((r) => r.msg_offset),
    ]);
    return rows.length;
  });
}

export const CLEANUP_BATCH = 10_000;

/** Deletes up to CLEANUP_BATCH order ids counted longer ago than the dedupe window; returns how many. */
export async function deleteExpiredOrderIds(db: Queryable, dedupeMs: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM counted_orders WHERE order_id IN (
       SELECT order_id FROM counted_orders WHERE counted_at < now() - $1::bigint * interval '1 millisecond' LIMIT $2)`,
    [dedupeMs, CLEANUP_BATCH],
  );
  return r.rowCount ?? 0;
}

/** Deletes up to CLEANUP_BATCH windows that ended longer ago than retentionMs; returns how many. */
export async function deleteOldWindows(db: Queryable, retentionMs: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM partition_windows WHERE ctid IN (
       SELECT ctid FROM partition_windows
        WHERE window_start + size_ms * interval '1 millisecond' < now() - $1::bigint * interval '1 millisecond' LIMIT $2)`,
    [retentionMs, CLEANUP_BATCH],
  );
  return r.rowCount ?? 0;
}
