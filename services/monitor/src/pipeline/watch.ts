// Changes of the runs for WatchPipeline: every monitor replica's batch transactions notify the
// runs they changed (store.PIPELINE_CHANNEL), so a watcher on any replica sees them. One LISTEN
// connection per process while someone watches.
import { ChannelListener, type Logger, type Pool } from '@pipewright/platform';
import { PIPELINE_CHANNEL } from './store';

export class PipelineFeed {
  private readonly watchers = new Map<string, Set<() => void>>();
  /** What ends each open stream, for close(). */
  private readonly streams = new Set<() => void>();
  private readonly listener: ChannelListener;

  constructor(pool: Pool, logger: Logger) {
    this.listener = new ChannelListener(pool, PIPELINE_CHANNEL, (payload) => this.notified(payload), logger);
  }

  /** Calls changed whenever the run may have changed, until the returned function is called. */
  async watch(runId: string, changed: () => void, end: () => void): Promise<() => void> {
    const set = this.watchers.get(runId) ?? new Set();
    set.add(changed);
    this.watchers.set(runId, set);
    this.streams.add(end);
    const unwatch = () => {
      set.delete(changed);
      if (set.size === 0) this.watchers.delete(runId);
      this.streams.delete(end);
      if (this.watchers.size === 0) this.listener.stop();
    };
    await this.listener.start();
    return unwatch;
  }

  /** Ends every stream (the service is stopping). */
  close(): void {
    for (const end of [...this.streams]) end();
    this.listener.stop();
  }

  private notified(payload: string): void {
    const runs = JSON.parse(payload) as string[] | '*';
    const sets = runs === '*' ? [...this.watchers.values()] : runs.map((r) => this.watchers.get(r)).filter((s) => s !== undefined);
    for (const set of sets) for (const changed of set) changed();
  }
}
