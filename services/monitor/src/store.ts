// All SQL of the monitor, one named function per operation, over its tables in the `monitor`
// schema (migrations/001_monitor.sql): commit windows, log-end offsets and the position in
// __consumer_offsets (consumer lag), dead letters and their replays, recent errors.
import type { Pool, PoolClient } from '@pipewright/platform';

type Queryable = Pick<Pool | PoolClient, 'query'>;

const MS = `* interval '1 millisecond'`;
const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

// --- __consumer_offsets position

/** Where each partition of __consumer_offsets resumes, for those read before. */
export async function offsetsPositions(db: Queryable, partitions: number[]): Promise<Array<{ part: number; next_offset: string }>> {
  const { rows } = await db.query<{ part: number; next_offset: string }>('SELECT part, next_offset FROM offsets_position WHERE part = ANY($1::int[])', [partitions]);
  return rows;
}

/** Locks a partition's position for this transaction (making it on first use); returns the next offset to read. */
export async function lockOffsetsPosition(client: PoolClient, part: number): Promise<bigint> {
  await client.query('INSERT INTO offsets_position (part, next_offset) VALUES ($1, 0) ON CONFLICT DO NOTHING', [part]);
  const { rows } = await client.query<{ next_offset: string }>('SELECT next_offset FROM offsets_position WHERE part = $1 FOR UPDATE', [part]);
  return BigInt(rows[0].next_offset);
}

export async function advanceOffsetsPosition(client: PoolClient, part: number, next: bigint): Promise<void> {
  await client.query('UPDATE offsets_position SET next_offset = $2 WHERE part = $1', [part, next.toString()]);
}

// --- commit windows

export interface PartitionKey {
  group: string;
  topic: string;
  partition: number;
}

export interface CommitRow extends PartitionKey {
  timeMs: number;
  committed: bigint;
  lag: number | null;
}

const keyArrays = (keys: PartitionKey[]) => [keys.map((k) => k.group), keys.map((k) => k.topic), keys.map((k) => k.partition)];
const KEYS = `(SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) AS k(group_id, topic, part))`;

/** The latest commit of each of these partitions that has a window. */
export async function latestCommits(client: PoolClient, keys: PartitionKey[]): Promise<CommitRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await client.query<{ group_id: string; topic: string; part: number; time_ms: number; committed: string; lag: string | null }>(
    `SELECT DISTINCT ON (c.group_id, c.topic, c.part) c.group_id, c.topic, c.part, ${epochMs('c.commit_time')} AS time_ms, c.committed, c.lag
       FROM group_commits c JOIN ${KEYS} k USING (group_id, topic, part)
      ORDER BY c.group_id, c.topic, c.part, c.commit_time DESC`,
    keyArrays(keys),
  );
  return rows.map((r) => ({ group: r.group_id, topic: r.topic, partition: r.part, timeMs: r.time_ms, committed: BigInt(r.committed), lag: r.lag === null ? null : Number(r.lag) }));
}

/** Forgets the windows of partitions whose offsets the group no longer has. */
export async function deleteWindows(client: PoolClient, keys: PartitionKey[]): Promise<void> {
  if (keys.length) await client.query(`DELETE FROM group_commits c USING ${KEYS} k WHERE c.group_id = k.group_id AND c.topic = k.topic AND c.part = k.part`, keyArrays(keys));
}

