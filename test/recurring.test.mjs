// Recurring jobs on the real stack: intervals with bounds, misfires after a scheduler outage,
// and overlapping runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, sleep, millis } from '@pipewright/testkit';

const { JobStatus } = schedulerV1;
const S = { DONE: JobStatus.JOB_STATUS_DONE, SKIPPED: JobStatus.JOB_STATUS_SKIPPED };
/** @type {import('@pipewright/testkit').Stack} */
let stack;
const schedulerEnv = { SCHEDULER_MISFIRE_THRESHOLD: '1000' };

before(async () => {
  stack = await startStack({ services: ['ingest-gateway', 'scheduler', 'executor'], envFor: { scheduler: schedulerEnv } });
});
after(async () => stack?.stop());

const gw = () => stack.client('ingest-gateway');
const sch = () => stack.client('scheduler');
const runsOf = async (jobId) => (await sch().listRuns({ jobId, pageSize: 1000 })).runs;
const schedule = (fields) => gw().scheduleJob({ appName: 'noop', ...fields });
const stored = (requestId) => eventually(() => sch().getJob({ jobId: requestId }), { message: `job ${requestId} stored` });

test('an interval job runs at each occurrence until endAt, then is DONE', async () => {
  const start = Date.now() + 1000;
  const { requestId } = await schedule({
    scheduledTime: new Date(start).toISOString(),
    schedule: { everyMs: 1000, cron: '', timezone: '' },
    endAt: new Date(start + 3500).toISOString(),
  });
  const job = await eventually(async () => {
    const j = await sch().getJob({ jobId: requestId });
    return j.status === S.DONE && j.nextFireAt === undefined && j;
  }, { timeoutMs: 30_000, message: 'recurring job DONE after endAt' });
  assert.equal(job.schedule, 'every 1000 ms');
  const runs = await runsOf(job.jobId);
  assert.equal(runs.length, 4);
  assert.ok(runs.every((r) => r.status === S.DONE));
  const dues = runs.map((r) => millis(r.dueAt)).sort();
  assert.deepEqual(dues.map((d) => d - dues[0]), [0, 1000, 2000, 3000]);
  for (const r of runs) assert.ok(millis(r.firedAt) >= millis(r.dueAt));
});

test('a cron job with seconds and a time zone fires on its occurrences', async () => {
  const { requestId } = await schedule({ schedule: { cron: '*/2 * * * * *', timezone: 'Asia/Kolkata', everyMs: 0 } });
  const job = await stored(requestId);
  await eventually(async () => (await runsOf(job.jobId)).filter((r) => r.status === S.DONE).length >= 2, { timeoutMs: 20_000, message: 'two cron runs' });
  await sch().cancelJob({ jobId: job.jobId });
  const runs = (await runsOf(job.jobId)).filter((r) => r.status === S.DONE);
  for (const r of runs) assert.equal(millis(r.dueAt) % 2000, 0, `due ${r.dueAt?.toISOString()} is on an even second`);
});

test('after a scheduler outage each misfire policy does what it says, and skipped occurrences are visible', async () => {
  const common = { schedule: { everyMs: 1000, cron: '', timezone: '' }, overlapPolicy: 'allow', catchUpWindowMs: 3000 };
  const ids = {};
  for (const policy of ['fire_once', 'skip', 'catch_up']) {
    const { requestId } = await schedule({ ...common, misfirePolicy: policy });
    ids[policy] = (await stored(requestId)).jobId;
  }
  await eventually(async () => {
    for (const id of Object.values(ids)) if ((await runsOf(id)).length === 0) return false;
    return true;
  }, { message: 'each job ran once before the outage' });

  await stack.proc('scheduler').stop();
  await sleep(7000);
  const restart = Date.now();
  await stack.start('scheduler', { env: schedulerEnv });
  await sleep(2500);
  for (const id of Object.values(ids)) await sch().cancelJob({ jobId: id });

  const fired = async (id) => (await runsOf(id)).filter((r) => r.status !== S.SKIPPED);
  const skipped = async (id) => (await runsOf(id)).filter((r) => r.status === S.SKIPPED);
  const lateBy = (r) => r.firedAt.getTime() - r.dueAt.getTime();
  // The first firing after the restart handles every occurrence missed during the outage.
  const firstBatch = async (id) => {
    const after = (await fired(id)).filter((r) => millis(r.firedAt) >= restart);
    const t = Math.min(...after.map((r) => millis(r.firedAt)));
    return after.filter((r) => millis(r.firedAt) === t);
  };

  assert.equal((await firstBatch(ids.fire_once)).length, 1, 'fire_once fires one occurrence for the whole outage');
  assert.ok((await skipped(ids.fire_once)).length >= 5, 'fire_once skips the other missed occurrences');
  assert.deepEqual((await fired(ids.skip)).filter((r) => lateBy(r) > 1000), [], 'skip fires nothing late');
  assert.ok((await skipped(ids.skip)).length >= 6);
  const caught = (await firstBatch(ids.catch_up)).filter((r) => lateBy(r) > 1000).length;
  assert.ok(caught >= 1 && caught <= 3, `catch_up fires the missed occurrences inside its 3 s window late (fired ${caught})`);
  assert.ok((await skipped(ids.catch_up)).length >= 3, 'catch_up skips the older ones');

  const job = await sch().getJob({ jobId: ids.skip });
  assert.ok(job.skipped >= 6, `GetJob counts skipped occurrences (${job.skipped})`);
  assert.ok((await sch().getStats()).misfires >= 10);
  for (const r of await skipped(ids.skip)) assert.match(r.error, /misfire/);
});

