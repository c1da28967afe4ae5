// The consumer half of the adapter over kafkajs: a consumer-group member that commits offsets
// only after the work is done (at-least-once), sends what it cannot decode to a dead-letter
// topic, and drains before it stops.
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from './logger';
import { inSpan, restoreTraceContext, SpanKind } from './telemetry';
import { deadLetterHeaders, InvalidMessageError, type InboundMessage } from './dead-letter';
import type { MessageProducer } from './kafka';

export interface ConsumerSpec<T> {
  groupId: string;
  topics: string[];
  /** Where messages that cannot be decoded or validated go. */
  dlqTopic: string;
  /** Turns bytes into a value; throwing sends the message to the DLQ. */
  decode: (msg: InboundMessage) => T;
  /** Does the work. Resolving means the work is durable; the offset is committed after. An
   * InvalidMessageError sends the message to the DLQ; any other error is retried with backoff. */
  handle: (value: T, msg: InboundMessage) => Promise<void>;
  partitionsConsumedConcurrently?: number;
  /**
   * For work whose order does not matter: messages of one partition are handled at the same
   * time, up to this many in flight across the whole consumer, and each partition's offset is
   * committed up to its first unfinished message. Unset: one message at a time per partition,
   * in order.
   */
  maxInFlight?: number;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
}

export interface ConsumerHandle {
  readonly groupId: string;
  /** True while the consumer is a member of its group. */
  isHealthy(): boolean;
  /** Stops fetching, lets in-flight messages finish and commit, then leaves the group. */
  stop(): Promise<void>;
  stats: ConsumerStats;
}

export interface ConsumerStats {
  received: number;
  processed: number;
  failed: number;
  sentToDlq: number;
  retries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The messages of one partition in flight, in offset order: what may be committed. */
class PartitionProgress {
  private readonly pending: bigint[] = [];
  private readonly done = new Set<bigint>();
  commits: Promise<void> = Promise.resolve();

  started(offset: string): void {
    this.pending.push(BigInt(offset));
  }

  /** Marks an offset finished; returns the new commit point if the finished prefix grew. */
  finished(offset: string): string | undefined {
    this.done.add(BigInt(offset));
    let last: bigint | undefined;
    while (this.pending.length && this.done.has(this.pending[0])) {
      last = this.pending.shift() as bigint;
      this.done.delete(last);
    }
    return last === undefined ? undefined : last.toString();
  }
}

/** A counting semaphore: at most `size` holders at once, served in arrival order. */
class Slots {
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

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/**
 * Runs a consumer-group member. Offsets are committed after the handler's work is durable
 * (at-least-once). Messages that cannot be decoded go to the DLQ.
 */
export async function runConsumer<T>(kafka: Kafka, defaults: { sessionTimeoutMs?: number }, logger: Logger, spec: ConsumerSpec<T>, dlqProducer: MessageProducer): Promise<ConsumerHandle> {
  const log = logger.child({ component: 'consumer', groupId: spec.groupId });
  const consumer: Consumer = kafka.consumer({
    groupId: spec.groupId,
    sessionTimeout: spec.sessionTimeoutMs ?? defaults.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: 3000,
    // Bounds how long stop() waits for an idle fetch to return.
    maxWaitTimeInMs: 1000,
    allowAutoTopicCreation: false,
    retry: { retries: 12, restartOnFailure: async () => true },
  });
  let member = false;
  let stopping = false;
  const stats: ConsumerStats = { received: 0, processed: 0, failed: 0, sentToDlq: 0, retries: 0 };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member = true;
    log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
  });
  consumer.on(consumer.events.CRASH, (e) => {
    member = false;
    log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
  });
  consumer.on(consumer.events.DISCONNECT, () => {
    member = false;
  });

  // The original headers go along as they came (bytes, repeated values), plus the five.
  const toDlq = async (msg: InboundMessage, err: Error) => {
    await dlqProducer.send(spec.dlqTopic, [
      { key: msg.key, value: msg.value, headers: { ...msg.rawHeaders, ...deadLetterHeaders(msg, err, new Date()) } },
    ]);
    stats.sentToDlq += 1;
    log.warn({ topic: msg.topic, partition: msg.partition, offset: msg.offset, dlq: spec.dlqTopic, error: err.message }, 'message sent to dead-letter topic');
  };

