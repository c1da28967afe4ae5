// The aggregator's batch planning and retries, as plain functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBatch, processWithRetries, windowStart } from '../dist/aggregate.js';

const MIN = 60_000;
const order = (orderId, createdAt, price = 1) => ({ order: { orderId, product: 'p', price, quantity: 1, currency: 'USD', createdAt }, recordTime: 0 });

test('windows are aligned to the epoch and hold [start, end)', () => {
  assert.equal(windowStart(Date.parse('2031-01-01T10:00:59.999Z'), MIN), Date.parse('2031-01-01T10:00:00Z'));
  assert.equal(windowStart(Date.parse('2031-01-01T10:01:00.000Z'), MIN), Date.parse('2031-01-01T10:01:00Z'));
});

test('an order is late for a window once stream time reaches the window end plus grace, and is still counted', () => {
  const t = Date.parse('2031-01-01T10:00:00Z');
  const plan = planBatch([order('a', t + 30_000), order('b', t + 5 * MIN), order('c', t + 30_000), order('d', t + 3 * MIN + 1)], { streamTime: null, windowSizes: [MIN], graceMs: 2 * MIN });
  // b moves stream time to 10:05: c's window [10:00, 10:01) plus 2m closed at 10:03; d's
  // [10:03, 10:04) stays open until 10:06.
  assert.deepEqual(plan.orders.map((o) => o.lateFor), [0, 0, 1, 0]);
  assert.equal(plan.late, 1);
  assert.equal(plan.orders.length, 4);
  assert.equal(plan.streamTime, t + 5 * MIN);
});

test('stream time carries over from the stored one, and a record time stands in for a missing createdAt', () => {
  const plan = planBatch([{ ...order('a', null), recordTime: 1000 }], { streamTime: 10 * MIN, windowSizes: [MIN], graceMs: 0 });
  assert.equal(plan.orders[0].at, 1000);
  assert.equal(plan.orders[0].lateFor, 1, 'late: its window ended long before the stored stream time');
  assert.equal(plan.streamTime, 10 * MIN);
});

test('an orderId twice in one batch is counted once', () => {
  const plan = planBatch([order('a', 1), order('a', 2), order('b', 3)], { streamTime: null, windowSizes: [], graceMs: 0 });
  assert.deepEqual(plan.orders.map((o) => o.orderId), ['a', 'b']);
  assert.equal(plan.inBatchDuplicates, 1);
});

test('lateness is per window size: an order can be late for its minute and on time for its hour', () => {
  const t = Date.parse('2031-01-01T10:00:00Z');
  const plan = planBatch([order('a', t + 10 * MIN), order('b', t + MIN)], { streamTime: null, windowSizes: [MIN, 60 * MIN], graceMs: MIN });
  assert.deepEqual(plan.orders.map((o) => o.lateFor), [0, 0b01]);
  assert.equal(plan.late, 1);
});

test('a failing step is retried after each wait, and one failing every attempt is given up with its attempts', async () => {
  const waits = [];
  const tries = new Map();
  const step = (x) => {
    tries.set(x, (tries.get(x) ?? 0) + 1);
    if (x === 'never' || (x === 'second' && tries.get(x) < 2)) throw new Error(`${x} failed`);
  };
  const r = await processWithRetries(['ok', 'second', 'never'], step, [200, 400, 800], async (ms) => void waits.push(ms));
  assert.deepEqual(waits, [200, 400, 800]);
  assert.deepEqual(r.failed.map((f) => [f.item, f.attempts, f.error.message]), [['never', 4, 'never failed']]);
  assert.equal(r.retries, 4, 'second once, never three times');
  assert.deepEqual([...tries], [['ok', 1], ['second', 2], ['never', 4]]);
});
