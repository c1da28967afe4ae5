// Offsets of work done, committed together: the highest offset noted per partition since the
// last commit goes out in one request, at most every intervalMs and one request at a time, or
// at once on flush() (a rebalance beginning, a stop).

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export class OffsetCommits {
  private readonly noted = new Map<string, PartitionOffset>();
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  /** commit receives the next offset to read of each partition (the last done + 1); it must not throw. */
  constructor(
    private readonly commit: (offsets: PartitionOffset[]) => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** The work up to offset (inclusive) of the partition is done. */
  note(topic: string, partition: number, offset: string): void {
    const k = `${topic}\u0000${partition}`;
    const cur = this.noted.get(k);
    if (!cur || BigInt(offset) > BigInt(cur.offset)) this.noted.set(k, { topic, partition, offset });
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Commits what is noted now, after any commit under way; resolves once it is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.chain = this.chain.then(async () => {
      if (this.noted.size === 0) return;
      const offsets = [...this.noted.values()].map((c) => ({ ...c, offset: (BigInt(c.offset) + 1n).toString() }));
      this.noted.clear();
      await this.commit(offsets);
    });
    return this.chain;
  }

  /** Drops what is noted and not yet committed. */
  forget(): void {
    this.noted.clear();
  }
}
