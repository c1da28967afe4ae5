// Fires due occurrences. Every replica runs this loop; row claims (FOR UPDATE SKIP LOCKED)
// make each occurrence fire once. The loop sleeps until the next due time, and a NOTIFY from
// any replica (new job, resume, trigger) wakes it early.
import pg from 'pg';
import { childSpan, tracingEnabled, withTransaction, type Logger, type MessageProducer, type OutboundMessage, type Pool } from '@pipewright/platform';
import { TOPICS, type DueRun } from '@pipewright/contracts';
import {
  claimDue,
  claimPending,
  claimRetries,
  markPendingFired,
  markRetriesFired,
  nextDueAt,
  recordPlans,
  runIdFor,
  runState,
  PRIORITY_NAME,
  WAKE_CHANNEL,
  type JobRow,
  type AppliedPlan,
  type DueSource,
} from './store';
import { planFiring, type DueJob } from './plan';
import type { SchedulerMetrics } from './metrics';

export interface FiringOptions {
  pool: Pool;
  databaseUrl: string;
  producer: MessageProducer;
  logger: Logger;
  metrics: SchedulerMetrics;
  batchSize: number;
  maxIdleMs: number;
  misfireThresholdMs: number;
  catchUpWindowMs: number;
  runTimeoutMs: number;
}

export function dueJobOf(job: JobRow & { due_at: Date }): DueJob {
  return {
    spec: job.schedule ?? undefined,
    anchor: job.scheduled_time,
    startAt: job.start_at ?? undefined,
    endAt: job.end_at ?? undefined,
    dueAt: job.due_at,
    misfirePolicy: job.misfire_policy,
    overlapPolicy: job.overlap_policy,
    catchUpWindowMs: job.catch_up_window_ms === null ? undefined : Number(job.catch_up_window_ms),
  };
}

/** The jobs.due message of one occurrence; with tracing on, in a scheduler.fire span of the job's trace. */
function dueMessage(job: DueSource, dueAt: Date, firedAt: Date, attempt: number | undefined, spans: Array<{ end(): void }>): OutboundMessage {
  const runId = runIdFor(job.id, dueAt);
  const value: DueRun = {
    runId,
    jobId: job.id,
    appName: job.app_name,
    priority: PRIORITY_NAME[job.priority] ?? 'normal',
    jobData: job.job_data,
    dueAt: dueAt.toISOString(),
    firedAt: firedAt.toISOString(),
    maxRetries: job.max_retries ?? undefined,
    backoff: job.backoff ?? undefined,
    attempt,
  };
  if (!tracingEnabled()) return { key: job.id, value, headers: { ...(job.trace_context ?? {}) } };
  const span = childSpan('scheduler.fire', job.trace_context, { 'pipewright.job_id': job.id, 'pipewright.run_id': runId, 'pipewright.app': job.app_name });
  spans.push(span);
  return { key: job.id, value, trace: span.context };
}

/** Publishes runs to jobs.due, one produce request per priority class (high first); then onPublished. */
export async function publishDue(
  producer: MessageProducer,
  fires: Array<{ job: DueSource; dueAt: Date; attempt?: number }>,
  firedAt: Date,
  metrics: SchedulerMetrics,
  onPublished?: () => void,
): Promise<void> {
  const ranks = [...new Set(fires.map((f) => f.job.priority))].sort((a, b) => a - b);
  if (ranks.length === 0) onPublished?.();
  for (const [k, rank] of ranks.entries()) {
    const spans: Array<{ end(): void }> = [];
    const batch = fires.filter((f) => f.job.priority === rank);
    try {
      const sent = producer.send(
        TOPICS.jobsDue,
        batch.map((f) => dueMessage(f.job, f.dueAt, firedAt, f.attempt, spans)),
      );
      if (k === ranks.length - 1) onPublished?.();
      await sent;
    } finally {
      for (const span of spans) span.end();
    }
    // Lateness as a consumer sees it: from the due time until jobs.due has the run.
    const acked = Date.now();
    for (const f of batch) if (f.attempt === undefined) metrics.observeLateness(acked - f.dueAt.getTime());
  }
}

export class FiringLoop {
  private running = false;
  private wake?: () => void;
  private wakeAt = Infinity;
  private timer?: NodeJS.Timeout;
  private listener?: pg.Client;
  private done?: Promise<void>;
  private listening = false;
  /** Set when a wake-up came while the loop was busy, so it does not go to sleep after. */
  private wakeRequested = false;

  constructor(private readonly o: FiringOptions) {}

  async start(): Promise<void> {
    this.running = true;
    await this.listen();
    this.done = this.loop();
  }

