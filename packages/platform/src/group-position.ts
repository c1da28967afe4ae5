// How far a consumer group has read a topic, from the offsets it committed (Kafka admin, over
// one connection kept open): for a service that answers for messages by where they were
// published (the scheduler's GetJob answers NEW until its ingest group has read past one).
// One look-up of the topic's ends and the group's offsets serves every caller for a short
// while (250 ms), and concurrent callers share the one under way, so clients polling GetJob do
// not multiply the broker's ListOffsets and OffsetFetch requests.
import { invalidArgument } from './grpc-errors';
import { KeptAdmin, type KafkaClient } from './kafka';

/** A topic's ends (next offset to be written) and a group's committed offsets, by partition. */
export interface Positions {
  ends: Array<{ partition: number; high: string }>;
  committed: Array<{ partition: number; offset: string }>;
}

/** One look-up shared by its concurrent callers and reused for ttlMs after it answered; a failed one is not kept. */
export class SharedLookup<T> {
  private last?: { value: Promise<T>; answeredAt?: number };

  constructor(
    private readonly lookup: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value of a look-up under way or answered less than ttlMs ago; with fresh, of one started now. */
  get({ fresh = false }: { fresh?: boolean } = {}): Promise<T> {
    const last = this.last;
    if (!fresh && last && (last.answeredAt === undefined || this.now() - last.answeredAt < this.ttlMs)) return last.value;
    // Called now (an async function runs to its first await), a throw becoming a rejection.
    const entry: { value: Promise<T>; answeredAt?: number } = { value: (async () => this.lookup())() };
    this.last = entry;
    entry.value.then(
      () => (entry.answeredAt = this.now()),
      () => {
        if (this.last === entry) this.last = undefined;
      },
    );
    return entry.value;
  }
}

/**
 * readPast(partition, offset): whether the group has read past `offset` of `partition` (its
 * committed offset is beyond it), from look-ups shared for ttlMs. A partition or an offset the
 * kept look-up does not have is asked again (it may have been written since); still missing,
 * it is INVALID_ARGUMENT: no message was ever published there.
 */
export function positionReader(
  topic: string,
  lookup: () => Promise<Positions>,
  { ttlMs = 250, now = Date.now }: { ttlMs?: number; now?: () => number } = {},
): (partition: number, offset: number) => Promise<boolean> {
  const shared = new SharedLookup(lookup, ttlMs, now);
  const endOf = (p: Positions, partition: number) => p.ends.find((e) => e.partition === partition);
  const holds = (p: Positions, partition: number, offset: number) => {
    const end = endOf(p, partition);
    return end !== undefined && offset >= 0 && offset < Number(end.high);
  };
  return async (partition, offset) => {
    let p = await shared.get();
    if (!holds(p, partition, offset)) p = await shared.get({ fresh: true });
    const end = endOf(p, partition);
    if (!end) throw invalidArgument('partition', `${topic} has partitions 0 to ${p.ends.length - 1}`);
    if (offset < 0 || offset >= Number(end.high)) throw invalidArgument('offset', `partition ${partition} of ${topic} holds offsets up to ${Number(end.high) - 1}`);
    const next = Number(p.committed.find((c) => c.partition === partition)?.offset ?? -1);
    return next > offset;
  };
}

export class GroupPosition {
  private readonly admin: KeptAdmin;
  /** See positionReader. */
  readonly readPast: (partition: number, offset: number) => Promise<boolean>;

  constructor(
    client: KafkaClient,
    private readonly groupId: string,
    private readonly topic: string,
  ) {
    this.admin = new KeptAdmin(() => client.kafka.admin());
    this.readPast = positionReader(topic, () => this.lookUp());
  }

  private lookUp(): Promise<Positions> {
    return this.admin.run(async (admin) => {
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(this.topic), admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] })]);
      return { ends, committed: committed[0]?.partitions ?? [] };
    });
  }

  close(): Promise<void> {
    return this.admin.close();
  }
}