/** Adds commits to their windows; a commit at the time of one already there replaces it. */
export async function upsertCommits(client: PoolClient, rows: CommitRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO group_commits (group_id, topic, part, commit_time, committed, lag)
     SELECT g, t, p, to_timestamp(ms / 1000.0), c, l FROM unnest($1::text[], $2::text[], $3::int[], $4::float8[], $5::bigint[], $6::bigint[]) AS x(g, t, p, ms, c, l)
     ON CONFLICT (group_id, topic, part, commit_time) DO UPDATE SET committed = EXCLUDED.committed, lag = EXCLUDED.lag`,
    [rows.map((r) => r.group), rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.timeMs), rows.map((r) => r.committed.toString()), rows.map((r) => r.lag)],
  );
}

/** Keeps the newest `window` commits of each of these partitions. */
export async function trimWindows(client: PoolClient, keys: PartitionKey[], window: number): Promise<void> {
  if (keys.length === 0) return;
  await client.query(
    `DELETE FROM group_commits c USING (
       SELECT group_id, topic, part, commit_time, row_number() OVER (PARTITION BY group_id, topic, part ORDER BY commit_time DESC) AS n
         FROM group_commits JOIN ${KEYS} k USING (group_id, topic, part)
     ) old
     WHERE old.n > $4 AND c.group_id = old.group_id AND c.topic = old.topic AND c.part = old.part AND c.commit_time = old.commit_time`,
    [...keyArrays(keys), window],
  );
}

/** Every window, oldest commit first within each partition. */
export async function allWindows(db: Queryable): Promise<CommitRow[]> {
  const { rows } = await db.query<{ group_id: string; topic: string; part: number; time_ms: number; committed: string; lag: string | null }>(
    `SELECT group_id, topic, part, ${epochMs('commit_time')} AS time_ms, committed, lag FROM group_commits ORDER BY group_id, topic, part, commit_time`,
  );
  return rows.map((r) => ({ group: r.group_id, topic: r.topic, partition: r.part, timeMs: r.time_ms, committed: BigInt(r.committed), lag: r.lag === null ? null : Number(r.lag) }));
}

// --- log-end offsets

export interface EndRow {
  topic: string;
  partition: number;
  timeMs: number;
  start: number;
  end: number;
}

/**
 * Records log-end offsets read at one time; a partition read by another replica less than
 * minGapMs before is not recorded twice.
 */
export async function recordEnds(db: Queryable, rows: EndRow[], minGapMs: number): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO partition_ends (topic, part, observed_at, start_offset, end_offset)
     SELECT t, p, to_timestamp(ms / 1000.0), s, e FROM unnest($1::text[], $2::int[], $3::float8[], $4::bigint[], $5::bigint[]) AS x(t, p, ms, s, e)
      WHERE NOT EXISTS (SELECT 1 FROM partition_ends o WHERE o.topic = x.t AND o.part = x.p AND o.observed_at > to_timestamp(x.ms / 1000.0) - $6::float8 ${MS})
     ON CONFLICT DO NOTHING`,
    [rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.timeMs), rows.map((r) => r.start), rows.map((r) => r.end), minGapMs],
  );
}

/** Log-end offsets read within the last sinceMs, oldest first within each partition. */
export async function recentEnds(db: Queryable, sinceMs: number): Promise<EndRow[]> {
  const { rows } = await db.query<{ topic: string; part: number; time_ms: number; start_offset: string; end_offset: string }>(
    `SELECT topic, part, ${epochMs('observed_at')} AS time_ms, start_offset, end_offset FROM partition_ends
      WHERE observed_at > now() - $1::float8 ${MS} ORDER BY topic, part, observed_at`,
    [sinceMs],
  );
  return rows.map((r) => ({ topic: r.topic, partition: r.part, timeMs: r.time_ms, start: Number(r.start_offset), end: Number(r.end_offset) }));
}

