// The scheduler's tables. Parameterised SQL only; nothing else reads these tables.
import { createHash } from 'node:crypto';
import { withTransaction, type Pool, type PoolClient } from '@pipewright/platform';
import { nextOccurrence, type JobRequest, type RunStatusEvent, type Priority, type ScheduleSpec, type MisfirePolicy, type OverlapPolicy } from '@pipewright/contracts';
import type { FiringPlan } from './plan';
import { foldRunEvents, type RunUpdate } from './run-events';

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

export type InsertOutcome = { kind: 'inserted'; jobId: string } | { kind: 'duplicate'; reason: 'request' | 'idempotency-key'; jobId: string } | { kind: 'no-occurrence' };

/** The first occurrence of a request: its scheduledTime, or its schedule's first at or after it. */
export function firstOccurrence(req: JobRequest): Date | undefined {
  return nextOccurrence({ spec: req.schedule, anchor: req.scheduledTime, startAt: req.startAt, endAt: req.endAt }, new Date(req.scheduledTime.getTime() - 1));
}

export interface NewJob {
  req: JobRequest;
  /** The trace the job joins: its request's, carried in the message headers. */
  traceContext: Record<string, string>;
}

/**
 * A job's id, from its request id (a name-based UUID, version 5 layout over SHA-1): a request
 * stored again after a transaction that did not commit gets the same id, and so the same run
 * ids, which the executor runs once.
 */
