import { prom } from '@pipewright/platform';

/** Firings whose lateness GetStats summarises. */
const LATENESS_KEPT = 10_000;

/** The scheduler's own counters behind GetStats and the Prometheus endpoint, per process (message
 * counts come from the ingest consumer's stats). */
export class SchedulerMetrics {
  readonly counts = { duplicates: 0, misfires: 0, overlapSkips: 0, fired: 0, retriesFired: 0 };
  /** The last LATENESS_KEPT lateness figures (a ring: `next` is the oldest once it is full). */
  private readonly lateness = new Float64Array(LATENESS_KEPT);
  private latenessCount = 0;
  private next = 0;
  private readonly latenessHistogram: prom.Histogram;
  private readonly firedCounter: prom.Counter;
  private readonly duplicatesCounter: prom.Counter;
  private readonly skippedCounter: prom.Counter<'reason'>;
  private readonly retriesCounter: prom.Counter;

  constructor(registry: prom.Registry) {
    this.latenessHistogram = new prom.Histogram({
      name: 'scheduler_fire_lateness_seconds',
      help: 'How long after its due time an occurrence was published to jobs.due',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    });
    this.firedCounter = new prom.Counter({ name: 'scheduler_fired_total', help: 'Occurrences fired', registers: [registry] });
    this.duplicatesCounter = new prom.Counter({ name: 'scheduler_duplicates_skipped_total', help: 'Job requests dropped as duplicates', registers: [registry] });
    this.retriesCounter = new prom.Counter({ name: 'scheduler_retries_fired_total', help: 'Failed runs fired again at the retry time their executor handed over', registers: [registry] });
    this.skippedCounter = new prom.Counter({ name: 'scheduler_occurrences_skipped_total', help: 'Occurrences not fired, by misfire or overlap policy', labelNames: ['reason'], registers: [registry] });
  }

  skipped(misfires: number, overlaps: number): void {
    this.counts.misfires += misfires;
    this.counts.overlapSkips += overlaps;
    if (misfires) this.skippedCounter.inc({ reason: 'misfire' }, misfires);
    if (overlaps) this.skippedCounter.inc({ reason: 'overlap' }, overlaps);
  }

  observeLateness(ms: number): void {
    this.counts.fired += 1;
    this.firedCounter.inc();
    this.latenessHistogram.observe(Math.max(0, ms) / 1000);
    this.lateness[this.next] = ms;
    this.next = (this.next + 1) % LATENESS_KEPT;
    this.latenessCount = Math.min(this.latenessCount + 1, LATENESS_KEPT);
  }

  retriesFired(n: number): void {
    this.counts.retriesFired += n;
    this.retriesCounter.inc(n);
  }

  duplicate(): void {
    this.counts.duplicates += 1;
    this.duplicatesCounter.inc();
  }

  /** p50, p99 and max lateness of the last 10,000 firings, in ms. */
  latenessSummary(): { p50: number; p99: number; max: number } {
    if (this.latenessCount === 0) return { p50: 0, p99: 0, max: 0 };
    const s = this.lateness.slice(0, this.latenessCount).sort();
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] };
  }
}
