// An order whose processing fails is retried with backoff (200/400/800 ms by default) and, when
// every attempt fails, goes to orders-dlq with attempts 4 and "Moved to DLQ: orderId X" in the
// log; orders that succeed on a retry are counted once. WatchAggregates streams the changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS, encodeOrder } from '@pipewright/contracts';
import { ordersV1 } from '@pipewright/proto';
import { startOrderStack, eventually, sameBytes } from '@pipewright/testkit';

/** @type {import('@pipewright/testkit').OrderStack} */
let orders;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Producer} */
let producer;
/** @type {import('@pipewright/testkit').Tap} */
let dlq;

before(async () => {
  orders = await startOrderStack();
  ({ stack, producer, dlq } = orders);
});

after(async () => orders?.stop());

test('an order that fails every attempt is retried 3 times with backoff, then moved to orders-dlq with its bytes and attempts 4', async () => {
  await stack.start('order-aggregator', { as: 'always-failing', env: { ORDERS_FAILURE_RATE: '1' } });
  try {
    const orderId = `fails-${randomUUID()}`;
    const value = encodeOrder({ orderId, product: 'never-counted', price: 9.5 });
    const sentAt = Date.now();
    await producer.send({ topic: TOPICS.orders, messages: [{ key: orderId, value, headers: { 'x-shop': 'lyon' } }] });
    const m = await eventually(() => dlq.messages.find((x) => x.key?.toString() === orderId), { timeoutMs: 30_000, message: 'the order in orders-dlq' });
    assert.ok(Date.now() - sentAt >= 1400, 'after 200 + 400 + 800 ms of backoff');
    assert.ok(sameBytes(m.value, value), 'the original bytes');
    assert.equal(m.headersText['x-shop'], 'lyon');
    assert.equal(m.headersText.attempts, '4');
    assert.match(m.headersText['error-message'], /simulated processing failure/);
    assert.match(stack.log('always-failing'), new RegExp(`Moved to DLQ: orderId ${orderId}`));
    const stats = await stack.client('order-aggregator', 'always-failing').getStats({});
    assert.equal(stats.messagesRetried, 3);
    assert.equal(stats.messagesSentToDlq, 1);
    assert.equal(stats.messagesProcessed, 0);
  } finally {
    await stack.proc('always-failing').stop();
  }
});

test('with some attempts failing, orders that succeed on a retry are counted once and the rest reach the DLQ; none is lost', async () => {
  await stack.start('order-aggregator', { as: 'flaky', env: { ORDERS_FAILURE_RATE: '0.3', ORDERS_RETRY_BACKOFF: '20ms,40ms,80ms' } });
  try {
    const product = `flaky-${randomUUID().slice(0, 8)}`;
    const ids = Array.from({ length: 500 }, () => String(randomUUID()));
    const dlqBefore = dlq.messages.length;
    const client = stack.client('order-aggregator', 'flaky');
    const statsBefore = await client.getStats({});
    await producer.send({ topic: TOPICS.orders, messages: ids.map((orderId) => ({ key: orderId, value: encodeOrder({ orderId, product, price: 1 }) })) });
    await eventually(
      async () => {
        const s = await client.getStats({});
        return s.messagesProcessed - statsBefore.messagesProcessed + (s.messagesSentToDlq - statsBefore.messagesSentToDlq) === 500;
      },
      { timeoutMs: 30_000, message: 'every order counted or dead-lettered' },
    );
    const s = await client.getStats({});
    const counted = s.messagesProcessed - statsBefore.messagesProcessed;
    const dead = s.messagesSentToDlq - statsBefore.messagesSentToDlq;
    // 0.3 ^ 4 of 500: about 4 give up; about 150 need a retry.
    assert.ok(s.messagesRetried - statsBefore.messagesRetried > 50, `retries were made (${s.messagesRetried - statsBefore.messagesRetried})`);
    assert.ok(dead < 30, `few fail all four attempts (${dead})`);
    const a = await client.getAggregate({ product });
    assert.equal(a.count, counted);
    assert.equal(a.total, String(counted));
    await eventually(() => dlq.messages.length - dlqBefore === dead, { timeoutMs: 10_000, message: `${dead} dead letters` });
    const deadIds = new Set(dlq.messages.slice(dlqBefore).map((m) => m.key?.toString()));
    assert.equal(deadIds.size, dead, 'each dead order once');
    for (const id of deadIds) assert.ok(ids.includes(String(id)));
  } finally {
    await stack.proc('flaky').stop();
  }
});

test('WatchAggregates starts with the current aggregate and streams each change', async () => {
  await stack.start('order-aggregator', { as: 'watched', env: { ORDERS_WATCH_INTERVAL: '50ms' } });
  try {
    const product = `watched-${randomUUID().slice(0, 8)}`;
    const send = (price) => {
      const orderId = randomUUID();
      return producer.send({ topic: TOPICS.orders, messages: [{ key: orderId, value: encodeOrder({ orderId, product, price }) }] });
    };
    await send(1);
    const client = stack.client('order-aggregator', 'watched');
    await eventually(() => client.getAggregate({ product }).catch(() => undefined), { timeoutMs: 20_000, message: 'first order counted' });
    const call = client.raw.watchAggregates(ordersV1.WatchAggregatesRequest.fromPartial({ products: [product] }));
    /** @type {Array<import('@pipewright/proto').ordersV1.Aggregate>} */
    const seen = [];
    call.on('data', (a) => seen.push(a));
    call.on('error', () => undefined);
    await eventually(() => seen.length >= 1, { timeoutMs: 10_000, message: 'the current aggregate' });
    assert.equal(seen[0].total, '1');
    await send(2);
    await eventually(() => seen.some((a) => a.total === '3'), { timeoutMs: 10_000, message: 'the change after the second order' });
    await send(4);
    await eventually(() => seen.some((a) => a.total === '7' && a.count === 3), { timeoutMs: 10_000, message: 'the change after the third order' });
    assert.ok(seen.every((a) => a.product === product), 'only the product asked for');
    call.cancel();
  } finally {
    await stack.proc('watched').stop();
  }
});
