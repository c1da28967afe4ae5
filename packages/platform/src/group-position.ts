// How far a consumer group has read a topic, from the offsets it committed (Kafka admin, over
// one connection kept open): for a service that answers for messages by where they were
// published (the scheduler's GetJob answers NEW until its ingest group has read past one).
import type { Admin } from 'kafkajs';
import { invalidArgument } from './grpc-errors';
import type { KafkaClient } from './kafka';

export class GroupPosition {
  private admin?: Promise<Admin>;

  constructor(
    private readonly client: KafkaClient,
    private readonly groupId: string,
    private readonly topic: string,
  ) {}

  private connect(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.client.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }

  /**
   * Whether the group has read past `offset` of `partition` (its committed offset is beyond it).
   * A partition the topic does not have, or an offset not written yet, is INVALID_ARGUMENT: no
   * request was ever published there.
   */
  async readPast(partition: number, offset: number): Promise<boolean> {
    let admin: Admin;
    let ends: Array<{ partition: number; high: string }>;
    let committed: Array<{ partition: number; offset: string }>;
    try {
      admin = await this.connect();
      const [e, c] = await Promise.all([admin.fetchTopicOffsets(this.topic), admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] })]);
      ends = e;
      committed = c[0]?.partitions ?? [];
    } catch (err) {
      const stale = this.admin;
      this.admin = undefined;
      void stale?.then((a) => a.disconnect()).catch(() => undefined);
      throw err;
    }
    const end = ends.find((p) => p.partition === partition);
    if (!end) throw invalidArgument('partition', `${this.topic} has partitions 0 to ${ends.length - 1}`);
    if (offset < 0 || offset >= Number(end.high)) throw invalidArgument('offset', `partition ${partition} of ${this.topic} holds offsets up to ${Number(end.high) - 1}`);
    const next = Number(committed.find((p) => p.partition === partition)?.offset ?? -1);
    return next > offset;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}
