// History retention: finished jobs, their runs and the executor's claims are deleted once older
// than SCHEDULER_RETENTION / EXECUTOR_RETENTION; jobs still to run are kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, eventually } from './helpers/stack.mjs';
import { clients } from '../scripts/lib/clients.mjs';

let stack;
let gateway;
let scheduler;

before(async () => {
  stack = await startStack({
    services: ['ingest-gateway', 'scheduler', 'executor'],
    envFor: { scheduler: { SCHEDULER_RETENTION: '2s' }, executor: { EXECUTOR_RETENTION: '2s' } },
  });
  gateway = clients.gateway(stack.address('ingest-gateway'));
  scheduler = clients.scheduler(stack.address('scheduler'));
});

after(async () => {
  gateway?.close();
  scheduler?.close();
  await stack?.stop();
});

const count = async (sql, params) => (await stack.query(sql, params))[0].n;

test('a finished job, its run and its claim are deleted after the retention; a job still to run is kept', async () => {
  const done = await gateway.scheduleJob({ appName: 'noop' });
  const later = await gateway.scheduleJob({ appName: 'noop', scheduledTime: new Date(Date.now() + 3600_000).toISOString() });
  const job = await eventually(async () => {
    const j = await scheduler.getJob({ jobId: done.requestId });
    return j.status === 4 && j;
  }, { message: 'job DONE' });
  assert.equal(await count('SELECT count(*)::int AS n FROM executor.run_claims WHERE job_id = $1', [job.jobId]), 1);
  await eventually(async () => (await count('SELECT count(*)::int AS n FROM scheduler.jobs WHERE id = $1', [job.jobId])) === 0, { timeoutMs: 20_000, message: 'finished job deleted' });
  assert.equal(await count('SELECT count(*)::int AS n FROM scheduler.runs WHERE job_id = $1', [job.jobId]), 0, 'its runs went with it');
  await eventually(async () => (await count('SELECT count(*)::int AS n FROM executor.run_claims WHERE job_id = $1', [job.jobId])) === 0, { timeoutMs: 20_000, message: 'claim deleted' });
  await assert.rejects(scheduler.getJob({ jobId: done.requestId }), /NOT_FOUND/);
  assert.equal((await scheduler.getJob({ jobId: later.requestId })).status, 2, 'the job due in an hour is still SCHEDULED');
});
