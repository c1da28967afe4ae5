// The scheduler's batch statements against a real PostgreSQL: ingest of a whole batch in a few
// statements, and run status events applied commutatively.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createPool, migrate, createLogger, withTransaction } from '@pipewright/platform';
import { validateJobRequest } from '@pipewright/contracts';
import { startStack } from '@pipewright/testkit';
import { insertJobs, applyRunStatuses, runIdFor, jobIdFor, deleteFinishedHistory, claimDue, claimPending, claimRetries } from '../dist/store.js';

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('pg').Pool} */
let pool;
const logger = createLogger('test', 'fatal');

before(async () => {
  stack = await startStack();
  pool = createPool(stack.databaseUrl, 4, logger, 'scheduler');
  await migrate(pool, { schema: 'scheduler', dir: join(import.meta.dirname, '..', 'migrations'), logger });
});

after(async () => {
  await pool?.end();
  await stack?.stop();
});

const request = (fields) => validateJobRequest({ requestId: randomUUID(), appName: 'noop', ...fields }, { defaultZone: 'UTC' });
/**
 * Stores the requests in one batch (with firing as the ingest consumer does it, when given). Each
 * has an occurrence, so each outcome names a job.
 * @param {import('@pipewright/contracts').JobRequest[]} reqs
 * @param {import('../dist/store.js').IngestFiring} [firing]
 */
const store = async (reqs, firing) =>
  (
    await insertJobs(
      pool,
      reqs.map((req) => ({ req, traceContext: {} })),
      3600_000,
      firing,
    )
  ).map((o) => (o.kind === 'no-occurrence' ? assert.fail('a request without an occurrence') : o));
/** Why an outcome is a duplicate (undefined when it was inserted). @param {Awaited<ReturnType<typeof store>>[number]} o */
const reason = (o) => (o.kind === 'duplicate' ? o.reason : undefined);

test('a batch of job requests is stored at once: the first of a request id or an idempotency key wins, later batches see the earlier ones', async () => {
  const soon = new Date(Date.now() + 3600_000).toISOString();
  const a = request({ scheduledTime: soon });
  const again = { ...a };
  const key = `key-${randomUUID()}`;
  const k1 = request({ scheduledTime: soon, idempotencyKey: key });
  const k2 = request({ scheduledTime: soon, idempotencyKey: key });
  const plain = request({ scheduledTime: soon });
  const out = await store([a, again, k1, k2, plain]);
  assert.deepEqual(
    out.map((o) => o.kind),
    ['inserted', 'duplicate', 'inserted', 'duplicate', 'inserted'],
  );
  assert.equal(out[1].jobId, out[0].jobId, 'the repeated request id names the stored job');
  assert.equal(out[3].jobId, out[2].jobId, 'the second holder of the key names the first');
  // A later batch sees what the first stored.
  const later = await store([a, request({ scheduledTime: soon, idempotencyKey: key })]);
  assert.deepEqual(
    later.map((o) => [o.kind, reason(o)]),
    [
      ['duplicate', 'request'],
      ['duplicate', 'idempotency-key'],
    ],
  );
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM jobs WHERE request_id = ANY($1)', [[a, k1, k2, plain].map((r) => r.requestId)]);
  assert.equal(rows[0].n, 3);
});

test('a request id whose job was stored with an id that does not follow from it (as before ids did) stays a duplicate: no second job, and the outcome names that job', async () => {
  const a = request({ scheduledTime: new Date(Date.now() + 3600_000).toISOString() });
  await store([a]);
  const {
    rows: [legacy],
  } = await pool.query('UPDATE jobs SET id = gen_random_uuid() WHERE request_id = $1 RETURNING id', [a.requestId]);
  assert.notEqual(legacy.id, jobIdFor(a.requestId));
  const [again] = await store([{ ...a }]);
  assert.deepEqual([again.kind, reason(again), again.jobId], ['duplicate', 'request', legacy.id]);
  const { rows } = await pool.query('SELECT id FROM jobs WHERE request_id = $1', [a.requestId]);
  assert.deepEqual(rows, [{ id: legacy.id }]);
});

/**
 * A one-shot job that has fired: its run recorded FIRED as the firing transaction does, or (fired
 * = false) not recorded, as when an event is applied before that transaction commits.
 */
