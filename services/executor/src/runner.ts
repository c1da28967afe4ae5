// Runs one due job: claim the run id durably, then attempt with backoff, reporting each step
// on jobs.status; after the last retry the job is DEAD and goes to jobs.dlq. Short backoffs wait
// here; long ones are handed to the scheduler, which fires the run again at its retry time.
import { hostname } from 'node:os';
import { deadLetterHeaders, type InboundMessage, type Logger, type MessageProducer, type Pool } from '@pipewright/platform';
import { TOPICS, type Backoff, type DueRun, type RunStatus, type RunStatusEvent } from '@pipewright/contracts';
import { PermanentError } from './handlers';
import { backoffDelay } from './backoff';
import type { Registry } from './registry';
import type { ExecutorMetrics } from './metrics';

export interface RunnerOptions {
  pool: Pool;
  producer: MessageProducer;
  registry: Registry;
  metrics: ExecutorMetrics;
  logger: Logger;
  defaultMaxRetries: number;
  defaultBackoff: Backoff;
  ensureTopic(topic: string): Promise<void>;
  /** True once the process is shutting down: no new attempt starts, the run is handed back. */
  isStopping(): boolean;
  /** How long a claim holds its run without renewal; renewed every third of it while running. */
  leaseMs: number;
  /**
   * Retries due sooner than this wait here; later ones are handed to the scheduler (the claim
   * is released and FAILED carries retryAt), so a long backoff holds neither a partition nor a
   * slot, and survives a restart of this executor.
   */
  inlineRetryMaxMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Another executor holds the run and is alive: the message is retried until it finishes or its lease expires. */
export class RunHeldElsewhere extends Error {}

/** Thrown to leave a message uncommitted so that another executor takes the run over. */
export class HandedBack extends Error {
  constructor(runId: string) {
    super(`run ${runId} handed back during shutdown`);
    this.name = 'HandedBack';
  }
}

const EXECUTOR_ID = `${hostname()}:${process.pid}`;

export function createRunner(o: RunnerOptions) {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  const report = (due: DueRun, status: RunStatus, attempt: number, error?: string, retryAt?: Date) => {
    const ev: RunStatusEvent = { runId: due.runId, jobId: due.jobId, status, attempt, at: new Date().toISOString(), error, executor: EXECUTOR_ID, retryAt: retryAt?.toISOString() };
    return o.producer.send(TOPICS.jobsStatus, [{ key: due.runId, value: ev }]);
  };

  const finish = (runId: string, outcome: 'DONE' | 'DEAD', attempts: number) =>
    o.pool.query('UPDATE run_claims SET finished_at = now(), outcome = $2, attempts = $3 WHERE run_id = $1', [runId, outcome, attempts]);

  return async function execute(due: DueRun, msg: InboundMessage): Promise<void> {
    // A run handed back by a stopping executor, or whose executor stopped renewing its lease,
    // is taken over, continuing its attempt count.
    const leaseSecs = o.leaseMs / 1000;
    const claim = await o.pool.query<{ attempts: number }>(
      `INSERT INTO run_claims (run_id, job_id, app_name, executor, lease_until) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision))
       ON CONFLICT (run_id) DO UPDATE SET executor = EXCLUDED.executor, released_at = NULL, retry_after = NULL, lease_until = EXCLUDED.lease_until
         WHERE run_claims.finished_at IS NULL
           AND (run_claims.released_at IS NOT NULL OR run_claims.lease_until IS NULL OR run_claims.lease_until < now())
           AND (run_claims.retry_after IS NULL OR run_claims.retry_after <= now() OR $6::int > run_claims.attempts)
       RETURNING attempts`,
      [due.runId, due.jobId, due.appName, EXECUTOR_ID, leaseSecs, due.attempt ?? 0],
    );
    if (!claim.rowCount) {
      const { rows } = await o.pool.query<{ outcome: 'DONE' | 'DEAD' | null; attempts: number; waiting: boolean }>(
        'SELECT outcome, attempts, (released_at IS NOT NULL AND retry_after > now() AND $2::int <= attempts) AS waiting FROM run_claims WHERE run_id = $1',
        [due.runId, due.attempt ?? 0],
      );
      if (rows[0]?.waiting) {
        // An old copy of the run delivered before its retry time (the scheduler's re-fire says
        // which attempt it is for): the scheduler fires the retry then.
        o.metrics.duplicate();
        o.logger.info({ runId: due.runId }, 'run delivered before its retry time; skipped');
        return;
      }
      if (rows[0] && !rows[0].outcome) throw new RunHeldElsewhere(`run ${due.runId} is being executed by another executor`);
      o.metrics.duplicate();
      o.logger.info({ runId: due.runId }, 'run already finished; redelivery skipped');
      // Say the outcome again: a scheduler that re-fired the run may not have recorded it.
      if (rows[0]?.outcome) await report(due, rows[0].outcome, rows[0].attempts);
      return;
    }
    const renew = setInterval(() => {
      void o.pool
        .query('UPDATE run_claims SET lease_until = now() + make_interval(secs => $2::double precision) WHERE run_id = $1 AND finished_at IS NULL', [due.runId, leaseSecs])
        .catch(() => undefined);
    }, o.leaseMs / 3);
    // The retry handed to the scheduler, once FAILED has said so: a release keeps its time.
    let handedRetryAt: Date | null = null;
    const release = (attemptsMade: number) =>
      o.pool.query('UPDATE run_claims SET released_at = now(), attempts = $2, retry_after = $3 WHERE run_id = $1 AND finished_at IS NULL', [due.runId, attemptsMade, handedRetryAt]);
    let attemptsMade = claim.rows[0].attempts;
    const app = o.registry.get(due.appName);
    const maxRetries = due.maxRetries ?? o.defaultMaxRetries;
    const backoff = due.backoff ?? o.defaultBackoff;
    o.metrics.started();
    try {
      for (let attempt = claim.rows[0].attempts + 1; ; attempt++) {
        if (o.isStopping()) {
          await release(attempt - 1);
          throw new HandedBack(due.runId);
        }
        attemptsMade = attempt - 1;
        await report(due, 'RUNNING', attempt);
        try {
          if (!app) throw new PermanentError(`no handler is registered for app "${due.appName}"`);
          await app.run({
            runId: due.runId,
            jobId: due.jobId,
            appName: due.appName,
            attempt,
            jobData: due.jobData,
            options: app.options,
            producer: o.producer,
            ensureTopic: o.ensureTopic,
            logger: o.logger.child({ runId: due.runId, attempt }),
            published: (topic, n = 1) => o.metrics.published(topic, n),
          });
          await report(due, 'DONE', attempt);
          await finish(due.runId, 'DONE', attempt);
          o.metrics.succeeded();
          return;
        } catch (err) {
          const error = (err as Error).message;
          if (err instanceof PermanentError || attempt > maxRetries) {
            await o.producer.send(TOPICS.jobsDlq, [{
              key: msg.key,
              value: msg.value,
              headers: { ...msg.headers, ...deadLetterHeaders(msg, err as Error, new Date()), attempts: String(attempt) },
            }]);
            await report(due, 'DEAD', attempt, error);
            await finish(due.runId, 'DEAD', attempt);
            o.metrics.dead();
            o.logger.warn({ runId: due.runId, attempt, error }, 'job is dead');
            return;
          }
          o.metrics.failed();
          attemptsMade = attempt;
          const delay = backoffDelay(attempt, backoff);
          if (delay > o.inlineRetryMaxMs) {
            // FAILED with retryAt first: if this process dies before releasing the claim, the
            // scheduler still fires the retry and the lease lets another executor take it.
            const retryAt = new Date(Date.now() + delay);
            await report(due, 'FAILED', attempt, error, retryAt);
            handedRetryAt = retryAt;
            await release(attempt);
            o.logger.info({ runId: due.runId, attempt, error, retryAt }, 'attempt failed; the scheduler fires the retry');
            return;
          }
          await o.pool.query('UPDATE run_claims SET attempts = $2 WHERE run_id = $1', [due.runId, attempt]);
          await report(due, 'FAILED', attempt, error);
          o.logger.info({ runId: due.runId, attempt, error, retryInMs: delay }, 'attempt failed; retrying');
          await sleep(delay);
        }
      }
    } catch (err) {
      // Kafka or PostgreSQL failed around the handler: give the run back so that the retried
      // message (here or on another executor) can take it over.
      if (!(err instanceof HandedBack)) await release(attemptsMade).catch(() => undefined);
      throw err;
    } finally {
      clearInterval(renew);
      o.metrics.ended();
    }
  };
}
