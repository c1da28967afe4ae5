// An executor killed in the middle of a run: the run is not lost. Once its lease lapses another
// executor takes it over and finishes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, writeAppsFile, listen } from '@pipewright/testkit';

const { JobStatus } = schedulerV1;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('node:http').Server} */
let server;
const requests = [];
let hold = true;
/** Answers held back while `hold` is set (the killed executor's one is never answered). */
const held = [];

before(async () => {
  // The first request hangs (its executor is killed meanwhile); later ones succeed.
  server = createServer((req, res) => {
    requests.push(Date.now());
    req.resume();
    if (hold) return void held.push(res);
    res.writeHead(200).end('ok');
  });
  const port = await listen(server);
  const registry = writeAppsFile({ slow: { handler: 'http', options: { url: `http://127.0.0.1:${port}/`, timeoutMs: 60_000 } } });
  stack = await startStack({
    services: ['ingest-gateway', 'scheduler'],
    env: { APPS_CONFIG: registry },
    envFor: { executor: { EXECUTOR_RUN_LEASE: '3000', KAFKA_SESSION_TIMEOUT: '6000' } },
  });
  await stack.start('executor', { as: 'executor-a' });
});

after(async () => {
  await stack?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

test('a run whose executor is killed mid-run is taken over by another executor and finishes, its attempt count going on', async () => {
  const gw = stack.client('ingest-gateway');
  const sch = stack.client('scheduler');
  const { requestId } = await gw.scheduleJob({ appName: 'slow' });
  await eventually(() => requests.length === 1, { message: 'first executor called the endpoint' });
  stack.proc('executor-a').child.kill('SIGKILL');
  hold = false;
  await stack.start('executor', { as: 'executor-b' });
  const job = await eventually(
    async () => {
      const j = await sch.getJob({ jobId: requestId });
      return j.status === JobStatus.JOB_STATUS_DONE && j;
    },
    { timeoutMs: 60_000, message: 'job DONE after the takeover' },
  );
  assert.equal(requests.length, 2, 'the endpoint was called again by the second executor');
  assert.equal(job.runs, 1);
  const claims = await stack.query('SELECT executor, outcome, attempts FROM executor.run_claims WHERE job_id = $1', [job.jobId]);
  assert.equal(claims.length, 1);
  assert.equal(claims[0].outcome, 'DONE');
  // The attempt the killed executor started counts: the one that finished is attempt 2.
  assert.equal(claims[0].attempts, 2, 'the claim counts both attempts');
  assert.equal(job.attempts, 2, 'GetJob says attempt 2');
  const [run] = (await sch.listRuns({ jobId: job.jobId, pageSize: 10 })).runs;
  assert.equal(run.attempt, 2);
  assert.match(run.error, /attempt 1 was interrupted: its executor .+ stopped; taken over by /, 'the run says it was taken over');
});

test('runs held longer than their lease by a live executor keep their claims: the leases are renewed and no other executor runs them', async () => {
  const gw = stack.client('ingest-gateway');
  const sch = stack.client('scheduler');
  hold = true;
  held.length = 0;
  const before = requests.length;
  const jobs = [await gw.scheduleJob({ appName: 'slow' }), await gw.scheduleJob({ appName: 'slow' })];
  await eventually(() => held.length === 2, { message: 'both runs called the endpoint' });
  const leases = async () => {
    const rows = await stack.query(`SELECT c.executor, c.lease_until, c.claimed_at FROM executor.run_claims c JOIN scheduler.jobs j ON c.job_id = j.id::text WHERE j.request_id = ANY($1)`, [
      jobs.map((j) => j.requestId),
    ]);
    assert.equal(rows.length, 2);
    return rows;
  };
  const first = await leases();
  // Past a whole lease (3 s): each lease has been pushed beyond its claim's first one.
  await eventually(async () => (await leases()).every((c) => c.lease_until.getTime() > c.claimed_at.getTime() + 4500), { timeoutMs: 15_000, message: 'leases renewed' });
  // Another member joins the group: whatever it is handed, it does not run these runs again.
  await stack.start('executor', { as: 'executor-c' });
  const joined = Date.now();
  // A whole lease after it joined, the runs are still held (renewed since) and not run again.
  await eventually(async () => (await leases()).every((c) => c.lease_until.getTime() > joined + 3500), { timeoutMs: 15_000, message: 'leases renewed after the join' });
  assert.equal(requests.length, before + 2, 'the endpoint was called once per run');
  hold = false;
  for (const res of held.splice(0)) res.writeHead(200).end('ok');
  for (const { requestId } of jobs) {
    await eventually(async () => (await sch.getJob({ jobId: requestId })).status === JobStatus.JOB_STATUS_DONE, { message: `job ${requestId} DONE` });
  }
  const last = await leases();
  assert.deepEqual(
    last.map((c) => c.executor),
    first.map((c) => c.executor),
    'both runs finished on the executor that claimed them',
  );
  assert.equal(requests.length, before + 2);
});