async function jobWithRun({ fired = true } = {}) {
  const dueAt = new Date(Date.now() - 1000);
  const [out] = await store([request({ scheduledTime: dueAt.toISOString() })]);
  const run = { jobId: out.jobId, runId: runIdFor(out.jobId, dueAt), dueAt };
  await pool.query('UPDATE jobs SET next_fire_at = NULL WHERE id = $1', [run.jobId]);
  if (fired) await pool.query(`INSERT INTO runs (id, job_id, status, due_at, fired_at) VALUES ($1, $2, 'FIRED', $3, $3)`, [run.runId, run.jobId, dueAt]);
  return run;
}

const event = (run, status, at, more = {}) => ({
  runId: run.runId,
  jobId: run.jobId,
  status,
  attempt: 1,
  at: at.toISOString(),
  dueAt: run.dueAt.toISOString(),
  firedAt: run.dueAt.toISOString(),
  ...more,
});
const runRow = async (run) => (await pool.query('SELECT status, attempt, started_at, finished_at FROM runs WHERE id = $1', [run.runId])).rows[0];
const jobRow = async (run) => (await pool.query('SELECT status, attempts FROM jobs WHERE id = $1', [run.jobId])).rows[0];
const apply = (events) => withTransaction(pool, (c) => applyRunStatuses(c, events));

test('what a request carries is stored as sent: text with quotes, backslashes, braces, commas and non-ASCII characters, nested job data, times and empty fields', async () => {
  const odd = `say "hi", {a,b} \\ back\\slash 'quoted' \u00e9\u00e8 \u65e5\u672c \u{1F680} NULL`;
  const jobData = { text: odd, list: [1, 'two', { three: [null, true] }], empty: {}, nested: { deeper: { n: -1.5e-7 } } };
  const at = '2030-01-02T03:04:05.678Z';
  const a = request({ requestId: `req ${odd}`, jobData, scheduledTime: at, idempotencyKey: `key ${odd} ${randomUUID()}`, maxRetries: 2, backoff: { initialMs: 10, multiplier: 2, maxMs: 100 } });
  const b = request({ jobData: {}, scheduledTime: at });
  const [oa, ob] = await store([a, b]);
  assert.equal(oa.kind, 'inserted');
  assert.equal(ob.kind, 'inserted');
  const { rows } = await pool.query('SELECT * FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY max_retries NULLS LAST', [[oa.jobId, ob.jobId]]);
  assert.equal(rows[0].request_id, `req ${odd}`);
  assert.equal(rows[0].idempotency_key, a.idempotencyKey);
  assert.deepEqual(rows[0].job_data, jobData);
  assert.equal(rows[0].scheduled_time.toISOString(), at);
  assert.equal(rows[0].next_fire_at.toISOString(), at);
  assert.equal(rows[0].max_retries, 2);
  assert.deepEqual(rows[0].backoff, { initialMs: 10, multiplier: 2, maxMs: 100 });
  assert.deepEqual(rows[1].job_data, {});
  assert.equal(rows[1].idempotency_key, null);
  assert.equal(rows[1].max_retries, null);
  assert.equal(rows[1].backoff, null);
  assert.equal(rows[1].schedule, null);
});

test('RUNNING applied after DONE keeps the start time; the run and the job end the same whatever the order, in one batch or in two', async () => {
  const started = new Date(Date.now() - 500);
  const finished = new Date(Date.now() - 100);
  const results = [];
  const orders = [['RUNNING', 'DONE'], ['DONE', 'RUNNING'], ['DONE+RUNNING'], ['RUNNING+DONE']];
  for (const { order, fired } of [true, false].flatMap((fired) => orders.map((order) => ({ order, fired })))) {
    const run = await jobWithRun({ fired });
    const ev = { RUNNING: event(run, 'RUNNING', started), DONE: event(run, 'DONE', finished) };
    for (const step of order) await apply(step.split('+').map((s) => ev[s]));
    const r = await runRow(run);
    results.push({
      order: `${order.join(' then ')}${fired ? '' : ', before the run row'}`,
      status: r.status,
      started: r.started_at?.getTime(),
      finished: r.finished_at?.getTime(),
      job: (await jobRow(run)).status,
    });
  }
  for (const r of results) {
    assert.deepEqual({ status: r.status, started: r.started, finished: r.finished, job: r.job }, { status: 'DONE', started: started.getTime(), finished: finished.getTime(), job: 'DONE' }, r.order);
  }
});

