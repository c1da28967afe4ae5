// History retention: finished jobs, their runs and the executor's claims are deleted once older
// than SCHEDULER_RETENTION / EXECUTOR_RETENTION; jobs still to run are kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { schedulerV1 } from '@pipewright/proto';
import { startJobStack, eventually } from '@pipewright/testkit';

const { JobStatus } = schedulerV1;

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;
/** @type {import('@pipewright/testkit').SchedulerClient} */
let scheduler;

before(async () => {
  ({ stack, gateway, scheduler } = await startJobStack({ envFor: { scheduler: { SCHEDULER_RETENTION: '2s' }, executor: { EXECUTOR_RETENTION: '2s' } } }));
});

after(async () => stack?.stop());

const count = async (sql, params) => (await stack.query(sql, params))[0].n;

test('a finished job, its run and its claim are deleted after the retention; a job still to run is kept', async () => {
  const done = await gateway.scheduleJob({ appName: 'noop' });
  const later = await gateway.scheduleJob({ appName: 'noop', scheduledTime: new Date(Date.now() + 3600_000).toISOString() });
  const job = await eventually(async () => {
    const j = await scheduler.getJob({ jobId: done.requestId });
    return j.status === JobStatus.JOB_STATUS_DONE && j;
  }, { message: 'job DONE' });
  assert.equal(await count('SELECT count(*)::int AS n FROM executor.run_claims WHERE job_id = $1', [job.jobId]), 1);
  await eventually(async () => (await count('SELECT count(*)::int AS n FROM scheduler.jobs WHERE id = $1', [job.jobId])) === 0, { timeoutMs: 20_000, message: 'finished job deleted' });
  assert.equal(await count('SELECT count(*)::int AS n FROM scheduler.runs WHERE job_id = $1', [job.jobId]), 0, 'its runs went with it');
  await eventually(async () => (await count('SELECT count(*)::int AS n FROM executor.run_claims WHERE job_id = $1', [job.jobId])) === 0, { timeoutMs: 20_000, message: 'claim deleted' });
  await assert.rejects(scheduler.getJob({ jobId: done.requestId }), /NOT_FOUND/);
  assert.equal((await scheduler.getJob({ jobId: later.requestId })).status, JobStatus.JOB_STATUS_SCHEDULED, 'the job due in an hour is still SCHEDULED');
});
