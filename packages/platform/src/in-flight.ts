// Work in flight on a consumer: how far each partition may be committed, and the slots that bound
// how many messages are handled at once.

/** The messages of one partition in flight, in offset order: what may be committed. */
export class PartitionProgress {
  private readonly pending: bigint[] = [];
  private readonly done = new Set<bigint>();

  started(offset: string): void {
    this.pending.push(BigInt(offset));
  }

  /** Marks an offset finished; returns the new commit point if the finished prefix grew. */
  finished(offset: string): string | undefined {
    this.done.add(BigInt(offset));
    let last: bigint | undefined;
    while (this.pending.length && this.done.has(this.pending[0])) {
      // pending is not empty here.
      const next = this.pending.shift() as bigint;
      this.done.delete(next);
      last = next;
    }
    return last === undefined ? undefined : last.toString();
  }
}

/**
 * A counting semaphore: at most `size` holders at once, served in arrival order. Not p-limit:
 * the fetch loop must wait for a free slot before it takes the next message (that wait is the
 * back-pressure on fetching), and the slot is released by work the loop does not await, which
 * a limiter that wraps one function call does not express.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