test('an event applied twice changes nothing more, and a later attempt wins over an earlier one', async () => {
  const run = await jobWithRun();
  const base = Date.now() - 5000;
  const t = (ms) => new Date(base + ms);
  const failed = event(run, 'FAILED', t(100), { startedAt: t(0).toISOString(), error: 'first attempt failed' });
  const done = event(run, 'DONE', t(300), { attempt: 2, startedAt: t(200).toISOString() });
  await apply([done, failed]);
  await apply([failed, done, failed]);
  const r = await runRow(run);
  assert.equal(r.status, 'DONE');
  assert.equal(r.attempt, 2);
  assert.equal(r.started_at.getTime(), t(0).getTime(), 'the first start of the run');
  assert.deepEqual(await jobRow(run), { status: 'DONE', attempts: 2 });
});

test('an event about a job this database does not have is dropped', async () => {
  const stranger = { runId: `${randomUUID()}:1`, jobId: randomUUID(), status: 'DONE', attempt: 1, at: new Date().toISOString() };
  assert.equal(await apply([stranger]), 0);
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM runs WHERE id = $1', [stranger.runId]);
  assert.equal(rows[0].n, 0);
});

test('a request id stored already, sent again with an idempotency key, stays a duplicate and leaves the key free', async () => {
  const soon = new Date(Date.now() + 3600_000).toISOString();
  const a = request({ scheduledTime: soon });
  const [first] = await store([a]);
  const key = `key-${randomUUID()}`;
  const [again] = await store([{ ...a, idempotencyKey: key }]);
  assert.deepEqual([again.kind, reason(again), again.jobId], ['duplicate', 'request', first.jobId]);
  const [other] = await store([request({ scheduledTime: soon, idempotencyKey: key })]);
  assert.equal(other.kind, 'inserted', 'the key was not left held by a job that was never stored');
});

test('a request id stored already with one idempotency key, sent again with another, leaves the first key held by its job', async () => {
  const soon = new Date(Date.now() + 3600_000).toISOString();
  const held = `key-${randomUUID()}`;
  const a = request({ scheduledTime: soon, idempotencyKey: held });
  const [first] = await store([a]);
  const [again] = await store([{ ...a, idempotencyKey: `key-${randomUUID()}` }]);
  assert.deepEqual([again.kind, reason(again)], ['duplicate', 'request']);
  const [other] = await store([request({ scheduledTime: soon, idempotencyKey: held })]);
  assert.deepEqual([other.kind, reason(other), other.jobId], ['duplicate', 'idempotency-key', first.jobId]);
});

// What a state change writes: the run status upsert and the job update of applyRunStatuses (a
// retry handed to the scheduler also sets runs.retry_at, which is indexed: that change is rare).
const STATE_COLUMNS = { jobs: ['status', 'attempts', 'last_error', 'updated_at'], runs: ['status', 'attempt', 'error', 'started_at', 'finished_at', 'updated_at'] };

test('a state change of a job or a run touches no B-tree index: no such index names a column it writes, in its key or its WHERE clause', async () => {
  const { rows } = await pool.query(
    `SELECT t.relname AS table, c.relname AS index, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am am ON am.oid = c.relam
      WHERE t.relname = ANY($1) AND t.relnamespace = 'scheduler'::regnamespace AND am.amname <> 'brin'`,
    [Object.keys(STATE_COLUMNS)],
  );
  assert.ok(rows.length >= 6, 'the indexes of jobs and runs are read');
  const naming = rows.flatMap((r) => STATE_COLUMNS[r.table].filter((col) => new RegExp(`\\b${col}\\b`).test(r.def.replace(/^.*? USING /, ''))).map((col) => `${r.index} names ${col}`));
  assert.deepEqual(naming, []);
});

test('DONE applied to fired runs is a heap-only update of every run: no index entry is written', async () => {
  const runs = [];
  for (let i = 0; i < 20; i++) runs.push(await jobWithRun());
  const finished = new Date();
  // The backend's counts not yet reported, so the difference across the statement.
  const counts = async (c) => (await c.query(`SELECT pg_stat_get_xact_tuples_updated('runs'::regclass)::int AS updated, pg_stat_get_xact_tuples_hot_updated('runs'::regclass)::int AS hot`)).rows[0];
  const hot = await withTransaction(pool, async (c) => {
    const before = await counts(c);
    await applyRunStatuses(
      c,
      runs.map((run) => event(run, 'DONE', finished, { startedAt: finished.toISOString() })),
    );
    const after = await counts(c);
    return { updated: after.updated - before.updated, hot: after.hot - before.hot };
  });
  assert.deepEqual(hot, { updated: runs.length, hot: runs.length });
  for (const run of runs) assert.equal((await runRow(run)).status, 'DONE');
});

