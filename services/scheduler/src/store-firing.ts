// What a firing pass reads and writes: due jobs, buffered runs and retries claimed, the runs recorded.
import type { Pool, PoolClient } from '@pipewright/platform';
import type { FiringPlan } from './plan';
import { PRIORITY_NAME, type JobRow, runIdFor } from './store-shared';

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
