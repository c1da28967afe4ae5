// Orders through the gateway and straight from Kafka producers, counted by the order-aggregator
// into exact running and windowed totals in PostgreSQL; bad bytes and broken rules go to
// orders-dlq byte for byte, and the next good order is counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { status } from '@grpc/grpc-js';
import { TOPICS, encodeOrder } from '@pipewright/contracts';
import { startOrderStack, eventually, sameBytes, grpcError } from '@pipewright/testkit';

/** @type {import('@pipewright/testkit').OrderStack} */
let started;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Producer} */
let producer;
/** @type {import('@pipewright/testkit').Tap} */
let dlq;
/** @type {import('@pipewright/testkit').OrdersClient} */
let orders;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;

before(async () => {
  started = await startOrderStack({ services: ['ingest-gateway', 'order-aggregator'], envFor: { 'order-aggregator': { ORDERS_WINDOW_GRACE: '1m' } } });
  ({ stack, producer, dlq } = started);
  orders = stack.client('order-aggregator');
  gateway = stack.client('ingest-gateway');
});

after(async () => started?.stop());

const product = (name) => `${name}-${randomUUID().slice(0, 8)}`;
/** The aggregate of a product once it has counted `count` orders. */
const aggregateOnce = (p, count) =>
  eventually(
    async () => {
      const a = await orders.getAggregate({ product: p }).catch(() => undefined);
      return a && a.count >= count ? a : undefined;
    },
    { timeoutMs: 30_000, message: `aggregate of ${p} with ${count} orders` },
  );

test('orders submitted through the gateway are counted into exact totals per product and overall', async () => {
  const apples = product('apple');
  const pears = product('pear');
  const before = await orders.getAggregate({ product: '' });
  const res = await gateway.submitOrders({
    orders: [
      { orderId: randomUUID(), product: apples, price: 19.99, quantity: 2, currency: 'EUR', customerId: 'c1', createdAt: new Date('2026-03-01T10:00:10Z') },
      { orderId: randomUUID(), product: apples, price: 0.1, quantity: 0, currency: '', customerId: '', createdAt: undefined },
      { orderId: randomUUID(), product: pears, price: 5.25, quantity: 1, currency: 'USD', customerId: '', createdAt: undefined },
    ],
  });
  assert.equal(res.accepted, 3);
  assert.equal(res.orders.length, 3);
  const a = await aggregateOnce(apples, 2);
  // 19.99 x 2 + 0.1 x 1, exactly (the float is read as the decimal it was written as).
  assert.equal(a.total, '40.08');
  assert.equal(a.count, 2);
  assert.equal(a.quantity, 3);
  assert.equal(a.average, '20.04', 'to 6 places, without trailing zeros');
  assert.equal(a.min, '0.1');
  assert.equal(a.max, '39.98');
  assert.equal(a.firstOrderTime?.toISOString(), '2026-03-01T10:00:10.000Z');
  await aggregateOnce(pears, 1);
  const overall = await orders.getAggregate({ product: '' });
  assert.equal(overall.product, '');
  assert.equal(overall.count, before.count + 3);
  assert.equal((Number(overall.total) - Number(before.total)).toFixed(2), '45.33');
});

test('SubmitOrders checks every order first and names the field; nothing of a bad batch is published', async () => {
  const p = product('refused');
  const good = () => ({ orderId: randomUUID(), product: p, price: 1, quantity: 1, currency: '', customerId: '', createdAt: undefined });
  await assert.rejects(gateway.submitOrders({ orders: [good(), good(), good(), { ...good(), price: -1 }] }), grpcError(status.INVALID_ARGUMENT, 'orders[3].price: must be a finite number >= 0'));
  await assert.rejects(gateway.submitOrders({ orders: [{ ...good(), orderId: '' }] }), grpcError(status.INVALID_ARGUMENT, 'orders[0].order_id: is required'));
  await assert.rejects(gateway.submitOrders({ orders: [{ ...good(), product: '' }] }), grpcError(status.INVALID_ARGUMENT, 'orders[0].product: is required'));
  await assert.rejects(gateway.submitOrders({ orders: [{ ...good(), price: Number.NaN }] }), grpcError(status.INVALID_ARGUMENT, /orders\[0\]\.price/));
  await assert.rejects(gateway.submitOrders({ orders: [] }), grpcError(status.INVALID_ARGUMENT, /orders: must hold at least one order/));
  // A later good order of the same product is counted alone.
  await gateway.submitOrders({ orders: [good()] });
  const a = await aggregateOnce(p, 1);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await orders.getAggregate({ product: p })).count, 1, 'none of the refused batches reached the aggregates');
  await assert.rejects(orders.getAggregate({ product: product('never-ordered') }), grpcError(status.NOT_FOUND));
  assert.equal(a.total, '1');
});

