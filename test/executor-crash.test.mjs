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

before(async () => {
  // The first request hangs (its executor is killed meanwhile); later ones succeed.
  server = createServer((req, res) => {
    requests.push(Date.now());
    req.resume();
    if (hold) return;
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
  const job = await eventually(async () => {
    const j = await sch.getJob({ jobId: requestId });
    return j.status === JobStatus.JOB_STATUS_DONE && j;
  }, { timeoutMs: 60_000, message: 'job DONE after the takeover' });
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