  /** Decodes and handles one message, retrying failures; resolves once it is done with. */
  const processMessage = async (topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>) => {
    stats.received += 1;
    const msg: InboundMessage = {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: decodeHeaders(message.headers),
      rawHeaders: { ...(message.headers ?? {}) },
      timestamp: message.timestamp,
    };
    let delay = 200;
    for (;;) {
      try {
        let value: T;
        try {
          value = spec.decode(msg);
        } catch (err) {
          throw err instanceof InvalidMessageError ? err : new InvalidMessageError((err as Error).message);
        }
        // kafkajs heartbeats only between messages: keep the membership alive while a
        // long handler runs, or the group would hand its partitions to another member.
        const beat = setInterval(() => void heartbeat().catch(() => undefined), 3000);
        try {
          await spec.handle(value, msg);
        } finally {
          clearInterval(beat);
        }
        stats.processed += 1;
        return;
      } catch (err) {
        if (err instanceof InvalidMessageError) {
          stats.failed += 1;
          await toDlq(msg, err);
          return;
        }
        stats.retries += 1;
        log.warn({ err, topic, partition, offset: message.offset, retryInMs: delay }, 'handler failed; retrying');
        if (stopping) throw err; // leave the offset uncommitted; another member takes over
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        await heartbeat().catch(() => undefined);
      }
    }
  };
  // Offsets are committed by hand while the consumer runs: kafkajs ignores commits once its
  // stop() has begun, so stop() first drains the work in hand (see below).
  const commitAfter = (topic: string, partition: number, offset: string) =>
    consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);

  // Work in hand, so that stop() can let it finish and commit before leaving the group.
  let active = 0;
  let idle: Array<() => void> = [];
  const track = async (work: () => Promise<void>) => {
    active += 1;
    try {
      await work();
    } finally {
      active -= 1;
      if (active === 0) {
        for (const wake of idle) wake();
        idle = [];
      }
    }
  };
  const drained = () => (active === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r)));

  await consumer.connect();
  await consumer.subscribe({ topics: spec.topics, fromBeginning: spec.fromBeginning ?? true });
  if (spec.maxInFlight) {
    const slots = new Slots(spec.maxInFlight);
    const partitions = new Map<string, PartitionProgress>();
    // A new assignment starts over from the committed offsets.
    consumer.on(consumer.events.GROUP_JOIN, () => partitions.clear());
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? spec.maxInFlight,
      // Hands each message to a free slot and returns without waiting for it to finish, so
      // one slow message never stops the fetching of others. Each partition's offset is
      // committed up to its first unfinished message.
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const { topic, partition } = batch;
        const key = `${topic}\u0000${partition}`;
        let progress = partitions.get(key);
        if (!progress) partitions.set(key, (progress = new PartitionProgress()));
        const mine = progress;
        for (const message of batch.messages) {
          await slots.acquire();
          if (stopping || !isRunning() || isStale() || partitions.get(key) !== mine) {
            slots.release();
            return;
          }
          mine.started(message.offset);
          resolveOffset(message.offset);
          void track(async () => {
            try {
              // kafkajs' instrumentation starts a new trace for a batch (with links); each
              // message is processed in a span of the trace its producer's headers carry.
              await inSpan(
                `process ${topic}`,
                () => processMessage(topic, partition, message, heartbeat),
                restoreTraceContext(decodeHeaders(message.headers)),
                { 'messaging.system': 'kafka', 'messaging.operation.name': 'process', 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(partition), 'messaging.kafka.offset': message.offset },
                SpanKind.CONSUMER,
              );
              const upTo = mine.finished(message.offset);
              if (upTo !== undefined) {
                mine.commits = mine.commits.then(() =>
                  commitAfter(topic, partition, upTo).catch((err) => {
                    // Lost the partition (a rebalance): its new owner resumes from the last commit.
                    log.warn({ err: (err as Error).message, topic, partition, offset: upTo }, 'offset commit failed');
                  }),
                );
                await mine.commits;
              }
            } catch (err) {
              // Only a stopping consumer gives up on a message: it stays uncommitted.
              log.info({ topic, partition, offset: message.offset, err: (err as Error).message }, 'message left for redelivery');
            } finally {
              slots.release();
            }
          });
        }
      },
    });
  } else {
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? 1,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        // Once stopping, take no new message: it stays uncommitted for the next member.
        if (stopping) return;
        await track(async () => {
          await processMessage(topic, partition, message, heartbeat);
          await commitAfter(topic, partition, message.offset);
        });
      },
    });
  }
  const handle: ConsumerHandle = {
    groupId: spec.groupId,
    isHealthy: () => member,
    stats,
    stop: async () => {
      stopping = true;
      await drained();
      await consumer.stop();
      await consumer.disconnect();
      member = false;
    },
  };
  return handle;
}
