// The consumer half of the adapter over kafkajs: a consumer-group member that commits offsets
// only after the work is done (at-least-once), sends what it cannot decode to a dead-letter
// topic, and drains before it stops.
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from './logger';
import { inSpan, linksTo, messageSpans, restoreTraceContext, SpanKind, tracingEnabled } from './telemetry';
import { InvalidMessageError, type InboundMessage } from './dead-letter';
import type { MessageProducer } from './kafka';
import { GroupCommit } from './group-commit';
import { OffsetCommits } from './offset-commits';
import type { BatchConsumerSpec, BatchItem, BatchOutcome, ConsumerHandle, ConsumerSpec, ConsumerStats, DeadLetter } from './consumer-spec';
import { PartitionProgress, Slots } from './in-flight';
import { asInvalid, deadLettering, inbound, sleep } from './consumer-messages';

export type { BatchConsumerSpec, BatchContext, BatchItem, BatchOutcome, ConsumerHandle, ConsumerSpec, ConsumerStats, DeadLetter, MessageConsumerSpec } from './consumer-spec';
export { Slots } from './in-flight';

const COMMIT_INTERVAL_MS = 100;
const HEARTBEAT_MS = 3000;
const DEFAULT_MAX_BATCH = 1000;
// What a fetch brings at most (a larger single message still comes whole): enough for full
// batches, without holding tens of megabytes of messages decoded at once.
const FETCH_MAX_BYTES = 2 * 1024 * 1024;
const FETCH_MAX_BYTES_PER_PARTITION = 512 * 1024;

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

  const toDlq = deadLettering({ spec, dlqProducer, log, stats, isStopping: () => stopping });

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
          { maxWeight: spec.maxBatchSize ?? DEFAULT_MAX_BATCH, weight: (b) => b.items.length, concurrency: spec.maxConcurrentCalls ?? 1 },
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