test('retention deletes a finished job with every run of it, a buffered one too, and leaves the runs of other jobs', async () => {
  const gone = await jobWithRun();
  const kept = await jobWithRun();
  const later = new Date(gone.dueAt.getTime() + 60_000);
  await pool.query(`INSERT INTO runs (id, job_id, status, due_at, fired_at, pending) VALUES ($1, $2, 'PENDING', $3, $3, true)`, [runIdFor(gone.jobId, later), gone.jobId, later]);
  await pool.query(`UPDATE jobs SET status = 'CANCELLED', updated_at = now() - interval '1 hour' WHERE id = $1`, [gone.jobId]);
  await deleteFinishedHistory(pool, 60_000);
  const { rows } = await pool.query('SELECT job_id, count(*)::int AS n FROM runs WHERE job_id = ANY($1) GROUP BY job_id', [[gone.jobId, kept.jobId]]);
  assert.deepEqual(rows, [{ job_id: kept.jobId, n: 1 }]);
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM jobs WHERE id = $1', [gone.jobId])).rows[0].n, 0);
});

test('a firing pass reads what is due through the indexes, never scanning jobs or runs, however many jobs wait for later', async () => {
  const later = new Date(Date.now() + 3600_000).toISOString();
  for (let i = 0; i < 3; i++) await store(Array.from({ length: 1000 }, () => request({ scheduledTime: later })));
  const due = await store(Array.from({ length: 5 }, () => request({ scheduledTime: new Date(Date.now() - 1000).toISOString() })));
  // Sequential scans of each table within the transaction (the backend's counts not yet reported).
  const scans = async (c) => (await c.query(`SELECT pg_stat_get_xact_numscans('jobs'::regclass)::int AS jobs, pg_stat_get_xact_numscans('runs'::regclass)::int AS runs`)).rows[0];
  const { claimed, seqScans } = await withTransaction(pool, async (c) => {
    const before = await scans(c);
    const rows = await claimDue(c, 1000);
    await claimPending(c, 1000, 3600_000);
    await claimRetries(c, 1000);
    const after = await scans(c);
    return { claimed: rows.map((r) => r.id), seqScans: { jobs: after.jobs - before.jobs, runs: after.runs - before.runs } };
  });
  for (const d of due) assert.ok(claimed.includes(d.jobId), 'every due job is claimed');
  assert.deepEqual(seqScans, { jobs: 0, runs: 0 });
});

/**
 * Firing as jobs are stored, as the ingest consumer does it: what is due fires when stored; each
 * publish is recorded with whether the storing transaction had committed by then.
 */
function ingestFiring({ fail = false } = {}) {
  const now = new Date();
  /** @type {Array<{ jobIds: string[], runIds: string[], visible: number }>} */
  const published = [];
  return {
    published,
    now,
    firesNow: (req, first) => !req.schedule && first.getTime() <= now.getTime(),
    async publish(fired) {
      const jobIds = fired.map((f) => f.job.id);
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1::uuid[])', [jobIds]);
      published.push({ jobIds, runIds: fired.map((f) => runIdFor(f.job.id, f.dueAt)), visible: rows[0].n });
      if (fail) throw new Error('the connection was lost before the commit');
    },
  };
}
/** Nothing of the earlier tests is left due: what waits for the firing loops is what a test makes wait. */
const noBacklog = () => pool.query('UPDATE jobs SET next_fire_at = NULL WHERE next_fire_at <= now()');

