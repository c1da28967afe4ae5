// The executor's table, run_claims: one row per run this executor group has started, so that a
// redelivered jobs.due message finds it and is not executed again. Parameterised SQL only.
// Claims and finishes that come at the same time go to PostgreSQL together (group commit): one
// multi-row statement for all the runs that a batch of jobs.due brought in.
import { GroupCommit, statement, type Pool } from '@pipewright/platform';

export interface ClaimRequest {
  runId: string;
  jobId: string;
  appName: string;
  /** The attempt a scheduler re-fire is for (0 for a first delivery). */
  attempt: number;
}

/**
 * What a claim found: the run is ours, with the number of the attempt to start now (attempts
 * count from their start, so an attempt whose executor died counts), and the executor whose
 * lease lapsed when the run is taken over from one that stopped; or why the run is not ours.
 */
export type ClaimOutcome = { claimed: true; attempt: number; takenOverFrom?: string } | { claimed: false; outcome: 'DONE' | 'DEAD' | null; attempts: number; waiting: boolean; exists: boolean };

export interface RunStore {
  /** Claims a run unless it is finished, or held by a live executor, or waiting for its retry time. */
  claim(req: ClaimRequest): Promise<ClaimOutcome>;
  finish(runId: string, outcome: 'DONE' | 'DEAD', attempts: number): Promise<void>;
  /** Hands the run back unfinished (shutdown, failure around the handler, or a retry handed to the scheduler), with the attempts made. */
  release(runId: string, attempts: number, retryAfter: Date | null): Promise<void>;
  /** Records that an attempt starts: an executor that dies during it leaves it counted. */
  recordAttempts(runId: string, attempts: number): Promise<void>;
  /** Extends the leases of the runs this executor holds, in one statement. */
  renewLeases(runIds: string[]): Promise<void>;
  /** Deletes up to `limit` claims of runs finished longer than retentionMs ago; returns how many. */
  deleteFinished(retentionMs: number, limit: number): Promise<number>;
}

export function runStore(pool: Pool, executorId: string, leaseMs: number): RunStore {
  const leaseSecs = leaseMs / 1000;

  // A run handed back by a stopping executor, or whose executor stopped renewing its lease, is
  // taken over, continuing its attempt count. A run id twice in one flush: the second waits for
  // the next flush, where it finds the first one's claim.
  const claims = new GroupCommit<ClaimRequest, ClaimOutcome | undefined>(async (reqs) => {
    const first = new Map<string, ClaimRequest>();
    for (const r of reqs) if (!first.has(r.runId)) first.set(r.runId, r);
    const batch = [...first.values()];
    // `before` is the claims as they were when the statement began: a claim taken over whose
    // executor was not the one that released it had its lease lapse.
    const { rows } = await pool.query<{ run_id: string; attempts: number; lapsed_from: string | null }>(
      statement(
        'executor.claim-runs',
        `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS t(run_id, job_id, app_name, want)),
       before AS (SELECT run_id, executor, released_at FROM run_claims WHERE run_id = ANY($1::text[])),
       up AS (
         INSERT INTO run_claims AS c (run_id, job_id, app_name, executor, lease_until, attempts)
         SELECT run_id, job_id, app_name, $5, now() + make_interval(secs => $6::double precision), 1 FROM input
         ON CONFLICT (run_id) DO UPDATE SET executor = EXCLUDED.executor, released_at = NULL, retry_after = NULL,
                                            lease_until = EXCLUDED.lease_until, attempts = c.attempts + 1
           WHERE c.finished_at IS NULL
             AND (c.released_at IS NOT NULL OR c.lease_until IS NULL OR c.lease_until < now())
             AND (c.retry_after IS NULL OR c.retry_after <= now() OR (SELECT want FROM input i WHERE i.run_id = c.run_id) > c.attempts)
         RETURNING run_id, attempts)
       SELECT up.run_id, up.attempts, CASE WHEN b.released_at IS NULL THEN b.executor END AS lapsed_from
         FROM up LEFT JOIN before b ON b.run_id = up.run_id`,
        [batch.map((r) => r.runId), batch.map((r) => r.jobId), batch.map((r) => r.appName), batch.map((r) => r.attempt), executorId, leaseSecs],
      ),
    );
    const won = new Map(rows.map((r) => [r.run_id, r]));
    const lost = batch.filter((r) => !won.has(r.runId));
    const state = new Map<string, { outcome: 'DONE' | 'DEAD' | null; attempts: number; waiting: boolean }>();
    if (lost.length) {
      const { rows: held } = await pool.query<{ run_id: string; outcome: 'DONE' | 'DEAD' | null; attempts: number; waiting: boolean }>(
        `SELECT c.run_id, c.outcome, c.attempts, (c.released_at IS NOT NULL AND c.retry_after > now() AND i.want <= c.attempts) AS waiting
           FROM run_claims c JOIN unnest($1::text[], $2::int[]) AS i(run_id, want) ON i.run_id = c.run_id`,
        [lost.map((r) => r.runId), lost.map((r) => r.attempt)],
      );
      for (const h of held) state.set(h.run_id, h);
    }
    return reqs.map((r) => {
      if (first.get(r.runId) !== r) return undefined;
      const mine = won.get(r.runId);
      if (mine) return { claimed: true, attempt: mine.attempts, ...(mine.lapsed_from ? { takenOverFrom: mine.lapsed_from } : {}) };
      const s = state.get(r.runId);
      return { claimed: false, outcome: s?.outcome ?? null, attempts: s?.attempts ?? 0, waiting: s?.waiting ?? false, exists: s !== undefined };
    });
  });

  const finishes = new GroupCommit<{ runId: string; outcome: 'DONE' | 'DEAD'; attempts: number }, void>(async (items) => {
    await pool.query(
      statement(
        'executor.finish-runs',
        `UPDATE run_claims c SET finished_at = now(), outcome = f.outcome, attempts = f.attempts
         FROM unnest($1::text[], $2::text[], $3::int[]) AS f(run_id, outcome, attempts)
        WHERE c.run_id = f.run_id AND c.run_id = ANY($1::text[])`,
        [items.map((i) => i.runId), items.map((i) => i.outcome), items.map((i) => i.attempts)],
      ),
    );
    return items.map(() => undefined);
  });

  return {
    async claim(req) {
      for (;;) {
        const out = await claims.add(req);
        if (out) return out;
      }
    },
    finish: (runId, outcome, attempts) => finishes.add({ runId, outcome, attempts }),
    async release(runId, attempts, retryAfter) {
      await pool.query('UPDATE run_claims SET released_at = now(), attempts = $2, retry_after = $3 WHERE run_id = $1 AND finished_at IS NULL', [runId, attempts, retryAfter]);
    },
    async recordAttempts(runId, attempts) {
      await pool.query('UPDATE run_claims SET attempts = $2 WHERE run_id = $1', [runId, attempts]);
    },
    async deleteFinished(retentionMs, limit) {
      const { rowCount } = await pool.query(
        `DELETE FROM run_claims WHERE run_id IN (
           SELECT run_id FROM run_claims WHERE finished_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
        [retentionMs, limit],
      );
      return rowCount ?? 0;
    },
    async renewLeases(runIds) {
      if (runIds.length === 0) return;
      await pool.query('UPDATE run_claims SET lease_until = now() + make_interval(secs => $2::double precision) WHERE run_id = ANY($1::text[]) AND finished_at IS NULL', [runIds, leaseSecs]);
    },
  };
}
