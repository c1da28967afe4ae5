// The consumer half of the adapter over kafkajs: a consumer-group member that commits offsets
// only after the work is done (at-least-once), sends what it cannot decode to a dead-letter
// topic, and drains before it stops.
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Context } from '@opentelemetry/api';
import type { Logger } from './logger';
import { inSpan, linksTo, messageSpans, restoreTraceContext, SpanKind, tracingEnabled } from './telemetry';
import { deadLetterHeaders, InvalidMessageError, oversizeHeaders, type InboundMessage } from './dead-letter';
import type { MessageProducer } from './kafka';
import { GroupCommit } from './group-commit';
import { OffsetCommits } from './offset-commits';

interface CommonSpec<T> {
  groupId: string;
  topics: string[];
  /** Where messages that cannot be decoded or validated go. */
  dlqTopic: string;
  /** Turns bytes into a value; throwing sends the message to the DLQ. */
  decode: (msg: InboundMessage) => T;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /** Restarts in a row after crashes kafkajs will not restart before the consumer gives up (default 5). */
  maxRestarts?: number;
  /**
   * Offsets of work done are committed together at most this often (default
   * COMMIT_INTERVAL_MS): one request for every partition, instead of one per batch. The work is
   * durable before its offset is noted, so a crash in between only redelivers what is already
   * done, which the handlers find done.
   */
  commitIntervalMs?: number;
  /**
   * Called with the messages just sent to the DLQ, before their offsets are noted for commit
   * (retried alone while it fails; the messages are sent once): for a service that records what
   * it refused.
   */
  onDeadLetters?: (entries: DeadLetter[]) => Promise<void>;
}

const COMMIT_INTERVAL_MS = 100;
const HEARTBEAT_MS = 3000;
const DEFAULT_MAX_BATCH = 1000;
// What a fetch brings at most (a larger single message still comes whole): enough for full
// batches, without holding tens of megabytes of messages decoded at once.
const FETCH_MAX_BYTES = 2 * 1024 * 1024;
const FETCH_MAX_BYTES_PER_PARTITION = 512 * 1024;

/** One message at a time: for work that cannot be batched. */
export interface MessageConsumerSpec<T> extends CommonSpec<T> {
  /** Does the work. Resolving means the work is durable; the offset is committed after. An
   * InvalidMessageError sends the message to the DLQ; any other error is retried with backoff. */
  handle: (value: T, msg: InboundMessage) => Promise<void>;
  handleBatch?: never;
  onAssignment?: never;
  /**
   * For work whose order does not matter: messages of one partition are handled at the same
   * time, up to this many in flight across the whole consumer, and each partition's offset is
   * committed up to its first unfinished message. Unset: one message at a time per partition,
   * in order.
   */
  maxInFlight?: number;
}

export interface BatchItem<T> {
  value: T;
  msg: InboundMessage;
  /** With tracing on: the context of this message's span, in its producer's trace (see inTraceContext). */
  trace?: Context;
}

/** A message given up on; attempts, when set, is how many times its work was tried. */
export interface DeadLetter {
  msg: InboundMessage;
  error: Error;
  attempts?: number;
}

/** What a batch handler may say of single messages: these go to the DLQ, the rest is done. */
export interface BatchOutcome {
  rejected?: DeadLetter[];
}

export interface BatchContext {
  heartbeat(): Promise<void>;
}

/**
 * A fetched batch at a time, per partition and in offset order: the handler makes the whole
 * batch durable (one transaction, a few multi-row statements) and the offset is committed once.
 * Messages that fail to decode, or that the handler rejects, go to the DLQ and the rest of the
 * batch commits. Any error thrown retries the batch (without the dead-lettered messages).
 */
