// Runs one due job: claim the run id durably, then attempt with backoff, reporting each step
// on jobs.status; after the last retry the job is DEAD and goes to jobs.dlq. Short backoffs wait
// here; long ones are handed to the scheduler, which fires the run again at its retry time.
import { hostname } from 'node:os';
import { deadLetterHeaders, type InboundMessage, type Logger, type MessageProducer } from '@pipewright/platform';
import { TOPICS, type Backoff, type DueRun, type RunStatus, type RunStatusEvent } from '@pipewright/contracts';
import { PermanentError } from './handlers';
import { backoffDelay } from './backoff';
import type { Registry } from './registry';
import type { ExecutorMetrics } from './metrics';
import type { RunStore } from './store';

export interface RunnerOptions {
  store: RunStore;
  producer: MessageProducer;
  registry: Registry;
  metrics: ExecutorMetrics;
  logger: Logger;
  defaultMaxRetries: number;
  defaultBackoff: Backoff;
  ensureTopic(topic: string): Promise<void>;
  partitionCount(topic: string): Promise<number>;
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
  /**
   * RUNNING is reported only for an attempt still running after this long; a quicker attempt
   * reports its start with its outcome, in one event. 0 reports RUNNING at every start.
   */
  reportRunningAfterMs: number;
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

export const EXECUTOR_ID = `${hostname()}:${process.pid}`;

export function createRunner(o: RunnerOptions) {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { store } = o;

  // Keyed by job: all events of a job's runs are applied by one scheduler consumer, in order.
  const report = (due: DueRun, status: RunStatus, attempt: number, more: { error?: string; retryAt?: Date; startedAt?: Date } = {}) => {
    const ev: RunStatusEvent = {
      runId: due.runId,
      jobId: due.jobId,
      status,
      attempt,
      at: new Date().toISOString(),
      error: more.error,
      executor: EXECUTOR_ID,
      retryAt: more.retryAt?.toISOString(),
      startedAt: more.startedAt?.toISOString(),
      dueAt: due.dueAt,
      firedAt: due.firedAt,
    };
    return o.producer.send(TOPICS.jobsStatus, [{ key: due.jobId, value: ev }]);
  };

  /** Runs fn until it succeeds, waiting longer each time; a stopping executor gives up (the message stays uncommitted). */
  const durably = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await fn();
      } catch (err) {
        if (o.isStopping()) throw err;
        o.logger.warn({ err: (err as Error).message, retryInMs: delay }, `could not ${what}; trying again`);
        await sleep(delay);
      }
    }
  };

  // One timer renews the lease of every run held here, in one statement, every third of the
  // lease; it runs only while some run is held.
  const held = new Set<string>();
  let renewing: NodeJS.Timeout | undefined;
  const hold = (runId: string) => {
    held.add(runId);
    renewing ??= setInterval(() => void store.renewLeases([...held]).catch(() => undefined), o.leaseMs / 3);
  };
  const letGo = (runId: string) => {
    held.delete(runId);
    if (held.size > 0) return;
    clearInterval(renewing);
    renewing = undefined;
  };

  return async function execute(due: DueRun, msg: InboundMessage): Promise<void> {
    const claim = await store.claim({ runId: due.runId, jobId: due.jobId, appName: due.appName, attempt: due.attempt ?? 0 });
    if (!claim.claimed) {
      if (claim.waiting) {
        // An old copy of the run delivered before its retry time (the scheduler's re-fire says
        // which attempt it is for): the scheduler fires the retry then.
        o.metrics.duplicate();
        o.logger.info({ runId: due.runId }, 'run delivered before its retry time; skipped');
        return;
      }
      if (claim.exists && !claim.outcome) throw new RunHeldElsewhere(`run ${due.runId} is being executed by another executor`);
      o.metrics.duplicate();
      o.logger.info({ runId: due.runId }, 'run already finished; redelivery skipped');
      // Say the outcome again: a scheduler that re-fired the run may not have recorded it.
      if (claim.outcome) await report(due, claim.outcome, claim.attempts);
      return;
    }
    hold(due.runId);
    // The retry handed to the scheduler, once FAILED has said so: a release keeps its time.
    let handedRetryAt: Date | null = null;
    const release = (attemptsMade: number) => store.release(due.runId, attemptsMade, handedRetryAt);
    const first = claim.attempt;
    let attemptsMade = first - 1;
    // A run taken over from an executor that stopped says so with its first report.
    const takeover = claim.takenOverFrom ? `attempt ${first - 1} was interrupted: its executor ${claim.takenOverFrom} stopped; taken over by ${EXECUTOR_ID}` : undefined;
    if (takeover) o.logger.warn({ runId: due.runId, attempt: first }, takeover);
    const app = o.registry.get(due.appName);
    const maxRetries = due.maxRetries ?? o.defaultMaxRetries;
    const backoff = due.backoff ?? o.defaultBackoff;
    o.metrics.started();
    try {
      for (let attempt = first; ; attempt++) {
        if (o.isStopping()) {
          await release(attempt - 1);
          throw new HandedBack(due.runId);
        }
        attemptsMade = attempt - 1;
        if (attempt > first) await durably('record the attempt', () => store.recordAttempts(due.runId, attempt));
        const note = attempt === first ? takeover : undefined;
        const startedAt = new Date();
        // RUNNING for an attempt that takes a while (or at once, when so configured).
        let running: Promise<unknown> | undefined;
        const sayRunning = () => (running = report(due, 'RUNNING', attempt, { startedAt, error: note }).catch((err) => o.logger.warn({ err, runId: due.runId }, 'RUNNING not reported')));
        let runningTimer: NodeJS.Timeout | undefined;
        if (o.reportRunningAfterMs === 0) await sayRunning();
        else runningTimer = setTimeout(() => void sayRunning(), o.reportRunningAfterMs);
        const settle = async () => {
          clearTimeout(runningTimer);
          await running;
        };
        // The handler's outcome alone decides the attempt; recording it (PostgreSQL, Kafka) is
        // retried until it is done, so that a handler that succeeded is never run again
        // because its bookkeeping failed.
        let failure: unknown;
        let succeeded = false;
        try {
          if (!app) throw new PermanentError(`no handler is registered for app "${due.appName}"`);
          // The run's logger is made when the handler first logs (most never do).
          let runLogger: Logger | undefined;
          await app.run({
            runId: due.runId,
            jobId: due.jobId,
            appName: due.appName,
            attempt,
            jobData: due.jobData,
            options: app.options,
            producer: o.producer,
            ensureTopic: o.ensureTopic,
            partitionCount: o.partitionCount,
            get logger() {
              return (runLogger ??= o.logger.child({ runId: due.runId, attempt }));
            },
            published: (topic, n = 1) => o.metrics.published(topic, n),
          });
          succeeded = true;
        } catch (err) {
          failure = err;
        }
        await settle();
        if (succeeded) {
          // Finished first: a copy delivered again after a crash here says the outcome again
          // instead of running the handler a second time.
          await durably('record the run finished', () => store.finish(due.runId, 'DONE', attempt));
          await durably('report DONE', () => report(due, 'DONE', attempt, { startedAt, error: note }));
          o.metrics.succeeded();
          return;
        }
        const err = failure as Error;
        const error = err?.message ?? String(failure);
        if (err instanceof PermanentError || attempt > maxRetries) {
          await durably('dead-letter the run', () =>
            o.producer.send(
              TOPICS.jobsDlq,
              [
                {
                  key: msg.key,
                  value: msg.value,
                  headers: { ...msg.headers, ...deadLetterHeaders(msg, err instanceof Error ? err : new Error(error), new Date(), attempt) },
                },
              ],
              { compress: true },
            ),
          );
          await durably('record the run finished', () => store.finish(due.runId, 'DEAD', attempt));
          await durably('report DEAD', () => report(due, 'DEAD', attempt, { error, startedAt }));
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
          await durably('report FAILED', () => report(due, 'FAILED', attempt, { error, retryAt, startedAt }));
          handedRetryAt = retryAt;
          await durably('release the run', () => release(attempt));
          o.logger.info({ runId: due.runId, attempt, error, retryAt }, 'attempt failed; the scheduler fires the retry');
          return;
        }
        await durably('report FAILED', () => report(due, 'FAILED', attempt, { error, startedAt }));
        o.logger.info({ runId: due.runId, attempt, error, retryInMs: delay }, 'attempt failed; retrying');
        await sleep(delay);
      }
    } catch (err) {
      // Kafka or PostgreSQL failed around the handler: give the run back so that the retried
      // message (here or on another executor) can take it over.
      if (!(err instanceof HandedBack)) await release(attemptsMade).catch(() => undefined);
      throw err;
    } finally {
      letGo(due.runId);
      o.metrics.ended();
    }
  };
}
