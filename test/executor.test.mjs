// The executor on real Kafka and PostgreSQL: retries with backoff, DEAD with the DLQ, the http
// handler against a local server, redelivered runs, the football generator's routing, and bad
// jobs.due messages. The executor, scheduler and gateway run as separate processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@pipewright/contracts';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, tapTopic, sleep, messageJson, sameBytes, writeAppsFile, healthCheck, listen } from '@pipewright/testkit';
import { generateMatches, routeMatches, FOOTBALL_TOPICS, HIGH_SOCIAL_VOLUME } from '../services/executor/dist/handlers/football/index.js';

const { JobStatus } = schedulerV1;
const HTTP_TIMEOUT_MS = 1500;
const SLOW_MS = 30_000;
const DEFAULT_BACKOFF_MS = 100;
/** How long "eventually" waits for a run to finish: generous, for a loaded machine. */
const WAIT_MS = 60_000;
const FOOTBALL_TOPIC_NAMES = Object.values(FOOTBALL_TOPICS);

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Producer} */
let producer;
/** @type {import('node:http').Server} */
let server;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;
/** @type {import('@pipewright/testkit').SchedulerClient} */
let scheduler;
/** @type {import('@pipewright/testkit').ExecutorClient} */
let executor;
/** @type {Record<string, import('@pipewright/testkit').Tap>} */
const taps = {};
/** Requests the local HTTP server received: { path, headers, body }. */
const requests = [];
/** Requests to /hold being answered now, and the most at once. */
const holding = { now: 0, most: 0 };
const CONCURRENCY = 8;

/** A local HTTP endpoint whose behaviour depends on the path; "first" is per run id. */
function startHttpServer() {
  const seen = new Map();
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = null;
      }
      const entry = { path: req.url, headers: req.headers, body, answered: false, clientGaveUp: false };
      requests.push(entry);
      req.socket.once('close', () => {
        if (!entry.answered) entry.clientGaveUp = true;
      });
      const runKey = `${req.url} ${body?.runId}`;
      const nth = (seen.get(runKey) ?? 0) + 1;
      seen.set(runKey, nth);
      const reply = (status) => {
        entry.answered = true;
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      };
      if (req.url === '/ok') reply(200);
      else if (req.url === '/accepted') reply(202);
      else if (req.url === '/flaky') reply(nth === 1 ? 500 : 200);
      else if (req.url === '/missing') reply(404);
      else if (req.url === '/hold') {
        holding.now += 1;
        holding.most = Math.max(holding.most, holding.now);
        setTimeout(() => {
          holding.now -= 1;
          reply(200);
        }, 1500);
      }
      else if (req.url === '/slow-once' && nth === 1) {
        // Answers the first attempt only after SLOW_MS, long after the client's timeout.
        const timer = setTimeout(() => reply(200), SLOW_MS);
        req.socket.once('close', () => clearTimeout(timer));
      } else if (req.url === '/slow-once') reply(200);
      else reply(418);
    });
  });
  return srv;
}

before(async () => {
  server = startHttpServer();
  const base = `http://127.0.0.1:${await listen(server)}`;
  const appsFile = writeAppsFile({
    fail: { handler: 'fail', options: {} },
    noop: { handler: 'noop', options: {} },
    football: { handler: 'demo.football', options: {} },
    'http-ok': { handler: 'http', options: { url: `${base}/ok`, headers: { 'x-test': 'pipewright' } } },
    'http-accepted': { handler: 'http', options: { url: `${base}/accepted` } },
    'http-flaky': { handler: 'http', options: { url: `${base}/flaky` } },
    'http-missing': { handler: 'http', options: { url: `${base}/missing` } },
    'http-slow': { handler: 'http', options: { url: `${base}/slow-once`, timeoutMs: HTTP_TIMEOUT_MS } },
    'http-hold': { handler: 'http', options: { url: `${base}/hold` } },
    publish: { handler: 'kafka.publish', options: {} },
    'publish-test': { handler: 'kafka.publish', options: { topicPattern: 'test\\..+' } },
    'sms-test': { handler: 'kafka.publish', options: { topic: 'test.sms.jobs' } },
  });
  stack = await startStack({
    services: ['ingest-gateway', 'scheduler', 'executor'],
    env: { APPS_CONFIG: appsFile },
    // RUNNING at every start, so that the trails below show each attempt (the default reports
    // a quick attempt's start with its outcome: see job-path.e2e.test.mjs).
    envFor: { executor: { EXECUTOR_BACKOFF_INITIAL: String(DEFAULT_BACKOFF_MS), EXECUTOR_CONCURRENCY: String(CONCURRENCY), EXECUTOR_REPORT_RUNNING_AFTER: '0' } },
  });
  producer = stack.kafka.producer();
  await producer.connect();
  for (const topic of [TOPICS.jobsDue, TOPICS.jobsStatus, TOPICS.jobsDlq, 'test.sms.jobs', ...FOOTBALL_TOPIC_NAMES]) taps[topic] = await tapTopic(stack.kafka, topic);
  gateway = stack.client('ingest-gateway');
  scheduler = stack.client('scheduler');
  executor = stack.client('executor');
  // One job through gateway, scheduler and executor, so that consumer-group joins are behind us.
  const warmUp = await gateway.scheduleJob({ appName: 'noop' });
  await eventually(async () => (await scheduler.getJob({ jobId: warmUp.requestId })).status === JobStatus.JOB_STATUS_DONE, { timeoutMs: 120_000, message: 'warm-up job DONE' });
});

