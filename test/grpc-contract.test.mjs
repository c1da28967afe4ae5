// How services answer bad requests and missing settings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import grpc from '@grpc/grpc-js';
import { TOPICS } from '@pipewright/contracts';
import { ingestV1, monitorV1 } from '@pipewright/proto';
import { startStack, tapTopic, eventually, messageJson, grpcError, ROOT } from '@pipewright/testkit';

const { status } = grpc;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
before(async () => {
  stack = await startStack({ services: ['ingest-gateway', 'scheduler', 'order-aggregator', 'monitor'] });
});
after(async () => stack?.stop());

test('ScheduleJob without app_name is INVALID_ARGUMENT naming the field', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(gw.scheduleJob({}), grpcError(status.INVALID_ARGUMENT, /^app_name: is required/));
});

test('ScheduleJob with an unparseable time names scheduled_time', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(gw.scheduleJob({ appName: 'sms', scheduledTime: 'tomorrow-ish' }), grpcError(status.INVALID_ARGUMENT, /^scheduled_time:/));
});

test('ScheduleJob with a cron that never matches a date is INVALID_ARGUMENT naming schedule.cron, as the scheduler would refuse it', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(
    gw.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ appName: 'sms', schedule: { cron: '0 0 31 2 *', timezone: 'Europe/London' } })),
    grpcError(status.INVALID_ARGUMENT, 'schedule.cron: "0 0 31 2 *" never matches a date'),
  );
});

test('ScheduleJob whose schedule has no occurrence between startAt and endAt is INVALID_ARGUMENT naming end_at', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(
    gw.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ appName: 'sms', schedule: { cron: '0 0 9 * * *', timezone: 'UTC' }, startAt: '2030-06-15T10:00:00Z', endAt: '2030-06-15T10:01:00Z' })),
    grpcError(status.INVALID_ARGUMENT, 'end_at: the schedule has no occurrence between startAt and endAt'),
  );
});

test('ScheduleJob with a non-ASCII app name says ASCII', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(gw.scheduleJob({ appName: 'café' }), grpcError(status.INVALID_ARGUMENT, 'app_name: may contain only ASCII letters, digits, ".", "_" and "-"'));
});

test('ScheduleJob for an app the registry does not have is INVALID_ARGUMENT naming app_name', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(gw.scheduleJob({ appName: 'fax' }), grpcError(status.INVALID_ARGUMENT, /^app_name: unknown app "fax"/));
});

test('ScheduleJobs names the index of the bad job and publishes none', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(
    gw.scheduleJobs({ jobs: [ingestV1.ScheduleJobRequest.fromPartial({ appName: 'sms' }), ingestV1.ScheduleJobRequest.fromPartial({})] }),
    grpcError(status.INVALID_ARGUMENT, /^jobs\[1\]\.app_name: is required/),
  );
});

test('ScheduleJob over INGEST_MAX_JOB_BYTES (1,000,000) is INVALID_ARGUMENT naming job_data', async () => {
  const gw = stack.client('ingest-gateway');
  await assert.rejects(
    gw.scheduleJob({ appName: 'sms', jobData: { blob: 'x'.repeat(1_000_000) } }),
    grpcError(status.INVALID_ARGUMENT, /^job_data: the job request is \d+ bytes; the limit is 1000000/),
  );
});

test('ScheduleJobs larger than one Kafka request (30 jobs of 60 KB with one partition key) is accepted whole, in order', async () => {
  const gw = stack.client('ingest-gateway');
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
  const ingest = await tapTopic(stack.kafka, TOPICS.jobsIngest);
  try {
    const gw = stack.client('ingest-gateway');
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
      const body = messageJson(m);
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
  const s = stack.client('scheduler');
  await assert.rejects(s.getJob({ jobId: '00000000-0000-4000-8000-000000000000' }), grpcError(status.NOT_FOUND));
  await assert.rejects(s.getJob({ jobId: '' }), grpcError(status.INVALID_ARGUMENT, /job_id/));
});

test('GetPipelineStatus without a run id is INVALID_ARGUMENT naming run_id; of a run the monitor never heard of, NOT_FOUND', async () => {
  const monitor = stack.client('monitor');
  await assert.rejects(monitor.getPipelineStatus({ runId: '' }), grpcError(status.INVALID_ARGUMENT, 'run_id: is required'));
  await assert.rejects(monitor.getPipelineStatus({ runId: `never-${randomUUID()}` }), grpcError(status.NOT_FOUND));
});

test('WatchPipeline without a run id ends its stream with INVALID_ARGUMENT at once', async () => {
  const monitor = stack.client('monitor');
  const call = monitor.raw.watchPipeline(monitorV1.GetPipelineStatusRequest.fromPartial({}), { deadline: Date.now() + 10_000 });
  const started = Date.now();
  /** @type {Error & { code?: number, details?: string }} */
  const err = await new Promise((resolve) => {
    call.on('data', () => resolve(new Error('a message arrived')));
    call.on('error', resolve);
    call.on('end', () => resolve(new Error('the stream ended without a status error')));
  });
  monitor.close();
  assert.equal(err.code, status.INVALID_ARGUMENT, err.message);
  assert.equal(err.details, 'run_id: is required');
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
