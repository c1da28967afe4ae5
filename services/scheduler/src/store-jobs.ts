// Jobs and runs as the gRPC API reads them, and its control calls.
import type { Pool, PoolClient } from '@pipewright/platform';
import { isUuid } from '@pipewright/contracts';
import { WAKE_CHANNEL, type JobStatus, type JobView, type RunRow } from './store-shared';

const JOB_VIEW = `
  SELECT j.*, r.fired_at, r.started_at, r.finished_at,
         (SELECT count(*)::int FROM runs x WHERE x.job_id = j.id) AS runs
    FROM jobs j
    LEFT JOIN LATERAL (SELECT fired_at, started_at, finished_at FROM runs WHERE job_id = j.id ORDER BY due_at DESC LIMIT 1) r ON true`;

/** A job by its id or by the request id it was submitted with. */
export async function getJob(pool: Pool | PoolClient, idOrRequestId: string): Promise<JobView | undefined> {
  const { rows } = isUuid(idOrRequestId)
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