after(async () => {
  for (const t of Object.values(taps)) await t.stop();
  await producer?.disconnect();
  await stack?.stop();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

// --- helpers ---------------------------------------------------------------------------------

const json = messageJson;

/**
 * jobs.status events of a run (or of every run of a job), in the order they were published.
 * @param {{ runId?: string, jobId?: string }} ref
 * @returns {import('@pipewright/contracts').RunStatusEvent[]}
 */
const statusEvents = ({ runId, jobId }) =>
  taps[TOPICS.jobsStatus].messages.map(json).filter((e) => e && (runId ? e.runId === runId : e.jobId === jobId));
const statusTrail = (events) => events.map((e) => `${e.status}${e.attempt}`);

/**
 * Waits for the run's last event to be DONE or DEAD and returns all its events.
 * @param {{ runId?: string, jobId?: string }} ref
 * @param {string} message
 */
async function finalEvents(ref, message) {
  return eventually(() => {
    const evs = statusEvents(ref);
    return evs.some((e) => e.status === 'DONE' || e.status === 'DEAD') && evs;
  }, { timeoutMs: WAIT_MS, message });
}

const dueRun = (appName, jobData = {}, extra = {}) => ({
  runId: `run-${randomUUID()}`,
  jobId: randomUUID(),
  appName,
  priority: 'normal',
  jobData,
  dueAt: new Date().toISOString(),
  firedAt: new Date().toISOString(),
  ...extra,
});

/** Publishes jobs.due messages as the scheduler would; returns the send results. */
async function publishDue(messages) {
  return producer.send({ topic: TOPICS.jobsDue, acks: -1, messages });
}
/** @param {{ runId: string }} run @param {number} [partition] */
const dueMessage = (run, partition) => ({ key: run.runId, value: JSON.stringify(run), partition });

const stats = () => executor.getStats();
const requestsFor = (runId) => requests.filter((r) => r.body?.runId === runId);

/**
 * @param {Record<string, string>} h
 * @param {{ partition: number, offset: string | bigint | undefined }} at
 */
function assertDlqHeaders(h, { partition, offset }) {
  assert.equal(h['original-topic'], TOPICS.jobsDue);
  assert.equal(h['original-partition'], String(partition));
  assert.equal(h['original-offset'], String(offset));
  assert.ok(h['error-message'].length > 0, 'error-message is set');
  assert.ok(!Number.isNaN(Date.parse(h['error-timestamp'])), `error-timestamp ${h['error-timestamp']}`);
}

// --- (a) retries with backoff, then DEAD ----------------------------------------------------

test('a job that always fails is retried with growing backoff, then DEAD: DLQ has the original jobs.due bytes with headers, GetJob says DEAD', async () => {
  const backoff = { initialMs: 300, multiplier: 2, maxMs: 10_000 };
  const maxRetries = 2;
  const accepted = await gateway.scheduleJob({ appName: 'fail', jobData: { note: 'always fails' }, maxRetries, backoff });

  const job = await eventually(async () => {
    const j = await scheduler.getJob({ jobId: accepted.requestId });
    return j.status === JobStatus.JOB_STATUS_DEAD && j;
  }, { timeoutMs: WAIT_MS, message: 'job DEAD in GetJob' });
  assert.equal(job.attempts, maxRetries + 1);
  assert.equal(job.lastError, 'failing attempt 3 on purpose');
  assert.equal(job.runs, 1);

  const events = await finalEvents({ jobId: job.jobId }, 'DEAD on jobs.status');
  assert.deepEqual(statusTrail(events), ['RUNNING1', 'FAILED1', 'RUNNING2', 'FAILED2', 'RUNNING3', 'DEAD3']);
  assert.deepEqual(events.filter((e) => e.status !== 'RUNNING').map((e) => e.error), [
    'failing attempt 1 on purpose', 'failing attempt 2 on purpose', 'failing attempt 3 on purpose',
  ]);
  assert.equal(new Set(events.map((e) => e.runId)).size, 1, 'one run id across attempts');

  // The wait before attempt n+1 is initialMs * multiplier^(n-1), less at most 20 % jitter.
  /** @param {string} status @param {number} attempt */
  const at = (status, attempt) => {
    const event = events.find((e) => e.status === status && e.attempt === attempt);
    assert.ok(event, `${status} of attempt ${attempt}`);
    return Date.parse(event.at);
  };
  const wait1 = at('RUNNING', 2) - at('FAILED', 1);
  const wait2 = at('RUNNING', 3) - at('FAILED', 2);
  assert.ok(wait1 >= 0.8 * backoff.initialMs, `first retry waited ${wait1} ms`);
  assert.ok(wait2 >= 0.8 * backoff.initialMs * backoff.multiplier, `second retry waited ${wait2} ms`);
  assert.ok(wait2 > wait1, `backoff grows: ${wait1} ms, then ${wait2} ms`);

  const runs = await scheduler.listRuns({ jobId: job.jobId, pageSize: 10 });
  assert.equal(runs.runs.length, 1);
  assert.equal(runs.runs[0].status, JobStatus.JOB_STATUS_DEAD);
  assert.equal(runs.runs[0].attempt, 3);
  assert.equal(runs.runs[0].error, 'failing attempt 3 on purpose');

  const due = await eventually(() => taps[TOPICS.jobsDue].messages.find((m) => json(m)?.jobId === job.jobId), { message: 'the jobs.due message' });
  const dead = await eventually(() => taps[TOPICS.jobsDlq].messages.find((m) => sameBytes(m.value, due.value)), { message: 'jobs.dlq message' });
  assert.equal(dead.key?.toString(), due.key?.toString());
  assertDlqHeaders(dead.headersText, { partition: due.partition, offset: due.offset });
  assert.equal(dead.headersText['error-message'], 'failing attempt 3 on purpose');
  assert.equal(dead.headersText.attempts, '3');
  assert.equal(taps[TOPICS.jobsDlq].messages.filter((m) => sameBytes(m.value, due.value)).length, 1, 'dead-lettered once');
});

// --- (b) fails twice, then succeeds ----------------------------------------------------------

test('fail with failAttempts=2 fails twice and is DONE on attempt 3, with nothing dead-lettered', async () => {
  const accepted = await gateway.scheduleJob({
    appName: 'fail',
    jobData: { failAttempts: 2 },
    backoff: { initialMs: 100, multiplier: 2, maxMs: 1000 },
  });
  const job = await eventually(async () => {
    const j = await scheduler.getJob({ jobId: accepted.requestId });
    return j.status === JobStatus.JOB_STATUS_DONE && j;
  }, { timeoutMs: WAIT_MS, message: 'job DONE in GetJob' });
  assert.equal(job.attempts, 3);
  const events = await finalEvents({ jobId: job.jobId }, 'DONE on jobs.status');
  assert.deepEqual(statusTrail(events), ['RUNNING1', 'FAILED1', 'RUNNING2', 'FAILED2', 'RUNNING3', 'DONE3']);
  assert.equal(taps[TOPICS.jobsDlq].messages.filter((m) => m.value?.toString().includes(job.jobId)).length, 0);
  const claims = await stack.query('SELECT outcome, attempts FROM executor.run_claims WHERE job_id = $1', [job.jobId]);
  assert.deepEqual(claims, [{ outcome: 'DONE', attempts: 3 }]);
});

// --- (b2) a long backoff is waited out by the scheduler, not the executor -----------------

test('a retry due later than EXECUTOR_INLINE_RETRY_MAX is handed to the scheduler: the claim is released while it waits, and the run fires again at its time', async () => {
  const backoff = { initialMs: 2500, multiplier: 2, maxMs: 10_000 };
  const accepted = await gateway.scheduleJob({ appName: 'fail', jobData: { failAttempts: 1 }, backoff, maxRetries: 3 });
  const job = await eventually(async () => {
    const j = await scheduler.getJob({ jobId: accepted.requestId });
    return j.jobId && statusEvents({ jobId: j.jobId }).find((e) => e.status === 'FAILED') && j;
  }, { timeoutMs: WAIT_MS, message: 'attempt 1 FAILED' });
  const failure = statusEvents({ jobId: job.jobId }).find((e) => e.status === 'FAILED');
  assert.ok(failure, 'attempt 1 FAILED');
  assert.ok(failure.retryAt, 'FAILED says when the retry is due');
  const waitMs = Date.parse(failure.retryAt) - Date.parse(failure.at);
  assert.ok(waitMs >= 0.8 * backoff.initialMs && waitMs <= 1.2 * backoff.initialMs + 100, `retry in ${waitMs} ms`);

  // While it waits, no executor holds the run, and the scheduler has it FAILED with its retry time.
  // (FAILED goes out before the claim is released.)
  const claim = await eventually(async () => {
    const [c] = await stack.query('SELECT released_at, retry_after, finished_at, attempts FROM executor.run_claims WHERE job_id = $1', [job.jobId]);
    return c?.released_at && c;
  }, { message: 'the claim released' });
  assert.equal(claim.finished_at, null);
  assert.equal(claim.attempts, 1);
  assert.equal(claim.retry_after.toISOString(), failure.retryAt);
  const run = await eventually(async () => {
    const [r] = await stack.query('SELECT status, retry_at FROM scheduler.runs WHERE job_id = $1', [job.jobId]);
    return r?.retry_at && r;
  }, { message: 'the scheduler recorded the retry time' });
  assert.equal(run.status, 'FAILED');
  assert.equal(run.retry_at.toISOString(), failure.retryAt);
  assert.equal((await scheduler.getJob({ jobId: job.jobId })).status, JobStatus.JOB_STATUS_FAILED, 'GetJob says FAILED (will retry)');

  const events = await finalEvents({ jobId: job.jobId }, 'DONE after the retry');
  assert.deepEqual(statusTrail(events), ['RUNNING1', 'FAILED1', 'RUNNING2', 'DONE2']);
  const rerun = events.find((e) => e.status === 'RUNNING' && e.attempt === 2);
  assert.ok(rerun, 'attempt 2 started');
  assert.ok(Date.parse(rerun.at) >= Date.parse(failure.retryAt) - 50, `attempt 2 started ${rerun.at}, retry due ${failure.retryAt}`);
  const dues = taps[TOPICS.jobsDue].messages.filter((m) => json(m)?.jobId === job.jobId).map(json);
  assert.equal(dues.length, 2, 'fired once, then once more for the retry');
  assert.equal(new Set(dues.map((d) => d.runId)).size, 1, 'under the same run id');
  const [after] = await stack.query('SELECT retry_at FROM scheduler.runs WHERE job_id = $1', [job.jobId]);
  assert.equal(after.retry_at, null);
});

test('while a run waits for its retry, an old copy of its jobs.due message is skipped, and CancelJob drops the retry', async () => {
  const accepted = await gateway.scheduleJob({ appName: 'fail', jobData: { note: 'cancel me' }, backoff: { initialMs: 3000, multiplier: 1, maxMs: 3000 }, maxRetries: 3 });
  const { jobId } = await eventually(() => scheduler.getJob({ jobId: accepted.requestId }), { message: 'job stored' });
  const failure = await eventually(() => statusEvents({ jobId }).find((e) => e.status === 'FAILED'), { timeoutMs: WAIT_MS, message: 'attempt 1 FAILED' });
  await eventually(async () => (await stack.query('SELECT released_at FROM executor.run_claims WHERE run_id = $1', [failure.runId]))[0]?.released_at, { message: 'claim released' });

  // The first jobs.due message again (a redelivery): not an attempt before the retry time.
  const original = taps[TOPICS.jobsDue].messages.find((m) => json(m)?.runId === failure.runId);
  assert.ok(original, 'the first jobs.due message of the run');
  const skippedBefore = Number((await stats()).duplicatesSkipped);
  await publishDue([{ key: original.key, value: original.value, partition: original.partition }]);
  await eventually(async () => Number((await stats()).duplicatesSkipped) > skippedBefore, { message: 'the copy skipped' });
  assert.deepEqual(statusTrail(statusEvents({ runId: failure.runId })), ['RUNNING1', 'FAILED1']);

  await eventually(async () => (await scheduler.getJob({ jobId: accepted.requestId })).status === JobStatus.JOB_STATUS_FAILED, { message: 'FAILED (will retry)' });
  const cancelled = await scheduler.cancelJob({ jobId: accepted.requestId });
  assert.equal(cancelled.status, JobStatus.JOB_STATUS_CANCELLED, 'CANCELLED');
  assert.ok(failure.retryAt, 'FAILED says when the retry is due');
  await sleep(Date.parse(failure.retryAt) - Date.now() + 2000);
  assert.deepEqual(statusTrail(statusEvents({ runId: failure.runId })), ['RUNNING1', 'FAILED1'], 'no attempt after the cancel');
  assert.equal(taps[TOPICS.jobsDue].messages.filter((m) => json(m)?.runId === failure.runId && json(m)?.attempt).length, 0, 'the retry never fired');
});

// --- (c) the http handler --------------------------------------------------------------------

test('http: a 2xx answer is DONE at once; the POST carries the run and an idempotency-key equal to the run id', async () => {
  const ok = dueRun('http-ok', { orderId: 'o-17', amount: 12.5 });
  const accepted = dueRun('http-accepted');
  await publishDue([dueMessage(ok), dueMessage(accepted)]);
  for (const run of [ok, accepted]) {
    assert.deepEqual(statusTrail(await finalEvents(run, `${run.appName} finished`)), ['RUNNING1', 'DONE1']);
    assert.equal(requestsFor(run.runId).length, 1);
  }
  const [req] = requestsFor(ok.runId);
  assert.equal(req.path, '/ok');
  assert.equal(req.headers['idempotency-key'], ok.runId);
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['x-test'], 'pipewright', 'headers from the app options are sent');
  assert.deepEqual(req.body, { runId: ok.runId, jobId: ok.jobId, appName: 'http-ok', attempt: 1, jobData: { orderId: 'o-17', amount: 12.5 } });
});

test('http: 500 then 200 is retried and DONE on attempt 2, with the same idempotency key both times', async () => {
  const run = dueRun('http-flaky');
  await publishDue([dueMessage(run)]);
  const events = await finalEvents(run, 'flaky run finished');
  assert.deepEqual(statusTrail(events), ['RUNNING1', 'FAILED1', 'RUNNING2', 'DONE2']);
  assert.match(events[1].error ?? '', /answered 500/);
  const reqs = requestsFor(run.runId);
  assert.deepEqual(reqs.map((r) => r.body.attempt), [1, 2]);
  assert.deepEqual(reqs.map((r) => r.headers['idempotency-key']), [run.runId, run.runId]);
});

test('http: 404 is permanent: DEAD after one attempt and dead-lettered with attempts=1', async () => {
  const run = dueRun('http-missing');
  const [sent] = await publishDue([dueMessage(run, 4)]);
  const events = await finalEvents(run, 'missing run finished');
  assert.deepEqual(statusTrail(events), ['RUNNING1', 'DEAD1']);
  assert.match(events[1].error ?? '', /answered 404/);
  assert.equal(requestsFor(run.runId).length, 1);
  const dead = await eventually(() => taps[TOPICS.jobsDlq].messages.find((m) => m.value?.toString() === JSON.stringify(run)), { message: 'jobs.dlq message' });
  assertDlqHeaders(dead.headersText, { partition: 4, offset: sent.baseOffset });
  assert.match(dead.headersText['error-message'], /answered 404/);
  assert.equal(dead.headersText.attempts, '1');
});

test(`http: a server slower than options.timeoutMs (${HTTP_TIMEOUT_MS} ms) is a retryable failure`, async () => {
  const run = dueRun('http-slow');
  await publishDue([dueMessage(run)]);
  const events = await finalEvents(run, 'slow run finished');
  assert.deepEqual(statusTrail(events), ['RUNNING1', 'FAILED1', 'RUNNING2', 'DONE2']);
  assert.match(events[1].error ?? '', /timeout|abort/i);
  const reqs = requestsFor(run.runId);
  assert.deepEqual(reqs.map((r) => r.body.attempt), [1, 2]);
  // Attempt 1 hung up before the server answered; attempt 2 waited for its answer.
  assert.equal(reqs[0].answered, false);
  await eventually(() => reqs[0].clientGaveUp, { message: 'attempt 1 closed its connection' });
  assert.equal(reqs[1].answered, true);
  assert.equal(reqs[1].clientGaveUp, false);
});

// --- (c2) kafka.publish -------------------------------------------------------------------

test('kafka.publish: an app with a topic of its own publishes there, whatever jobData.topic says', async () => {
  const run = dueRun('sms-test', { topic: TOPICS.jobsStatus, key: 'k-sms', value: { to: '+15550100', text: 'hi' } });
  await publishDue([dueMessage(run)]);
  assert.deepEqual(statusTrail(await finalEvents(run, 'sms run finished')), ['RUNNING1', 'DONE1']);
  const msg = await eventually(() => taps['test.sms.jobs'].messages.find((m) => m.headersText['pipewright-run-id'] === run.runId), { message: 'message on test.sms.jobs' });
  assert.deepEqual(json(msg), { to: '+15550100', text: 'hi' });
  assert.equal(msg.key?.toString(), 'k-sms');
  assert.equal(taps[TOPICS.jobsStatus].messages.filter((m) => m.headersText['pipewright-run-id'] === run.runId).length, 0, 'nothing published to jobs.status');
});

test('kafka.publish: a job cannot write to pipewright\'s own topics, nor outside its app\'s topicPattern; both are DEAD at once', async () => {
  const forged = dueRun('publish', { topic: TOPICS.jobsStatus, value: { runId: 'forged', status: 'DONE' } });
  const outside = dueRun('publish-test', { topic: 'payments.out', value: { amount: 1 } });
  await publishDue([dueMessage(forged), dueMessage(outside)]);
  const forgedEvents = await finalEvents(forged, 'forging run finished');
  assert.deepEqual(statusTrail(forgedEvents), ['RUNNING1', 'DEAD1']);
  assert.match(forgedEvents[1].error ?? '', /own topic jobs\.status/);
  const outsideEvents = await finalEvents(outside, 'outside run finished');
  assert.deepEqual(statusTrail(outsideEvents), ['RUNNING1', 'DEAD1']);
  assert.match(outsideEvents[1].error ?? '', /does not match the app's topicPattern/);
  assert.equal(taps[TOPICS.jobsStatus].messages.filter((m) => json(m)?.runId === 'forged').length, 0, 'no forged status event');
});

// --- (c3) concurrency ------------------------------------------------------------------------

test(`runs on one partition execute side by side, up to EXECUTOR_CONCURRENCY (${CONCURRENCY}) at once`, async () => {
  const runs = Array.from({ length: CONCURRENCY + 4 }, () => dueRun('http-hold'));
  holding.most = 0;
  await publishDue(runs.map((r) => dueMessage(r, 7)));
  for (const run of runs) assert.deepEqual(statusTrail(await finalEvents(run, 'held run finished')), ['RUNNING1', 'DONE1']);
  assert.equal(holding.most, CONCURRENCY, `at most ${CONCURRENCY} requests at once, and that many`);
});

// --- (d) redelivery --------------------------------------------------------------------------

test('a jobs.due message delivered twice with the same run id runs the handler once', async () => {
  const start = await stats();
  const samePartition = dueRun('http-ok', { case: 'same partition' });
  const twoPartitions = dueRun('http-ok', { case: 'two partitions' });
  await publishDue([dueMessage(samePartition, 7), dueMessage(samePartition, 7), dueMessage(twoPartitions, 1), dueMessage(twoPartitions, 2)]);

  await eventually(async () => (await stats()).duplicatesSkipped >= start.duplicatesSkipped + 2, { timeoutMs: WAIT_MS, message: 'two duplicates skipped' });
  for (const run of [samePartition, twoPartitions]) {
    // The duplicate does not run again; it repeats the recorded outcome for the scheduler.
    const events = await eventually(async () => {
      const e = await finalEvents(run, 'run finished');
      return e.length >= 3 && e;
    }, { timeoutMs: WAIT_MS, message: 'outcome repeated for the duplicate' });
    assert.deepEqual(statusTrail(events), ['RUNNING1', 'DONE1', 'DONE1']);
    assert.equal(requestsFor(run.runId).length, 1, 'the handler ran once');
    const claims = await stack.query('SELECT outcome FROM executor.run_claims WHERE run_id = $1', [run.runId]);
    assert.deepEqual(claims, [{ outcome: 'DONE' }]);
  }
  const end = await stats();
  assert.equal(end.duplicatesSkipped, start.duplicatesSkipped + 2);
  assert.equal(end.runsStarted, start.runsStarted + 2);
  assert.equal(end.runsSucceeded, start.runsSucceeded + 2);

  // A redelivery long after the run finished is skipped too.
  await publishDue([dueMessage(samePartition, 9)]);
  await eventually(async () => (await stats()).duplicatesSkipped === start.duplicatesSkipped + 3, { message: 'late duplicate skipped' });
  assert.equal(requestsFor(samePartition.runId).length, 1);
  await eventually(() => statusEvents(samePartition).length === 4, { message: 'outcome repeated for the late duplicate' });
  assert.deepEqual(statusTrail(statusEvents(samePartition)), ['RUNNING1', 'DONE1', 'DONE1', 'DONE1']);
});

// --- (e) football through the gateway --------------------------------------------------------

test('the football app scheduled through the gateway publishes to the routed topics, counted in GetStats.publishedPerTopic', async () => {
  const seed = 'executor-test-football';
  const count = 40;
  const expected = routeMatches(generateMatches(seed, count));
  /** @param {string} topic */
  const expectedOn = (topic) => expected.get(topic) ?? [];
  for (const topic of FOOTBALL_TOPIC_NAMES) assert.ok(expectedOn(topic).length > 0, `the seed sends some matches to ${topic}`);
  assert.equal(expectedOn(FOOTBALL_TOPICS.live).length, count);
  const start = (await stats()).publishedPerTopic;

  const accepted = await gateway.scheduleJob({ appName: 'football', scheduledTime: new Date(Date.now() + 500).toISOString(), jobData: { count, seed } });
  const job = await eventually(async () => {
    const j = await scheduler.getJob({ jobId: accepted.requestId });
    return j.status === JobStatus.JOB_STATUS_DONE && j;
  }, { timeoutMs: WAIT_MS, message: 'football job DONE' });
  assert.equal(job.attempts, 1);

  const expectedCounts = Object.fromEntries(FOOTBALL_TOPIC_NAMES.map((t) => [t, expectedOn(t).length]));
  const received = await eventually(() => {
    const got = Object.fromEntries(FOOTBALL_TOPIC_NAMES.map((t) => [t, taps[t].messages.filter((m) => m.headersText['pipewright-job-id'] === job.jobId)]));
    return FOOTBALL_TOPIC_NAMES.every((t) => got[t].length >= expectedCounts[t]) && got;
  }, { timeoutMs: WAIT_MS, message: 'football messages on every routed topic' });
  await sleep(500); // anything extra would show up now
  for (const t of FOOTBALL_TOPIC_NAMES) {
    const msgs = taps[t].messages.filter((m) => m.headersText['pipewright-job-id'] === job.jobId);
    assert.equal(msgs.length, expectedCounts[t], `messages on ${t}`);
    assert.deepEqual(new Set(msgs.map((m) => m.key?.toString())), new Set(expectedOn(t).map((m) => m.matchId)), `match ids on ${t}`);
  }

  // Each topic holds what its rule says, read back from the broker.
  const records = (t) => received[t].map(json);
  for (const m of records(FOOTBALL_TOPICS.live)) {
    assert.equal(m.home.possession + m.away.possession, 100);
    assert.ok(m.attendance <= m.stadium.capacity);
  }
  assert.ok(records(FOOTBALL_TOPICS.training).every((m) => m.totalGoals > 2));
  assert.ok(records(FOOTBALL_TOPICS.betting).every((m) => m.rivalry === 'high' || m.rivalry === 'very_high'));
  assert.ok(records(FOOTBALL_TOPICS.social).every((m) => m.expectedSocialVolume >= HIGH_SOCIAL_VOLUME));
  const liveIds = new Set(records(FOOTBALL_TOPICS.live).map((m) => m.matchId));
  for (const t of [FOOTBALL_TOPICS.training, FOOTBALL_TOPICS.betting, FOOTBALL_TOPICS.social]) {
    assert.ok(records(t).every((m) => liveIds.has(m.matchId)), `every match on ${t} is also live`);
  }

  const perTopic = (await stats()).publishedPerTopic;
  for (const t of FOOTBALL_TOPIC_NAMES) assert.equal(perTopic[t] - (start[t] ?? 0), expectedCounts[t], `publishedPerTopic[${t}]`);
});

test('football on an interval schedule publishes new matches at every run', async () => {
  const count = 5;
  const start = Date.now() + 1000;
  const livePublished = async () => (await stats()).publishedPerTopic[FOOTBALL_TOPICS.live] ?? 0;
  const liveBefore = await livePublished();
  const accepted = await gateway.scheduleJob({
    appName: 'football',
    scheduledTime: new Date(start).toISOString(),
    schedule: { everyMs: 1000, cron: '', timezone: '' },
    endAt: new Date(start + 2500).toISOString(),
    // Every occurrence runs even if the previous one is slow on a loaded machine.
    overlapPolicy: 'allow',
    jobData: { count },
  });
  const job = await eventually(async () => {
    const j = await scheduler.getJob({ jobId: accepted.requestId });
    return j.status === JobStatus.JOB_STATUS_DONE && j.nextFireAt === undefined && j;
  }, { timeoutMs: WAIT_MS, message: 'interval football job DONE after endAt' });
  const runs = (await scheduler.listRuns({ jobId: job.jobId, pageSize: 100 })).runs;
  assert.equal(runs.length, 3);
  assert.ok(runs.every((r) => r.status === JobStatus.JOB_STATUS_DONE));

  const live = await eventually(() => {
    const msgs = taps[FOOTBALL_TOPICS.live].messages.filter((m) => m.headersText['pipewright-job-id'] === job.jobId);
    return msgs.length >= 3 * count && msgs;
  }, { timeoutMs: WAIT_MS, message: 'live events of every run' });
  assert.equal(live.length, 3 * count);
  // Each run is seeded by its own run id: new matches every time.
  assert.equal(new Set(live.map((m) => m.key?.toString())).size, 3 * count);
  const perRun = {};
  for (const m of live) perRun[m.headersText['pipewright-run-id']] = (perRun[m.headersText['pipewright-run-id']] ?? 0) + 1;
  assert.deepEqual(Object.keys(perRun).sort(), runs.map((r) => r.runId).sort());
  assert.ok(Object.values(perRun).every((n) => n === count));
  assert.equal((await livePublished()) - liveBefore, 3 * count);
});

// --- (f) malformed jobs.due ------------------------------------------------------------------

test('a malformed jobs.due message goes to jobs.dlq untouched with the dead-letter headers, and the executor keeps consuming', async () => {
  const marker = randomUUID();
  const partition = 5;
  const notJson = Buffer.from([0xff, 0x00, 0x7b, 0x22, 0xc3, 0x28]);
  const missingRunId = Buffer.from(JSON.stringify({ jobId: 'j', appName: 'noop', jobData: {}, dueAt: 'x', firedAt: 'y' }));
  const good = dueRun('noop');
  const [sent] = await publishDue([
    { key: 'bad-1', value: notJson, partition, headers: { 'test-marker': marker } },
    { key: 'bad-2', value: missingRunId, partition, headers: { 'test-marker': marker } },
    dueMessage(good, partition),
  ]);
  const dead = await eventually(() => {
    const d = taps[TOPICS.jobsDlq].messages.filter((m) => m.headersText['test-marker'] === marker);
    return d.length >= 2 && d;
  }, { message: 'both bad messages on jobs.dlq' });
  dead.sort((a, b) => Number(a.headersText['original-offset']) - Number(b.headersText['original-offset']));
  const base = BigInt(String(sent.baseOffset));
  assert.ok(sameBytes(dead[0].value, notJson), 'bytes untouched');
  assert.equal(dead[0].key?.toString(), 'bad-1');
  assertDlqHeaders(dead[0].headersText, { partition, offset: base });
  assert.ok(sameBytes(dead[1].value, missingRunId), 'bytes untouched');
  assertDlqHeaders(dead[1].headersText, { partition, offset: base + 1n });
  assert.match(dead[1].headersText['error-message'], /runId/);
  assert.equal(dead[0].headersText.attempts, undefined, 'never attempted');

  // The message behind them on the same partition still runs.
  assert.deepEqual(statusTrail(await finalEvents(good, 'good run after the bad ones')), ['RUNNING1', 'DONE1']);
  assert.equal(await healthCheck(stack.address('executor')), 'SERVING');
  assert.equal(stack.proc('executor').exited(), undefined, 'the executor is still running');
});
