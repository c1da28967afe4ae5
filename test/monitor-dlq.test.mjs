// Dead letters through the monitor, on the real broker and database: jobs for an app the
// registry does not have go from scheduler.jobs.ingest to scheduler.jobs.dlq; the monitor counts
// them, shows them (JSON as JSON, orders as their fields, other bytes as bytes) and lists them
// among the recent errors; once the app is in the registry, replaying them schedules the jobs
// and they run; replaying the same offsets again sends nothing unless forced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { TOPICS, encodeOrder } from '@pipewright/contracts';
import { monitorV1, schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, tapTopic, writeAppsFile, recordingApp, executionsPerJob, groupsToEnd, grpcError, messageJson, MONITOR_GROUPS } from '@pipewright/testkit';
import { ensureGrpcurl, grpcurl } from '../scripts/lib/grpcurl.mjs';

const { PayloadEncoding, ReplayOutcome } = monitorV1;
const tag = randomUUID().slice(0, 8);
const APP = `replayable-${tag}`;
const RECORDS = `monitor-dlq-${tag}.executions`;
const JOBS = 3;

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').MonitorClient} */
let monitor;
/** @type {import('kafkajs').Producer} */
let producer;
/** @type {import('@pipewright/testkit').Tap} */
let executions;
/** @type {import('@pipewright/testkit').Tap} */
let ingest;
/** @type {string[]} */
const requestIds = Array.from({ length: JOBS }, () => randomUUID());
const orderId = `order-${tag}`;
const raw = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]);

const startMonitor = () => stack.start('monitor', { env: { MONITOR_SERVICES: `scheduler=${stack.address('scheduler')}`, MONITOR_LAG_INTERVAL: '500ms', MONITOR_REPLAY_RATE: '50' } });

before(async () => {
  stack = await startStack();
  // The broker is shared with the other test files: the scheduler and the monitor read only what this one sends.
  await groupsToEnd(stack.kafka, [
    { groupId: 'scheduler.ingest', topic: TOPICS.jobsIngest },
    ...MONITOR_GROUPS,
  ]);
  // The executor knows the app from the start; the scheduler only once it is added to its registry.
  await stack.start('executor', { env: { APPS_CONFIG: writeAppsFile({ [APP]: recordingApp(RECORDS) }) } });
  await stack.start('scheduler');
  await startMonitor();
  monitor = stack.client('monitor');
  producer = stack.kafka.producer();
  await producer.connect();
  executions = await tapTopic(stack.kafka, RECORDS);
  ingest = await tapTopic(stack.kafka, TOPICS.jobsIngest);
});

after(async () => {
  await executions?.stop();
  await ingest?.stop();
  await producer?.disconnect();
  await stack?.stop();
});

const soon = () => new Date(Date.now() + 1000).toISOString();

