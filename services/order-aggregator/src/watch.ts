// Changes of the aggregates for WatchAggregates: every replica's batch transactions notify the
// products they changed (store.CHANGES_CHANNEL), so a watcher on any replica sees them all. One
// LISTEN connection per process, opened while someone watches; each watcher gets at most one
// message per product per interval, the aggregate as it is when sent.
import { ChannelListener, type Logger, type Pool } from '@pipewright/platform';
import { CHANGES_CHANNEL, listAggregates, productAggregates, type AggregateRow } from './store';

export interface Watcher {
  /** Products watched; empty: all. */
  products: Set<string>;
  send(rows: AggregateRow[]): void;
  /** Ends the watch (the service is stopping). */
  end(): void;
}

/** Most products read per flush when a batch changed too many to name ("*"). */
const ALL_LIMIT = 1000;

export class ChangeFeed {
  private readonly watchers = new Set<Watcher>();
  private readonly listener: ChannelListener;
  private pending = new Set<string>();
  private everything = false;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.listener = new ChannelListener(pool, CHANGES_CHANNEL, (payload) => this.changed(payload), logger);
  }

  async add(w: Watcher): Promise<void> {
    this.watchers.add(w);
    await this.listen();
  }

  remove(w: Watcher): void {
    this.watchers.delete(w);
    if (this.watchers.size === 0) this.release();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) w.end();
    this.watchers.clear();
    this.release();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    await this.listener.start();
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  private changed(payload: string): void {
    const products = JSON.parse(payload) as string[] | '*';
    if (products === '*') this.everything = true;
    else for (const p of products) this.pending.add(p);
  }

  private async flush(): Promise<void> {
    if (!this.everything && this.pending.size === 0) return;
    const everything = this.everything;
    const products = [...this.pending];
    this.pending = new Set();
    this.everything = false;
    try {
      const rows = everything ? await this.allProducts() : await productAggregates(this.pool, products);
      for (const w of this.watchers) {
        const mine = w.products.size ? rows.filter((r) => w.products.has(r.product)) : rows;
        if (mine.length) w.send(mine);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not read changed aggregates; trying with the next change');
      for (const p of products) this.pending.add(p);
      this.everything ||= everything;
    }
  }

  private async allProducts(): Promise<AggregateRow[]> {
    const watched = new Set<string>();
    for (const w of this.watchers) for (const p of w.products) watched.add(p);
    const anyAll = [...this.watchers].some((w) => w.products.size === 0);
    if (!anyAll) return productAggregates(this.pool, [...watched]);
    return listAggregates(this.pool, 'product', ALL_LIMIT);
  }

  /** Stops listening while nobody watches. */
  private release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listener.stop();
  }
}