export interface BatchConsumerSpec<T> extends CommonSpec<T> {
  handle?: never;
  /**
   * For consumers that keep their offsets with their own state (in the same transaction): called
   * with the partitions the group assigned this member, it returns where to resume in each (the
   * next offset to read); those it leaves out resume from the group's committed offset. No batch
   * is handled before it has answered; a failure is retried with backoff.
   */
  onAssignment?: (partitions: Array<{ topic: string; partition: number }>) => Promise<Array<{ topic: string; partition: number; offset: string }>>;
  handleBatch: (items: Array<BatchItem<T>>, ctx: BatchContext) => Promise<BatchOutcome | void>;
  /** Most messages handed to one handleBatch call (a fetched batch is split). Default 1000. */
  maxBatchSize?: number;
  /**
   * False for a consumer whose offsets live only in its own store (onAssignment resumes from
   * it): nothing is committed to Kafka. For a reader of __consumer_offsets, whose own commits
   * would be records for it to read, and commit, again.
   */
  commitToKafka?: boolean;
  /** Linger: the broker holds a fetch until minBytes are there or maxWaitMs has passed. */
  linger?: { maxWaitMs: number; minBytes: number };
  /**
   * For work that does not depend on the order across partitions: the batches of partitions
   * handled at the same time (partitionsConsumedConcurrently) go to one handleBatch call, each
   * partition's messages in offset order; batches that arrive while a call runs go together in
   * the next one, up to maxBatchSize messages a call. A failure retries every batch of the call.
   */
  combinePartitions?: boolean;
}

export type ConsumerSpec<T> = MessageConsumerSpec<T> | BatchConsumerSpec<T>;

export interface ConsumerHandle {
  readonly groupId: string;
  /** True while the consumer is a member of its group. */
  isHealthy(): boolean;
  /** False once the consumer crashed and could not be restarted: the process should be. */
  isLive(): boolean;
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
  /** Times the consumer was made anew after a crash kafkajs would not restart. */
  restarts: number;
  /** Offset commit requests sent (each for every partition with work done since the last). */
  commits: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The messages of one partition in flight, in offset order: what may be committed. */
class PartitionProgress {
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

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/** The message as handlers see it. */
function inbound(topic: string, partition: number, message: KafkaMessage): InboundMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: decodeHeaders(message.headers),
    rawHeaders: { ...(message.headers ?? {}) },
    timestamp: message.timestamp,
  };
}

const asInvalid = (err: unknown) => (err instanceof InvalidMessageError ? err : new InvalidMessageError(err instanceof Error ? err.message : String(err)));

/** Kafka refused a record for its size: no retry can make it fit. */
const tooLarge = (err: unknown) => {
  const e = err as { type?: string; name?: string; cause?: { type?: string } } | undefined;
  return [e?.type, e?.cause?.type].some((t) => t === 'MESSAGE_TOO_LARGE' || t === 'RECORD_LIST_TOO_LARGE');
};

/**
 * Runs a consumer-group member. Offsets are committed after the handler's work is durable
 * (at-least-once). Messages that cannot be decoded go to the DLQ.
 */