test('overlap skip: occurrences due while the previous run is still retrying are skipped, not run concurrently', async () => {
  const { requestId } = await gw().scheduleJob({
    appName: 'fail',
    schedule: { everyMs: 500, cron: '', timezone: '' },
    jobData: { failAttempts: 1 },
    backoff: { initialMs: 2000, multiplier: 1, maxMs: 2000 },
  });
  const job = await stored(requestId);
  await eventually(async () => (await runsOf(job.jobId)).some((r) => r.status === S.DONE), { timeoutMs: 20_000, message: 'first run done' });
  await sch().cancelJob({ jobId: job.jobId });
  const runs = await runsOf(job.jobId);
  const overlaps = runs.filter((r) => r.status === S.SKIPPED && /overlap/.test(r.error));
  assert.ok(overlaps.length >= 2, `occurrences during the 2 s retry are skipped (${overlaps.length})`);
  // No two executed runs overlap in time.
  const executed = executedRuns(runs);
  for (let i = 1; i < executed.length; i++) assert.ok(millis(executed[i].startedAt) >= millis(executed[i - 1].finishedAt), 'runs do not overlap');
});

test('a daily cron is read in its time zone: "S M H * * *" for 3 s from now in Asia/Kathmandu (UTC+05:45) fires then', async () => {
  const at = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Kathmandu', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' })
    .formatToParts(at)
    .reduce((o, p) => ({ ...o, [p.type]: Number(p.value) }), /** @type {Record<string, number>} */ ({}));
  const cron = `${local.second} ${local.minute} ${local.hour} * * *`;
  const { requestId } = await schedule({ schedule: { cron, timezone: 'Asia/Kathmandu', everyMs: 0 } });
  const job = await stored(requestId);
  const [run] = await eventually(async () => {
    const runs = (await runsOf(job.jobId)).filter((r) => r.status === S.DONE);
    return runs.length && runs;
  }, { timeoutMs: 20_000, message: 'the occurrence ran' });
  assert.equal(run.dueAt?.toISOString(), at.toISOString(), `${cron} in Asia/Kathmandu is ${at.toISOString()}`);
  const after = await sch().getJob({ jobId: job.jobId });
  assert.equal(after.nextFireAt?.toISOString(), new Date(at.getTime() + 86_400_000).toISOString(), 'next: the same local time tomorrow');
  await sch().cancelJob({ jobId: job.jobId });
});

/** A recurring job every 500 ms whose every run takes over 2 s (fails once, retries after 2 s). */
const slowRecurring = (overlapPolicy) => gw().scheduleJob({
  appName: 'fail',
  schedule: { everyMs: 500, cron: '', timezone: '' },
  jobData: { failAttempts: 1 },
  backoff: { initialMs: 2000, multiplier: 1, maxMs: 2000 },
  overlapPolicy,
});
/**
 * The runs that started and finished, in the order they started.
 * @param {import('@pipewright/proto').schedulerV1.Run[]} runs
 */
const executedRuns = (runs) => runs.filter((r) => r.startedAt && r.finishedAt).sort((a, b) => millis(a.startedAt) - millis(b.startedAt));

test('overlap buffer_one: one occurrence due during a run waits and fires as soon as the run ends; the others are skipped', async () => {
  const job = await stored((await slowRecurring('buffer_one')).requestId);
  await eventually(async () => executedRuns(await runsOf(job.jobId)).length >= 2, { timeoutMs: 30_000, message: 'two runs done' });
  await sch().cancelJob({ jobId: job.jobId });
  const runs = await runsOf(job.jobId);
  const [first, second] = executedRuns(runs);
  const firstEnded = millis(first.finishedAt);
  assert.ok(millis(second.dueAt) < firstEnded, 'the second run was due while the first was running');
  assert.ok(millis(second.firedAt) >= firstEnded, 'and fired only once the first had ended');
  assert.ok(millis(second.firedAt) - firstEnded < 3000, `promptly (${millis(second.firedAt) - firstEnded} ms after)`);
  assert.ok(runs.some((r) => r.status === S.SKIPPED && /overlap/.test(r.error)), 'occurrences beyond the one buffered are skipped');
  const executed = executedRuns(runs);
  for (let i = 1; i < executed.length; i++) assert.ok(millis(executed[i].startedAt) >= millis(executed[i - 1].finishedAt), 'runs do not overlap');
});

test('overlap allow: occurrences fire while earlier runs are still going, and none is skipped', async () => {
  const job = await stored((await slowRecurring('allow')).requestId);
  await eventually(async () => executedRuns(await runsOf(job.jobId)).length >= 3, { timeoutMs: 30_000, message: 'three runs done' });
  await sch().cancelJob({ jobId: job.jobId });
  const runs = await runsOf(job.jobId);
  assert.equal(runs.filter((r) => r.status === S.SKIPPED).length, 0);
  const executed = executedRuns(runs);
  assert.ok(executed.some((r, i) => i > 0 && millis(r.startedAt) < millis(executed[i - 1].finishedAt)), 'some runs overlap in time');
});
