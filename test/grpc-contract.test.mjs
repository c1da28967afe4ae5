// How services answer bad requests and missing settings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startStack, tapTopic, eventually } from './helpers/stack.mjs';
import { clients, grpc } from '../scripts/lib/clients.mjs';
import { ROOT } from '../scripts/lib/system.mjs';
import { createRequire } from 'node:module';

const { ingestV1 } = createRequire(import.meta.url)('@pipewright/proto');

let stack;
before(async () => {
  stack = await startStack({ services: ['ingest-gateway', 'scheduler', 'order-aggregator', 'monitor'] });
});
after(async () => stack?.stop());

const code = (name) => grpc.status[name];

test('ScheduleJob without app_name is INVALID_ARGUMENT naming the field', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(gw.scheduleJob({}), (err) => err.code === code('INVALID_ARGUMENT') && /^app_name: is required/.test(err.details));
});

test('ScheduleJob with an unparseable time names scheduled_time', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(gw.scheduleJob({ appName: 'sms', scheduledTime: 'tomorrow-ish' }), (err) => err.code === code('INVALID_ARGUMENT') && /^scheduled_time:/.test(err.details));
});

test('ScheduleJob with a cron that never matches a date is INVALID_ARGUMENT naming schedule.cron, as the scheduler would refuse it', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(
    gw.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ appName: 'sms', schedule: { cron: '0 0 31 2 *', timezone: 'Europe/London' } })),
    (err) => err.code === code('INVALID_ARGUMENT') && err.details === 'schedule.cron: "0 0 31 2 *" never matches a date',
  );
});

test('ScheduleJob whose schedule has no occurrence between startAt and endAt is INVALID_ARGUMENT naming end_at', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(
    gw.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ appName: 'sms', schedule: { cron: '0 0 9 * * *', timezone: 'UTC' }, startAt: '2030-06-15T10:00:00Z', endAt: '2030-06-15T10:01:00Z' })),
    (err) => err.code === code('INVALID_ARGUMENT') && err.details === 'end_at: the schedule has no occurrence between startAt and endAt',
  );
});

test('ScheduleJob with a non-ASCII app name says ASCII', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(gw.scheduleJob({ appName: 'café' }), (err) => err.code === code('INVALID_ARGUMENT') && err.details === 'app_name: may contain only ASCII letters, digits, ".", "_" and "-"');
});

test('ScheduleJob for an app the registry does not have is INVALID_ARGUMENT naming app_name', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(gw.scheduleJob({ appName: 'fax' }), (err) => err.code === code('INVALID_ARGUMENT') && /^app_name: unknown app "fax"/.test(err.details));
});

test('ScheduleJobs names the index of the bad job and publishes none', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(
    gw.scheduleJobs({ jobs: [ingestV1.ScheduleJobRequest.fromPartial({ appName: 'sms' }), ingestV1.ScheduleJobRequest.fromPartial({})] }),
    (err) => err.code === code('INVALID_ARGUMENT') && /^jobs\[1\]\.app_name: is required/.test(err.details),
  );
});

test('ScheduleJob over INGEST_MAX_JOB_BYTES (1,000,000) is INVALID_ARGUMENT naming job_data', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(
    gw.scheduleJob({ appName: 'sms', jobData: { blob: 'x'.repeat(1_000_000) } }),
    (err) => err.code === code('INVALID_ARGUMENT') && /^job_data: the job request is \d+ bytes; the limit is 1000000/.test(err.details),
  );
});

test('ScheduleJobs larger than one Kafka request (30 jobs of 60 KB with one partition key) is accepted whole, in order', async () => {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  const scheduledTime = new Date(Date.now() + 86_400_000).toISOString();
  const blob = 'x'.repeat(60_000);
  const partitionKey = `bulk-${randomUUID()}`;
  const res = await gw.scheduleJobs({ jobs: Array.from({ length: 30 }, (_, i) => ingestV1.ScheduleJobRequest.fromPartial({ appName: 'sms', scheduledTime, partitionKey, jobData: { i, blob } })) }, { deadlineMs: 30_000 });
  assert.equal(res.jobs.length, 30);
  assert.equal(new Set(res.jobs.map((j) => j.partition)).size, 1, 'one key, one partition');
  const offsets = res.jobs.map((j) => Number(j.offset));
  assert.deepEqual(offsets, offsets.map((_, i) => offsets[0] + i), 'consecutive offsets, in the order given');
});