test('an order from an older producer (orderId, product and price only) decodes with the defaults', async () => {
  const old = avro.Type.forSchema({ type: 'record', name: 'Order', fields: [{ name: 'orderId', type: 'string' }, { name: 'product', type: 'string' }, { name: 'price', type: 'float' }] });
  const p = product('legacy');
  await producer.send({ topic: TOPICS.orders, messages: [{ key: 'o-1', value: old.toBuffer({ orderId: `legacy-${randomUUID()}`, product: p, price: 2.5 }) }] });
  const a = await aggregateOnce(p, 1);
  assert.equal(a.total, '2.5');
  assert.equal(a.quantity, 1, 'quantity defaults to 1');
});

test('bytes that are not an Order and orders that break a rule go to orders-dlq byte for byte with key and headers; the next good order is counted', async () => {
  const p = product('after-bad');
  const valid = encodeOrder({ orderId: randomUUID(), product: p, price: 3 });
  const bad = {
    'random bytes': Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]),
    'truncated Avro': valid.subarray(0, valid.length - 3),
    'a negative price': encodeOrder({ orderId: randomUUID(), product: p, price: -4 }),
    'an empty orderId': encodeOrder({ orderId: '', product: p, price: 4 }),
  };
  const start = dlq.messages.length;
  // All on one partition, the good order last: it is counted only once those before it are handled.
  await producer.send({
    topic: TOPICS.orders,
    messages: [
      ...Object.values(bad).map((value, i) => ({ key: `bad-${i}`, value, partition: 3, headers: { 'x-shop': 'berlin' } })),
      { key: 'good', value: encodeOrder({ orderId: randomUUID(), product: p, price: 7 }), partition: 3 },
    ],
  });
  await aggregateOnce(p, 1);
  const got = await eventually(() => (dlq.messages.length - start >= 4 ? dlq.messages.slice(start) : undefined), { timeoutMs: 20_000, message: 'four dead letters' });
  const names = Object.keys(bad);
  for (const [i, value] of Object.values(bad).entries()) {
    const m = got.find((x) => x.key?.toString() === `bad-${i}`);
    assert.ok(m, `${names[i]} is in orders-dlq`);
    assert.ok(sameBytes(m.value, value), `${names[i]}: the original bytes`);
    assert.equal(m.headersText['x-shop'], 'berlin', `${names[i]}: the original headers`);
    assert.equal(m.headersText['original-topic'], TOPICS.orders);
    assert.equal(m.headersText['original-partition'], '3');
    assert.ok(m.headersText['original-offset']);
    assert.ok(!Number.isNaN(Date.parse(m.headersText['error-timestamp'])));
    assert.equal(m.headersText.attempts, '1', `${names[i]} is never retried`);
  }
  const error = (key) => got.find((x) => x.key?.toString() === key)?.headersText['error-message'] ?? '';
  assert.match(error('bad-2'), /price: must be a finite number >= 0/);
  assert.match(error('bad-3'), /orderId: is required/);
  assert.match(error('bad-1'), /not a valid Order/);
  assert.equal((await orders.getAggregate({ product: p })).total, '7', 'only the good order is counted');
  const stats = await orders.getStats({});
  assert.ok(stats.messagesSentToDlq >= 4);
});

test('an order resent with the same orderId is counted once, as a duplicate', async () => {
  const p = product('resent');
  const id = randomUUID();
  const order = { orderId: id, product: p, price: 10, quantity: 1, currency: '', customerId: '', createdAt: undefined };
  const before = (await orders.getStats({})).duplicates;
  await gateway.submitOrders({ orders: [order] });
  await aggregateOnce(p, 1);
  await gateway.submitOrders({ orders: [order, { ...order, orderId: randomUUID() }] });
  const a = await aggregateOnce(p, 2);
  await eventually(async () => (await orders.getStats({})).duplicates >= before + 1, { timeoutMs: 10_000, message: 'the duplicate counted' });
  assert.equal(a.count, 2);
  assert.equal(a.total, '20');
});

