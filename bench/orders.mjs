// (h) Orders aggregated exactly once per second, against a raw kafkajs consumer that does nothing
// with the same messages, in one run on the same broker: the `orders` topic is filled with
// BENCH_ORDERS plain-Avro orders (BENCH_ORDER_PRODUCTS products) first, the raw consumer reads
// them all in a fresh group, then one order-aggregator (a database of its own, its defaults:
// dedupe on, windows 1m and 1h) counts them all; then again with dedupe off.
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { TOPICS, encodeOrder } from '@pipewright/contracts';
import { startStack, eventually, sleep, ORDER_GROUP } from '@pipewright/testkit';
import { log, meter, ratio } from './lib.mjs';
import { kafkajsConsume } from './peers.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');

const size = (name, dflt) => Number(process.env[name] ?? dflt);

/** Adds `orders` orders to the topic; returns its end offsets before them. */
async function fill(kafka, orders, products) {
  const admin = kafka.admin();
  await admin.connect();
  let start;
  try {
    if (!(await admin.listTopics()).includes(TOPICS.orders)) await admin.createTopics({ topics: [{ topic: TOPICS.orders, numPartitions: 12 }], waitForLeaders: true });
    start = await eventually(() => admin.fetchTopicOffsets(TOPICS.orders), { timeoutMs: 30_000, message: `offsets of ${TOPICS.orders}` });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let sent = 0; sent < orders; sent += 10_000) {
      const messages = Array.from({ length: Math.min(10_000, orders - sent) }, (_, i) => {
        const n = sent + i;
        const orderId = randomUUID();
        return { key: orderId, value: encodeOrder({ orderId, product: `product-${n % products}`, price: 1 + (n % 9999) / 100, quantity: 1 + (n % 3) }) };
      });
      await producer.send({ topic: TOPICS.orders, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
  return start;
}

/** One aggregator over everything after `from` (the group is set there first); orders/s from its first count to its last. */
async function aggregate(orders, from, env) {
  const stack = await startStack({ env });
  try {
    // The group starts where this run's orders begin.
    const admin = stack.kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: ORDER_GROUP.groupId, topic: ORDER_GROUP.topic, partitions: from.map((e) => ({ partition: e.partition, offset: e.high })) });
    await admin.disconnect();
    const m = meter(orders);
    m.start();
    await stack.start('order-aggregator');
    let first;
    let counted = 0;
    await eventually(
      async () => {
        const [r] = await stack.query("SELECT coalesce(sum(processed), 0)::int AS n FROM orders.partition_offsets WHERE topic = 'orders'");
        counted = r.n;
        if (counted > 0) first ??= Date.now();
        return counted >= orders;
      },
      { timeoutMs: 600_000, intervalMs: 50, message: `${orders} orders counted` },
    );
    const end = Date.now();
    const figures = m.stop(end);
    await sleep(200);
    const [check] = await stack.query('SELECT coalesce(sum(count), 0)::int AS n FROM orders.product_totals');
    return {
      orders: counted,
      countedInTotals: check.n,
      ordersPerSec: Math.round((counted / Math.max(1, end - first)) * 1000),
      includingStartPerSec: figures.jobsPerSec,
      cpuMsPerOrder: figures.cpuMsPerJob.benchTree,
      cpuMsPerOrderByProcess: figures.cpuMsPerJob.byProcess,
    };
  } finally {
    await stack.stop();
  }
}

export async function ordersBench({ brokers }) {
  const orders = size('BENCH_ORDERS', 200_000);
  const products = size('BENCH_ORDER_PRODUCTS', 200);
  const date = new Date().toISOString();
  const loadStart = loadavg()[0].toFixed(2);
  const kafka = new Kafka({ clientId: 'pipewright-bench', brokers: [brokers], logLevel: logLevel.NOTHING });
  log(`orders: filling ${TOPICS.orders} with ${orders} orders of ${products} products`);
  const start = await fill(kafka, orders, products);
  // The raw consumer reads the whole topic; only what this run added counts for both.
  const raw = await kafkajsConsume(kafka, TOPICS.orders, start.reduce((a, e) => a + Number(e.high), 0) + orders);
  log(`orders: raw kafkajs consumer ${JSON.stringify(raw)}`);
  const exactlyOnce = await aggregate(orders, start, {});
  log(`orders: aggregated exactly once ${JSON.stringify(exactlyOnce)}`);
  const noDedupe = await aggregate(orders, start, { ORDERS_DEDUPE_WINDOW: '0' });
  log(`orders: aggregated exactly once, dedupe off ${JSON.stringify(noDedupe)}`);
  return {
    date,
    loadStart,
    loadEnd: loadavg()[0].toFixed(2),
    orders,
    products,
    raw,
    exactlyOnce,
    noDedupe,
    ratio: ratio(exactlyOnce.ordersPerSec, raw.messagesPerSec),
    ratioNoDedupe: ratio(noDedupe.ordersPerSec, raw.messagesPerSec),
    target: 0.6,
  };
}
