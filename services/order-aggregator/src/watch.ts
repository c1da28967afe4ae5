// Changes of the aggregates for WatchAggregates: every replica's batch transactions notify the
// products they changed (store.CHANGES_CHANNEL), so a watcher on any replica sees them all. One
// LISTEN connection per process, opened while someone watches; each watcher gets at most one
// message per product per interval, the aggregate as it is when sent.
import type { Logger, Pool, PoolClient } from '@pipewright/platform';
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
  private client?: PoolClient;
  private connecting?: Promise<void>;
  private pending = new Set<string>();
  private everything = false;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

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

  private listen(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        const client = await this.pool.connect();
        client.on('notification', (n) => this.changed(n.payload ?? ''));
        client.on('error', (err) => {
          this.logger.warn({ err: err.message }, 'watch connection lost; listening again');
          this.drop();
          setTimeout(() => void this.listen().catch(() => undefined), 1000).unref();
        });
        await client.query(`LISTEN ${CHANGES_CHANNEL}`);
        this.client = client;
        this.timer = setInterval(() => void this.flush(), this.intervalMs);
        this.timer.unref();
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
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

  private release(): void {
    this.drop();
  }

  /** The listening connection is closed, not returned to the pool: it would keep listening. */
  private drop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    client?.release(true);
  }
}
