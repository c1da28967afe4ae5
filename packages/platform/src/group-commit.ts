// Group commit: callers hand in one item each and wait for its result; items that arrive while
// a flush is under way are flushed together in the next one. A lone item goes out at once (no
// linger), and under load the batches grow by themselves to what arrives during one flush.

export interface GroupCommitOptions<In> {
  /** Most items in one flush. */
  maxItems?: number;
  /** Most total weight (for example bytes) in one flush; a single heavier item still goes alone. */
  maxWeight?: number;
  weight?: (item: In) => number;
  /** Flushes under way at once; 1 keeps the items of successive flushes in arrival order. */
  concurrency?: number;
}

interface Waiting<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<In, Out> {
  private readonly queue: Array<Waiting<In, Out>> = [];
  private running = 0;
  private readonly maxItems: number;
  private readonly maxWeight: number;
  private readonly concurrency: number;
  private readonly weight?: (item: In) => number;

  /** flush receives the items in arrival order and resolves with one result per item, in order. */
  constructor(
    private readonly flush: (items: In[]) => Promise<Out[]>,
    o: GroupCommitOptions<In> = {},
  ) {
    this.maxItems = o.maxItems ?? 1000;
    this.maxWeight = o.maxWeight ?? Infinity;
    this.concurrency = o.concurrency ?? 1;
    this.weight = o.weight;
  }

  /** Queues one item; resolves with its result once the flush that carried it is done. */
  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Queues several items to go in the same flush where the limits allow, in order. */
  addAll(items: In[]): Promise<Out[]> {
    const all = items.map((item) => new Promise<Out>((resolve, reject) => this.queue.push({ item, resolve, reject })));
    this.pump();
    return Promise.all(all);
  }

  private take(): Array<Waiting<In, Out>> {
    let n = 0;
    let weight = 0;
    while (n < this.queue.length && n < this.maxItems) {
      const w = this.weight ? this.weight(this.queue[n].item) : 0;
      if (n > 0 && weight + w > this.maxWeight) break;
      weight += w;
      n += 1;
    }
    return this.queue.splice(0, n);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const batch = this.take();
      this.running += 1;
      void this.run(batch);
    }
  }

  private async run(batch: Array<Waiting<In, Out>>): Promise<void> {
    try {
      const out = await this.flush(batch.map((w) => w.item));
      if (out.length !== batch.length) throw new Error(`group commit: flush returned ${out.length} results for ${batch.length} items`);
      batch.forEach((w, i) => w.resolve(out[i]));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.running -= 1;
      this.pump();
    }
  }
}
