// History that does not slow the present: expired idempotency keys, finished jobs and runs and
// old refusals deleted in small batches; and the refusals recorded.
import type { Pool } from '@pipewright/platform';

/** Deletes idempotency keys whose window has passed (they no longer block anything); returns how many. */
export async function deleteExpiredKeys(pool: Pool, limit = 10_000): Promise<number> {
  const { rowCount } = await pool.query(
    // expires_at is checked again on the row deleted: a key claimed anew meanwhile stays.
    `DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at < now() LIMIT $1) AND expires_at < now()`,
    [limit],
  );
  return rowCount ?? 0;
}

export const RETENTION_BATCH = 1000;

/**
 * Deletes up to `limit` finished jobs (DONE, DEAD, CANCELLED) not changed for `retentionMs`, with
 * their runs, and as many finished runs of jobs that go on (recurring); returns how many rows.
 */
export async function deleteFinishedHistory(pool: Pool, retentionMs: number, limit = RETENTION_BATCH): Promise<number> {
  // A job goes with all its runs (a recurring job cancelled may leave one buffered).
  const {
    rows: [gone],
  } = await pool.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM jobs WHERE id IN (
         SELECT id FROM jobs WHERE status IN ('DONE', 'DEAD', 'CANCELLED') AND updated_at < now() - $1 * interval '1 millisecond' LIMIT $2)
         AND status IN ('DONE', 'DEAD', 'CANCELLED')
       RETURNING id),
     their_runs AS (DELETE FROM runs WHERE job_id IN (SELECT id FROM gone))
     SELECT count(*)::int AS n FROM gone`,
    [retentionMs, limit],
  );
  const runs = await pool.query(
    `DELETE FROM runs WHERE id IN (
       SELECT id FROM runs WHERE status IN ('DONE', 'DEAD', 'SKIPPED') AND updated_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
    [retentionMs, limit],
  );
  return Math.max(gone.n, runs.rowCount ?? 0);
}

export interface Refusal {
  partition: number;
  offset: string;
  requestId: string | null;
  reason: string;
}

/** Records job requests sent to the DLQ (again: the same place keeps its first reason). */
export async function recordRefusals(pool: Pool, refusals: Refusal[]): Promise<void> {
  if (refusals.length === 0) return;
  await pool.query(
    `INSERT INTO refusals (partition, "offset", request_id, reason)
     SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[])
     ON CONFLICT (partition, "offset") DO NOTHING`,
    [refusals.map((r) => r.partition), refusals.map((r) => r.offset), refusals.map((r) => r.requestId), refusals.map((r) => r.reason)],
  );
}

/** The refusal of the request read at a partition and offset of scheduler.jobs.ingest, if it was refused. */
export async function getRefusal(pool: Pool, partition: number, offset: number): Promise<Refusal | undefined> {
  const { rows } = await pool.query<Refusal>(`SELECT partition, "offset"::text AS offset, request_id AS "requestId", reason FROM refusals WHERE partition = $1 AND "offset" = $2`, [partition, offset]);
  return rows[0];
}

/** Deletes up to `limit` refusals older than `retentionMs`; returns how many. */
export async function deleteOldRefusals(pool: Pool, retentionMs: number, limit = RETENTION_BATCH): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM refusals WHERE (partition, "offset") IN (
       SELECT partition, "offset" FROM refusals WHERE refused_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
    [retentionMs, limit],
  );
  return rowCount ?? 0;
}