export async function runConsumer<T>(kafka: Kafka, defaults: { sessionTimeoutMs?: number }, logger: Logger, spec: ConsumerSpec<T>, dlqProducer: MessageProducer): Promise<ConsumerHandle> {
  const log = logger.child({ component: 'consumer', groupId: spec.groupId });
  const linger = spec.handleBatch ? spec.linger : undefined;
  const makeConsumer = (): Consumer =>
    kafka.consumer({
      groupId: spec.groupId,
      sessionTimeout: spec.sessionTimeoutMs ?? defaults.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: HEARTBEAT_MS,
      // Bounds how long stop() waits for an idle fetch to return.
      maxWaitTimeInMs: linger ? Math.min(linger.maxWaitMs, 1000) : 1000,
      minBytes: linger?.minBytes ?? 1,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
      allowAutoTopicCreation: false,
      retry: { retries: 12, restartOnFailure: async () => true },
    });
  let consumer = makeConsumer();
  let member = false;
  let stopping = false;
  let live = true;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const maxRestarts = spec.maxRestarts ?? 5;
  const stats: ConsumerStats = { received: 0, processed: 0, failed: 0, sentToDlq: 0, retries: 0, restarts: 0, commits: 0 };

  // The original headers go along as they came (bytes, repeated values), plus the five (and attempts); all
  // the dead letters of a batch in one produce request, gzipped: the broker checks the
  // compressed size, so a record it took compressed fits the dead-letter topic the same way.
  const sendDeadLetters = async (entries: DeadLetter[]) => {
    const at = new Date();
    const record = (e: DeadLetter) => ({
      key: e.msg.key,
      value: e.msg.value,
      headers: { ...e.msg.rawHeaders, ...deadLetterHeaders(e.msg, e.error, at, e.attempts) },
    });
    try {
      await dlqProducer.send(spec.dlqTopic, entries.map(record), { compress: true });
    } catch (err) {
      if (!tooLarge(err)) throw err;
      // The dead-letter topic cannot take the bytes: each record goes on its own, and one that
      // still does not fit is recorded without its value, its size and digest in the headers.
      for (const e of entries) {
        try {
          await dlqProducer.send(spec.dlqTopic, [record(e)], { compress: true });
        } catch (one) {
          if (!tooLarge(one)) throw one;
          const r = record(e);
          await dlqProducer.send(spec.dlqTopic, [{ key: r.key, value: null, headers: { ...r.headers, ...oversizeHeaders(e.msg.value) } }]);
        }
      }
    }
  };
  /** Runs fn until it succeeds, waiting longer each time; a stopping consumer gives up. */
  const retrying = async (fn: () => Promise<void>, warn: (err: unknown, retryInMs: number) => void) => {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await fn();
      } catch (err) {
        stats.retries += 1;
        warn(err, delay);
        if (stopping) throw err;
        await sleep(delay);
      }
    }
  };
  /** Dead-letters entries, retrying (with backoff) while Kafka refuses: a failing DLQ never stops the consumer. */
  const toDlq = async (entries: DeadLetter[]) => {
    if (entries.length === 0) return;
    // Sent once, then recorded: a record that fails is tried again alone, never the send.
    await retrying(
      () => sendDeadLetters(entries),
      (err, delay) => log.warn({ err, dlq: spec.dlqTopic, messages: entries.length, retryInMs: delay }, 'dead-letter topic refused the messages; retrying'),
    );
    const record = spec.onDeadLetters;
    if (record) {
      await retrying(
        () => record(entries),
        (err, delay) => log.warn({ err, messages: entries.length, retryInMs: delay }, 'dead letters sent but not recorded; retrying the record'),
      );
    }
    stats.failed += entries.length;
    stats.sentToDlq += entries.length;
    for (const { msg, error } of entries) {
      log.warn({ topic: msg.topic, partition: msg.partition, offset: msg.offset, dlq: spec.dlqTopic, error: error.message }, 'message sent to dead-letter topic');
    }
  };

  /** Decodes and handles one message, retrying failures; resolves once it is done with. */
  const processMessage = async (handle: (value: T, msg: InboundMessage) => Promise<void>, msg: InboundMessage, heartbeat: () => Promise<void>) => {
    stats.received += 1;
    let delay = 200;
    for (;;) {
      try {
        let value: T;
        try {
          value = spec.decode(msg);
        } catch (err) {
          throw asInvalid(err);
        }
        await handle(value, msg);
        stats.processed += 1;
        restarts = 0;
        return;
      } catch (err) {
        if (err instanceof InvalidMessageError) {
          await toDlq([{ msg, error: err }]);
          return;
        }
        stats.retries += 1;
        log.warn({ err, topic: msg.topic, partition: msg.partition, offset: msg.offset, retryInMs: delay }, 'handler failed; retrying');
        if (stopping) throw err; // leave the offset uncommitted; another member takes over
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        await heartbeat().catch(() => undefined);
      }
    }
  };

  // Batches of several partitions in one handler call (combinePartitions); each learns which of
  // its own messages were rejected.
  const combined =
    spec.handleBatch && spec.combinePartitions
      ? new GroupCommit<{ items: Array<BatchItem<T>>; heartbeat: () => Promise<void> }, BatchOutcome>(
          async (batches) => {
            const all = batches.flatMap((b) => b.items);
            const heartbeat = () => Promise.all(batches.map((b) => b.heartbeat())).then(() => undefined);
            const outcome = await spec.handleBatch(all, { heartbeat });
            const rejected = outcome?.rejected ?? [];
            const own = batches.map((b) => ({ rejected: rejected.filter((r) => b.items.some((i) => i.msg === r?.msg)) }));
            // A rejection of none of them stays a rejection, for the check below to refuse.
            own[0].rejected.push(...rejected.filter((r) => !batches.some((b) => b.items.some((i) => i.msg === r?.msg))));
            return own;
          },
          { maxWeight: spec.maxBatchSize ?? DEFAULT_MAX_BATCH, weight: (b) => b.items.length },
        )
      : undefined;

  /** Decodes a batch, hands what decoded to the handler (retrying failures), dead-letters the rest. */
  const processBatch = async (s: BatchConsumerSpec<T>, msgs: InboundMessage[], heartbeat: () => Promise<void>) => {
    stats.received += msgs.length;
    const items: Array<BatchItem<T>> = [];
    const undecoded: DeadLetter[] = [];
    for (const msg of msgs) {
      try {
        items.push({ value: s.decode(msg), msg });
      } catch (err) {
        undecoded.push({ msg, error: asInvalid(err) });
      }
    }
    // What cannot be decoded is in the DLQ before the rest is handled: a handler that stores its
    // offsets itself covers these with its next commit.
    await toDlq(undecoded);
    // With tracing on, each message also has a span in its own producer's trace, so that the
    // work done for it (and the messages it causes) stays in that trace.
    const spans = tracingEnabled()
      ? messageSpans(
          `process ${msgs[0].topic}`,
          items.map((i) => i.msg),
        )
      : undefined;
    if (spans) items.forEach((item, i) => (item.trace = spans.contexts[i]));
    let delay = 200;
    let outcome: BatchOutcome | void = undefined;
    for (;;) {
      try {
        outcome = items.length ? await (combined ? combined.add({ items, heartbeat }) : s.handleBatch(items, { heartbeat })) : undefined;
        const rejected = outcome?.rejected ?? [];
        stats.processed += items.length - rejected.length;
        spans?.end(rejected.map((r) => items.findIndex((i) => i.msg === r.msg)));
        break;
      } catch (err) {
        stats.retries += 1;
        log.warn({ err, topic: msgs[0].topic, partition: msgs[0].partition, from: msgs[0].offset, messages: msgs.length, retryInMs: delay }, 'batch handler failed; retrying');
        if (stopping) {
          spans?.end([], err as Error);
          throw err;
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        await heartbeat().catch(() => undefined);
      }
    }
    // A rejection of a message that is not in the batch is a bug in the handler: not retried
    // (it would fail the same way), the consumer crashes and is restarted, then gives up.
    for (const r of outcome?.rejected ?? []) {
      if (!r || !msgs.includes(r.msg)) throw new TypeError(`the batch handler of ${spec.groupId} rejected a message that is not in its batch`);
    }
    restarts = 0;
    await toDlq([...(outcome?.rejected ?? [])].sort((a, b) => Number(BigInt(a.msg.offset) - BigInt(b.msg.offset))));
  };

  // Offsets are committed by hand while the consumer runs: kafkajs ignores commits once its
  // stop() has begun, so stop() first drains the work in hand and commits what it noted (see
  // below). Work done notes its offset; the highest offset per partition noted since the last
  // commit goes out in one request, at most every commitIntervalMs, one request at a time.
  const commits = new OffsetCommits(async (offsets) => {
    stats.commits += 1;
    await consumer.commitOffsets(offsets).catch((err) => {
      // Lost the partitions (a rebalance): their new owners resume from the last commit.
      log.warn({ err: (err as Error).message, offsets }, 'offset commit failed');
    });
  }, spec.commitIntervalMs ?? COMMIT_INTERVAL_MS);
  const commitAfter = (topic: string, partition: number, offset: string) => commits.note(topic, partition, offset);

  // Work in hand, so that stop() can let it finish and commit before leaving the group. kafkajs
  // heartbeats only between batches: while work is in hand one timer keeps the membership alive
  // (any batch's heartbeat speaks for the member), or a long handler would lose the partitions.
  let active = 0;
  let idle: Array<() => void> = [];
  let beat: (() => Promise<void>) | undefined;
  let beating: NodeJS.Timeout | undefined;
  const track = async (work: () => Promise<void>, heartbeat: () => Promise<void>) => {
    active += 1;
    beat = heartbeat;
    beating ??= setInterval(() => void beat?.().catch(() => undefined), HEARTBEAT_MS);
    try {
      await work();
    } finally {
      active -= 1;
      if (active === 0) {
        clearInterval(beating);
        beating = undefined;
        for (const wake of idle) wake();
        idle = [];
      }
    }
  };
  const drained = () => (active === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r)));

  /** Runs work in a consumer span: of the message's own trace, or of a batch linked to each message's trace. */
  const traced = (topic: string, partition: number, msgs: InboundMessage[], work: () => Promise<void>, ownTrace: boolean) => {
    if (!tracingEnabled()) return work();
    const attributes: Record<string, string | number> = {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'process',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': String(partition),
    };
    if (ownTrace) {
      return inSpan(`process ${topic}`, work, restoreTraceContext(msgs[0].headers), { ...attributes, 'messaging.kafka.offset': msgs[0].offset }, SpanKind.CONSUMER);
    }
    attributes['messaging.batch.message_count'] = msgs.length;
    return inSpan(`process ${topic}`, work, undefined, attributes, SpanKind.CONSUMER, linksTo(msgs.map((m) => m.headers)));
  };

  /**
   * Joins the group and runs. kafkajs restarts a consumer itself after retriable failures; one it
   * will not restart (an unexpected error) is made anew here after 1 s, 2 s, 4 s … (at most 30 s),
   * up to maxRestarts times in a row, after which the consumer is no longer live and the process
   * should be restarted by its supervisor (the liveness health service says so).
   */
  const restartLater = (): void => {
    if (stopping) return;
    restarts += 1;
    stats.restarts += 1;
    if (restarts > maxRestarts) {
      live = false;
      log.fatal({ restarts: restarts - 1 }, 'consumer cannot be restarted: no longer live');
      return;
    }
    const delay = Math.min(1000 * 2 ** (restarts - 1), 30_000);
    log.warn({ restart: restarts, inMs: delay }, 'restarting the consumer');
    restartTimer = setTimeout(() => {
      if (stopping) return;
      consumer = makeConsumer();
      start().catch((err) => {
        log.error({ err }, 'consumer restart failed');
        restartLater();
      });
    }, delay);
  };
  // Where the handler's own store says each assigned partition resumes: no batch is handled
  // before the seeks are in place (a batch fetched before is stale and is fetched again).
  let assignmentReady: Promise<void> = Promise.resolve();
  const seekToStored = (c: Consumer, assignment: Record<string, number[]>) => {
    const onAssignment = spec.onAssignment;
    if (!onAssignment) return;
    const partitions = Object.entries(assignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
    assignmentReady = (async () => {
      for (let delay = 200; !stopping; delay = Math.min(delay * 2, 5000)) {
        try {
          const seeks = await onAssignment(partitions);
          for (const s of seeks) c.seek(s);
          if (seeks.length) log.info({ seeks }, 'resuming from stored offsets');
          return;
        } catch (err) {
          log.warn({ err, retryInMs: delay }, 'could not read the stored offsets of the assignment; retrying');
          await sleep(delay);
        }
      }
    })();
  };
  const start = async (): Promise<void> => {
    const c = consumer;
    // A rebalance begins: what is done is committed while this member still owns it.
    c.on(c.events.REBALANCING, () => void commits.flush());
    c.on(c.events.GROUP_JOIN, (e) => {
      member = true;
      // Offsets noted after the rebalance began are not committed: a partition kept resumes from
      // its last commit, and its work, already done, is found done.
      commits.forget();
      log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
      seekToStored(c, e.payload.memberAssignment);
    });
    c.on(c.events.DISCONNECT, () => {
      member = false;
    });
    c.on(c.events.CRASH, (e) => {
      member = false;
      log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart) restartLater();
    });
    await c.connect();
    await c.subscribe({ topics: spec.topics, fromBeginning: spec.fromBeginning ?? true });
    if (spec.handleBatch) {
      const s = spec;
      const maxBatch = s.maxBatchSize ?? DEFAULT_MAX_BATCH;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: s.partitionsConsumedConcurrently ?? 4,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const { topic, partition } = batch;
          await assignmentReady;
          for (let i = 0; i < batch.messages.length; i += maxBatch) {
            if (stopping || !isRunning() || isStale()) return;
            const msgs = batch.messages.slice(i, i + maxBatch).map((m) => inbound(topic, partition, m));
            const last = msgs[msgs.length - 1].offset;
            try {
              await track(async () => {
                await traced(topic, partition, msgs, () => processBatch(s, msgs, heartbeat), false);
                resolveOffset(last);
                if (s.commitToKafka !== false) commitAfter(topic, partition, last);
              }, heartbeat);
            } catch (err) {
              // A stopping consumer gives up on a batch: it stays uncommitted for the next
              // member. Anything else is unexpected: the consumer crashes and is made anew,
              // resuming from the committed offset.
              if (!stopping) throw err;
              log.info({ topic, partition, from: msgs[0].offset, err: (err as Error).message }, 'batch left for redelivery');
              return;
            }
          }
        },
      });
    } else if (spec.maxInFlight) {
      const handle = spec.handle;
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
            const msg = inbound(topic, partition, message);
            void track(async () => {
              try {
                // Each message is processed in a span of the trace its producer's headers carry.
                await traced(topic, partition, [msg], () => processMessage(handle, msg, heartbeat), true);
                const upTo = mine.finished(message.offset);
                if (upTo !== undefined) commitAfter(topic, partition, upTo);
              } catch (err) {
                // Only a stopping consumer gives up on a message: it stays uncommitted.
                log.info({ topic, partition, offset: message.offset, err: (err as Error).message }, 'message left for redelivery');
              } finally {
                slots.release();
              }
            }, heartbeat);
          }
        },
      });
    } else {
      const handle = spec.handle;
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? 1,
        eachMessage: async ({ topic, partition, message, heartbeat }) => {
          // Once stopping, take no new message: it stays uncommitted for the next member.
          if (stopping) return;
          const msg = inbound(topic, partition, message);
          await track(async () => {
            await traced(topic, partition, [msg], () => processMessage(handle, msg, heartbeat), true);
            commitAfter(topic, partition, message.offset);
          }, heartbeat);
        },
      });
    }
  };
  await start();
  const handle: ConsumerHandle = {
    groupId: spec.groupId,
    isHealthy: () => member,
    isLive: () => live,
    stats,
    stop: async () => {
      stopping = true;
      clearTimeout(restartTimer);
      await drained();
      await commits.flush();
      await consumer.stop();
      await consumer.disconnect();
      member = false;
    },
  };
  return handle;
}