/** The monitor's dead letters of this file in one DLQ topic, all pages. */
async function deadLetters(dlqTopic, filter = {}) {
  const all = [];
  let pageToken = '';
  do {
    const page = await monitor.listDeadLetters({ dlqTopic, pageSize: 2, pageToken, ...filter });
    all.push(...page.deadLetters);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}

test('poison jobs on scheduler.jobs.ingest show in the DLQ counts and in browse, decoded and filtered, and among the recent errors', async () => {
  await producer.send({
    topic: TOPICS.jobsIngest,
    acks: -1,
    messages: [
      ...requestIds.map((requestId, i) => ({ key: requestId, value: JSON.stringify({ requestId, appName: APP, scheduledTime: soon(), jobData: { label: tag, i } }), headers: { 'test-tag': tag } })),
      { key: `raw-${tag}`, value: raw, headers: { 'test-tag': tag } },
    ],
  });
  // An order the aggregator gave up on, as it writes them: the original Avro bytes with the dead-letter headers.
  await producer.send({
    topic: TOPICS.ordersDlq,
    acks: -1,
    messages: [
      {
        key: orderId,
        value: encodeOrder({ orderId, product: `p-${tag}`, price: 2.5, quantity: 2 }),
        headers: { 'original-topic': TOPICS.orders, 'original-partition': '0', 'original-offset': '7', 'error-message': `invalid order ${tag}`, 'error-timestamp': new Date().toISOString() },
      },
    ],
  });

  const counts = await eventually(
    async () => {
      const c = await monitor.getDlqCounts({ bucket: '1m' });
      // The depth is the topic's, read every MONITOR_LAG_INTERVAL.
      const depth = c.topics.find((t) => t.topic === TOPICS.jobsIngestDlq)?.depth ?? 0;
      return c.counts[TOPICS.jobsIngestDlq] === JOBS + 1 && c.counts[TOPICS.ordersDlq] === 1 && depth >= JOBS + 1 && c;
    },
    { message: 'the dead letters counted, and in the depth of the topic' },
  );
  const jobsDlq = counts.topics.find((t) => t.topic === TOPICS.jobsIngestDlq);
  assert.ok(jobsDlq);
  assert.equal(jobsDlq.count, JOBS + 1);
  const unknown = jobsDlq.byError.find((e) => e.errorMessage.includes(`unknown app "${APP}"`));
  assert.equal(unknown?.count, JOBS, 'grouped by error message');
  assert.equal(
    jobsDlq.overTime.reduce((n, b) => n + b.count, 0),
    JOBS + 1,
    'all of them in the buckets of the last day',
  );
  assert.ok(jobsDlq.overTime.length >= 24 * 60, 'one bucket a minute, empty ones included');

  const jobs = await deadLetters(TOPICS.jobsIngestDlq, { errorContains: `UNKNOWN APP "${APP}"` });
  assert.equal(jobs.length, JOBS, 'filtered by error text, case-insensitive, over pages of 2');
  for (const d of jobs) {
    assert.equal(d.encoding, PayloadEncoding.PAYLOAD_ENCODING_JSON);
    assert.equal(d.json.appName, APP);
    assert.ok(requestIds.includes(d.json.requestId));
    assert.equal(d.keyText, d.json.requestId);
    assert.equal(d.originalTopic, TOPICS.jobsIngest);
    assert.ok(d.originalOffset >= 0);
    assert.deepEqual(
      d.headers.find((h) => h.name === 'test-tag'),
      { name: 'test-tag', value: tag, binary: false },
    );
    assert.equal(d.replay, undefined, 'never replayed');
  }
  const [binary] = await deadLetters(TOPICS.jobsIngestDlq, { errorContains: 'JSON', originalTopic: TOPICS.jobsIngest, from: new Date(Date.now() - 60_000) });
  assert.equal(binary?.encoding, PayloadEncoding.PAYLOAD_ENCODING_BINARY);
  assert.deepEqual(Buffer.from(binary.raw ?? []), raw);
  const [order] = await deadLetters(TOPICS.ordersDlq, { errorContains: tag });
  assert.equal(order?.encoding, PayloadEncoding.PAYLOAD_ENCODING_AVRO_ORDER);
  assert.deepEqual({ orderId: order.json.orderId, price: order.json.price, quantity: order.json.quantity }, { orderId, price: 2.5, quantity: 2 });
  assert.deepEqual(await deadLetters(TOPICS.jobsIngestDlq, { errorContains: tag, to: new Date(Date.now() - 3_600_000) }), [], 'none before the time range');

  const { errors } = await monitor.listRecentErrors({ limit: 100 });
  const mine = errors.filter((e) => requestIds.includes(e.requestId));
  assert.equal(mine.length, JOBS);
  for (const e of mine) {
    assert.equal(e.service, 'scheduler');
    assert.equal(e.topic, TOPICS.jobsIngestDlq);
    assert.ok(e.deadLetter);
    assert.match(e.message, new RegExp(`unknown app "${APP}"`));
  }
  assert.equal(errors.find((e) => e.orderId === orderId)?.service, 'order-aggregator');
});

test('once the app is in the registry, replaying the dead letters schedules the jobs and they run; the same offsets again send nothing', async () => {
  await stack.proc('scheduler').stop();
  await stack.start('scheduler', { env: { APPS_CONFIG: writeAppsFile({ [APP]: recordingApp(RECORDS) }) } });

  const first = await monitor.replayDeadLetters({ dlqTopic: TOPICS.jobsIngestDlq, errorContains: APP });
  assert.equal(first.replayed, JOBS);
  assert.equal(first.skipped, 0);
  for (const r of first.results) {
    assert.equal(r.outcome, ReplayOutcome.REPLAY_OUTCOME_SENT);
    assert.equal(r.targetTopic, TOPICS.jobsIngest, 'back to the topic of its original-topic header');
    assert.ok(r.targetOffset >= 0);
  }

  const replayed = await eventually(() => {
    const m = ingest.messages.filter((x) => x.headersText['pipewright-replayed-from']?.startsWith(`${TOPICS.jobsIngestDlq}/`) && x.headersText['test-tag'] === tag);
    return m.length === JOBS && m;
  });
  for (const m of replayed) {
    assert.ok(requestIds.includes(messageJson(m).requestId), 'the original bytes');
    assert.equal(m.headersText['error-message'], undefined, 'without the dead-letter headers');
    const [topic, partition, offset] = m.headersText['pipewright-replayed-from'].split('/');
    assert.ok(first.results.some((r) => topic === TOPICS.jobsIngestDlq && r.partition === Number(partition) && r.offset === Number(offset)));
  }

  await eventually(() => executionsPerJob(executions.messages, tag).size === JOBS, { timeoutMs: 60_000, message: 'every replayed job run' });
  const scheduler = stack.client('scheduler');
  for (const id of requestIds) await eventually(async () => (await scheduler.getJob({ jobId: id })).status === schedulerV1.JobStatus.JOB_STATUS_DONE, { message: `job ${id} DONE` });

  const again = await monitor.replayDeadLetters({ dlqTopic: TOPICS.jobsIngestDlq, errorContains: APP });
  assert.equal(again.replayed, 0, 'nothing sent twice');
  assert.equal(again.skipped, JOBS);
  for (const r of again.results) {
    assert.equal(r.outcome, ReplayOutcome.REPLAY_OUTCOME_ALREADY_REPLAYED);
    assert.equal(r.previous?.state, 'sent');
  }
  const listed = await deadLetters(TOPICS.jobsIngestDlq, { errorContains: APP });
  assert.ok(listed.every((d) => d.replay?.state === 'sent' && d.replay.times === 1 && d.replay.targetTopic === TOPICS.jobsIngest));
});

test('force replays a dead letter again; chosen offsets that are not dead letters are NOT_FOUND', async () => {
  const [one] = await deadLetters(TOPICS.jobsIngestDlq, { errorContains: APP });
  const forced = await monitor.replayDeadLetters({
    dlqTopic: TOPICS.jobsIngestDlq,
    messages: [
      { partition: one.partition, offset: one.offset },
      { partition: one.partition, offset: 999_999_999 },
    ],
    force: true,
  });
  assert.equal(forced.replayed, 1);
  assert.deepEqual(
    forced.results.map((r) => r.outcome),
    [ReplayOutcome.REPLAY_OUTCOME_SENT, ReplayOutcome.REPLAY_OUTCOME_NOT_FOUND],
  );
  const [after] = (await deadLetters(TOPICS.jobsIngestDlq, { errorContains: APP })).filter((d) => d.offset === one.offset && d.partition === one.partition);
  assert.equal(after.replay?.times, 2);
  await eventually(() => ingest.messages.filter((x) => x.headersText['pipewright-replayed-from'] === `${TOPICS.jobsIngestDlq}/${one.partition}/${one.offset}`).length === 2, { message: 'sent a second time' });
});

test("docs/monitor.md's grpcurl calls work through reflection: the payload shows as JSON, the replay of a replayed dead letter sends nothing", () => {
  const bin = ensureGrpcurl();
  const call = (method, data) => {
    const r = grpcurl(bin, stack.address('monitor'), [`pipewright.monitor.v1.Monitor/${method}`], { data });
    assert.equal(r.status, 0, `${method}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const counts = call('GetDlqCounts', { bucket: '1h' });
  assert.equal(counts.counts[TOPICS.jobsIngestDlq], String(JOBS + 1), 'int64 as JSON text');
  const page = call('ListDeadLetters', { dlq_topic: TOPICS.jobsIngestDlq, error_contains: APP, page_size: 10 });
  assert.equal(page.deadLetters.length, JOBS);
  assert.equal(page.deadLetters[0].encoding, 'PAYLOAD_ENCODING_JSON');
  assert.equal(page.deadLetters[0].json.appName, APP, 'the payload as JSON, not bytes');
  const [binary] = call('ListDeadLetters', { dlq_topic: TOPICS.jobsIngestDlq, error_contains: 'JSON' }).deadLetters;
  assert.equal(binary.raw, raw.toString('base64'));
  const replay = call('ReplayDeadLetters', { dlq_topic: TOPICS.jobsIngestDlq, error_contains: APP });
  assert.equal(replay.replayed ?? 0, 0);
  assert.ok(replay.results.every((r) => r.outcome === 'REPLAY_OUTCOME_ALREADY_REPLAYED'));
  assert.ok(call('ListRecentErrors', { limit: 20 }).errors.some((e) => e.service === 'scheduler'));
  assert.ok(call('GetOverview', {}).services.some((x) => x.service === 'scheduler'));
});

test('a replay names a DLQ topic, and a target topic that exists', async () => {
  await assert.rejects(monitor.replayDeadLetters({ dlqTopic: '' }), grpcError(status.INVALID_ARGUMENT, /dlq_topic: is required/));
  await assert.rejects(monitor.replayDeadLetters({ dlqTopic: TOPICS.jobsIngest }), grpcError(status.INVALID_ARGUMENT, /dlq_topic: must be one of/));
  await assert.rejects(monitor.replayDeadLetters({ dlqTopic: TOPICS.jobsIngestDlq, targetTopic: `no-such-${tag}` }), grpcError(status.INVALID_ARGUMENT, /target_topic/));
  await assert.rejects(monitor.listDeadLetters({ pageToken: 'nonsense' }), grpcError(status.INVALID_ARGUMENT, /page_token/));
  await assert.rejects(monitor.getDlqCounts({ bucket: 'soon' }), grpcError(status.INVALID_ARGUMENT, /bucket/));
});

test('the replay records survive a restart of the monitor', async () => {
  await stack.proc('monitor').stop();
  await startMonitor();
  monitor = stack.client('monitor');
  const again = await monitor.replayDeadLetters({ dlqTopic: TOPICS.jobsIngestDlq, errorContains: APP });
  assert.equal(again.replayed, 0);
  assert.equal(again.skipped, JOBS);
});