test('a one-shot job due already is stored fired: its run is written with it and published before the storing transaction commits', async () => {
  await noBacklog();
  const past = new Date(Date.now() - 5000);
  const now = request({ scheduledTime: past.toISOString() });
  const later = request({ scheduledTime: new Date(Date.now() + 3600_000).toISOString() });
  const every = request({ scheduledTime: past.toISOString(), schedule: { everyMs: 3600_000 } });
  const firing = ingestFiring();
  const out = await store([now, later, every], firing);
  assert.deepEqual(
    out.map((o) => o.kind),
    ['inserted', 'inserted', 'inserted'],
  );
  assert.equal(firing.published.length, 1, 'one publish for the batch');
  assert.deepEqual(firing.published[0].jobIds, [out[0].jobId], 'only the one-shot job that is due fires');
  assert.equal(firing.published[0].visible, 0, 'published while its job was not yet committed');
  const { rows: runs } = await pool.query('SELECT id, status, due_at, fired_at FROM runs WHERE job_id = $1', [out[0].jobId]);
  assert.deepEqual(
    runs.map((r) => [r.id, r.status, r.due_at.getTime(), r.fired_at.getTime()]),
    [[runIdFor(out[0].jobId, past), 'FIRED', past.getTime(), firing.now.getTime()]],
  );
  const { rows: jobs } = await pool.query('SELECT id, status, next_fire_at FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY request_id = $2 DESC, request_id = $3 DESC', [
    out.map((o) => o.jobId),
    now.requestId,
    later.requestId,
  ]);
  assert.deepEqual(
    jobs.map((j) => [j.status, j.next_fire_at === null]),
    [
      ['SCHEDULED', true],
      ['SCHEDULED', false],
      ['SCHEDULED', false],
    ],
    'the fired job has no next due time; the others wait for the firing loops',
  );
  // Sent again, it is a duplicate and fires nothing.
  const again = ingestFiring();
  const [dup] = await store([now], again);
  assert.deepEqual([dup.kind, dup.jobId, again.published.length], ['duplicate', out[0].jobId, 0]);
});

test('a due job waits for the firing loops when a due job of its priority or a higher one waits there; a higher priority one fires as it is stored', async () => {
  await noBacklog();
  const past = new Date(Date.now() - 5000).toISOString();
  const [waiting] = await store([request({ scheduledTime: past, priority: 'normal' })]);
  const firing = ingestFiring();
  const out = await store([request({ scheduledTime: past, priority: 'low' }), request({ scheduledTime: past, priority: 'normal' }), request({ scheduledTime: past, priority: 'high' })], firing);
  assert.deepEqual(
    firing.published.map((p) => p.jobIds),
    [[out[2].jobId]],
    'only the high priority job fires',
  );
  const { rows } = await pool.query('SELECT id FROM jobs WHERE id = ANY($1::uuid[]) AND next_fire_at IS NOT NULL', [[waiting.jobId, out[0].jobId, out[1].jobId]]);
  assert.equal(rows.length, 3, 'the normal and the low one wait, behind the one that was waiting');
  await noBacklog();
});

test('a storing transaction that fails after publishing stores nothing, and the request stored again fires the same run id (which the executor runs once)', async () => {
  await noBacklog();
  const req = request({ scheduledTime: new Date(Date.now() - 1000).toISOString() });
  const failing = ingestFiring({ fail: true });
  await assert.rejects(store([req], failing), /connection was lost/);
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM jobs WHERE request_id = $1', [req.requestId]);
  assert.equal(rows[0].n, 0, 'rolled back');
  const retry = ingestFiring();
  const [out] = await store([req], retry);
  assert.equal(out.kind, 'inserted');
  assert.deepEqual(retry.published[0].runIds, failing.published[0].runIds);
  assert.equal(out.jobId, jobIdFor(req.requestId));
  assert.match(out.jobId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(jobIdFor(`${req.requestId}x`), out.jobId);
});

test('a status event applied while the job fired as it was stored is not yet committed waits for that commit, and is applied then', async () => {
  await noBacklog();
  const dueAt = new Date(Date.now() - 1000);
  const req = request({ scheduledTime: dueAt.toISOString() });
  const jobId = jobIdFor(req.requestId);
  const run = { jobId, runId: runIdFor(jobId, dueAt), dueAt };
  /** @type {Promise<number> | undefined} */
  let applying;
  const firing = ingestFiring();
  const publish = firing.publish;
  firing.publish = async (fired) => {
    await publish(fired);
    // The executor is quick: DONE arrives before the storing transaction commits.
    applying = apply([event(run, 'DONE', new Date(), { startedAt: new Date().toISOString() })]);
    // Until the apply has finished, or waits on a lock.
    for (let waiting = false; !waiting;) {
      const settled = await Promise.race([applying.then(() => true), new Promise((r) => setTimeout(() => r(false), 10))]);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      waiting = settled || rows[0].n > 0;
    }
  };
  const [out] = await store([req], firing);
  assert.equal(out.kind, 'inserted');
  assert.equal(await applying, 1, 'the event is applied');
  assert.equal((await runRow(run)).status, 'DONE');
  assert.equal((await jobRow(run)).status, 'DONE');
});
