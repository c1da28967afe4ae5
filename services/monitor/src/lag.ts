// Consumer lag: the log-end offsets of the topics, read every MONITOR_LAG_INTERVAL (kept in
// memory and in PostgreSQL), and the evaluation of every group's commit windows (kept by
// consumer.ts from __consumer_offsets) with Burrow's rules, cached for a moment so that a
// scrape, a watch and a call arriving together evaluate once.
import { TOPICS } from '@pipewright/contracts';
import type { KafkaClient, Logger, Pool } from '@pipewright/platform';
import { groupStatus, lagSeconds, partitionStatus, type Commit, type EndPoint, type GroupStatus, type PartitionStatus } from './burrow';
import { CONSUMER_OFFSETS_TOPIC } from './offsets';
import { allWindows, recentEnds, recordEnds, type EndRow } from './store';
import type { Config } from './config';

type Admin = ReturnType<KafkaClient['kafka']['admin']>;

/** Log-end readings kept per partition, in polls: lag in seconds is interpolated over them. */
const END_READINGS = 120;

export interface PartitionLagView {
  topic: string;
  partition: number;
  committed: number;
  end: number;
  lag: number;
  lagSeconds: number;
  status: PartitionStatus;
  lastCommit: number;
  /** The window, oldest first. */
  commits: Commit[];
}

export interface GroupLagView {
  group: string;
  status: GroupStatus;
  total: number;
  maxLag: number;
  maxLagSeconds: number;
  /** Share of the partitions whose window is full. */
  complete: number;
  topics: string[];
  partitions: PartitionLagView[];
}

export interface TopicEnds {
  topic: string;
  partitions: number;
  start: number;
  end: number;
  /** Messages per second over the last minute of readings (or as long as there are). */
  rate: number;
}

