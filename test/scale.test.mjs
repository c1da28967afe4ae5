// Three scheduler and two executor processes, 2,000 jobs due within a few seconds: each runs
// exactly once and none is lost, also when a scheduler is killed with SIGKILL while firing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ingestV1 } from '@pipewright/proto';
import { startStack, eventually, sleep, tapTopic, writeAppsFile, recordingApp, executionsPerJob } from '@pipewright/testkit';

const JOBS = 2000;
const BATCH = 250;
const SPREAD_MS = 4000;
const SCHEDULERS = ['scheduler', 'scheduler-2', 'scheduler-3'];
const EXECUTORS = ['executor', 'executor-2'];

// Every execution publishes its jobData here, so a job run twice shows up as two messages.
const EXECUTIONS = 'scale.executions';

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;
/** @type {import('@pipewright/testkit').Tap} */
let executions;

before(async () => {
  const appsFile = writeAppsFile({ record: recordingApp(EXECUTIONS) });
  stack = await startStack({ services: ['ingest-gateway'], env: { APPS_CONFIG: appsFile } });
  executions = await tapTopic(stack.kafka, EXECUTIONS);
  // Replicas start together, as they would in a rollout: migrations and topic creation race.
  await Promise.all([
    ...SCHEDULERS.map((as) => stack.start('scheduler', { as })),
    ...EXECUTORS.map((as) => stack.start('executor', { as })),
  ]);
  gateway = stack.client('ingest-gateway');
});

after(async () => {
  await executions?.stop();
  await stack?.stop();
});

/** Schedules JOBS jobs of the recording app due over SPREAD_MS from `at`, through ScheduleJobs in batches. */
async function scheduleAll(label, at) {
  const ids = [];
  for (let from = 0; from < JOBS; from += BATCH) {
    const jobs = Array.from({ length: Math.min(BATCH, JOBS - from) }, (_, k) => {
      const i = from + k;
      return ingestV1.ScheduleJobRequest.fromPartial({
        appName: 'record',
        scheduledTime: new Date(at + Math.floor((i * SPREAD_MS) / JOBS)).toISOString(),
        jobData: { label, i },
      });
    });
    const res = await gateway.scheduleJobs({ jobs }, { deadlineMs: 60_000 });
    ids.push(...res.jobs.map((j) => j.requestId));
  }
  return ids;
}

const one = async (sql, ids) => (await stack.query(sql, [ids]))[0];

const FIRED = `SELECT count(*)::int AS n, count(DISTINCT r.job_id)::int AS jobs
                 FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)`;
const CLAIMS = `SELECT count(*)::int AS n, count(DISTINCT c.job_id)::int AS jobs,
                       count(*) FILTER (WHERE c.outcome = 'DONE' AND c.attempts = 1)::int AS done_once
                  FROM executor.run_claims c JOIN scheduler.jobs j ON c.job_id = j.id::text WHERE j.request_id = ANY($1)`;
const STATUSES = `SELECT status, count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1) GROUP BY status ORDER BY status`;
// Jobs the executor finished whose status the scheduler never recorded.
const UNRECORDED = `SELECT count(*)::int AS n FROM scheduler.jobs j JOIN executor.run_claims c ON c.job_id = j.id::text
                     WHERE j.request_id = ANY($1) AND c.outcome = 'DONE' AND j.status <> 'DONE'`;

/** Polls `probe` until `done(value)`; gives up when the value has not changed for stallMs. */
async function progress(probe, done, { stallMs, message }) {
  let last;
  let changedAt = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (JSON.stringify(value) !== JSON.stringify(last)) {
      last = value;
      changedAt = Date.now();
    } else if (Date.now() - changedAt > stallMs) {
      throw new Error(`${message}: no progress for ${stallMs} ms (last: ${JSON.stringify(value)})`);
    }
    await sleep(500);
  }
}

/** Every job stored once, fired once, executed exactly once, and DONE. */
async function assertExactlyOnce(t, label, ids, started) {
  // The session timeout of a killed member (30 s) can hold its partitions that long.
  const stall = { stallMs: 60_000 };
  const fired = await progress(() => one(FIRED, ids), (r) => r.n >= JOBS, { ...stall, message: 'firing' });
  const claims = await progress(() => one(CLAIMS, ids), (r) => r.done_once >= JOBS, { ...stall, message: 'execution' });
  t.diagnostic(`all executed ${Date.now() - started} ms after scheduling started`);
  assert.deepEqual(fired, { n: JOBS, jobs: JOBS }, 'one run per job');
  assert.deepEqual(claims, { n: JOBS, jobs: JOBS, done_once: JOBS }, 'each job executed once, in one attempt');
  // Nothing is left to fire: a late re-fire would show up as a second run or claim.
  await sleep(2000);
  assert.deepEqual(await one(FIRED, ids), fired);
  assert.deepEqual(await one(CLAIMS, ids), claims);
  const [{ n: stored }] = await stack.query('SELECT count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1)', [ids]);
  assert.equal(stored, JOBS, 'every job stored once');
  // What the handlers did: one message per job, none missing, none twice.
  const perJob = await eventually(() => {
    const counts = executionsPerJob(executions.messages, label);
    return counts.size === JOBS && counts;
  }, { message: `a message from each of the ${JOBS} jobs` });
  assert.deepEqual([...perJob.values()].filter((n) => n !== 1), [], 'no job executed twice');

  // The executor reports before the firing transaction that published the run may have
  // committed: the scheduler must still record every status.
  await progress(() => stack.query(STATUSES, [ids]), (rows) => rows.length === 1 && rows[0].status === 'DONE' && rows[0].n === JOBS, {
    stallMs: 75_000,
    message: 'statuses',
  }).catch(async (err) => {
    throw new Error(`${err.message}; executed but not recorded DONE: ${(await one(UNRECORDED, ids)).n}`);
  });
  t.diagnostic(`all DONE ${Date.now() - started} ms after scheduling started`);
}

test(`3 schedulers and 2 executors run ${JOBS} jobs due within a few seconds exactly once`, { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const ids = await scheduleAll('steady', Date.now() + 8000);
  t.diagnostic(`scheduled in ${Date.now() - started} ms`);
  assert.equal(new Set(ids).size, JOBS);
  await assertExactlyOnce(t, 'steady', ids, started);
});

test(`the same while one scheduler is killed with SIGKILL in the middle of firing`, { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const ids = await scheduleAll('kill', Date.now() + 8000);
  t.diagnostic(`scheduled in ${Date.now() - started} ms`);

  // Kill as soon as a fifth has fired: the others keep firing the rest.
  const victim = stack.proc('scheduler-2');
  const atKill = await eventually(async () => {
    const { n } = await one(FIRED, ids);
    return n >= JOBS / 5 && n;
  }, { timeoutMs: 120_000, intervalMs: 25, message: 'firing under way' });
  victim.child.kill('SIGKILL');
  await new Promise((r) => (victim.child.exitCode !== null || victim.child.signalCode !== null ? r(undefined) : victim.child.once('exit', r)));
  stack.procs.delete('scheduler-2');
  t.diagnostic(`killed scheduler-2 with ${atKill} of ${JOBS} fired`);
  assert.ok(atKill < JOBS, 'the kill came while occurrences were still waiting to fire');
  assert.equal(victim.child.signalCode, 'SIGKILL');

  await assertExactlyOnce(t, 'kill', ids, started);
});