test('ScheduleJobs answers each job\'s own partition and offset; jobs with one partition key keep their order, the others spread over partitions', async () => {
  const ingest = await tapTopic(stack.kafka, 'scheduler.jobs.ingest');
  try {
    const gw = clients.gateway(stack.address('ingest-gateway'));
    // Jobs without a partition key are keyed by idempotency key, else request id; the ones
    // given the partition key "ordered" share it.
    const kinds = Array.from({ length: 24 }, (_, i) => (i % 4 === 0 ? 'idempotent' : i % 3 === 0 ? 'plain' : 'ordered'));
    const partitionKey = `ordered-${randomUUID()}`;
    // Due in a day: nothing fires into jobs.due, which later test files' executors consume.
    const scheduledTime = new Date(Date.now() + 86_400_000).toISOString();
    const jobs = kinds.map((kind, i) => ingestV1.ScheduleJobRequest.fromPartial({
      appName: 'sms', scheduledTime, jobData: { i },
      idempotencyKey: kind === 'idempotent' ? `k-${randomUUID()}` : undefined,
      partitionKey: kind === 'ordered' ? partitionKey : undefined,
    }));
    const res = await gw.scheduleJobs({ jobs });
    assert.equal(res.jobs.length, jobs.length);
    await eventually(() => ingest.messages.length >= jobs.length, { message: 'the batch on scheduler.jobs.ingest' });
    for (const [i, r] of res.jobs.entries()) {
      const m = ingest.messages.find((x) => x.partition === r.partition && String(x.offset) === String(r.offset));
      assert.ok(m, `job ${i}: a message at ${r.partition}/${r.offset}`);
      const body = JSON.parse(m.value.toString());
      assert.equal(body.requestId, r.requestId, `job ${i}: the message at its offset is its own`);
      assert.deepEqual(body.jobData, { i });
    }
    const sameKey = res.jobs.filter((_, i) => kinds[i] === 'ordered');
    assert.equal(new Set(sameKey.map((r) => r.partition)).size, 1, 'one key, one partition');
    const spread = new Set(res.jobs.filter((_, i) => kinds[i] !== 'ordered').map((r) => r.partition));
    assert.ok(spread.size > 1, `one app's jobs without a partition key use several partitions: ${[...spread]}`);
    const offsets = sameKey.map((r) => Number(r.offset));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'in the order given');
  } finally {
    await ingest.stop();
  }
});

test('GetJob of an unknown id is NOT_FOUND; an empty id is INVALID_ARGUMENT', async () => {
  const s = clients.scheduler(stack.address('scheduler'));
  await assert.rejects(s.getJob({ jobId: '00000000-0000-4000-8000-000000000000' }), (err) => err.code === code('NOT_FOUND'));
  await assert.rejects(s.getJob({ jobId: '' }), (err) => err.code === code('INVALID_ARGUMENT') && /job_id/.test(err.details));
});

test('methods not built yet answer UNIMPLEMENTED, not fake data', async () => {
  const orders = clients.orders(stack.address('order-aggregator'));
  await assert.rejects(orders.getAggregate({ key: 'x' }), (err) => err.code === code('UNIMPLEMENTED'));
  const gw = clients.gateway(stack.address('ingest-gateway'));
  await assert.rejects(gw.submitOrders({ orders: [] }), (err) => err.code === code('UNIMPLEMENTED'));
});

test('a streaming method not built yet ends its stream with UNIMPLEMENTED at once', async () => {
  const monitor = clients.monitor(stack.address('monitor'));
  const call = monitor.raw.watchPipeline({}, { deadline: Date.now() + 10_000 });
  const started = Date.now();
  const err = await new Promise((resolve) => {
    call.on('data', () => resolve(new Error('a message arrived')));
    call.on('error', resolve);
    call.on('end', () => resolve(new Error('the stream ended without a status error')));
  });
  monitor.close();
  assert.equal(err.code, code('UNIMPLEMENTED'), err.message);
  assert.ok(Date.now() - started < 5000, 'answered before the deadline');
});

test('a service without a required setting stops at start-up naming it', () => {
  const env = { ...process.env };
  delete env.KAFKA_BROKERS;
  delete env.DATABASE_URL;
  const r = spawnSync(process.execPath, ['--require', '@pipewright/platform/register', join('services', 'scheduler', 'dist', 'main.js')], {
    cwd: ROOT,
    env: { ...env, OTEL_SDK_DISABLED: 'true', GRPC_PORT: 'not-a-port', SCHEDULER_DEFAULT_TIMEZONE: 'Europe/Atlantis' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 78);
  assert.match(r.stderr, /KAFKA_BROKERS is required/);
  assert.match(r.stderr, /DATABASE_URL is required/);
  assert.match(r.stderr, /GRPC_PORT is malformed/);
  assert.match(r.stderr, /SCHEDULER_DEFAULT_TIMEZONE is malformed: "Europe\/Atlantis" is not an IANA time zone/);
});
