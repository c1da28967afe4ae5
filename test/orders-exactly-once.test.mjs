// Exactly once under faults, as Kafka's own transactions system test checks it: orders with
// known exact totals while aggregators are SIGKILLed and replicas join and leave; at the end
// every aggregate equals the expected figures and the offsets PostgreSQL holds equal the
// group's committed offsets in Kafka. Then PostgreSQL is cut under load: nothing goes to the
// DLQ and every order is counted once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS, encodeOrder } from '@pipewright/contracts';
import { startOrderStack, ORDER_GROUP, eventually, sleep, startTcpRelay } from '@pipewright/testkit';

/** @type {import('@pipewright/testkit').OrderStack} */
let orders;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Producer} */
let producer;
/** @type {import('@pipewright/testkit').Tap} */
let dlq;

// A member that was SIGKILLed holds its partitions until the group gives up on it.
const ENV = { KAFKA_SESSION_TIMEOUT: '6s', ORDERS_BATCH: '2000' };
const PRODUCTS = Array.from({ length: 40 }, (_, i) => `eo-product-${String(i).padStart(2, '0')}`);

before(async () => {
  orders = await startOrderStack({ envFor: { 'order-aggregator': ENV } });
  ({ stack, producer, dlq } = orders);
});

after(async () => orders?.stop());

/** n orders with prices of whole cents; returns the expected total (in cents) and count per product. */
function makeOrders(n, seed) {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  /** @type {Map<string, { cents: bigint; count: number }>} */
  const expected = new Map();
  const messages = [];
  for (let i = 0; i < n; i += 1) {
    const product = PRODUCTS[Math.floor(rand() * PRODUCTS.length)];
    const cents = 1 + Math.floor(rand() * 99_999); // 0.01 to 999.99
    const quantity = 1 + Math.floor(rand() * 5);
    const orderId = randomUUID();
    const e = expected.get(product) ?? { cents: 0n, count: 0 };
    e.cents += BigInt(cents * quantity);
    e.count += 1;
    expected.set(product, e);
    messages.push({ key: orderId, value: encodeOrder({ orderId, product, price: cents / 100, quantity }) });
  }
  return { expected, messages };
}

/** "1234.5" → 123450n */
function toCents(text) {
  const [whole, frac = ''] = text.split('.');
  assert.ok(frac.length <= 2, `a total of whole cents: ${text}`);
  return BigInt(whole) * 100n + BigInt(frac.padEnd(2, '0'));
}

async function produce(messages, perSecond) {
  const chunk = 1000;
  for (let i = 0; i < messages.length; i += chunk) {
    const t0 = Date.now();
    await producer.send({ topic: TOPICS.orders, messages: messages.slice(i, i + chunk) });
    const wait = (chunk / perSecond) * 1000 - (Date.now() - t0);
    if (wait > 0) await sleep(wait);
  }
}

async function storedTotals() {
  const rows = await stack.query("SELECT product, total::text, count::text FROM orders.product_totals WHERE product LIKE 'eo-product-%'");
  return new Map(rows.map((r) => [r.product, { cents: toCents(r.total), count: Number(r.count) }]));
}

async function processed() {
  const [r] = await stack.query("SELECT coalesce(sum(processed), 0)::int AS n FROM orders.partition_offsets WHERE topic = 'orders'");
  return r.n;
}

/** The offsets PostgreSQL holds and those the group committed in Kafka, per partition. */
async function offsets() {
  const stored = await stack.query("SELECT part, next_offset::text FROM orders.partition_offsets WHERE topic = 'orders' ORDER BY part");
  const admin = stack.kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: ORDER_GROUP.groupId, topics: [TOPICS.orders] });
    const kafka = Object.fromEntries(committed.partitions.filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, p.offset]));
    return { stored: Object.fromEntries(stored.map((r) => [r.part, r.next_offset])), kafka };
  } finally {
    await admin.disconnect();
  }
}

function assertTotals(actual, expected) {
  for (const [product, e] of expected) {
    const a = actual.get(product);
    assert.ok(a, `${product} has an aggregate`);
    assert.equal(a.count, e.count, `${product}: every order counted once`);
    assert.equal(a.cents, e.cents, `${product}: the exact total`);
  }
}