export function jobIdFor(requestId: string): string {
  const h = createHash('sha1').update('pipewright.job\u0000').update(requestId).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** What a job fired as it is stored carries to jobs.due. */
export type DueSource = Pick<JobRow, 'id' | 'app_name' | 'priority' | 'job_data' | 'max_retries' | 'backoff' | 'trace_context'>;

/**
 * Firing as jobs are stored: a one-shot job due already is stored fired (its run with it), in
 * the storing transaction, unless due jobs of its priority or a higher one are waiting for the
 * firing loops (they go first, so the new one waits its turn there).
 */
export interface IngestFiring {
  /** When the runs are fired. */
  now: Date;
  /** Whether a request, first due at first, fires as it is stored. */
  firesNow(req: JobRequest, first: Date): boolean;
  /** Publishes the runs fired with their jobs; called inside the storing transaction, before it commits. */
  publish(fired: Array<{ job: DueSource; dueAt: Date }>): Promise<void>;
}

/**
 * Stores a batch of job requests. Without idempotency keys or jobs to fire that is one statement
 * (insert, and one wake-up for the batch), atomic on its own; with keys, the keys are claimed
 * first with one upsert (atomic across replicas: a key held inside the window makes its job a
 * duplicate); with firing, the runs fired are published before the commit; either way in one
 * transaction. A request id stored already is a duplicate; within the batch the first of a
 * request id or a key wins. Returns one outcome per request, in order.
 */
export async function insertJobs(pool: Pool, jobs: NewJob[], windowMs: number, firing?: IngestFiring): Promise<InsertOutcome[]> {
  const out = new Array<InsertOutcome | undefined>(jobs.length);
  // What is new: a first occurrence, an id, and the first of its request id in the batch.
  const firstOf = new Map<string, string>();
  const fresh: Array<{ i: number; id: string; first: Date }> = [];
  jobs.forEach(({ req }, i) => {
    const seen = firstOf.get(req.requestId);
    if (seen) return void (out[i] = { kind: 'duplicate', reason: 'request', jobId: seen });
    const first = firstOccurrence(req);
    if (!first) return void (out[i] = { kind: 'no-occurrence' });
    const id = jobIdFor(req.requestId);
    firstOf.set(req.requestId, id);
    fresh.push({ i, id, first });
  });
  const firesNow = new Set(firing ? fresh.filter((f) => firing.firesNow(jobs[f.i].req, f.first)).map((f) => f.id) : []);
  const byKey = new Map<string, { i: number; id: string; first: Date }>();
  const keep: typeof fresh = [];
  for (const f of fresh) {
    const key = jobs[f.i].req.idempotencyKey;
    if (!key) keep.push(f);
    else if (byKey.has(key)) out[f.i] = { kind: 'duplicate', reason: 'idempotency-key', jobId: (byKey.get(key) as { id: string }).id };
    else byKey.set(key, f);
  }
  const store = async (db: Pool | PoolClient) => {
    if (byKey.size) {
      const keys = [...byKey.keys()];
      const { rows } = await db.query<{ key: string }>(
        `INSERT INTO idempotency_keys (key, job_id, expires_at)
         SELECT k, j, now() + $3 * interval '1 millisecond' FROM unnest($1::text[], $2::uuid[]) AS t(k, j)
         ON CONFLICT (key) DO UPDATE SET job_id = EXCLUDED.job_id, expires_at = EXCLUDED.expires_at
           WHERE idempotency_keys.expires_at <= now()
         RETURNING key`,
        [keys, keys.map((k) => (byKey.get(k) as { id: string }).id), windowMs],
      );
      const won = new Set(rows.map((r) => r.key));
      const lost = keys.filter((k) => !won.has(k));
      const holders = new Map<string, string>();
      if (lost.length) {
        const { rows: held } = await db.query<{ key: string; job_id: string }>('SELECT key, job_id FROM idempotency_keys WHERE key = ANY($1::text[])', [lost]);
        for (const h of held) holders.set(h.key, h.job_id);
      }
      for (const [key, f] of byKey) {
        if (won.has(key)) keep.push(f);
        else out[f.i] = { kind: 'duplicate', reason: 'idempotency-key', jobId: holders.get(key) ?? '' };
      }
    }
    if (keep.length === 0) return;
    const rows = keep.map(({ i, id, first }) => {
      const { req, traceContext } = jobs[i];
      return {
        id,
        request_id: req.requestId,
        app_name: req.appName,
        priority: PRIORITY_RANK[req.priority],
        idempotency_key: req.idempotencyKey ?? null,
        job_data: req.jobData,
        scheduled_time: req.scheduledTime,
        next_fire_at: first,
        max_retries: req.maxRetries ?? null,
        backoff: req.backoff ?? null,
        trace_context: traceContext,
        schedule: req.schedule ?? null,
        start_at: req.startAt ?? null,
        end_at: req.endAt ?? null,
        misfire_policy: req.misfirePolicy,
        catch_up_window_ms: req.catchUpWindowMs ?? null,
        overlap_policy: req.overlapPolicy,
        fire_run: firesNow.has(id) ? runIdFor(id, first) : null,
      };
    });
    // A request id stored already (by an earlier batch, or a replica) inserts nothing. What fires
    // now is stored with its run and no next due time, when nothing of its priority or a higher
    // one is due and waiting. The firing loops are woken once, with the soonest time of the rest.
    const {
      rows: [res],
    } = await db.query<{ inserted: string[]; fired: string[] }>(
      `WITH x AS MATERIALIZED (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, request_id text, app_name text, priority smallint, idempotency_key text,
                job_data jsonb, scheduled_time timestamptz, next_fire_at timestamptz, max_retries integer, backoff jsonb,
                trace_context jsonb, schedule jsonb, start_at timestamptz, end_at timestamptz, misfire_policy text,
                catch_up_window_ms bigint, overlap_policy text, fire_run text)),
       waiting AS (
         -- The highest priority with a due job waiting (one step down jobs_fire_idx each).
         SELECT min(v.p) AS p FROM (VALUES ${PRIORITY_NAME.map((_, p) => `(${p})`).join(', ')}) AS v(p)
          WHERE EXISTS (SELECT 1 FROM x WHERE x.fire_run IS NOT NULL)
            AND EXISTS (SELECT 1 FROM jobs WHERE priority = v.p AND next_fire_at <= now() AND status NOT IN ('CANCELLED', 'PAUSED'))),
       ins AS (
         INSERT INTO jobs (id, request_id, app_name, priority, idempotency_key, job_data, status, scheduled_time,
                           next_fire_at, max_retries, backoff, trace_context, schedule, start_at, end_at,
                           misfire_policy, catch_up_window_ms, overlap_policy)
         SELECT id, request_id, app_name, priority, idempotency_key, job_data, 'SCHEDULED', scheduled_time,
                CASE WHEN fire_run IS NOT NULL AND priority < coalesce((SELECT p FROM waiting), ${PRIORITY_NAME.length}) THEN NULL ELSE next_fire_at END,
                max_retries, backoff, trace_context, schedule, start_at, end_at,
                misfire_policy, catch_up_window_ms, overlap_policy
           FROM x
          -- A job of the request id stored with an id that did not follow from it (before ids did).
          WHERE NOT EXISTS (SELECT 1 FROM jobs o WHERE o.request_id = x.request_id)
         -- The id follows from the request id: a request id stored already conflicts on it.
         ON CONFLICT (id) DO NOTHING
         RETURNING id, request_id, next_fire_at),
       fired AS (
         INSERT INTO runs (id, job_id, status, due_at, fired_at, pending)
         SELECT x.fire_run, ins.id, 'FIRED', x.next_fire_at, $3::timestamptz, false
           FROM ins JOIN x ON x.id = ins.id
          WHERE ins.next_fire_at IS NULL
         ON CONFLICT (id) DO NOTHING
         RETURNING job_id)
       SELECT coalesce(array_agg(request_id), '{}') AS inserted,
              (SELECT coalesce(array_agg(job_id), '{}') FROM fired) AS fired,
              CASE WHEN count(next_fire_at) > 0 THEN pg_notify($2, to_json(min(next_fire_at)) #>> '{}') END AS woke
         FROM ins`,
      [JSON.stringify(rows), WAKE_CHANNEL, firing?.now ?? new Date()],
    );
    if (res.fired.length && firing) {
      const fired = new Set(res.fired);
      await firing.publish(rows.filter((r) => fired.has(r.id)).map((r) => ({ job: r, dueAt: r.next_fire_at })));
    }
    const inserted = new Set(res.inserted);
    for (const { i, id } of keep.filter((k) => inserted.has(jobs[k.i].req.requestId))) out[i] = { kind: 'inserted', jobId: id };
    const already = keep.filter((k) => !inserted.has(jobs[k.i].req.requestId));
    if (already.length) {
      const { rows: found } = await db.query<{ request_id: string; id: string }>('SELECT request_id, id FROM jobs WHERE request_id = ANY($1::text[])', [already.map((k) => jobs[k.i].req.requestId)]);
      const ids = new Map(found.map((r) => [r.request_id, r.id]));
      for (const k of already) out[k.i] = { kind: 'duplicate', reason: 'request', jobId: ids.get(jobs[k.i].req.requestId) ?? '' };
      // A key claimed for a job that was not stored goes back to nobody (the stored job of the
      // same request id has the same id, so the key is named, not the job).
      const unused = already.map((k) => jobs[k.i].req.idempotencyKey).filter((k): k is string => !!k);
      if (unused.length) await db.query('DELETE FROM idempotency_keys WHERE key = ANY($1::text[])', [unused]);
    }
  };
  // One statement is atomic on its own; keys, and runs published before the commit, need a transaction.
  if (byKey.size || firesNow.size) await withTransaction(pool, store);
  else await store(pool);
  // Later duplicates in the batch name the job their first stored, or the one it duplicated.
  for (let i = 0; i < jobs.length; i++) {
    const o = out[i];
    if (o?.kind === 'duplicate' && o.reason === 'request' && !fresh.some((f) => f.i === i)) {
      const first = fresh.find((f) => jobs[f.i].req.requestId === jobs[i].req.requestId);
      const firstOut = first && out[first.i];
      if (firstOut && firstOut.kind !== 'no-occurrence') out[i] = { ...o, jobId: firstOut.jobId };
    }
  }
  return out as InsertOutcome[];
}

// One walk down jobs_fire_idx (priority, next_fire_at) for a priority: the plan does not hang on
// how many rows the planner thinks are due, an estimate that goes stale as now() moves on.
const dueOfPriority = (p: number) => `SELECT * FROM (SELECT *, next_fire_at AS due_at FROM jobs
      WHERE priority = ${p} AND next_fire_at <= now() AND status NOT IN ('CANCELLED', 'PAUSED')
      ORDER BY next_fire_at
      LIMIT $1
      FOR UPDATE SKIP LOCKED) p${p}`;

/** Claims due occurrences (highest priority, then earliest, first) that no other replica holds. */
export async function claimDue(client: PoolClient, limit: number): Promise<Array<JobRow & { due_at: Date }>> {
  // The priorities one after the other; a lower one is read only while the batch has room.
  const { rows } = await client.query<JobRow & { due_at: Date }>(`SELECT * FROM (${PRIORITY_NAME.map((_, p) => dueOfPriority(p)).join(' UNION ALL ')}) due LIMIT $1`, [limit]);
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
  if (applied.length === 0) return;
  const rows = applied.map(({ job, plan }) => {
    // A one-shot job whose only occurrence was skipped ends CANCELLED, saying why.
    const cancelled = !job.schedule && plan.fire.length === 0;
    return {
      id: job.id,
      next_fire_at: plan.next ?? null,
      skipped: plan.skip.length + plan.uncounted,
      cancelled,
      finished: !plan.next && plan.fire.length === 0 && !plan.pend && !cancelled,
    };
  });
  // The runs and the jobs' next due times in one statement.
  await client.query(
    `WITH new_runs AS (
       INSERT INTO runs (id, job_id, status, due_at, fired_at, error, pending)
       SELECT id, job_id, status, due_at, fired_at, error, status = 'PENDING'
         FROM unnest($2::text[], $3::uuid[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[]) AS t(id, job_id, status, due_at, fired_at, error)
       ON CONFLICT (id) DO NOTHING)
     UPDATE jobs j SET next_fire_at = x.next_fire_at, skipped = j.skipped + x.skipped, updated_at = now(),
            status = CASE WHEN x.cancelled THEN 'CANCELLED' WHEN x.finished AND j.status = 'SCHEDULED' THEN 'DONE' ELSE j.status END,
            last_error = CASE WHEN x.cancelled THEN 'occurrence missed; skipped by its misfire policy' ELSE j.last_error END
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, next_fire_at timestamptz, skipped integer, cancelled boolean, finished boolean)
      WHERE j.id = x.id AND j.id = ANY($8::uuid[])`,
    [JSON.stringify(rows), ids, jobIds, statuses, dues, fireds, errors, rows.map((r) => r.id)],
  );
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
     SELECT DISTINCT job_id, 'pending' FROM runs WHERE job_id = ANY($1::uuid[]) AND pending`,
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
      WHERE r.pending AND j.status NOT IN ('CANCELLED', 'PAUSED')
        -- Read first, on its own, in index order (runs_pending_idx, whatever the statistics
        -- say): when no run is buffered, nothing else is read.
        AND (SELECT true FROM runs WHERE pending ORDER BY job_id LIMIT 1)
        AND NOT EXISTS (SELECT 1 FROM runs a WHERE a.job_id = r.job_id AND ${inFlight('a.')})
      ORDER BY j.priority, r.due_at
      LIMIT $1
      FOR UPDATE OF r SKIP LOCKED`,
    [limit, runTimeoutMs],
  );
  return rows;
}

