import { prom } from '@pipewright/platform';

export class ExecutorMetrics {
  readonly counts = { started: 0, succeeded: 0, failed: 0, dead: 0, duplicates: 0, inFlight: 0 };
  readonly perTopic = new Map<string, number>();
  private readonly runs: prom.Counter<'outcome'>;
  private readonly inFlightGauge: prom.Gauge;
  private readonly publishedCounter: prom.Counter<'topic'>;

  constructor(registry: prom.Registry) {
    this.runs = new prom.Counter({ name: 'executor_runs_total', help: 'Run outcomes', labelNames: ['outcome'], registers: [registry] });
    this.inFlightGauge = new prom.Gauge({ name: 'executor_runs_in_flight', help: 'Runs executing now', registers: [registry] });
    this.publishedCounter = new prom.Counter({ name: 'executor_published_total', help: 'Messages published by handlers', labelNames: ['topic'], registers: [registry] });
  }

  started(): void {
    this.counts.started += 1;
    this.counts.inFlight += 1;
    this.inFlightGauge.inc();
    this.runs.inc({ outcome: 'started' });
  }
  ended(): void {
    this.counts.inFlight -= 1;
    this.inFlightGauge.dec();
  }
  succeeded(): void {
    this.counts.succeeded += 1;
    this.runs.inc({ outcome: 'done' });
  }
  failed(): void {
    this.counts.failed += 1;
    this.runs.inc({ outcome: 'failed_attempt' });
  }
  dead(): void {
    this.counts.dead += 1;
    this.runs.inc({ outcome: 'dead' });
  }
  duplicate(): void {
    this.counts.duplicates += 1;
    this.runs.inc({ outcome: 'duplicate_skipped' });
  }
  published(topic: string, n: number): void {
    this.perTopic.set(topic, (this.perTopic.get(topic) ?? 0) + n);
    this.publishedCounter.inc({ topic }, n);
  }
}
