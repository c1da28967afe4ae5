// LISTEN on one PostgreSQL channel over a connection of its own, for the watch streams: opened
// on first use, opened again a second after it is lost, closed (not returned to the pool: it
// would keep listening) when stopped.
import type { Logger } from './logger';
import type { Pool, PoolClient } from './postgres';

export class ChannelListener {
  private client?: PoolClient;
  private connecting?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly onPayload: (payload: string) => void,
    private readonly logger: Logger,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
  }

  /** Listens from now on; resolves once the LISTEN is in place (at once when it already is). */
  start(): Promise<void> {
    this.stopped = false;
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        const client = await this.pool.connect();
        client.on('notification', (n) => {
          if (n.channel === this.channel) this.onPayload(n.payload ?? '');
        });
        client.on('error', (err) => {
          this.logger.warn({ err: err.message, channel: this.channel }, 'listening connection lost; listening again');
          this.drop();
          setTimeout(() => void (this.stopped ? undefined : this.start().catch(() => undefined)), 1000).unref();
        });
        await client.query(`LISTEN ${this.channel}`);
        if (this.stopped) client.release(true);
        else this.client = client;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  stop(): void {
    this.stopped = true;
    this.drop();
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    client?.release(true);
  }
}
