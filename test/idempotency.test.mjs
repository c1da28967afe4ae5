// An idempotency key blocks a second job only inside its window (SCHEDULER_IDEMPOTENCY_WINDOW);
// once the window has passed the key schedules a new job, and expired keys can be deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startStack, eventually, sleep } from '@pipewright/testkit';
import { deleteExpiredKeys } from '../services/scheduler/dist/store.js';

const WINDOW_MS = 2000;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;
/** @type {import('@pipewright/testkit').SchedulerClient} */
let scheduler;

before(async () => {
  stack = await startStack({ services: ['ingest-gateway', 'scheduler'], envFor: { scheduler: { SCHEDULER_IDEMPOTENCY_WINDOW: `${WINDOW_MS / 1000}s` } } });
  gateway = stack.client('ingest-gateway');
  scheduler = stack.client('scheduler');
});

after(async () => stack?.stop());

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const jobsWithKey = (key) => stack.query('SELECT id FROM scheduler.jobs WHERE idempotency_key = $1 ORDER BY created_at', [key]);

test('inside the window a second job with the key is dropped and counted; after it the key schedules again', async () => {
  const key = `invoice-${Date.now()}`;
  const before = (await scheduler.getStats()).duplicatesSkipped;
  const first = await gateway.scheduleJob({ appName: 'sms', scheduledTime: inAnHour(), idempotencyKey: key });
  await eventually(async () => (await jobsWithKey(key)).length === 1, { message: 'first job stored' });
  await gateway.scheduleJob({ appName: 'sms', scheduledTime: inAnHour(), idempotencyKey: key });
  await eventually(async () => Number((await scheduler.getStats()).duplicatesSkipped) === Number(before) + 1, { message: 'duplicate counted' });
  assert.equal((await jobsWithKey(key)).length, 1, 'still one job');

  await sleep(WINDOW_MS + 500);
  const third = await gateway.scheduleJob({ appName: 'sms', scheduledTime: inAnHour(), idempotencyKey: key });
  const rows = await eventually(async () => {
    const r = await jobsWithKey(key);
    return r.length === 2 && r;
  }, { message: 'a new job once the window has passed' });
  assert.notEqual(third.requestId, first.requestId);
  assert.equal(Number((await scheduler.getStats()).duplicatesSkipped), Number(before) + 1, 'not counted as a duplicate');
  assert.equal(new Set(rows.map((r) => r.id)).size, 2);
});

test('expired keys are deleted; keys inside their window are kept', async () => {
  const live = `live-${Date.now()}`;
  await stack.query(
    `INSERT INTO scheduler.idempotency_keys (key, job_id, expires_at) VALUES
       ($1, gen_random_uuid(), now() + interval '1 hour'),
       ('old-1', gen_random_uuid(), now() - interval '1 hour'),
       ('old-2', gen_random_uuid(), now() - interval '1 minute')`,
    [live],
  );
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, options: '-c search_path=scheduler' });
  try {
    assert.ok((await deleteExpiredKeys(pool)) >= 2);
  } finally {
    await pool.end();
  }
  const keys = (await stack.query('SELECT key FROM scheduler.idempotency_keys')).map((r) => r.key);
  assert.ok(keys.includes(live), 'a key inside its window stays');
  assert.ok(!keys.includes('old-1') && !keys.includes('old-2'), 'expired keys are gone');
});