export interface LagSnapshot {
  at: number;
  groups: GroupLagView[];
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class LagTracker {
  /** Log-end readings per partition, oldest first. */
  private readonly readings = new Map<string, Array<EndPoint & { start: number }>>();
  /** Topics the groups' windows name: their ends are read too. */
  private windowTopics = new Set<string>();
  private admin?: Promise<Admin>;
  private cached?: { at: number; snapshot: Promise<LagSnapshot> };

  constructor(
    private readonly pool: Pool,
    private readonly kafka: KafkaClient,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  private get keepMs(): number {
    return this.config.MONITOR_LAG_INTERVAL * END_READINGS;
  }

  /** The readings kept in PostgreSQL before a restart. */
  async load(): Promise<void> {
    for (const r of await recentEnds(this.pool, this.keepMs)) this.remember(r);
  }

  private remember(r: EndRow): void {
    const key = keyOf(r.topic, r.partition);
    let list = this.readings.get(key);
    if (!list) this.readings.set(key, (list = []));
    list.push({ time: r.timeMs, end: r.end, start: r.start });
    if (list.length > END_READINGS) list.splice(0, list.length - END_READINGS);
  }

  /**
   * The log-end offset of a partition as last read at or before `time` (the first reading kept
   * when all are later): what a commit made at that time is measured against, however late the
   * commit itself is read.
   */
  endAt(topic: string, partition: number, time: number): number | undefined {
    const list = this.readings.get(keyOf(topic, partition));
    if (!list?.length) return undefined;
    let found = list[0];
    for (const p of list) {
      if (p.time > time) break;
      found = p;
    }
    return found.end;
  }

  /** Runs fn with the admin connection, made anew after a failure. */
  async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    this.admin ??= (async () => {
      const admin = this.kafka.kafka.admin({ retry: { retries: 2 } });
      await admin.connect();
      return admin;
    })();
    const current = this.admin;
    try {
      return await fn(await current);
    } catch (err) {
      if (this.admin === current) this.admin = undefined;
      void current.then((a) => a.disconnect()).catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  /** Whether the log-end offsets of a topic are read. */
  reads(topic: string): boolean {
    return this.windowTopics.has(topic) || (Object.values(TOPICS) as string[]).includes(topic);
  }

  /** Reads the log-end offsets of pipewright's topics and of every topic a group commits on. */
  poll(): Promise<void> {
    return this.read([...new Set([...Object.values(TOPICS), ...this.windowTopics])]);
  }

  /** Reads the log-end offsets of topics not read so far (a group's first commit on one), and reads them from now on. */
  async readTopics(topics: string[]): Promise<void> {
    const fresh = topics.filter((t) => !this.reads(t));
    if (fresh.length === 0) return;
    for (const t of fresh) this.windowTopics.add(t);
    await this.read(fresh);
  }

  private async read(wanted: string[]): Promise<void> {
    const at = Date.now();
    const rows = await this.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const topics = wanted.filter((t) => existing.has(t));
      // A topic that cannot answer now (a leader moving, a topic just made) is read next time.
      const offsets = await Promise.allSettled(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })));
      const failed = topics.filter((_, i) => offsets[i].status === 'rejected');
      if (failed.length) this.logger.debug({ topics: failed }, 'log-end offsets not read this time');
      return offsets.flatMap((o) =>
        o.status === 'fulfilled' ? o.value.partitions.map((p) => ({ topic: o.value.topic, partition: p.partition, timeMs: at, start: Number(p.low), end: Number(p.high) })) : [],
      );
    });
    for (const r of rows) this.remember(r);
    await recordEnds(this.pool, rows, this.config.MONITOR_LAG_INTERVAL / 2);
  }

  /** How long log-end readings are kept in PostgreSQL. */
  get retentionMs(): number {
    return this.keepMs;
  }

  /** The latest log-start and log-end offsets of every partition read. */
  partitionEnds(): Array<{ topic: string; partition: number; start: number; end: number }> {
    const out = [];
    for (const [key, list] of this.readings) {
      const latest = list[list.length - 1];
      const cut = key.indexOf('\u0000');
      if (latest) out.push({ topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), start: latest.start, end: latest.end });
    }
    return out;
  }

  /** Per topic read: partitions, summed start and end offsets, and messages per second. */
  topicEnds(now = Date.now()): TopicEnds[] {
    const byTopic = new Map<string, TopicEnds>();
    for (const [key, list] of this.readings) {
      const topic = key.slice(0, key.indexOf('\u0000'));
      const latest = list[list.length - 1];
      if (!latest) continue;
      const t = byTopic.get(topic) ?? { topic, partitions: 0, start: 0, end: 0, rate: 0 };
      t.partitions += 1;
      t.start += latest.start;
      t.end += latest.end;
      const first = list.find((p) => p.time >= now - 60_000) ?? latest;
      if (latest.time > first.time) t.rate += ((latest.end - first.end) * 1000) / (latest.time - first.time);
      byTopic.set(topic, t);
    }
    return [...byTopic.values()].sort((a, b) => a.topic.localeCompare(b.topic));
  }

  /** Every group's lag and status, evaluated at most once a second (or once per interval if shorter). */
  snapshot(): Promise<LagSnapshot> {
    const now = Date.now();
    const maxAge = Math.min(1000, this.config.MONITOR_LAG_INTERVAL);
    if (this.cached && now - this.cached.at < maxAge) return this.cached.snapshot;
    const snapshot = this.evaluate(now);
    this.cached = { at: now, snapshot };
    snapshot.catch(() => {
      if (this.cached?.snapshot === snapshot) this.cached = undefined;
    });
    return snapshot;
  }

  private async evaluate(now: number): Promise<LagSnapshot> {
    const rows = await allWindows(this.pool);
    const window = this.config.MONITOR_LAG_WINDOW;
    const groups = new Map<string, PartitionLagView[]>();
    const topics = new Set<string>();
    for (let i = 0; i < rows.length;) {
      const first = rows[i];
      const commits: Commit[] = [];
      for (; i < rows.length && rows[i].group === first.group && rows[i].topic === first.topic && rows[i].partition === first.partition; i++) {
        commits.push({ offset: Number(rows[i].committed), time: rows[i].timeMs, lag: rows[i].lag });
      }
      topics.add(first.topic);
      const last = commits[commits.length - 1];
      const points = this.readings.get(keyOf(first.topic, first.partition)) ?? [];
      const end = points[points.length - 1]?.end ?? last.offset + (last.lag ?? 0);
      const lag = Math.max(0, end - last.offset);
      const view: PartitionLagView = {
        topic: first.topic,
        partition: first.partition,
        committed: last.offset,
        end,
        lag,
        lagSeconds: lag > this.config.MONITOR_LAG_ALLOWED ? lagSeconds(points, last.offset, now) : 0,
        status: partitionStatus(
          commits,
          points.slice(-window).map((p) => p.end),
          lag,
          now,
          this.config.MONITOR_LAG_ALLOWED,
        ),
        lastCommit: last.time,
        commits,
      };
      const list = groups.get(first.group);
      if (list) list.push(view);
      else groups.set(first.group, [view]);
    }
    for (const t of topics) this.windowTopics.add(t);
    return {
      at: now,
      groups: [...groups].map(([group, partitions]) => ({
        group,
        status: groupStatus(partitions.map((p) => p.status)),
        total: partitions.reduce((n, p) => n + p.lag, 0),
        maxLag: Math.max(...partitions.map((p) => p.lag)),
        maxLagSeconds: Math.max(...partitions.map((p) => p.lagSeconds)),
        complete: partitions.filter((p) => p.commits.length >= window).length / partitions.length,
        topics: [...new Set(partitions.map((p) => p.topic))].sort(),
        partitions,
      })),
    };
  }

  /**
   * Waits until __consumer_offsets exists: the broker makes it when a group coordinator is first
   * looked for, which describing a group does.
   */
  async awaitOffsetsTopic(groupId: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.withAdmin(async (admin) => {
          await admin.describeGroups([groupId]);
          await admin.fetchTopicMetadata({ topics: [CONSUMER_OFFSETS_TOPIC] });
        });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** What the group coordinator says of these groups: state and number of members. */
  async describe(groups: string[]): Promise<Map<string, { state: string; members: number }>> {
    if (groups.length === 0) return new Map();
    try {
      const { groups: described } = await this.withAdmin((admin) => admin.describeGroups(groups));
      return new Map(described.map((g) => [g.groupId, { state: g.state, members: g.members.length }]));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not describe the consumer groups');
      return new Map();
    }
  }
}
