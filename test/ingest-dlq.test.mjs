// Bad input on scheduler.jobs.ingest, and run status events on jobs.status that the scheduler
// cannot store, go to scheduler.jobs.dlq untouched, with the dead-letter headers, and the
// partition keeps flowing: one bad event never holds up the status of every job behind it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { TOPICS } from '@pipewright/contracts';
import { startStack, eventually, tapTopic, sameBytes } from '@pipewright/testkit';

const { CompressionTypes } = kafkajs;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Producer} */
let producer;
/** @type {import('@pipewright/testkit').Tap} */
let dlq;

before(async () => {
  stack = await startStack({ services: ['scheduler'], envFor: { scheduler: { SCHEDULER_MAX_MESSAGE_BYTES: '2048' } } });
  producer = stack.kafka.producer();
  await producer.connect();
  dlq = await tapTopic(stack.kafka, TOPICS.jobsIngestDlq);
});

after(async () => {
  await dlq?.stop();
  await producer?.disconnect();
  await stack?.stop();
});

const future = () => new Date(Date.now() + 3600_000).toISOString();
const good = (requestId) => Buffer.from(JSON.stringify({ requestId, appName: 'sms', scheduledTime: future(), jobData: { to: '+15550100' } }));

const json = (v) => Buffer.from(JSON.stringify(v));

/** Each bad input, and what its error-message header must say. @type {Record<string, [Buffer, RegExp]>} */
const BAD_INPUTS = {
  'not JSON (raw bytes)': [Buffer.from([0xff, 0x00, 0x7b, 0x22, 0xc3, 0x28, 0x0a]), /JSON/],
  'a JSON array': [Buffer.from('[1,2,3]'), /must be a JSON object/],
  'missing appName': [json({ scheduledTime: future() }), /appName: is required/],
  'appName of the wrong type': [json({ appName: 42 }), /appName: must be a string/],
  // The default app registry (packages/contracts/apps.default.json) has no "fax" app.
  'unknown appName': [json({ appName: 'fax', scheduledTime: future() }), /appName: unknown app "fax"/],
  'unparseable scheduledTime': [json({ appName: 'sms', scheduledTime: 'next tuesday' }), /scheduledTime/],
  'invalid priority': [json({ appName: 'sms', priority: 'urgent' }), /priority/],
  'jobData that is not an object': [json({ appName: 'sms', jobData: 'hello' }), /jobData/],
  'invalid cron expression': [json({ appName: 'sms', schedule: { cron: '61 25 * * *' } }), /schedule\.cron/],
  'unknown time zone': [json({ appName: 'sms', schedule: { cron: '0 9 * * 1-5', timezone: 'Mars/Olympus_Mons' } }), /schedule\.timezone/],
  'a schedule with no occurrence between startAt and endAt': [
    json({ appName: 'sms', schedule: { cron: '0 0 9 * * *', timezone: 'UTC' }, startAt: '2030-06-15T10:00:00Z', endAt: '2030-06-15T10:01:00Z' }),
    /^invalid job request: endAt: the schedule has no occurrence between startAt and endAt$/,
  ],
  // The words the gateway answers with INVALID_ARGUMENT (test/grpc-contract.test.mjs).
  'a cron that never matches a date': [
    json({ appName: 'sms', schedule: { cron: '0 0 31 2 *', timezone: 'Europe/London' } }),
    /^invalid job request: schedule\.cron: "0 0 31 2 \*" never matches a date$/,
  ],
  'a cron that never matches a date, with startAt and endAt': [
    json({ appName: 'sms', schedule: { cron: '0 0 30 2 *' }, startAt: '2030-01-01T00:00:00Z', endAt: '2031-01-01T00:00:00Z' }),
    /^invalid job request: schedule\.cron: "0 0 30 2 \*" never matches a date$/,
  ],
  'an app name outside ASCII': [json({ appName: 'café' }), /^invalid job request: appName: may contain only ASCII letters, digits, "\.", "_" and "-"$/],
  'payload over the size limit': [json({ appName: 'sms', jobData: { blob: 'x'.repeat(4096) } }), /bytes; the limit is 2048/],
};

for (const [name, [bytes, reason]] of Object.entries(BAD_INPUTS)) {
  test(`${name} goes to the DLQ byte-for-byte with its headers, and the next good message is stored`, async () => {
    const marker = randomUUID();
    const goodId = randomUUID();
    const partition = 3;
    const [sent] = await producer.send({
      topic: TOPICS.jobsIngest,
      acks: -1,
      messages: [
        { partition, key: 'k', value: bytes, headers: { 'test-marker': marker } },
        { partition, key: 'k', value: good(goodId) },
      ],
    });
    const dead = await eventually(() => dlq.messages.find((m) => m.headersText['test-marker'] === marker), { message: 'DLQ message' });
    assert.ok(sameBytes(dead.value, bytes), 'payload is untouched');
    assert.equal(dead.key?.toString(), 'k');
    const h = dead.headersText;
    assert.equal(h['original-topic'], TOPICS.jobsIngest);
    assert.equal(h['original-partition'], String(partition));
    assert.equal(h['original-offset'], sent.baseOffset);
    assert.match(h['error-message'], reason);
    assert.ok(!Number.isNaN(Date.parse(h['error-timestamp'])));

    const rows = await eventually(() => stack.query('SELECT status FROM scheduler.jobs WHERE request_id = $1', [goodId]).then((r) => r.length && r), { message: 'good job stored' });
    assert.equal(rows[0].status, 'SCHEDULED');
  });
}