export async function deleteOldEnds(db: Queryable, olderThanMs: number): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM partition_ends WHERE observed_at < now() - $1::float8 ${MS}`, [olderThanMs]);
  return rowCount ?? 0;
}

// --- dead letters

export interface DeadLetterRow {
  dlq_topic: string;
  part: number;
  off: string;
  dead_at: Date;
  original_topic: string | null;
  original_partition: number | null;
  original_offset: string | null;
  error_message: string | null;
  error_at: Date | null;
  attempts: number | null;
  key: Buffer | null;
  value: Buffer | null;
  /** [name, base64 value] pairs, in the record's order. */
  headers: Array<[string, string]>;
}

export interface ReplayRow {
  state: 'sending' | 'sent' | 'failed';
  target_topic: string;
  target_partition: number | null;
  target_offset: string | null;
  times: number;
  replayed_at: Date;
  error: string | null;
}

/** A dead letter with its replay record (null when never replayed). */
export type StoredDeadLetter = DeadLetterRow & { replay: ReplayRow | null };

const DEAD_LETTER_COLUMNS = [
  'dlq_topic',
  'part',
  'off',
  'dead_at',
  'original_topic',
  'original_partition',
  'original_offset',
  'error_message',
  'error_at',
  'attempts',
  'key',
  'value',
  'headers',
] as const;

/** Stores dead letters (those stored already are left as they are); returns those that were new. */
export async function insertDeadLetters(client: Queryable, rows: DeadLetterRow[]): Promise<Array<{ dlq_topic: string; part: number; off: string }>> {
  if (rows.length === 0) return [];
  const { rows: inserted } = await client.query<{ dlq_topic: string; part: number; off: string }>(
    `INSERT INTO dead_letters (${DEAD_LETTER_COLUMNS.join(', ')})
     SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::timestamptz[], $5::text[], $6::int[], $7::bigint[], $8::text[], $9::timestamptz[], $10::int[], $11::bytea[], $12::bytea[], $13::jsonb[])
     ON CONFLICT DO NOTHING
     RETURNING dlq_topic, part, off`,
    DEAD_LETTER_COLUMNS.map((c) => rows.map((r) => (c === 'headers' ? JSON.stringify(r.headers) : r[c]))),
  );
  return inserted;
}

const SELECT_DEAD_LETTERS = `
  SELECT d.*, CASE WHEN r.dlq_topic IS NULL THEN NULL ELSE json_build_object(
           'state', r.state, 'target_topic', r.target_topic, 'target_partition', r.target_partition, 'target_offset', r.target_offset::text,
           'times', r.times, 'replayed_at', r.replayed_at, 'error', r.error) END AS replay
    FROM dead_letters d LEFT JOIN replays r USING (dlq_topic, part, off)`;

type StoredRow = Omit<StoredDeadLetter, 'replay'> & { replay: (Omit<ReplayRow, 'replayed_at'> & { replayed_at: string }) | null };
const toStored = (r: StoredRow): StoredDeadLetter => ({ ...r, replay: r.replay && { ...r.replay, replayed_at: new Date(r.replay.replayed_at) } });

export interface DeadLetterFilter {
  dlqTopic?: string;
  originalTopic?: string;
  errorContains?: string;
  from?: Date;
  to?: Date;
}

const likeText = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const FILTER = `($1::text IS NULL OR d.dlq_topic = $1) AND ($2::text IS NULL OR d.original_topic = $2)
   AND ($3::text IS NULL OR d.error_message ILIKE $3) AND ($4::timestamptz IS NULL OR d.dead_at >= $4) AND ($5::timestamptz IS NULL OR d.dead_at < $5)`;
const filterParams = (f: DeadLetterFilter) => [f.dlqTopic ?? null, f.originalTopic ?? null, f.errorContains ? likeText(f.errorContains) : null, f.from ?? null, f.to ?? null];

/** A page of dead letters, newest first; `after` is the last one of the page before. */
export async function listDeadLetters(db: Queryable, f: DeadLetterFilter & { limit: number; after?: { deadAt: Date; topic: string; part: number; off: string } }): Promise<StoredDeadLetter[]> {
  const { rows } = await db.query<StoredRow>(
    `${SELECT_DEAD_LETTERS}
      WHERE ${FILTER}
        AND ($6::timestamptz IS NULL OR (d.dead_at, d.dlq_topic, d.part, d.off) < ($6, $7::text, $8::int, $9::bigint))
      ORDER BY d.dead_at DESC, d.dlq_topic DESC, d.part DESC, d.off DESC
      LIMIT $10`,
    [...filterParams(f), f.after?.deadAt ?? null, f.after?.topic ?? null, f.after?.part ?? null, f.after?.off ?? null, f.limit],
  );
  return rows.map(toStored);
}

/** Dead letters of one DLQ topic that match the filter, oldest first (the order a replay sends them in). */
export async function matchingDeadLetters(db: Queryable, f: DeadLetterFilter & { dlqTopic: string; limit: number }): Promise<StoredDeadLetter[]> {
  const { rows } = await db.query<StoredRow>(`${SELECT_DEAD_LETTERS} WHERE ${FILTER} ORDER BY d.dead_at, d.part, d.off LIMIT $6`, [...filterParams(f), f.limit]);
  return rows.map(toStored);
}

/** The dead letters of one DLQ topic at these partitions and offsets (those it has). */
export async function deadLettersAt(db: Queryable, dlqTopic: string, refs: Array<{ part: number; off: string }>): Promise<StoredDeadLetter[]> {
  const { rows } = await db.query<StoredRow>(`${SELECT_DEAD_LETTERS} JOIN unnest($2::int[], $3::bigint[]) AS x(part, off) USING (part, off) WHERE d.dlq_topic = $1`, [
    dlqTopic,
    refs.map((r) => r.part),
    refs.map((r) => r.off),
  ]);
  return rows.map(toStored);
}

export interface DlqCountRows {
  totals: Array<{ dlq_topic: string; count: string }>;
  byError: Array<{ dlq_topic: string; error_message: string | null; count: string }>;
  overTime: Array<{ dlq_topic: string; bucket_ms: number; count: string }>;
}

/** Dead letters per DLQ topic, the most frequent error messages of each, and per bucket since `since`. */
export async function dlqCounts(db: Queryable, since: Date, bucketMs: number, topErrors: number): Promise<DlqCountRows> {
  const [totals, byError, overTime] = await Promise.all([
    db.query<{ dlq_topic: string; count: string }>('SELECT dlq_topic, count(*) AS count FROM dead_letters GROUP BY dlq_topic'),
    db.query<{ dlq_topic: string; error_message: string | null; count: string }>(
      `SELECT dlq_topic, error_message, count FROM (
         SELECT dlq_topic, error_message, count(*) AS count, row_number() OVER (PARTITION BY dlq_topic ORDER BY count(*) DESC, error_message) AS n
           FROM dead_letters GROUP BY dlq_topic, error_message) e
        WHERE n <= $1 ORDER BY dlq_topic, count DESC, error_message`,
      [topErrors],
    ),
    db.query<{ dlq_topic: string; bucket_ms: number; count: string }>(
      `SELECT dlq_topic, (floor(${epochMs('dead_at')} / $2) * $2)::float8 AS bucket_ms, count(*) AS count
         FROM dead_letters WHERE dead_at >= $1 GROUP BY 1, 2 ORDER BY 1, 2`,
      [since, bucketMs],
    ),
  ]);
  return { totals: totals.rows, byError: byError.rows, overTime: overTime.rows };
}

/** Forgets dead letters older than retention (and their replay records), a batch at a time. */
export async function deleteOldDeadLetters(db: Queryable, retentionMs: number, batch: number): Promise<number> {
  const { rowCount } = await db.query(
    `WITH old AS (
       DELETE FROM dead_letters WHERE (dlq_topic, part, off) IN (SELECT dlq_topic, part, off FROM dead_letters WHERE dead_at < now() - $1::float8 ${MS} LIMIT $2)
       RETURNING dlq_topic, part, off
     ), gone AS (DELETE FROM replays r USING old WHERE r.dlq_topic = old.dlq_topic AND r.part = old.part AND r.off = old.off)
     SELECT 1 FROM old`,
    [retentionMs, batch],
  );
  return rowCount ?? 0;
}

// --- replays

/**
 * Records replays about to be sent, state `sending`; without force, those replayed before are
 * left as they are. Returns the dead letters claimed.
 */
export async function claimReplays(db: Queryable, dlqTopic: string, items: Array<{ part: number; off: string; target: string }>, force: boolean): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const { rows } = await db.query<{ part: number; off: string }>(
    `INSERT INTO replays AS r (dlq_topic, part, off, state, target_topic)
     SELECT $1, p, o, 'sending', t FROM unnest($2::int[], $3::bigint[], $4::text[]) AS x(p, o, t)
     ON CONFLICT (dlq_topic, part, off) DO UPDATE
        SET state = 'sending', target_topic = EXCLUDED.target_topic, target_partition = NULL, target_offset = NULL,
            times = r.times + 1, replayed_at = now(), error = NULL
      WHERE $5::boolean
     RETURNING part, off`,
    [dlqTopic, items.map((i) => i.part), items.map((i) => i.off), items.map((i) => i.target), force],
  );
  return new Set(rows.map((r) => `${r.part}/${r.off}`));
}

export interface ReplayOutcomeRow {
  part: number;
  off: string;
  state: 'sent' | 'failed';
  targetPartition?: number;
  targetOffset?: string;
  error?: string;
}

/** What Kafka answered for claimed replays. */
export async function finishReplays(db: Queryable, dlqTopic: string, outcomes: ReplayOutcomeRow[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(
    `UPDATE replays r SET state = x.s, target_partition = x.tp, target_offset = x.toff, error = x.e
       FROM unnest($2::int[], $3::bigint[], $4::text[], $5::int[], $6::bigint[], $7::text[]) AS x(p, o, s, tp, toff, e)
      WHERE r.dlq_topic = $1 AND r.part = x.p AND r.off = x.o`,
    [
      dlqTopic,
      outcomes.map((o) => o.part),
      outcomes.map((o) => o.off),
      outcomes.map((o) => o.state),
      outcomes.map((o) => o.targetPartition ?? null),
      outcomes.map((o) => o.targetOffset ?? null),
      outcomes.map((o) => o.error ?? null),
    ],
  );
}

// --- recent errors

export interface RecentErrorRow {
  at: Date;
  service: string;
  topic: string;
  part: number;
  off: string;
  message: string;
  dead_letter: boolean;
  job_id: string | null;
  run_id: string | null;
  request_id: string | null;
  order_id: string | null;
  stock_run_id: string | null;
}

const ERROR_COLUMNS = ['at', 'service', 'topic', 'part', 'off', 'message', 'dead_letter', 'job_id', 'run_id', 'request_id', 'order_id', 'stock_run_id'] as const;

/** Stores errors; one read before (same topic, partition and offset) is not stored twice. */
export async function insertRecentErrors(db: Queryable, rows: RecentErrorRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO recent_errors (${ERROR_COLUMNS.join(', ')})
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::boolean[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
     ON CONFLICT DO NOTHING`,
    ERROR_COLUMNS.map((c) => rows.map((r) => r[c])),
  );
}

/** The newest errors first, of one service when given. */
export async function listRecentErrors(db: Queryable, limit: number, service?: string): Promise<RecentErrorRow[]> {
  const { rows } = await db.query<RecentErrorRow>(`SELECT ${ERROR_COLUMNS.join(', ')} FROM recent_errors WHERE ($2::text IS NULL OR service = $2) ORDER BY at DESC, id DESC LIMIT $1`, [
    limit,
    service ?? null,
  ]);
  return rows;
}

/** Keeps the `keep` errors stored last. */
export async function trimRecentErrors(db: Queryable, keep: number): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM recent_errors WHERE id <= (SELECT id FROM recent_errors ORDER BY id DESC OFFSET $1 LIMIT 1)', [keep]);
  return rowCount ?? 0;
}
