// Storing job requests: a fetched batch in a few multi-row statements, duplicates resolved in SQL.
import { statement, withTransaction, type Pool, type PoolClient } from '@pipewright/platform';
import { PRIORITY_RANK, PRIORITY_NAME, WAKE_CHANNEL, type InsertOutcome, firstOccurrence, type NewJob, jobIdFor, type IngestFiring, runIdFor, recordsetJson } from './store-shared';

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
    } = await db.query<{ not_inserted: string[]; not_fired: string[] }>(
      statement(
        'scheduler.insert-jobs',
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
       -- What did not happen, usually nothing: a result of hundreds of ids costs more to read.
       SELECT (SELECT coalesce(array_agg(x.request_id), '{}') FROM x WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.id = x.id)) AS not_inserted,
              (SELECT coalesce(array_agg(x.id), '{}') FROM x
                WHERE x.fire_run IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fired WHERE fired.job_id = x.id)) AS not_fired,
              CASE WHEN count(next_fire_at) > 0 THEN pg_notify($2, to_json(min(next_fire_at)) #>> '{}') END AS woke
         FROM ins`,
        [recordsetJson(rows), WAKE_CHANNEL, firing?.now ?? new Date()],
      ),
    );
    if (firing) {
      const notFired = new Set(res.not_fired);
      const fired = rows.filter((r) => r.fire_run !== null && !notFired.has(r.id));
      if (fired.length) await firing.publish(fired.map((r) => ({ job: r, dueAt: r.next_fire_at })));
    }
    const notInserted = new Set(res.not_inserted);
    for (const { i, id } of keep) if (!notInserted.has(jobs[i].req.requestId)) out[i] = { kind: 'inserted', jobId: id };
    const already = keep.filter((k) => notInserted.has(jobs[k.i].req.requestId));
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
