// Orders from `orders`, a fetched batch of one partition at a time, counted exactly once: the
// aggregate changes and the partition's next offset are written in one PostgreSQL transaction,
// the offset advanced by compare-and-set, and a member that is (re)assigned a partition resumes
// where PostgreSQL says (onAssignment). The offsets are committed to Kafka after, for lag tools.
//
// Per batch: decode (bytes that are not an Order → orders-dlq), check the rules (→ orders-dlq),
// run the per-order step with retries (an order that fails every attempt → orders-dlq), send
// those dead letters, then count the rest in one transaction. A database error retries the
// whole batch: nothing goes to the DLQ for it.
import { InvalidMessageError, withTransaction, type AvroCodec, type BatchContext, type BatchItem, type DeadLetter, type InboundMessage, type Logger, type Pool } from '@pipewright/platform';
import { orderRuleViolation, type Order } from '@pipewright/contracts';
import { planBatch, processWithRetries } from './aggregate';
import { advancePartition, applyOrders, lockPartition, storedOffsets } from './store';
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

export function handleOrders(deps: OrderConsumerDeps) {
  const { pool, codec, config, metrics, logger } = deps;
  const sleep = deps.sleep ?? sleepFor;
  // The next offset this member last wrote per partition: messages below it were counted
  // already (a redelivery) and are skipped before any work. The transaction checks again.
  const known = new Map<string, bigint>();

  return async (items: Array<BatchItem<InboundMessage>>, ctx: BatchContext): Promise<void> => {
    const { topic, partition } = items[0].msg;
    const key = `${topic}\u0000${partition}`;
    const floor = known.get(key) ?? -1n;
    const fresh = items.filter((i) => BigInt(i.msg.offset) >= floor);

    const dead: Array<DeadLetter & { reason: string; orderId?: string }> = [];
    const good: Array<{ msg: InboundMessage; order: Order }> = [];
    await codec.load(fresh.map((i) => i.msg.value));
    for (const { msg } of fresh) {
      let order: Order;
      try {
        order = codec.decode(msg.value);
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err;
        dead.push({ msg, error: err, reason: 'invalid' });
        continue;
      }
      const broken = orderRuleViolation(order);
      if (broken) dead.push({ msg, error: new InvalidMessageError(`invalid order: ${broken}`), reason: 'rule', orderId: order.orderId });
      else good.push({ msg, order });
    }

    const { failed, retries } = await processWithRetries(good, (g) => deps.step(g.order), config.ORDERS_RETRY_BACKOFF, sleep);
    for (const f of failed) dead.push({ msg: f.item.msg, error: f.error, attempts: f.attempts, reason: 'failed', orderId: f.item.order.orderId });
    const failedMsgs = new Set(failed.map((f) => f.item.msg));

    // In the DLQ before the offset that covers them is stored: none is given up on unseen.
    if (dead.length) {
      dead.sort((a, b) => Number(BigInt(a.msg.offset) - BigInt(b.msg.offset)));
      await ctx.deadLetter(dead);
      for (const d of dead)
        logger.warn({ orderId: d.orderId, offset: d.msg.offset, partition, attempts: d.attempts ?? 1, error: d.error.message }, `Moved to DLQ: orderId ${d.orderId ?? '(undecodable)'}`);
    }

    const last = BigInt(items[items.length - 1].msg.offset);
    const outcome = await withTransaction(pool, async (client) => {
      const state = await lockPartition(client, topic, partition);
      const from = state.nextOffset;
      const counting = good.filter((g) => !failedMsgs.has(g.msg) && BigInt(g.msg.offset) >= from);
      if (last < from) return { from, skipped: true as const };
      const plan = planBatch(
        counting.map((g) => ({ order: g.order, recordTime: Number(g.msg.timestamp) })),
        { streamTime: state.streamTime, windowSizes: config.ORDERS_WINDOWS, graceMs: config.ORDERS_WINDOW_GRACE },
      );
      const { applied, products } = await applyOrders(client, partition, plan.orders, config.ORDERS_WINDOWS, config.ORDERS_DEDUPE_WINDOW);
      const duplicates = plan.inBatchDuplicates + plan.orders.length - applied;
      const deadLettered = dead.filter((d) => BigInt(d.msg.offset) >= from).length;
      const moved = await advancePartition(client, {
        topic,
        partition,
        expected: from,
        next: last + 1n,
        streamTime: plan.streamTime,
        processed: applied,
        duplicates,
        late: plan.late,
        deadLettered,
        retried: retries,
        changed: products,
      });
      // Cannot happen while the row lock is held; if it did, nothing of this batch is kept.
      if (!moved) throw new Error(`the stored offset of ${topic}[${partition}] moved under its lock`);
      return { from, skipped: false as const, applied, duplicates, late: plan.late };
    });
    known.set(key, last + 1n);
    metrics.retried(retries);
    for (const d of dead) metrics.deadLettered(d.reason);
    if (outcome.skipped) {
      logger.debug({ partition, from: items[0].msg.offset, stored: outcome.from.toString() }, 'batch already counted; skipped');
      return;
    }
    metrics.counted(outcome.applied, outcome.duplicates, outcome.late);
  };
}