export async function markPendingFired(client: PoolClient, runIds: string[], firedAt: Date): Promise<void> {
  if (runIds.length) await client.query(`UPDATE runs SET status = 'FIRED', pending = false, fired_at = $2, updated_at = now() WHERE id = ANY($1::text[])`, [runIds, firedAt]);
}

export async function nextDueAt(pool: Pool): Promise<Date | null> {
  const { rows } = await pool.query<{ at: Date | null }>(
    `SELECT least(
       -- One step down jobs_fire_idx (priority, next_fire_at) per priority.
       (SELECT next_fire_at FROM jobs WHERE priority = 0 AND next_fire_at IS NOT NULL AND status NOT IN ('CANCELLED', 'PAUSED') ORDER BY next_fire_at LIMIT 1),
       (SELECT next_fire_at FROM jobs WHERE priority = 1 AND next_fire_at IS NOT NULL AND status NOT IN ('CANCELLED', 'PAUSED') ORDER BY next_fire_at LIMIT 1),
       (SELECT next_fire_at FROM jobs WHERE priority = 2 AND next_fire_at IS NOT NULL AND status NOT IN ('CANCELLED', 'PAUSED') ORDER BY next_fire_at LIMIT 1),
       -- And one step down runs_retry_idx to the first retry of a job that is not held.
       (SELECT r.retry_at FROM runs r JOIN jobs j ON j.id = r.job_id
         WHERE r.retry_at IS NOT NULL AND j.status NOT IN ('CANCELLED', 'PAUSED') ORDER BY r.retry_at LIMIT 1)) AS at`,
  );
  return rows[0]?.at ?? null;
}