test('tumbling windows split orders at the window boundary by createdAt, and an order after its window end plus grace is late', async () => {
  const p = product('windowed');
  const at = (iso) => Date.parse(iso);
  const send = (createdAt, price) => ({ key: p, partition: 5, value: encodeOrder({ orderId: randomUUID(), product: p, price, createdAt: at(createdAt) }) });
  const lateBefore = (await orders.getStats({})).late;
  // Orders at 10:00:59.999 and 10:01:00.000 fall in two 1-minute windows and the same hour;
  // then stream time moves to 10:05, past 10:02 + 1m grace, so an order for 10:01 is late for
  // its minute (not for its hour) and is still counted in the running total.
  await producer.send({ topic: TOPICS.orders, messages: [send('2031-01-01T10:00:59.999Z', 1), send('2031-01-01T10:01:00.000Z', 2), send('2031-01-01T10:05:00.000Z', 4)] });
  await aggregateOnce(p, 3);
  await producer.send({ topic: TOPICS.orders, messages: [send('2031-01-01T10:01:30.000Z', 8)] });
  const a = await aggregateOnce(p, 4);
  assert.equal(a.total, '15');
  const minutes = await orders.listWindows({ product: p, windowSize: '1m', from: new Date('2031-01-01T10:00:00Z'), to: new Date('2031-01-01T11:00:00Z'), pageSize: 0, pageToken: '' });
  assert.deepEqual(
    minutes.windows.map((w) => [w.startTime?.toISOString(), w.endTime?.toISOString(), w.total, w.count]),
    [
      ['2031-01-01T10:00:00.000Z', '2031-01-01T10:01:00.000Z', '1', 1],
      ['2031-01-01T10:01:00.000Z', '2031-01-01T10:02:00.000Z', '2', 1],
      ['2031-01-01T10:05:00.000Z', '2031-01-01T10:06:00.000Z', '4', 1],
    ],
  );
  const hours = await orders.listWindows({ product: p, windowSize: '1h', from: new Date('2031-01-01T00:00:00Z'), to: new Date('2031-01-02T00:00:00Z'), pageSize: 0, pageToken: '' });
  assert.deepEqual(
    hours.windows.map((w) => [w.windowSize, w.total, w.count]),
    [['1h', '15', 4]],
  );
  assert.equal((await orders.getStats({})).late, lateBefore + 1);
  await assert.rejects(orders.listWindows({ product: p, windowSize: '5m', pageSize: 0, pageToken: '' }), grpcError(status.INVALID_ARGUMENT, /window_size: must be one of 1m, 1h/));
});

test('ListAggregates sorts by total, count or average and pages through every product', async () => {
  const tag = randomUUID().slice(0, 6);
  const ps = ['a', 'b', 'c', 'd', 'e'].map((x) => `list-${tag}-${x}`);
  // Totals 5, 40, 30, 20, 10 from counts 1, 4, 1, 2, 1.
  const plan = { [ps[0]]: [5], [ps[1]]: [10, 10, 10, 10], [ps[2]]: [30], [ps[3]]: [10, 10], [ps[4]]: [10] };
  await gateway.submitOrders({ orders: Object.entries(plan).flatMap(([p, prices]) => prices.map((price) => ({ orderId: randomUUID(), product: p, price, quantity: 1, currency: '', customerId: '', createdAt: undefined }))) });
  for (const [p, prices] of Object.entries(plan)) await aggregateOnce(p, prices.length);
  const all = async (orderBy) => {
    const seen = [];
    let pageToken = '';
    do {
      const page = await orders.listAggregates({ pageSize: 2, pageToken, orderBy });
      seen.push(...page.aggregates.filter((a) => a.product.startsWith(`list-${tag}`)).map((a) => a.product.slice(-1)));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return seen.join('');
  };
  assert.equal(await all(1), 'bcdea', 'largest total first');
  assert.equal(await all(2), 'bdace', 'most orders first, ties by product');
  assert.equal(await all(3), 'cbdea', 'largest average first, ties by product');
  assert.equal(await all(0), 'abcde', 'by product');
  await assert.rejects(orders.listAggregates({ pageSize: 5000, pageToken: '', orderBy: 0 }), grpcError(status.INVALID_ARGUMENT, /page_size/));
  await assert.rejects(orders.listAggregates({ pageSize: 2, pageToken: 'nonsense', orderBy: 0 }), grpcError(status.INVALID_ARGUMENT, /page_token/));
});