test('100,000 orders through three SIGKILLs and a replica that joins and leaves: every total exact, PostgreSQL offsets equal the committed ones', { timeout: 600_000 }, async () => {
  const { expected, messages } = makeOrders(100_000, 7);
  await stack.start('order-aggregator', { as: 'agg-1' });
  const dlqBefore = dlq.messages.length;
  const producing = produce(messages, 5000);
  const events = [];
  // Kills at random points while the orders flow; a second replica joins after the first
  // kill and leaves (SIGTERM) after the second.
  for (let kill = 1; kill <= 3; kill += 1) {
    await sleep(2000 + Math.random() * 3000);
    const p = stack.proc('agg-1');
    p.child.kill('SIGKILL');
    await new Promise((r) => (p.exited() ? r(undefined) : p.child.once('exit', r)));
    events.push(`SIGKILL ${kill} after ${await processed()} orders`);
    if (kill === 1) {
      await stack.start('order-aggregator', { as: 'agg-2' });
      events.push('agg-2 joined');
    }
    if (kill === 2) {
      await stack.proc('agg-2').stop();
      events.push('agg-2 left');
    }
    await stack.start('order-aggregator', { as: 'agg-1' });
  }
  await producing;
  await eventually(async () => (await processed()) >= 100_000, { timeoutMs: 240_000, intervalMs: 500, message: `100,000 orders counted (${events.join('; ')})` });
  await sleep(1000);
  assert.equal(await processed(), 100_000, 'no order counted twice');
  assertTotals(await storedTotals(), expected);
  const agg = stack.client('order-aggregator', 'agg-1');
  const stats = await agg.getStats({});
  assert.equal(stats.messagesProcessed, 100_000);
  assert.equal(stats.duplicates, 0);
  assert.equal(dlq.messages.length, dlqBefore, 'nothing went to the DLQ');
  const one = await agg.getAggregate({ product: PRODUCTS[0] });
  assert.equal(toCents(one.total), expected.get(PRODUCTS[0])?.cents);
  // Kafka's committed offsets follow PostgreSQL's once the last batches are committed there.
  const o = await eventually(
    async () => {
      const x = await offsets();
      return JSON.stringify(x.stored) === JSON.stringify(x.kafka) ? x : undefined;
    },
    { timeoutMs: 30_000, message: 'the committed offsets equal the stored ones' },
  );
  const end = await stack.kafka.admin();
  await end.connect();
  const high = await end.fetchTopicOffsets(TOPICS.orders);
  await end.disconnect();
  for (const h of high) if (Number(h.high) > 0) assert.equal(o.stored[h.partition], h.high, `partition ${h.partition} stored up to its end`);
});

test('PostgreSQL cut under load: only the bad messages go to the DLQ, each once, and afterwards every order is counted once', { timeout: 300_000 }, async () => {
  for (const name of [...stack.procs.keys()]) if (!stack.proc(name).exited()) await stack.proc(name).stop();
  const url = new URL(stack.databaseUrl);
  const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
  url.host = `127.0.0.1:${relay.port}`;
  try {
    await stack.start('order-aggregator', { as: 'agg-relay', env: { DATABASE_URL: url.toString() } });
    const before = await storedTotals();
    const startCount = await processed();
    const { expected, messages } = makeOrders(20_000, 11);
    const dlqBefore = dlq.messages.length;
    const producing = produce(messages, 4000);
    await sleep(1500);
    relay.cut();
    // Bad bytes among the orders while the database is away: their batches are retried until it
    // is back, and each is dead-lettered once.
    const bad = Array.from({ length: 6 }, (_, i) => ({ key: `bad-during-outage-${i}`, value: Buffer.from([0xff, 0xfe, i]) }));
    await producer.send({ topic: TOPICS.orders, messages: bad });
    await sleep(4000);
    relay.restore();
    await producing;
    await eventually(async () => (await processed()) >= startCount + 20_000, { timeoutMs: 120_000, intervalMs: 500, message: '20,000 more orders counted' });
    await sleep(1000);
    assert.equal(await processed(), startCount + 20_000, 'no order counted twice');
    const after = await storedTotals();
    for (const [product, e] of expected) {
      const b = before.get(product) ?? { cents: 0n, count: 0 };
      const a = after.get(product);
      assert.ok(a);
      assert.equal(a.count - b.count, e.count, `${product}: each new order counted once`);
      assert.equal(a.cents - b.cents, e.cents, `${product}: the exact new total`);
    }
    await sleep(1000);
    const dead = dlq.messages.slice(dlqBefore).map((m) => m.key?.toString()).sort();
    assert.deepEqual(dead, bad.map((b) => b.key).sort(), 'the outage itself sends nothing to the DLQ; each bad message goes once');
    assert.match(stack.log('agg-relay'), /batch handler failed; retrying/, 'the outage was seen and waited out');
  } finally {
    // Closing waits for open connections: cut them first.
    relay.cut();
    await relay.close();
  }
});
