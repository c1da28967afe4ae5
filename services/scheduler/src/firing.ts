// Fires due occurrences. Every replica runs this loop; row claims (FOR UPDATE SKIP LOCKED)
// make each occurrence fire once. The loop sleeps until the next due time, and a NOTIFY from
// any replica (new job, resume, trigger) wakes it early.
import pg from 'pg';
import { inSpan, restoreTraceContext, withTransaction, type Logger, type MessageProducer, type Pool } from '@pipewright/platform';
import { TOPICS, type DueRun } from '@pipewright/contracts';
import { claimDue, nextDueAt, recordFired, runIdFor, PRIORITY_NAME, WAKE_CHANNEL } from './store';
import type { SchedulerMetrics } from './metrics';

export interface FiringOptions {
  pool: Pool;
  databaseUrl: string;
  producer: MessageProducer;
  logger: Logger;
  metrics: SchedulerMetrics;
  batchSize: number;
  maxIdleMs: number;
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
      this.listening = false;
      this.o.logger.warn({ err }, 'wake-up listener lost its connection; reconnecting');
      setTimeout(() => this.running && this.listen().catch(() => undefined), 1000);
    });
    await client.connect();
    await client.query(`LISTEN ${WAKE_CHANNEL}`);
    this.listener = client;
    this.listening = true;
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
    while (this.running) {
      try {
        this.wakeRequested = false;
        const fired = await this.fireOnce();
        failures = 0;
        if (fired >= this.o.batchSize) continue;
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
        failures += 1;
        const delay = Math.min(100 * 2 ** failures, 5000);
        this.o.logger.error({ err, retryInMs: delay }, 'firing failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Claims one batch, publishes it to jobs.due, then commits: a crash before commit re-fires
   * the same run ids, which the executor dedupes. */
  async fireOnce(): Promise<number> {
    return withTransaction(this.o.pool, async (client) => {
      const due = await claimDue(client, this.o.batchSize);
      if (due.length === 0) return 0;
      const firedAt = new Date();
      const runs = due.map((job) => ({ job, run: { runId: runIdFor(job.id, job.due_at), jobId: job.id, dueAt: job.due_at, firedAt } }));
      await Promise.all(
        runs.map(({ job, run }) =>
          inSpan('scheduler.fire', async (span) => {
            span.setAttributes({ 'pipewright.job_id': job.id, 'pipewright.run_id': run.runId, 'pipewright.app': job.app_name });
            const message: DueRun = {
              runId: run.runId,
              jobId: job.id,
              appName: job.app_name,
              priority: PRIORITY_NAME[job.priority] ?? 'normal',
              jobData: job.job_data,
              dueAt: run.dueAt.toISOString(),
              firedAt: firedAt.toISOString(),
              maxRetries: job.max_retries ?? undefined,
              backoff: job.backoff ?? undefined,
            };
            await this.o.producer.send(TOPICS.jobsDue, [{ key: job.id, value: message }]);
          }, restoreTraceContext(job.trace_context)),
        ),
      );
      await recordFired(client, runs.map((r) => r.run));
      for (const { run } of runs) this.o.metrics.observeLateness(firedAt.getTime() - run.dueAt.getTime());
      return due.length;
    });
  }
}
