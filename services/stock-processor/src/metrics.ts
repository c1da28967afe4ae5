import { prom } from '@pipewright/platform';

/** What this replica did (GetStats adds what PostgreSQL holds for every replica). */
export class ProcessorMetrics {
  received = 0;
  duplicates = 0;
  private readonly counter: prom.Counter<'outcome'>;

  constructor(registry: prom.Registry) {
    this.counter = new prom.Counter({
      name: 'stock_processing_tasks_total',
      help: 'Processing tasks handled, by outcome: stored, duplicate ((run id, symbol) stored already), failed (processing-errors)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  batch(tasks: number, duplicates: number, failed: number): void {
    this.received += tasks;
    this.duplicates += duplicates;
    this.counter.inc({ outcome: 'stored' }, tasks - duplicates - failed);
    if (duplicates) this.counter.inc({ outcome: 'duplicate' }, duplicates);
    if (failed) this.counter.inc({ outcome: 'failed' }, failed);
  }
}
