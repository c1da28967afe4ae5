// The scheduler's tables. Parameterised SQL only; nothing else reads these tables.
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from '@pipewright/platform';
import { nextOccurrence, type JobRequest, type RunStatusEvent, type Priority, type ScheduleSpec, type MisfirePolicy, type OverlapPolicy } from '@pipewright/contracts';
import type { FiringPlan } from './plan';

export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
export const PRIORITY_NAME = ['high', 'normal', 'low'] as const;
export const WAKE_CHANNEL = 'pipewright_scheduler_wake';

export type JobStatus = 'NEW' | 'SCHEDULED' | 'RUNNING' | 'DONE' | 'FAILED' | 'DEAD' | 'CANCELLED' | 'PAUSED';

export interface JobRow {
  id: string;
  request_id: string;
  app_name: string;
  priority: number;
  idempotency_key: string | null;
  job_data: Record<string, unknown>;
  status: JobStatus;
  scheduled_time: Date;
  next_fire_at: Date | null;
  max_retries: number | null;
  backoff: JobRequest['backoff'] | null;
  trace_context: Record<string, string> | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  schedule: ScheduleSpec | null;
  start_at: Date | null;
  end_at: Date | null;
  misfire_policy: MisfirePolicy;
  catch_up_window_ms: string | null;
  overlap_policy: OverlapPolicy;
  skipped: number;
}

