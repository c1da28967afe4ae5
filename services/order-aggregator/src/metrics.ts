import { prom } from '@pipewright/platform';

/** The aggregator's Prometheus counters, per process (GetStats sums what every replica stored). */
export class OrderMetrics {
  private readonly processed: prom.Counter;
  private readonly duplicates: prom.Counter;
  private readonly late: prom.Counter;
  private readonly retries: prom.Counter;
  private readonly dlq: prom.Counter<'reason'>;

  constructor(registry: prom.Registry) {
    this.processed = new prom.Counter({ name: 'orders_processed_total', help: 'Orders counted into the aggregates', registers: [registry] });
    this.duplicates = new prom.Counter({ name: 'orders_duplicates_total', help: 'Orders not counted: their orderId was counted within ORDERS_DEDUPE_WINDOW', registers: [registry] });
    this.late = new prom.Counter({ name: 'orders_late_total', help: 'Order and window pairs not applied: the order came after the window end plus grace', registers: [registry] });
    this.retries = new prom.Counter({ name: 'orders_retried_total', help: 'Retries of orders whose processing failed', registers: [registry] });
    this.dlq = new prom.Counter({
      name: 'orders_sent_to_dlq_total',
      help: 'Orders sent to orders-dlq, by reason: invalid (not an Order), rule (broke a rule), failed (failed every retry)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  counted(processed: number, duplicates: number, late: number): void {
    this.processed.inc(processed);
    this.duplicates.inc(duplicates);
    this.late.inc(late);
  }

  retried(n: number): void {
    if (n) this.retries.inc(n);
  }

  deadLettered(reason: string): void {
    this.dlq.inc({ reason });
  }
}