  isHealthy(): boolean {
    return this.listening;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.interrupt();
    await this.done;
    this.listening = false;
    await this.listener?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.o.databaseUrl });
    client.on('notification', (n) => {
      const at = n.payload ? Date.parse(n.payload) : Date.now();
      if (Number.isFinite(at) && at < this.wakeAt) this.sleepUntil(at);
    });
    client.on('error', (err) => {
      if (this.listener !== client) return;
      this.listening = false;
      this.o.logger.warn({ err }, 'wake-up listener lost its connection; reconnecting');
      void client.end().catch(() => undefined);
      this.relisten(1000);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WAKE_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.listener = client;
    this.listening = true;
    // Anything added while it was not listening is found by looking now.
    this.interrupt();
  }

  /** Tries to listen again until it works (or the loop stops), waiting longer each time. */
  private relisten(delayMs: number): void {
    setTimeout(() => {
      if (!this.running) return;
      this.listen().catch((err) => {
        this.o.logger.warn({ err: (err as Error).message, retryInMs: Math.min(delayMs * 2, 10_000) }, 'wake-up listener cannot reconnect yet');
        this.relisten(Math.min(delayMs * 2, 10_000));
      });
    }, delayMs);
  }

  private interrupt(): void {
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = Infinity;
    const wake = this.wake;
    this.wake = undefined;
    if (wake) wake();
    else this.wakeRequested = true;
  }

  private sleepUntil(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => this.interrupt(), Math.max(0, at - Date.now()));
  }

  private async loop(): Promise<void> {
    let failures = 0;
    // A full pass that has published its batch and is committing while the next one claims.
    let committing: Promise<number> | undefined;
    while (this.running) {
      let pass: Promise<number> | undefined;
      try {
        this.wakeRequested = false;
        let claimed = 0;
        let published!: () => void;
        const publishing = new Promise<void>((resolve) => (published = resolve));
        pass = this.fireOnce((n) => {
          claimed = n;
          published();
        });
        // Also when the pass ends without publishing (nothing due, or a failure).
        void pass.then(published, published);
        await publishing;
        // At most two passes at once: the one before has committed before this one goes on.
        const before = committing;
        committing = undefined;
        if (before) await before;
        failures = 0;
        if (claimed >= this.o.batchSize) {
          committing = pass;
          continue;
        }
        await pass;
        const next = await nextDueAt(this.o.pool);
        const until = Math.min(next ? next.getTime() : Infinity, Date.now() + this.o.maxIdleMs);
        if (until <= Date.now() || this.wakeRequested) continue;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (!this.running) return resolve();
          // A notification may already have asked for an earlier wake-up.
          if (this.wakeAt > until) this.sleepUntil(until);
        });
      } catch (err) {
        // Neither pass holds claims once both are done: a retry starts from what is committed.
        await Promise.allSettled([committing, pass]);
        committing = undefined;
        failures += 1;
        const delay = Math.min(100 * 2 ** failures, 5000);
        this.o.logger.error({ err, retryInMs: delay }, 'firing failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    await committing?.catch(() => undefined);
  }

  /**
   * Claims one batch of due jobs (and buffered runs whose predecessor ended, and retries that
   * are due), applies each job's misfire and overlap policy, records the runs, publishes what
   * fires to jobs.due in one produce request per priority class (high first), then commits: a
   * crash before the commit re-fires the same run ids, which the executor dedupes. The runs are
   * written before they are published, so a status event about one waits for its row.
   * onPublished(claimed) is called once the last produce request is on its way: a pass started
   * then claims the next batch (its rows are locked until this one commits) and publishes after.
   */
  async fireOnce(onPublished?: (claimed: number) => void): Promise<number> {
    const t0 = Date.now();
    const times: Record<string, number> = {};
    const fired = await withTransaction(this.o.pool, async (client) => {
      const due = await claimDue(client, this.o.batchSize);
      const pending = await claimPending(client, this.o.batchSize, this.o.runTimeoutMs);
      const retries = await claimRetries(client, this.o.batchSize);
      if (due.length === 0 && pending.length === 0 && retries.length === 0) return 0;
      const now = new Date();
      const watched = due.filter((j) => j.schedule && j.overlap_policy !== 'allow').map((j) => j.id);
      const state = await runState(client, watched, this.o.runTimeoutMs);
      times.claimed = Date.now() - t0;
      const applied: AppliedPlan[] = due.map((job) => ({
        job,
        firedAt: now,
        plan: planFiring(dueJobOf(job), {
          now,
          hasActiveRun: state.active.has(job.id),
          hasPendingRun: state.pending.has(job.id),
          misfireThresholdMs: this.o.misfireThresholdMs,
          defaultCatchUpWindowMs: this.o.catchUpWindowMs,
          maxOccurrences: 1000,
        }),
      }));
      await recordPlans(client, applied);
      await markPendingFired(
        client,
        pending.map((p) => p.run_id),
        now,
      );
      await markRetriesFired(
        client,
        retries.map((r) => r.run_id),
      );
      times.recorded = Date.now() - t0;
      // Occurrences (with lateness) and retries (again under their run id, with the attempt they
      // are for) go out one priority class after the other, high first, each class at once.
      const fires: Array<{ job: JobRow; dueAt: Date; attempt?: number }> = [
        ...applied.flatMap(({ job, plan }) => plan.fire.map((dueAt) => ({ job, dueAt }))),
        ...pending.map((p) => ({ job: p, dueAt: p.due_at })),
        ...retries.map((r) => ({ job: r, dueAt: r.due_at, attempt: r.failed_attempt + 1 })),
      ];
      const claimed = due.length + pending.length + retries.length;
      await publishDue(this.o.producer, fires, now, this.o.metrics, () => onPublished?.(claimed));
      if (retries.length) this.o.metrics.retriesFired(retries.length);
      for (const { plan } of applied) {
        this.o.metrics.skipped(plan.skip.filter((k) => k.reason === 'misfire').length + plan.uncounted, plan.skip.filter((k) => k.reason === 'overlap').length);
      }
      times.published = Date.now() - t0;
      return claimed;
    });
    if (fired) this.o.logger.debug({ fired, ...times, committed: Date.now() - t0 }, 'firing pass');
    return fired;
  }
}
