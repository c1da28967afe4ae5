// One peer job queue in a process of its own, driven by bench/peers.mjs over IPC:
//   -> { type: 'ready' }      the queue is installed in its database and its worker is idle
//   <- { type: 'go', jobs }   enqueue `jobs` no-op jobs due now (PEER_JOBS when unset), PEER_BATCH
//                             a call, PEER_CONCURRENCY calls at a time, while the worker runs them
//                             (a first go may be a warm-up: the next one adds to what it did)
//   -> { type: 'done', ... }  every job so far is recorded complete in the database
//   <- { type: 'single', count, everyMs, warmup }
//                             add warmup + count jobs one at a time, one every everyMs
//   -> { type: 'singles', latencies }
//                             add->start of the last count jobs: from just before the add call
//                             to the start of the handler (ms, both read in this process)
//   <- { type: 'stop' }       shut down and exit
// PEER=graphile-worker | pg-boss; PEER_DATABASE_URL a database of its own.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pg = require('pg');

const system = process.env.PEER;
const databaseUrl = process.env.PEER_DATABASE_URL;
const N = Number(process.env.PEER_JOBS);
const BATCH = Number(process.env.PEER_BATCH ?? 500);
const CONCURRENCY = Number(process.env.PEER_CONCURRENCY ?? 4);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const send = (m) => process.send(m);

let handled = 0;
/** Handlers waiting for the count to reach their target. */
let waiting = [];
const count = (n) => {
  handled += n;
  for (const w of waiting) if (handled >= w.target) w.resolve(Date.now());
  waiting = waiting.filter((w) => handled < w.target);
};
/** Resolves with the time the handlers have run `target` jobs in all. */
const handledUpTo = (target) => (handled >= target ? Promise.resolve(Date.now()) : new Promise((resolve) => waiting.push({ target, resolve })));
/** Jobs enqueued by earlier go messages. */
let enqueued = 0;

// Single jobs: a job's payload carries sentAt (performance.now() before its add call); its
// handler's start is recorded against it.
const starts = new Map();
let onStart = () => {};
const started = (payload) => {
  if (payload?.sentAt === undefined) return;
  starts.set(payload.i, performance.now() - payload.sentAt);
  onStart();
};

/** Adds warmup + count jobs one at a time, one every everyMs, with addOne({ i, sentAt }). */
async function singles(addOne, { count: n, everyMs, warmup }) {
  const total = warmup + n;
  const all = new Promise((r) => (onStart = () => starts.size >= total && r()));
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = t0 + i * everyMs - performance.now();
    if (wait > 0) await sleep(wait);
    await addOne({ i, sentAt: performance.now() });
  }
  await all;
  const latencies = [];
  for (let i = warmup; i < total; i++) latencies.push(Math.round(starts.get(i) * 1000) / 1000);
  return { latencies };
}

/** Runs `addBatch(from, to)` over the next `n` job numbers in batches, CONCURRENCY at a time. */
async function enqueue(n, addBatch) {
  const end = enqueued + n;
  let next = enqueued;
  enqueued = end;
  const worker = async () => {
    while (next < end) {
      const from = next;
      next = Math.min(end, next + BATCH);
      await addBatch(from, next);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Polls `sql` (one row, column done) until it is true. */
async function pollUntil(client, sql) {
  for (;;) {
    const { rows: [row] } = await client.query(sql);
    if (row.done) return Date.now();
    await sleep(10);
  }
}

// graphile-worker: run() with a task list in this process; the settings of its perfTest
// (perfTest/graphile.config.js): 24 concurrent jobs, a pool of 25, a local queue of 500 with a
// 10 ms refetch delay, completions and failures released in batches with no added delay.
async function graphileWorker() {
  const { run, makeWorkerUtils, Logger } = await import('graphile-worker');
  const logger = new Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') process.stderr.write(`[graphile-worker] ${level}: ${message}\n`);
  });
  const runner = await run({
    connectionString: databaseUrl,
    concurrency: 24,
    maxPoolSize: 25,
    pollInterval: 1000,
    noHandleSignals: true,
    logger,
    taskList: { noop: async (payload) => { started(payload); count(1); } },
    preset: {
      worker: {
        localQueue: { size: 500, refetchDelay: { durationMs: 10 } },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
        gracefulShutdownAbortTimeout: 2500,
      },
    },
  });
  const utils = await makeWorkerUtils({ connectionString: databaseUrl, logger });
  const check = new pg.Client({ connectionString: databaseUrl });
  await check.connect();
  return {
    async go(n) {
      await enqueue(n, (from, to) => {
        const specs = [];
        for (let i = from; i < to; i++) specs.push({ identifier: 'noop', payload: { i } });
        return utils.addJobs(specs);
      });
      const enqueuedAt = Date.now();
      const handledAt = await handledUpTo(enqueued);
      // A completed job is deleted; completions are released in batches after the handler returns.
      const completeAt = await pollUntil(check, 'SELECT NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS done');
      return { enqueuedAt, handledAt, completeAt };
    },
    single: (opts) => singles((payload) => utils.addJob('noop', payload), opts),
    async stop() {
      await check.end();
      await utils.release();
      await runner.stop();
    },
  };
}

// pg-boss: LISTEN/NOTIFY on (useListenNotify and a notify queue), batches of 200 per fetch,
// fetching again at once while batches come back full, two workers in this process; jobs added
// with insert(), its bulk API.
async function pgBoss() {
  const { PgBoss } = await import('pg-boss');
  const boss = new PgBoss({ connectionString: databaseUrl, useListenNotify: true });
  boss.on('error', (err) => process.stderr.write(`[pg-boss] error: ${err.message}\n`));
  await boss.start();
  await boss.createQueue('noop', { notify: true });
  await boss.work('noop', { batchSize: 200, localConcurrency: 2, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const j of jobs) started(j.data);
    count(jobs.length);
  });
  const check = new pg.Client({ connectionString: databaseUrl });
  await check.connect();
  return {
    async go(n) {
      await enqueue(n, (from, to) => {
        const jobs = [];
        for (let i = from; i < to; i++) jobs.push({ data: { i } });
        return boss.insert('noop', jobs);
      });
      const enqueuedAt = Date.now();
      const handledAt = await handledUpTo(enqueued);
      const completeAt = await pollUntil(check, `SELECT count(*) FILTER (WHERE state = 'completed') >= ${enqueued} AS done FROM pgboss.job WHERE name = 'noop'`);
      const { rows: [{ last }] } = await check.query(`SELECT extract(epoch FROM max(completed_on)) * 1000 AS last FROM pgboss.job WHERE name = 'noop'`);
      return { enqueuedAt, handledAt, completeAt, lastCompletedOn: Number(last) };
    },
    single: (opts) => singles((payload) => boss.send('noop', payload), opts),
    async stop() {
      await check.end();
      await boss.stop({ graceful: true, timeout: 5000 });
    },
  };
}

const peers = { 'graphile-worker': graphileWorker, 'pg-boss': pgBoss };

try {
  if (!peers[system]) throw new Error(`unknown peer ${system}`);
  const peer = await peers[system]();
  process.on('message', async (m) => {
    try {
      if (m.type === 'go') send({ type: 'done', ...(await peer.go(m.jobs ?? N)), handled });
      if (m.type === 'single') send({ type: 'singles', ...(await peer.single(m)) });
      if (m.type === 'stop') {
        await peer.stop();
        process.exit(0);
      }
    } catch (err) {
      send({ type: 'error', message: err.stack ?? err.message });
      process.exit(1);
    }
  });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'error', message: err.stack ?? err.message });
  process.exit(1);
}
