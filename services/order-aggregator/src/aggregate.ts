// What one batch of orders does to the aggregates, as plain data for the store: the orders to
// count (once each), the window sizes each is too late for, and the partition's new stream
// time. No I/O here.
import type { Order } from '@pipewright/contracts';

export interface CountedOrder {
  orderId: string;
  product: string;
  /** Unit price as read from the Avro float; the store counts it as the shortest decimal that reads back as that float. */
  price: number;
  quantity: number;
  /** The order's time: createdAt when the producer set it, else the record's timestamp (ms). */
  at: number;
  /** Bit i set: too late for the i-th window size (in ORDERS_WINDOWS order). */
  lateFor: number;
}

export interface BatchPlan {
  orders: CountedOrder[];
  /** Orders that came twice within this batch (the first is counted; the store dedupes across batches). */
  inBatchDuplicates: number;
  /** (order, window size) pairs too late to be applied. */
  late: number;
  /** The latest order time seen on the partition, this batch included (ms), or null before any. */
  streamTime: number | null;
}

/** Start of the tumbling window of size sizeMs that holds t, aligned to the epoch: [start, start + size). */
export function windowStart(t: number, sizeMs: number): number {
  return Math.floor(t / sizeMs) * sizeMs;
}

/**
 * Plans a batch of one partition, in offset order. Stream time advances as orders are read (as
 * in Kafka Streams): an order is late for a window once that window's end plus the grace period
 * is at or before the stream time.
 */
export function planBatch(input: Array<{ order: Order; recordTime: number }>, opts: { streamTime: number | null; windowSizes: number[]; graceMs: number }): BatchPlan {
  let streamTime = opts.streamTime;
  let late = 0;
  let inBatchDuplicates = 0;
  const seen = new Set<string>();
  const orders: CountedOrder[] = [];
  for (const { order, recordTime } of input) {
    if (seen.has(order.orderId)) {
      inBatchDuplicates += 1;
      continue;
    }
    seen.add(order.orderId);
    const at = order.createdAt ?? recordTime;
    streamTime = streamTime === null ? at : Math.max(streamTime, at);
    let lateFor = 0;
    opts.windowSizes.forEach((size, i) => {
      if (windowStart(at, size) + size + opts.graceMs <= (streamTime as number)) {
        late += 1;
        lateFor |= 1 << i;
      }
    });
    orders.push({ orderId: order.orderId, product: order.product, price: order.price, quantity: order.quantity, at, lateFor });
  }
  return { orders, inBatchDuplicates, late, streamTime };
}

/**
 * Runs the per-order step for each order, retrying one that throws after each wait of backoff
 * (all failing orders of a batch wait together); returns the orders that failed every attempt
 * with their last error and attempt count, and the number of retries made.
 */
export async function processWithRetries<T>(
  items: T[],
  step: (item: T) => void | Promise<void>,
  backoffMs: number[],
  sleep: (ms: number) => Promise<void>,
): Promise<{ failed: Array<{ item: T; error: Error; attempts: number }>; retries: number }> {
  let pending = items.map((item) => ({ item, error: undefined as Error | undefined }));
  let retries = 0;
  for (let attempt = 0; ; attempt += 1) {
    const next: typeof pending = [];
    for (const p of pending) {
      try {
        const done = step(p.item);
        if (done) await done;
      } catch (err) {
        next.push({ item: p.item, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    pending = next;
    if (pending.length === 0 || attempt >= backoffMs.length) {
      return { failed: pending.map((p) => ({ item: p.item, error: p.error as Error, attempts: attempt + 1 })), retries };
    }
    retries += pending.length;
    await sleep(backoffMs[attempt]);
  }
}

/** The simulated failure of ORDERS_FAILURE_RATE: throws for about that share of attempts. */
export function simulatedFailure(rate: number, random: () => number = Math.random): (order: Order) => void {
  return (order) => {
    if (rate > 0 && random() < rate) throw new Error(`simulated processing failure of order ${order.orderId}`);
  };
}
