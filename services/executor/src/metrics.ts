import { prom } from '@pipewright/platform';

export class ExecutorMetrics {
  readonly counts = { started: 0, succeeded: 0, failed: 0, dead: 0, duplicates: 0, inFlight: 0 };
  readonly perTopic = new Map<string, number>();
  private readonly runs: prom.Counter<'outcome'>;
  private readonly inFlightGauge: prom.Gauge;
  private readonly publishedCounter: prom.Counter<'topic'>;

  constructor(registry: prom.Registry) {
    // Counted in plain numbers per run; prom-client reads them when /metrics is scraped.
    const counts = this.counts;
    this.runs = new prom.Counter({
      name: 'executor_runs_total',
      help: 'Run outcomes',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ outcome: 'started' }, counts.started);
        this.inc({ outcome: 'done' }, counts.succeeded);
        this.inc({ outcome: 'failed_attempt' }, counts.failed);
        this.inc({ outcome: 'dead' }, counts.dead);
        this.inc({ outcome: 'duplicate_skipped' }, counts.duplicates);
      },
    });
    this.inFlightGauge = new prom.Gauge({
      name: 'executor_runs_in_flight',
      help: 'Runs executing now',
      registers: [registry],
      collect() {
        this.set(counts.inFlight);
      },
    });
    this.publishedCounter = new prom.Counter({ name: 'executor_published_total', help: 'Messages published by handlers', labelNames: ['topic'], registers: [registry] });
  }

  started(): void {
    this.counts.started += 1;
    this.counts.inFlight += 1;
  }
  ended(): void {
    this.counts.inFlight -= 1;
  }
  succeeded(): void {
    this.counts.succeeded += 1;
  }
  failed(): void {
    this.counts.failed += 1;
  }
  dead(): void {
    this.counts.dead += 1;
  }
  duplicate(): void {
    this.counts.duplicates += 1;
  }
  published(topic: string, n: number): void {
    this.perTopic.set(topic, (this.perTopic.get(topic) ?? 0) + n);
    this.publishedCounter.inc({ topic }, n);
  }
}
