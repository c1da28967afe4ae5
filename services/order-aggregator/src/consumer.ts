// Orders from `orders`, a fetched batch of one partition at a time, counted exactly once: the
// aggregate changes and the partition's next offset are written in one PostgreSQL transaction,
// the offset advanced by compare-and-set, and a member that is (re)assigned a partition resumes
// where PostgreSQL says (onAssignment). The offsets are committed to Kafka after, for lag tools.
//
// Per batch: decode (bytes that are not an Order → orders-dlq), check the rules (→ orders-dlq),
// run the per-order step with retries (an order that fails every attempt → orders-dlq), then
// count the rest and record those dead letters in one transaction, and send them after it. A
// database error retries the whole batch: nothing goes to the DLQ for it.
import { InvalidMessageError, withTransaction, type AvroCodec, type BatchItem, type InboundMessage, type Logger, type Pool } from '@pipewright/platform';
import { orderRuleViolation, type Order } from '@pipewright/contracts';
import { planBatch, processWithRetries } from './aggregate';
import { advancePartition, applyOrders, insertDeadLetters, lockPartition, sendDeadLetters, storedOffsets, type PendingDeadLetter } from './store';
import type { OrderMetrics } from './metrics';
import type { Config } from './config';

export interface OrderConsumerDeps {
  pool: Pool;
  codec: AvroCodec<Order>;
  config: Config;
  metrics: OrderMetrics;
  logger: Logger;
  /** The per-order step: throwing fails this attempt of the order. */
  step: (order: Order) => void | Promise<void>;
  /** Sends dead letters to orders-dlq (after the batch that decided them has committed). */
  sendDeadLetters: (letters: PendingDeadLetter[]) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where each assigned partition resumes: the next offset PostgreSQL holds for it. */
export function resumeFromStore(pool: Pool) {
  return async (partitions: Array<{ topic: string; partition: number }>) => {
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const seeks: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [topic, parts] of byTopic) {
      for (const s of await storedOffsets(pool, topic, parts)) seeks.push({ topic, partition: s.partition, offset: s.nextOffset });
    }
    return seeks;
  };
}

/** The original headers as bytes, repeated values kept. */
function headerBytes(msg: InboundMessage): Record<string, Buffer[]> {
  const out: Record<string, Buffer[]> = {};
  for (const [name, v] of Object.entries(msg.rawHeaders)) {
    if (v === undefined) continue;
    out[name] = (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(x)));
  }
  return out;
}

type Decided = { msg: InboundMessage; error: Error; attempts: number; reason: string; orderId?: string };

export function handleOrders(deps: OrderConsumerDeps) {
  const { pool, codec, config, metrics, logger } = deps;
  const sleep = deps.sleep ?? sleepFor;
  // The next offset this member last wrote per partition: messages below it were counted
  // already (a redelivery) and are skipped before any work. The transaction checks again.
  const known = new Map<string, bigint>();

  return async (items: Array<BatchItem<InboundMessage>>): Promise<void> => {
    const { topic, partition } = items[0].msg;
    const key = `${topic}\u0000${partition}`;
    const floor = known.get(key) ?? -1n;
    const fresh = items.filter((i) => BigInt(i.msg.offset) >= floor);

    const dead: Decided[] = [];
    const good: Array<{ msg: InboundMessage; order: Order }> = [];
    await codec.load(fresh.map((i) => i.msg.value));
    for (const { msg } of fresh) {
      let order: Order;
      try {
        order = codec.decode(msg.value);
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err;
        dead.push({ msg, error: err, attempts: 1, reason: 'invalid' });
        continue;
      }
      const broken = orderRuleViolation(order);
      if (broken) dead.push({ msg, error: new InvalidMessageError(`invalid order: ${broken}`), attempts: 1, reason: 'rule', orderId: order.orderId });
      else good.push({ msg, order });
    }

    const { failed, retries } = await processWithRetries(good, (g) => deps.step(g.order), config.ORDERS_RETRY_BACKOFF, sleep);
    for (const f of failed) dead.push({ msg: f.item.msg, error: f.error, attempts: f.attempts, reason: 'failed', orderId: f.item.order.orderId });
    const failedMsgs = new Set(failed.map((f) => f.item.msg));

    // The counts, the dead letters decided and the offset, in one transaction: an order is
    // counted or dead-lettered, once. The dead letters are sent after it commits.
    const last = BigInt(items[items.length - 1].msg.offset);
    const outcome = await withTransaction(pool, async (client) => {
      const state = await lockPartition(client, topic, partition);
      const from = state.nextOffset;
      if (last < from) return { from, skipped: true as const };
      const counting = good.filter((g) => !failedMsgs.has(g.msg) && BigInt(g.msg.offset) >= from);
      const plan = planBatch(
        counting.map((g) => ({ order: g.order, recordTime: Number(g.msg.timestamp) })),
        { streamTime: state.streamTime, windowSizes: config.ORDERS_WINDOWS, graceMs: config.ORDERS_WINDOW_GRACE },
      );
      const { applied, products } = await applyOrders(client, partition, plan.orders, config.ORDERS_WINDOWS, config.ORDERS_DEDUPE_WINDOW);
      const duplicates = plan.inBatchDuplicates + plan.orders.length - applied;
      const deadNow = dead.filter((d) => BigInt(d.msg.offset) >= from);
      await insertDeadLetters(
        client,
        deadNow.map((d) => ({
          topic,
          partition,
          offset: d.msg.offset,
          key: d.msg.key,
          value: d.msg.value,
          headers: headerBytes(d.msg),
          error: d.error.message,
          attempts: d.attempts,
          reason: d.reason,
          orderId: d.orderId ?? null,
        })),
      );
      const moved = await advancePartition(client, {
        topic,
        partition,
        expected: from,
        next: last + 1n,
        streamTime: plan.streamTime,
        processed: applied,
        duplicates,
        late: plan.late,
        deadLettered: deadNow.length,
        retried: retries,
        changed: products,
      });
      // Cannot happen while the row lock is held; if it did, nothing of this batch is kept.
      if (!moved) throw new Error(`the stored offset of ${topic}[${partition}] moved under its lock`);
      return { from, skipped: false as const, applied, duplicates, late: plan.late, deadLettered: deadNow.length };
    });
    known.set(key, last + 1n);
    // Sent when this batch decided some, or when it comes again (a failed send leaves them
    // stored and the batch is retried); the housekeeping task sends what is left otherwise.
    if (outcome.skipped || outcome.deadLettered > 0) while ((await sendDeadLetters(pool, deps.sendDeadLetters, { topic, partition })) > 0);
    if (outcome.skipped) {
      logger.debug({ partition, from: items[0].msg.offset, stored: outcome.from.toString() }, 'batch already counted; skipped');
      return;
    }
    metrics.retried(retries);
    metrics.counted(outcome.applied, outcome.duplicates, outcome.late);
  };
}