test('the DLQ error message names what was wrong', async () => {
  const marker = randomUUID();
  await producer.send({ topic: TOPICS.jobsIngest, acks: -1, messages: [{ value: Buffer.from(JSON.stringify({ appName: 'sms', scheduledTime: '2026-13-45' })), headers: { 'test-marker': marker } }] });
  const dead = await eventually(() => dlq.messages.find((m) => m.headersText['test-marker'] === marker), { message: 'DLQ message' });
  assert.match(dead.headersText['error-message'], /scheduledTime/);
});

test('a gzip-compressed job of 2 MB (the broker takes it compressed) goes to the DLQ with its bytes, and later jobs on every partition are still stored', async () => {
  const marker = randomUUID();
  const huge = json({ appName: 'sms', jobData: { blob: 'x'.repeat(2_000_000) } });
  await producer.send({
    topic: TOPICS.jobsIngest,
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages: [{ partition: 5, key: 'k', value: huge, headers: { 'test-marker': marker } }],
  });
  const goodIds = Array.from({ length: 12 }, () => randomUUID());
  await producer.send({ topic: TOPICS.jobsIngest, acks: -1, messages: goodIds.map((id, partition) => ({ partition, key: id, value: good(id) })) });
  const dead = await eventually(() => dlq.messages.find((m) => m.headersText['test-marker'] === marker), { timeoutMs: 30_000, message: 'the 2 MB job on the DLQ' });
  assert.equal(dead.value?.length, huge.length);
  assert.ok(sameBytes(dead.value, huge), 'the original bytes, all 2 MB of them');
  assert.match(dead.headersText['error-message'], /bytes; the limit is 2048/);
  await eventually(async () => (await stack.query('SELECT count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1)', [goodIds]))[0].n === 12, {
    timeoutMs: 30_000,
    message: 'the jobs after it stored',
  });
  assert.equal(stack.proc('scheduler').exited(), undefined, 'the scheduler is still running');
});

/** A job stored and waiting (due in an hour): its id. */
async function storedJob() {
  const requestId = randomUUID();
  const scheduledTime = new Date(Date.now() + 3600_000).toISOString();
  await producer.send({ topic: TOPICS.jobsIngest, acks: -1, messages: [{ key: requestId, value: json({ requestId, appName: 'sms', scheduledTime, jobData: { to: '+15550100' } }) }] });
  const [row] = await eventually(() => stack.query('SELECT id, scheduled_time FROM scheduler.jobs WHERE request_id = $1', [requestId]).then((r) => r.length && r), { message: 'job stored' });
  return { id: row.id, dueMs: new Date(row.scheduled_time).getTime() };
}

/**
 * Status events that are JSON with every field present but that PostgreSQL cannot store, and what
 * the error header says.
 * @type {Record<string, [Record<string, unknown>, RegExp]>}
 */
const BAD_EVENTS = {
  'a job id that is not a UUID': [{ jobId: 'job-42' }, /jobId must be a UUID/],
  'a fractional attempt': [{ attempt: 1.5 }, /attempt must be an integer from 0/],
  'an attempt beyond a 32-bit integer': [{ attempt: 2 ** 31 }, /attempt must be an integer from 0/],
  'a time that is not ISO 8601': [{ at: 'teatime' }, /at must be an ISO 8601 time/],
};

for (const [name, [fields, reason]] of Object.entries(BAD_EVENTS)) {
  test(`a status event with ${name} goes to the DLQ byte-for-byte with its headers, and the next event on its partition is applied`, async () => {
    const job = await storedJob();
    const base = { runId: `${job.id}:${job.dueMs}`, jobId: job.id, status: 'RUNNING', attempt: 1, at: new Date().toISOString(), executor: 'test' };
    const marker = randomUUID();
    const bad = json({ ...base, ...fields, runId: `${randomUUID()}:1` });
    const [sent] = await producer.send({
      topic: TOPICS.jobsStatus,
      acks: -1,
      messages: [
        { partition: 0, key: job.id, value: bad, headers: { 'test-marker': marker } },
        { partition: 0, key: job.id, value: json(base) },
      ],
    });
    const dead = await eventually(() => dlq.messages.find((m) => m.headersText['test-marker'] === marker), { message: 'the bad event on the DLQ' });
    assert.ok(sameBytes(dead.value, bad), 'the DLQ holds the event as it was sent');
    const h = dead.headersText;
    assert.equal(h['original-topic'], TOPICS.jobsStatus);
    assert.equal(h['original-partition'], '0');
    assert.equal(h['original-offset'], sent.baseOffset);
    assert.match(h['error-message'], reason);
    await eventually(async () => (await stack.query('SELECT status FROM scheduler.jobs WHERE id = $1', [job.id]))[0]?.status === 'RUNNING', { message: 'the good event after it applied' });
  });
}
