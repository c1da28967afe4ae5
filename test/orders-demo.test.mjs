// npm run orders-demo against a running gateway and aggregator: the orders it prints are sent,
// its bad messages reach orders-dlq, the aggregator's failed attempts are retried, and the
// aggregates and stats it prints at the end are what the aggregator holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startOrderStack, ROOT } from '@pipewright/testkit';

/** @type {import('@pipewright/testkit').OrderStack} */
let started;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').OrdersClient} */
let orders;

before(async () => {
  // Half of the processing attempts fail: retries show, and a few orders fail all four.
  started = await startOrderStack({ services: ['ingest-gateway', 'order-aggregator'], envFor: { 'order-aggregator': { ORDERS_FAILURE_RATE: '0.5', ORDERS_RETRY_BACKOFF: '20ms,20ms,20ms' } } });
  ({ stack } = started);
  orders = stack.client('order-aggregator');
});
after(async () => started?.stop());

/** Runs the demo against the stack; resolves with what it printed (it exits 0). */
async function demo(...args) {
  const addresses = ['--gateway', stack.address('ingest-gateway'), '--aggregator', stack.address('order-aggregator'), '--brokers', stack.brokers];
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'orders-demo.mjs'), ...addresses, ...args], {
    cwd: ROOT,
    timeout: 120_000,
    env: { ...process.env, PIPEWRIGHT_HOME: join(stack.workDir, 'no-local-run') },
  });
  return stdout;
}

const fields = (a) => ({ count: Number(a.count), quantity: Number(a.quantity), total: a.total, average: a.average, min: a.min, max: a.max });

/** The aggregates and stats the demo printed at the end. */
function readBack(out) {
  const overall = /^GetAggregate \(all products\): orders (\d+) {2}quantity (\d+) {2}total (\S+) {2}average (\S+) {2}min (\S+) {2}max (\S+)$/m.exec(out);
  assert.ok(overall, `the overall aggregate is printed:\n${out}`);
  const [, count, quantity, total, average, min, max] = overall;
  const lines = out.split('\n');
  const from = lines.indexOf('ListAggregates by total:') + 2;
  const to = lines.findIndex((l) => l.startsWith('GetStats:'));
  assert.ok(from > 1 && to > from, `the aggregates by total are printed:\n${out}`);
  const list = lines.slice(from, to).map((l) => {
    const [product, c, q, t, avg, mn, mx] = l.trim().split(/\s+/);
    return { product, ...fields({ count: c, quantity: q, total: t, average: avg, min: mn, max: mx }) };
  });
  const stats = /^GetStats: processed (\d+) {2}retried (\d+) {2}sent to DLQ (\d+) {2}duplicates (\d+) {2}late (\d+)$/m.exec(out);
  assert.ok(stats, `the stats are printed:\n${out}`);
  const [messagesProcessed, messagesRetried, messagesSentToDlq, duplicates, late] = stats.slice(1).map(Number);
  return { overall: fields({ count, quantity, total, average, min, max }), list, stats: { messagesProcessed, messagesRetried, messagesSentToDlq, duplicates, late } };
}

/** What the demo printed is what the aggregator holds (nothing else writes to it meanwhile). */
async function assertPrintedIsHeld(out) {
  const shown = readBack(out);
  assert.deepEqual(shown.overall, fields(await orders.getAggregate({ product: '' })));
  const held = await orders.listAggregates({ orderBy: 1, pageSize: 20 });
  assert.deepEqual(
    shown.list,
    held.aggregates.map((a) => ({ product: a.product, ...fields(a) })),
  );
  assert.deepEqual(shown.stats, await orders.getStats({}));
  return shown;
}

test('through the gateway with bad messages: every order sent is printed, the bad ones reach orders-dlq, failed attempts are retried, and the printed aggregates are the held ones', async () => {
  const out = await demo('--count', '30', '--rate', '100', '--batch', '5', '--failure-rate', '0.2');
  const sent = out.split('\n').filter((l) => /^ +\d+ {2}[0-9a-f-]{36} {2}/.test(l));
  assert.equal(sent.length, 30, out);
  const bad = sent.filter((l) => l.includes(' bad: '));
  for (const l of sent) assert.match(l, l.includes(' bad: ') ? /-> orders \(Kafka\)$/ : /-> orders\[\d+\]@\d+$/);
  const dead = out.split('\n').filter((l) => l.startsWith('  dead letter  '));
  assert.ok(dead.length >= bad.length, `each bad message is shown as a dead letter:\n${out}`);
  for (const l of bad) {
    const id = l.trim().split(/\s+/)[1];
    assert.ok(
      dead.some((d) => d.includes(id) && / attempts 1: /.test(d)),
      `${id} is in orders-dlq at the first attempt`,
    );
  }
  const shown = await assertPrintedIsHeld(out);
  assert.ok(shown.stats.messagesRetried > 0, 'the aggregator retried failed attempts');
  assert.equal(shown.stats.messagesProcessed + shown.stats.messagesSentToDlq, 30);
  assert.match(out, /^exact: the aggregates grew by the \d+ orders sent and not dead-lettered, totalling [\d.]+$/m);
});

test('straight to Kafka as plain Avro: counted exactly, and the printed aggregates are the held ones', async () => {
  const out = await demo('--via', 'kafka', '--count', '10', '--rate', '100');
  assert.equal(out.split('\n').filter((l) => /-> orders \(Kafka\)$/.test(l)).length, 10, out);
  await assertPrintedIsHeld(out);
  assert.match(out, /^exact: /m);
});

test('a demo that finds nothing answering says what to do in one line', async () => {
  const run = promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'orders-demo.mjs'), '--gateway', '127.0.0.1:1'], { cwd: ROOT, timeout: 30_000 });
  await assert.rejects(run, (err) => {
    assert.equal(/** @type {any} */ (err).code, 1);
    assert.match(/** @type {any} */ (err).stderr, /^\[orders-demo\] nothing answers at 127\.0\.0\.1:1 \(ingest-gateway: no answer\): start the system with npm start in another terminal, or pass --gateway host:port\n$/);
    return true;
  });
});