/** Claims failed runs whose handed-over retry is due (highest priority, then earliest, first). */
export async function claimRetries(client: PoolClient, limit: number): Promise<Array<JobRow & { run_id: string; due_at: Date; failed_attempt: number }>> {
  const { rows } = await client.query<JobRow & { run_id: string; due_at: Date; failed_attempt: number }>(
    `SELECT j.*, r.id AS run_id, r.due_at, r.attempt AS failed_attempt FROM runs r JOIN jobs j ON j.id = r.job_id
      WHERE r.retry_at <= now() AND r.status = 'FAILED' AND j.status NOT IN ('CANCELLED', 'PAUSED')
        -- Read first, on its own, in index order (runs_retry_idx): when no retry is due,
        -- nothing else is read.
        AND (SELECT true FROM runs WHERE retry_at <= now() ORDER BY retry_at LIMIT 1)
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

/**
 * Applies a batch of run status events in two statements, without reading any row first: the
 * runs are upserted with a commutative merge (the newest state wins, the first start and the
 * finish are kept whichever event brought them), so events applied in any order or twice leave
 * the same run, and an event that arrives before the firing transaction's run row is committed
 * simply waits for that row. Then each job takes its newest run's state. Events about a job this
 * database does not have (another installation's) are dropped. Returns the runs changed.
 */
export async function applyRunStatuses(client: PoolClient, events: RunStatusEvent[]): Promise<number> {
  const runs = foldRunEvents(events);
  if (runs.length === 0) return 0;
  // The upsert waits for a run row another transaction is writing (a job fired as it is stored
  // is published before its transaction commits); only then is the job looked for.
  const { rows: upserted } = await client.query<{ id: string; job_id: string; status: string; attempt: number; created: boolean }>(
    `INSERT INTO runs AS r (id, job_id, status, attempt, due_at, fired_at, started_at, finished_at, error, retry_at)
     SELECT e.id, e.job_id, e.status, e.attempt, e.due_at, e.fired_at, e.started_at, e.finished_at, e.error, e.retry_at
       FROM jsonb_to_recordset($1::jsonb) AS e(id text, job_id uuid, status text, attempt integer, due_at timestamptz,
            fired_at timestamptz, started_at timestamptz, finished_at timestamptz, error text, retry_at timestamptz)
     ON CONFLICT (id) DO UPDATE SET
       status      = CASE WHEN run_newer(r.status, r.attempt, EXCLUDED.status, EXCLUDED.attempt) THEN EXCLUDED.status ELSE r.status END,
       attempt     = CASE WHEN run_newer(r.status, r.attempt, EXCLUDED.status, EXCLUDED.attempt) THEN EXCLUDED.attempt ELSE r.attempt END,
       error       = CASE WHEN run_newer(r.status, r.attempt, EXCLUDED.status, EXCLUDED.attempt) THEN COALESCE(EXCLUDED.error, r.error) ELSE r.error END,
       retry_at    = CASE WHEN run_newer(r.status, r.attempt, EXCLUDED.status, EXCLUDED.attempt) THEN EXCLUDED.retry_at ELSE r.retry_at END,
       started_at  = LEAST(r.started_at, EXCLUDED.started_at),
       finished_at = COALESCE(r.finished_at, EXCLUDED.finished_at),
       updated_at  = now()
     RETURNING r.id, r.job_id, r.status, r.attempt, (r.xmax = 0) AS created`,
    [JSON.stringify(runs)],
  );
  // A run this event created, of a job this database does not have, is dropped with its event.
  const created = upserted.filter((r) => r.created).map((r) => r.id);
  const dropped = new Set<string>();
  if (created.length) {
    const { rows: gone } = await client.query<{ id: string }>('DELETE FROM runs r WHERE r.id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.job_id) RETURNING r.id', [created]);
    for (const g of gone) dropped.add(g.id);
  }
  const rows = upserted.filter((r) => !dropped.has(r.id));
  // A job follows the newest of its runs in the batch that now holds the state its event says.
  const byId = new Map(runs.map((r) => [r.id, r]));
  const jobs = new Map<string, RunUpdate>();
  for (const row of rows) {
    const u = byId.get(row.id);
    if (!u || u.status !== row.status || u.attempt !== row.attempt) continue;
    const cur = jobs.get(row.job_id);
    if (!cur || Date.parse(u.at) >= Date.parse(cur.at)) jobs.set(row.job_id, u);
  }
  let wakeAt: Date | undefined;
  const wake = (at: Date) => (wakeAt = !wakeAt || at < wakeAt ? at : wakeAt);
  for (const u of jobs.values()) if (u.retry_at) wake(new Date(u.retry_at));
  if (jobs.size) {
    // A recurring job with more to come goes back to SCHEDULED when a run ends.
    const { rows: updated } = await client.query<{ pending: boolean }>(
      `UPDATE jobs j SET
              status = CASE WHEN u.status IN ('DONE', 'DEAD')
                             AND (j.next_fire_at IS NOT NULL OR EXISTS (SELECT 1 FROM runs p WHERE p.job_id = j.id AND p.pending))
                            THEN 'SCHEDULED' ELSE u.status END,
              attempts = GREATEST(j.attempts, u.attempt),
              last_error = COALESCE(u.error, j.last_error), updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS u(job_id uuid, status text, attempt integer, error text)
        WHERE j.id = u.job_id AND j.id = ANY($2::uuid[]) AND j.status NOT IN ('CANCELLED', 'PAUSED')
        RETURNING u.status IN ('DONE', 'DEAD') AND EXISTS (SELECT 1 FROM runs p WHERE p.job_id = j.id AND p.pending) AS pending`,
      [JSON.stringify([...jobs.values()]), [...jobs.keys()]],
    );
    // A buffered run can go now.
    if (updated.some((r) => r.pending)) wake(new Date());
  }
  // The firing loops may be asleep past a retry time or a buffered run: wake them to look again.
  if (wakeAt) await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, wakeAt.toISOString()]);
  return rows.length;
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

/** How many jobs are in each status (of one app when appName is set). */
export async function countJobs(pool: Pool, appName?: string): Promise<Array<{ status: string; count: string }>> {
  const { rows } = await pool.query<{ status: string; count: string }>('SELECT status, count(*) AS count FROM jobs WHERE ($1::text IS NULL OR app_name = $1) GROUP BY status', [appName ?? null]);
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

/** Recurring, or a one-shot job whose occurrence has not fired yet. */
const NOT_FIRED = '(schedule IS NOT NULL OR next_fire_at IS NOT NULL OR paused_fire_at IS NOT NULL)';
/** A run of the job waits for a retry the scheduler is to fire (cancel drops it, pause holds it). */
const WAITING_FOR_RETRY = 'EXISTS (SELECT 1 FROM runs WHERE runs.job_id = jobs.id AND runs.retry_at IS NOT NULL)';
const NOT_FIRED_OR_WAITING = `(${NOT_FIRED} OR ${WAITING_FOR_RETRY})`;

export type Control = 'cancel' | 'pause' | 'resume' | 'trigger';

/** The states each control call is legal from (besides its condition on the job's occurrence). */
export const CONTROL_FROM: Record<Control, JobStatus[]> = {
  // A one-shot job can be cancelled or triggered only before its occurrence fires: once it is
  // in jobs.due the executor runs it. A recurring job's cancel stops future occurrences.
  cancel: ['NEW', 'SCHEDULED', 'PAUSED', 'RUNNING', 'FAILED'],
  // A recurring job can be paused while a run is in flight; a one-shot job only before it fires.
  pause: ['SCHEDULED', 'RUNNING', 'FAILED'],
  resume: ['PAUSED'],
  trigger: ['SCHEDULED', 'PAUSED'],
};

const CONTROL_SQL: Record<Control, string> = {
  cancel: `UPDATE jobs SET status = 'CANCELLED', next_fire_at = NULL, paused_fire_at = NULL, updated_at = now()
            WHERE id = $1 AND status = ANY($2::text[]) AND ${NOT_FIRED_OR_WAITING}`,
  pause: `UPDATE jobs SET status = 'PAUSED', paused_fire_at = next_fire_at, next_fire_at = NULL, updated_at = now()
           WHERE id = $1 AND status = ANY($2::text[]) AND ${NOT_FIRED_OR_WAITING}`,
  // A job paused while its run waited for a retry goes back to FAILED (will retry); the retry
  // fires at its time, or at once if that has passed.
  resume: `UPDATE jobs SET status = CASE WHEN paused_fire_at IS NULL AND ${WAITING_FOR_RETRY} THEN 'FAILED' ELSE 'SCHEDULED' END,
                  next_fire_at = paused_fire_at, paused_fire_at = NULL, updated_at = now()
            WHERE id = $1 AND status = ANY($2::text[])`,
  trigger: `UPDATE jobs SET status = 'SCHEDULED', next_fire_at = now(), paused_fire_at = NULL, updated_at = now()
             WHERE id = $1 AND status = ANY($2::text[]) AND ${NOT_FIRED}`,
};

/** Applies a control call; returns whether it changed the job, and the job after it. */
async function control(pool: Pool, jobId: string, what: Control): Promise<{ changed: boolean; job?: JobView }> {
  const res = await pool.query(CONTROL_SQL[what], [jobId, CONTROL_FROM[what]]);
  if (res.rowCount) await pool.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, new Date().toISOString()]);
  return { changed: (res.rowCount ?? 0) > 0, job: await getJob(pool, jobId) };
}

export const cancelJob = (pool: Pool, jobId: string) => control(pool, jobId, 'cancel');
export const pauseJob = (pool: Pool, jobId: string) => control(pool, jobId, 'pause');
export const resumeJob = (pool: Pool, jobId: string) => control(pool, jobId, 'resume');
export const triggerNow = (pool: Pool, jobId: string) => control(pool, jobId, 'trigger');

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
