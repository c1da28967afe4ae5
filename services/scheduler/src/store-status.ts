// Run status events applied to runs and jobs, in any order.
import { statement, type PoolClient } from '@pipewright/platform';
import type { RunStatusEvent } from '@pipewright/contracts';
import { foldRunEvents, type RunUpdate } from './run-events';
import { WAKE_CHANNEL, recordsetJson } from './store-shared';

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
    statement(
      'scheduler.upsert-runs',
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
      [recordsetJson(runs, ['id', 'job_id', 'status', 'attempt', 'due_at', 'fired_at', 'started_at', 'finished_at', 'error', 'retry_at'])],
    ),
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
      statement(
        'scheduler.update-jobs',
        `UPDATE jobs j SET
              status = CASE WHEN u.status IN ('DONE', 'DEAD')
                             AND (j.next_fire_at IS NOT NULL OR EXISTS (SELECT 1 FROM runs p WHERE p.job_id = j.id AND p.pending))
                            THEN 'SCHEDULED' ELSE u.status END,
              attempts = GREATEST(j.attempts, u.attempt),
              last_error = COALESCE(u.error, j.last_error), updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS u(job_id uuid, status text, attempt integer, error text)
        WHERE j.id = u.job_id AND j.id = ANY($2::uuid[]) AND j.status NOT IN ('CANCELLED', 'PAUSED')
        RETURNING u.status IN ('DONE', 'DEAD') AND EXISTS (SELECT 1 FROM runs p WHERE p.job_id = j.id AND p.pending) AS pending`,
        [recordsetJson([...jobs.values()], ['job_id', 'status', 'attempt', 'error']), [...jobs.keys()]],
      ),
    );
    // A buffered run can go now.
    if (updated.some((r) => r.pending)) wake(new Date());
  }
  // The firing loops may be asleep past a retry time or a buffered run: wake them to look again.
  if (wakeAt) await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, wakeAt.toISOString()]);
  return rows.length;
}