export interface JobView extends JobRow {
  runs: number;
  fired_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface RunRow {
  id: string;
  job_id: string;
  status: string;
  attempt: number;
  due_at: Date;
  fired_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
}

export type InsertOutcome =
  | { kind: 'inserted'; jobId: string }
  | { kind: 'duplicate'; reason: 'request' | 'idempotency-key'; jobId: string }
  | { kind: 'no-occurrence' };

/** The first occurrence of a request: its scheduledTime, or its schedule's first at or after it. */
export function firstOccurrence(req: JobRequest): Date | undefined {
  return nextOccurrence({ spec: req.schedule, anchor: req.scheduledTime, startAt: req.startAt, endAt: req.endAt }, new Date(req.scheduledTime.getTime() - 1));
}

/**
 * Stores a new job unless its request id was seen, or its idempotency key is held by another
 * job inside the window. Atomic across replicas: the key row is claimed with one upsert.
 */
export async function insertJob(client: PoolClient, req: JobRequest, windowMs: number, traceContext: Record<string, string>): Promise<InsertOutcome> {
  const existing = await client.query<{ id: string }>('SELECT id FROM jobs WHERE request_id = $1', [req.requestId]);
  if (existing.rowCount) return { kind: 'duplicate', reason: 'request', jobId: existing.rows[0].id };
  const first = firstOccurrence(req);
  if (!first) return { kind: 'no-occurrence' };
  const jobId = randomUUID();
  if (req.idempotencyKey) {
    const claim = await client.query<{ job_id: string }>(
      `INSERT INTO idempotency_keys (key, job_id, expires_at)
       VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET job_id = EXCLUDED.job_id, expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at <= now()
       RETURNING job_id`,
      [req.idempotencyKey, jobId, windowMs],
    );
    if (!claim.rowCount) {
      const holder = await client.query<{ job_id: string }>('SELECT job_id FROM idempotency_keys WHERE key = $1', [req.idempotencyKey]);
      return { kind: 'duplicate', reason: 'idempotency-key', jobId: holder.rows[0]?.job_id ?? '' };
    }
  }
  await client.query(
    `INSERT INTO jobs (id, request_id, app_name, priority, idempotency_key, job_data, status, scheduled_time,
                       next_fire_at, max_retries, backoff, trace_context, schedule, start_at, end_at,
                       misfire_policy, catch_up_window_ms, overlap_policy)
     VALUES ($1, $2, $3, $4, $5, $6, 'SCHEDULED', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [jobId, req.requestId, req.appName, PRIORITY_RANK[req.priority], req.idempotencyKey ?? null, req.jobData,
      req.scheduledTime, first, req.maxRetries ?? null, req.backoff ?? null, traceContext, req.schedule ?? null,
      req.startAt ?? null, req.endAt ?? null, req.misfirePolicy, req.catchUpWindowMs ?? null, req.overlapPolicy],
  );
  await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, first.toISOString()]);
  return { kind: 'inserted', jobId };
}

/** Claims due occurrences (highest priority, then earliest, first) that no other replica holds. */
export async function claimDue(client: PoolClient, limit: number): Promise<Array<JobRow & { due_at: Date }>> {
  const { rows } = await client.query<JobRow & { due_at: Date }>(
    `SELECT *, next_fire_at AS due_at FROM jobs
      WHERE next_fire_at <= now() AND status NOT IN ('CANCELLED', 'PAUSED')
      ORDER BY priority, next_fire_at
      LIMIT $1
      FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

export const runIdFor = (jobId: string, dueAt: Date) => `${jobId}:${dueAt.getTime()}`;

export interface AppliedPlan {
  job: JobRow & { due_at: Date };
  plan: FiringPlan;
  firedAt: Date;
}

/** Writes what a firing did: runs (FIRED, PENDING, SKIPPED), the next due time, skip counts. */
export async function recordPlans(client: PoolClient, applied: AppliedPlan[]): Promise<void> {
  const ids: string[] = [];
  const jobIds: string[] = [];
  const statuses: string[] = [];
  const dues: Date[] = [];
  const fireds: Date[] = [];
  const errors: Array<string | null> = [];
  const add = (jobId: string, status: string, due: Date, firedAt: Date, error: string | null) => {
    ids.push(runIdFor(jobId, due));
    jobIds.push(jobId);
    statuses.push(status);
    dues.push(due);
    fireds.push(firedAt);
    errors.push(error);
  };
  for (const { job, plan, firedAt } of applied) {
    for (const d of plan.fire) add(job.id, 'FIRED', d, firedAt, null);
    if (plan.pend) add(job.id, 'PENDING', plan.pend, firedAt, null);
    for (const sk of plan.skip) add(job.id, 'SKIPPED', sk.at, firedAt, sk.reason === 'misfire' ? 'skipped: misfire policy' : 'skipped: previous run still active (overlap policy)');
  }
  if (ids.length) {
    await client.query(
      `INSERT INTO runs (id, job_id, status, due_at, fired_at, error)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[])
       ON CONFLICT (id) DO NOTHING`,
      [ids, jobIds, statuses, dues, fireds, errors],
    );
  }
  for (const { job, plan } of applied) {
    const skipped = plan.skip.length + plan.uncounted;
    // A one-shot job whose only occurrence was skipped ends CANCELLED, saying why.
    const cancelled = !job.schedule && plan.fire.length === 0;
    const finished = !plan.next && plan.fire.length === 0 && !plan.pend && !cancelled;
    await client.query(
      `UPDATE jobs SET next_fire_at = $2, skipped = skipped + $3, updated_at = now(),
              status = CASE WHEN $4 THEN 'CANCELLED' WHEN $5 AND status = 'SCHEDULED' THEN 'DONE' ELSE status END,
              last_error = CASE WHEN $4 THEN 'occurrence missed; skipped by its misfire policy' ELSE last_error END
        WHERE id = $1`,
      [job.id, plan.next ?? null, skipped, cancelled, finished],
    );
  }
}

// A run is in flight while fired, running or failed (between attempts), for up to the run
// timeout after it fired; a run waiting for a retry the scheduler will fire is in flight however old.
const inFlight = (alias: string) =>
  `${alias}status IN ('FIRED', 'RUNNING', 'FAILED') AND (${alias}retry_at IS NOT NULL OR ${alias}fired_at > now() - make_interval(secs => $2::double precision / 1000))`;
const ACTIVE = inFlight('');

/** Jobs among ids that have a run in flight (younger than runTimeoutMs), and those with a buffered run. */
export async function runState(client: PoolClient, jobIds: string[], runTimeoutMs: number): Promise<{ active: Set<string>; pending: Set<string> }> {
  if (jobIds.length === 0) return { active: new Set(), pending: new Set() };
  const { rows } = await client.query<{ job_id: string; kind: string }>(
    `SELECT DISTINCT job_id, 'active' AS kind FROM runs WHERE job_id = ANY($1::uuid[]) AND ${ACTIVE}
     UNION ALL
     SELECT DISTINCT job_id, 'pending' FROM runs WHERE job_id = ANY($1::uuid[]) AND status = 'PENDING'`,
    [jobIds, runTimeoutMs],
  );
  return {
    active: new Set(rows.filter((r) => r.kind === 'active').map((r) => r.job_id)),
    pending: new Set(rows.filter((r) => r.kind === 'pending').map((r) => r.job_id)),
  };
}

/** Buffered runs whose previous run has ended, claimed for firing. */
export async function claimPending(client: PoolClient, limit: number, runTimeoutMs: number): Promise<Array<JobRow & { run_id: string; due_at: Date }>> {
  const { rows } = await client.query<JobRow & { run_id: string; due_at: Date }>(
    `SELECT j.*, r.id AS run_id, r.due_at FROM runs r JOIN jobs j ON j.id = r.job_id
      WHERE r.status = 'PENDING' AND j.status NOT IN ('CANCELLED', 'PAUSED')
        AND NOT EXISTS (SELECT 1 FROM runs a WHERE a.job_id = r.job_id AND ${inFlight('a.')})
      ORDER BY j.priority, r.due_at
      LIMIT $1
      FOR UPDATE OF r SKIP LOCKED`,
    [limit, runTimeoutMs],
  );
  return rows;
}

export async function markPendingFired(client: PoolClient, runIds: string[], firedAt: Date): Promise<void> {
  if (runIds.length) await client.query(`UPDATE runs SET status = 'FIRED', fired_at = $2, updated_at = now() WHERE id = ANY($1::text[])`, [runIds, firedAt]);
}

export async function nextDueAt(pool: Pool): Promise<Date | null> {
  const { rows } = await pool.query<{ at: Date | null }>(
    `SELECT least(
       (SELECT min(next_fire_at) FROM jobs WHERE next_fire_at IS NOT NULL AND status NOT IN ('CANCELLED', 'PAUSED')),
       (SELECT min(r.retry_at) FROM runs r JOIN jobs j ON j.id = r.job_id
         WHERE r.retry_at IS NOT NULL AND j.status NOT IN ('CANCELLED', 'PAUSED'))) AS at`,
  );
  return rows[0]?.at ?? null;
}

/** Claims failed runs whose handed-over retry is due (highest priority, then earliest, first). */
export async function claimRetries(client: PoolClient, limit: number): Promise<Array<JobRow & { run_id: string; due_at: Date; failed_attempt: number }>> {
  const { rows } = await client.query<JobRow & { run_id: string; due_at: Date; failed_attempt: number }>(
    `SELECT j.*, r.id AS run_id, r.due_at, r.attempt AS failed_attempt FROM runs r JOIN jobs j ON j.id = r.job_id
      WHERE r.retry_at <= now() AND r.status = 'FAILED' AND j.status NOT IN ('CANCELLED', 'PAUSED')
      ORDER BY j.priority, r.retry_at
      FOR UPDATE OF r SKIP LOCKED
      LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function markRetriesFired(client: PoolClient, runIds: string[]): Promise<void> {
  if (runIds.length) await client.query('UPDATE runs SET retry_at = NULL, updated_at = now() WHERE id = ANY($1)', [runIds]);
}

const RUN_RANK: Record<string, number> = { FIRED: 0, RUNNING: 1, FAILED: 2, DONE: 3, DEAD: 3 };

/**
 * Applies a status event to its run and job. Replayed or out-of-order events (an older attempt,
 * or a lower state of the same attempt) change nothing. Returns whether it was applied.
 */
export class RunNotRecordedYet extends Error {}

export async function applyRunStatus(client: PoolClient, ev: RunStatusEvent, waitForRunMs = 60_000): Promise<boolean> {
  const { rows } = await client.query<{ status: string; attempt: number }>('SELECT status, attempt FROM runs WHERE id = $1 FOR UPDATE', [ev.runId]);
  if (rows.length === 0) {
    // A job is stored before any of its runs fires: an event about a job this database does not
    // have is another installation's (or a hand-made run's), and is dropped at once.
    const job = await client.query('SELECT 1 FROM jobs WHERE id::text = $1', [ev.jobId]);
    if (!job.rowCount) return false;
    // The executor can report before the firing transaction that published the run commits;
    // the event is retried until the run row is visible, and dropped once it is old.
    if (Date.now() - Date.parse(ev.at) < waitForRunMs) throw new RunNotRecordedYet(`run ${ev.runId} is not recorded yet`);
    return false;
  }
  const cur = rows[0];
  const newer = ev.attempt > cur.attempt || (ev.attempt === cur.attempt && RUN_RANK[ev.status] > RUN_RANK[cur.status]);
  if (!newer || RUN_RANK[cur.status] === 3) return false;
  const at = new Date(ev.at);
  const finished = ev.status === 'DONE' || ev.status === 'DEAD';
  const retryAt = ev.status === 'FAILED' && ev.retryAt ? new Date(ev.retryAt) : null;
  await client.query(
    `UPDATE runs SET status = $2, attempt = $3,
            started_at = COALESCE(started_at, CASE WHEN $2 = 'RUNNING' THEN $4::timestamptz END),
            finished_at = CASE WHEN $5 THEN $4::timestamptz ELSE finished_at END,
            error = CASE WHEN $6::text IS NOT NULL THEN $6 ELSE error END,
            retry_at = $7,
            updated_at = now()
      WHERE id = $1`,
    [ev.runId, ev.status, ev.attempt, at, finished, ev.error ?? null, retryAt],
  );
  // The firing loops may be asleep past the retry time: wake them to look again.
  if (retryAt) await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, retryAt.toISOString()]);
  // A recurring job with more to come goes back to SCHEDULED when a run ends.
  const { rows: job } = await client.query<{ pending: boolean }>(
    `UPDATE jobs SET
            status = CASE WHEN $2 IN ('DONE', 'DEAD')
                           AND (next_fire_at IS NOT NULL OR EXISTS (SELECT 1 FROM runs WHERE job_id = $1 AND status = 'PENDING'))
                          THEN 'SCHEDULED' ELSE $2 END,
            attempts = GREATEST(attempts, $3),
            last_error = CASE WHEN $4::text IS NOT NULL THEN $4 ELSE last_error END, updated_at = now()
      WHERE id = $1 AND status NOT IN ('CANCELLED', 'PAUSED')
      RETURNING EXISTS (SELECT 1 FROM runs WHERE job_id = $1 AND status = 'PENDING') AS pending`,
    [ev.jobId, ev.status, ev.attempt, ev.error ?? null],
  );
  // A buffered run can go now: wake the firing loops.
  if (finished && job[0]?.pending) await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, new Date().toISOString()]);
  return true;
}

const JOB_VIEW = `
  SELECT j.*, r.fired_at, r.started_at, r.finished_at,
         (SELECT count(*)::int FROM runs x WHERE x.job_id = j.id) AS runs
    FROM jobs j
    LEFT JOIN LATERAL (SELECT fired_at, started_at, finished_at FROM runs WHERE job_id = j.id ORDER BY due_at DESC LIMIT 1) r ON true`;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A job by its id or by the request id it was submitted with. */
export async function getJob(pool: Pool | PoolClient, idOrRequestId: string): Promise<JobView | undefined> {
  const { rows } = UUID_RE.test(idOrRequestId)
    ? await pool.query<JobView>(`${JOB_VIEW} WHERE j.id = $1 OR j.request_id = $2`, [idOrRequestId, idOrRequestId])
    : await pool.query<JobView>(`${JOB_VIEW} WHERE j.request_id = $1`, [idOrRequestId]);
  return rows[0];
}

export interface JobFilter {
  appName?: string;
  status?: JobStatus;
  from?: Date;
  to?: Date;
  after?: { scheduledTime: Date; id: string };
  limit: number;
}

export async function listJobs(pool: Pool, f: JobFilter): Promise<JobView[]> {
  const { rows } = await pool.query<JobView>(
    `${JOB_VIEW}
     WHERE ($1::text IS NULL OR j.app_name = $1)
       AND ($2::text IS NULL OR j.status = $2)
       AND ($3::timestamptz IS NULL OR j.scheduled_time >= $3)
       AND ($4::timestamptz IS NULL OR j.scheduled_time < $4)
       AND ($5::timestamptz IS NULL OR (j.scheduled_time, j.id) > ($5, $6::uuid))
     ORDER BY j.scheduled_time, j.id
     LIMIT $7`,
    [f.appName ?? null, f.status ?? null, f.from ?? null, f.to ?? null, f.after?.scheduledTime ?? null, f.after?.id ?? null, f.limit],
  );
  return rows;
}

export async function listRuns(pool: Pool, jobId: string, after: string | undefined, limit: number): Promise<RunRow[]> {
  const { rows } = await pool.query<RunRow>(
    `SELECT id, job_id, status, attempt, due_at, fired_at, started_at, finished_at, error FROM runs
      WHERE job_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3`,
    [jobId, after ?? null, limit],
  );
  return rows;
}

/**
 * Moves a job between control states. `from` lists the states the change is legal from;
 * returns the job after the change, or the unchanged job when the move is illegal.
 */
export async function transition(pool: Pool, jobId: string, from: JobStatus[], set: string, params: unknown[] = [], condition = 'true'): Promise<{ changed: boolean; job?: JobView }> {
  const res = await pool.query(`UPDATE jobs SET ${set}, updated_at = now() WHERE id = $1 AND status = ANY($2::text[]) AND ${condition}`, [jobId, from, ...params]);
  if (res.rowCount) await pool.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, new Date().toISOString()]);
  return { changed: (res.rowCount ?? 0) > 0, job: await getJob(pool, jobId) };
}

/** Deletes idempotency keys whose window has passed (they no longer block anything); returns how many. */
export async function deleteExpiredKeys(pool: Pool, limit = 10_000): Promise<number> {
  const { rowCount } = await pool.query(
    // expires_at is checked again on the row deleted: a key claimed anew meanwhile stays.
    `DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at < now() LIMIT $1) AND expires_at < now()`,
    [limit],
  );
  return rowCount ?? 0;
}
