// The scheduler's control API and its guarantees on a real broker and database: idempotency
// across replicas, cancel / pause / resume / trigger-now and their illegal moves, NOT_FOUND,
// listing with page tokens, and priority order when many jobs are due at once.
//
// Every scheduler here fires one occurrence per transaction (SCHEDULER_FIRE_BATCH=1), so one
// replica fires strictly in the order of its claims; the priority test relies on that.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import grpc from '@grpc/grpc-js';
import { TOPICS } from '@pipewright/contracts';
import { ingestV1, schedulerV1 } from '@pipewright/proto';
import { startJobStack, eventually, clients, rejection } from '@pipewright/testkit';

const { AssignerProtocol } = kafkajs;
const { JobStatus } = schedulerV1;
const S = {
  SCHEDULED: JobStatus.JOB_STATUS_SCHEDULED,
  RUNNING: JobStatus.JOB_STATUS_RUNNING,
  DONE: JobStatus.JOB_STATUS_DONE,
  CANCELLED: JobStatus.JOB_STATUS_CANCELLED,
  PAUSED: JobStatus.JOB_STATUS_PAUSED,
};
const PRIORITY = { high: ingestV1.Priority.PRIORITY_HIGH, normal: ingestV1.Priority.PRIORITY_NORMAL, low: ingestV1.Priority.PRIORITY_LOW };
const INGEST_TOPIC = TOPICS.jobsIngest;
const INGEST_GROUP = 'scheduler.ingest';

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;
/** @type {import('@pipewright/testkit').SchedulerClient} */
let scheduler;

before(async () => {
  ({ stack, gateway, scheduler } = await startJobStack({ envFor: { scheduler: { SCHEDULER_FIRE_BATCH: '1' } } }));
});

after(async () => stack?.stop());

const inMs = (ms) => new Date(Date.now() + ms).toISOString();

/** Schedules jobs through the gateway in one ScheduleJobs call; returns their request ids. */
async function schedule(jobs) {
  const res = await gateway.scheduleJobs({ jobs: jobs.map((j) => ingestV1.ScheduleJobRequest.fromPartial({ appName: 'noop', ...j })) });
  return res.jobs.map((j) => j.requestId);
}

/** Waits until the scheduler has stored every one of the request ids. */
function stored(requestIds, timeoutMs = 30_000) {
  return eventually(async () => {
    const [{ n }] = await stack.query('SELECT count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1)', [requestIds]);
    return n === requestIds.length;
  }, { timeoutMs, intervalMs: 50, message: `${requestIds.length} jobs stored` });
}

const getJob = (id) => scheduler.getJob({ jobId: id });

function untilStatus(requestId, status, timeoutMs = 30_000) {
  return eventually(async () => {
    const job = await getJob(requestId);
    return job.status === status && job;
  }, { timeoutMs, message: `job ${requestId} in status ${status}` });
}

/** Partitions of the ingest topic per member of the scheduler's ingest group, once the group
 * is stable with `members` members. */
async function ingestAssignment(members) {
  const admin = stack.kafka.admin();
  await admin.connect();
  try {
    return await eventually(async () => {
      const { groups: [group] } = await admin.describeGroups([INGEST_GROUP]);
      if (group.state !== 'Stable' || group.members.length !== members) return false;
      const owned = group.members.map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment?.[INGEST_TOPIC] ?? []);
      return owned.every((p) => p.length > 0) && owned;
    }, { timeoutMs: 60_000, intervalMs: 250, message: `${INGEST_GROUP} stable with ${members} members` });
  } finally {
    await admin.disconnect();
  }
}

test('the same idempotency key on partitions owned by two scheduler replicas makes one job; one replica counts the duplicate', async () => {
  const second = await stack.start('scheduler', { as: 'scheduler-2' });
  const scheduler2 = clients.scheduler(second.address);
  const producer = stack.kafka.producer();
  await producer.connect();
  try {
    const [ownedByA, ownedByB] = await ingestAssignment(2);
    const replicas = [scheduler, scheduler2];
    const before = await Promise.all(replicas.map((r) => r.getStats()));

    const key = `idem-${randomUUID()}`;
    const requestIds = [randomUUID(), randomUUID()];
    const body = (requestId) => JSON.stringify({ requestId, appName: 'noop', scheduledTime: inMs(3600_000), idempotencyKey: key, jobData: { n: requestId } });
    // One send, two partitions, two different consumers of the group: both race for the key.
    await producer.send({
      topic: INGEST_TOPIC,
      acks: -1,
      messages: [
        { partition: ownedByA[0], key: `a-${key}`, value: body(requestIds[0]) },
        { partition: ownedByB[0], key: `b-${key}`, value: body(requestIds[1]) },
      ],
    });

    const delta = await eventually(async () => {
      const now = await Promise.all(replicas.map((r) => r.getStats()));
      const d = now.map((s, i) => ({
        received: Number(s.messagesReceived) - Number(before[i].messagesReceived),
        processed: Number(s.messagesProcessed) - Number(before[i].messagesProcessed),
        duplicates: Number(s.duplicatesSkipped) - Number(before[i].duplicatesSkipped),
      }));
      return d.every((x) => x.processed >= 1) && d;
    }, { message: 'both replicas processed a message' });
    assert.deepEqual(delta.map((d) => d.received), [1, 1], 'each replica received one of the two messages');
    assert.deepEqual(delta.map((d) => d.duplicates).sort(), [0, 1], 'exactly one replica counted a duplicate');

    const rows = await stack.query('SELECT id, request_id FROM scheduler.jobs WHERE idempotency_key = $1', [key]);
    assert.equal(rows.length, 1, 'one job holds the key');
    assert.ok(requestIds.includes(rows[0].request_id));
    const loser = requestIds.find((r) => r !== rows[0].request_id);
    assert.equal((await rejection(getJob(loser))).code, grpc.status.NOT_FOUND, 'the duplicate request was not stored');
    // Either replica answers for the job.
    for (const r of replicas) assert.equal((await r.getJob({ jobId: rows[0].request_id })).idempotencyKey, key);

    // A third request with the key, through the gateway this time, is dropped as well.
    const [third] = await schedule([{ idempotencyKey: key, scheduledTime: inMs(3600_000) }]);
    await eventually(async () => {
      const now = await Promise.all(replicas.map((r) => r.getStats()));
      return now.reduce((n, s, i) => n + Number(s.duplicatesSkipped) - Number(before[i].duplicatesSkipped), 0) === 2;
    }, { message: 'second duplicate counted' });
    assert.equal((await rejection(getJob(third))).code, grpc.status.NOT_FOUND);
    assert.equal((await stack.query('SELECT count(*)::int AS n FROM scheduler.jobs WHERE idempotency_key = $1', [key]))[0].n, 1);
  } finally {
    await producer.disconnect();
    scheduler2.close();
    await second.stop();
    stack.procs.delete('scheduler-2');
  }
  // From here on one replica fires; wait until it owns the ingest topic alone again.
  await ingestAssignment(1);
});

/**
 * Runs `attempt(at)` with due instants further and further ahead until it reports that it made
 * its move before the job's time (it returns a value), so a loaded machine cannot turn a
 * control call into a race with the firing loop.
 */
async function beforeItsTime(what, attempt) {
  for (const lead of [3000, 10_000, 30_000]) {
    const result = await attempt(new Date(Date.now() + lead).toISOString());
    if (result) return result;
  }
  assert.fail(`could not ${what} before the job's due time`);
}

const runsOf = async (id) => (await scheduler.listRuns({ jobId: id })).runs;

test('CancelJob of a future job makes it CANCELLED and it never fires', async () => {
  const { cancelled, witness } = await beforeItsTime('cancel', async (at) => {
    const [cancelled, witness] = await schedule([{ scheduledTime: at }, { scheduledTime: at }]);
    await stored([cancelled]);
    const res = await scheduler.cancelJob({ jobId: cancelled });
    assert.equal(res.status, S.CANCELLED);
    assert.equal(res.requestId, cancelled);
    // No run yet: the cancel came before the firing loop claimed the job.
    return (await runsOf(cancelled)).length === 0 && { cancelled, witness };
  });

  // The witness was due at the same instant: once it is DONE the firing loop has passed it.
  await untilStatus(witness, S.DONE);
  const job = await getJob(cancelled);
  assert.equal(job.status, S.CANCELLED);
  assert.equal(job.runs, 0);
  assert.equal(job.firedAt, undefined);
  assert.deepEqual(await runsOf(cancelled), []);
  const claims = await stack.query('SELECT count(*)::int AS n FROM executor.run_claims WHERE job_id = $1', [job.jobId]);
  assert.equal(claims[0].n, 0, 'never executed');
});

test('CancelJob of a DONE job answers FAILED_PRECONDITION and leaves it DONE', async () => {
  const [id] = await schedule([{}]);
  await untilStatus(id, S.DONE);
  const err = await rejection(scheduler.cancelJob({ jobId: id }));
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
  assert.match(err.details, /DONE/);
  assert.equal((await getJob(id)).status, S.DONE);
});

test('a paused job whose time passes does not fire; it fires after ResumeJob', async () => {
  const { paused, witness, at } = await beforeItsTime('pause', async (at) => {
    const [paused, witness] = await schedule([{ scheduledTime: at }, { scheduledTime: at }]);
    await stored([paused]);
    const p = await scheduler.pauseJob({ jobId: paused }).catch((err) => {
      if (err.code === grpc.status.FAILED_PRECONDITION) return undefined; // it fired already
      throw err;
    });
    if (p) assert.equal(p.status, S.PAUSED);
    return p && (await runsOf(paused)).length === 0 && { paused, witness, at };
  });

  await untilStatus(witness, S.DONE);
  assert.ok(Date.now() > Date.parse(at));
  let job = await getJob(paused);
  assert.equal(job.status, S.PAUSED, 'still paused after its time');
  assert.equal(job.runs, 0);

  const resumedAt = Date.now();
  const r = await scheduler.resumeJob({ jobId: paused });
  assert.ok([S.SCHEDULED, S.RUNNING, S.DONE].includes(r.status), `status after resume: ${r.status}`);
  job = await untilStatus(paused, S.DONE);
  assert.equal(job.runs, 1);
  const [run] = await runsOf(paused);
  assert.ok(run.dueAt && run.firedAt, 'the run has its due and fire times');
  assert.equal(run.dueAt.toISOString(), at, 'the run is the occurrence that was due while paused');
  assert.ok(run.firedAt.getTime() >= resumedAt, `fired ${run.firedAt.toISOString()} after resume at ${new Date(resumedAt).toISOString()}`);
});

test('ResumeJob, PauseJob, TriggerNow and CancelJob of a cancelled job answer FAILED_PRECONDITION', async () => {
  const [id] = await schedule([{ scheduledTime: inMs(3600_000) }]);
  await stored([id]);
  assert.equal((await scheduler.cancelJob({ jobId: id })).status, S.CANCELLED);
  for (const call of ['resumeJob', 'pauseJob', 'triggerNow', 'cancelJob']) {
    const err = await rejection(scheduler[call]({ jobId: id }));
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION, call);
    assert.match(err.details, /CANCELLED/, call);
  }
  assert.equal((await getJob(id)).status, S.CANCELLED);
});

test('ResumeJob of a job that is not paused answers FAILED_PRECONDITION', async () => {
  const [id] = await schedule([{ scheduledTime: inMs(3600_000) }]);
  await stored([id]);
  const err = await rejection(scheduler.resumeJob({ jobId: id }));
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
  assert.equal((await getJob(id)).status, S.SCHEDULED);
});

test('TriggerNow fires a job due in an hour at once', async () => {
  const at = inMs(3600_000);
  const [id] = await schedule([{ scheduledTime: at }]);
  await stored([id]);
  const triggeredAt = Date.now();
  const t = await scheduler.triggerNow({ jobId: id });
  assert.ok([S.SCHEDULED, S.RUNNING, S.DONE].includes(t.status), `status after trigger: ${t.status}`);
  const job = await untilStatus(id, S.DONE);
  assert.equal(job.runs, 1);
  assert.equal(job.scheduledTime?.toISOString(), at, 'the scheduled time is kept');
  const [run] = await runsOf(id);
  assert.ok(run.dueAt && run.firedAt, 'the run has its due and fire times');
  assert.ok(run.dueAt.getTime() >= triggeredAt - 1000 && run.dueAt.getTime() < Date.parse(at) - 3000_000, `run due ${run.dueAt.toISOString()}`);
  assert.ok(run.firedAt.getTime() >= triggeredAt - 1000 && run.firedAt.getTime() < Date.parse(at) - 3000_000, `run fired ${run.firedAt.toISOString()}`);
});

test('unknown job ids answer NOT_FOUND from every method that takes one; an empty id is INVALID_ARGUMENT', async () => {
  for (const id of [randomUUID(), 'no-such-request']) {
    for (const call of ['getJob', 'cancelJob', 'pauseJob', 'resumeJob', 'triggerNow', 'listRuns']) {
      const err = await rejection(scheduler[call]({ jobId: id }));
      assert.equal(err.code, grpc.status.NOT_FOUND, `${call}(${id})`);
    }
  }
  for (const call of ['getJob', 'cancelJob', 'listRuns']) {
    assert.equal((await rejection(scheduler[call]({ jobId: '' }))).code, grpc.status.INVALID_ARGUMENT, call);
  }
});

test('ListJobs filters by app, status and time range and pages with tokens', async () => {
  // 25 scheduled sipcall jobs in groups of four sharing a time (page edges fall inside a group),
  // 3 cancelled sipcall jobs, and 5 sms jobs at the same times as noise.
  const base = Date.now() + 2 * 3600_000;
  const time = (i) => new Date(base + Math.floor(i / 4) * 1000).toISOString();
  const scheduled = await schedule(Array.from({ length: 25 }, (_, i) => ({ appName: 'sipcall', scheduledTime: time(i) })));
  const toCancel = await schedule(Array.from({ length: 3 }, (_, i) => ({ appName: 'sipcall', scheduledTime: time(i) })));
  const noise = await schedule(Array.from({ length: 5 }, (_, i) => ({ appName: 'sms', scheduledTime: time(i) })));
  await stored([...scheduled, ...toCancel, ...noise]);
  for (const id of toCancel) await scheduler.cancelJob({ jobId: id });

  async function all(filter, pageSize) {
    const pages = [];
    let pageToken = '';
    do {
      const res = await scheduler.listJobs({ ...filter, pageSize, pageToken });
      pages.push(res.jobs);
      pageToken = res.nextPageToken;
    } while (pageToken && pages.length < 50);
    return pages;
  }

  const pages = await all({ appName: 'sipcall', status: S.SCHEDULED }, 10);
  assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
  const listed = pages.flat();
  assert.deepEqual(listed.map((j) => j.requestId).sort(), [...scheduled].sort(), 'every scheduled sipcall job once');
  assert.ok(listed.every((j) => j.appName === 'sipcall' && j.status === S.SCHEDULED));
  for (let i = 1; i < listed.length; i++) {
    const [a, b] = [listed[i - 1], listed[i]];
    assert.ok(a.scheduledTime && b.scheduledTime, `scheduled times at ${i}`);
    assert.ok(a.scheduledTime < b.scheduledTime || (a.scheduledTime.getTime() === b.scheduledTime.getTime() && a.jobId < b.jobId), `order at ${i}`);
  }

  const cancelled = (await all({ appName: 'sipcall', status: S.CANCELLED }, 2)).flat();
  assert.deepEqual(cancelled.map((j) => j.requestId).sort(), [...toCancel].sort());

  const anyStatus = (await all({ appName: 'sipcall' }, 7)).flat();
  assert.equal(anyStatus.length, 28);
  assert.equal(new Set(anyStatus.map((j) => j.jobId)).size, 28);

  // The first two groups of times: [base, base + 2 s).
  const ranged = (await all({ appName: 'sipcall', status: S.SCHEDULED, scheduledFrom: new Date(base), scheduledTo: new Date(base + 2000) }, 3)).flat();
  assert.deepEqual(ranged.map((j) => j.requestId).sort(), scheduled.slice(0, 8).sort());

  const sms = (await all({ appName: 'sms', status: S.SCHEDULED }, 100)).flat();
  assert.deepEqual(sms.map((j) => j.requestId).sort(), [...noise].sort());

  assert.equal((await rejection(scheduler.listJobs({ pageToken: 'not a token' }))).code, grpc.status.INVALID_ARGUMENT);
});

test('ListRuns lists a retried job\'s run with its attempts, times and status', async () => {
  const [retried] = await schedule([{ appName: 'fail', jobData: { failAttempts: 2 }, backoff: { initialMs: 50, multiplier: 2, maxMs: 200 } }]);
  const job = await untilStatus(retried, S.DONE);
  assert.equal(job.attempts, 3);
  const res = await scheduler.listRuns({ jobId: retried, pageSize: 1 });
  assert.equal(res.runs.length, 1);
  assert.equal(res.nextPageToken, '');
  const [run] = res.runs;
  assert.equal(run.jobId, job.jobId);
  assert.equal(run.status, S.DONE);
  assert.equal(run.attempt, 3);
  assert.ok(run.dueAt && run.firedAt && run.startedAt && run.finishedAt, 'the run has all four times');
  assert.ok(run.firedAt >= run.dueAt);
  assert.ok(run.startedAt >= run.firedAt);
  assert.ok(run.finishedAt >= run.startedAt);
  // The run id is the one the executor claimed.
  const claims = await stack.query('SELECT run_id, attempts, outcome FROM executor.run_claims WHERE job_id = $1', [job.jobId]);
  assert.deepEqual(claims, [{ run_id: run.runId, attempts: 3, outcome: 'DONE' }]);

  const [later] = await schedule([{ scheduledTime: inMs(3600_000) }]);
  await stored([later]);
  assert.deepEqual(await runsOf(later), []);
});

test('many jobs due at the same instant fire high before normal before low', async () => {
  // Deterministic when every job is committed before the instant they are due: the one
  // scheduler then claims them one per transaction, each time the best-ranked due job left
  // (ORDER BY priority, due time), and records each run's fired_at in claim order. Jobs are
  // accepted before their time unless the machine is very slow; then a later instant is tried.
  const perPriority = 12;
  const specs = ['high', 'normal', 'low'].flatMap((p) => Array.from({ length: perPriority }, () => p));
  for (let i = specs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [specs[i], specs[j]] = [specs[j], specs[i]];
  }
  let ids;
  for (const lead of [6000, 20_000, 60_000]) {
    const at = Date.now() + lead;
    const candidate = await schedule(specs.map((p) => ({ priority: PRIORITY[p], scheduledTime: new Date(at).toISOString() })));
    await stored(candidate, lead + 30_000);
    if (Date.now() < at - 50) {
      ids = candidate;
      break;
    }
  }
  assert.ok(ids, 'the jobs could not be stored before their due time');

  const runs = await eventually(async () => {
    const rows = await stack.query(
      `SELECT j.request_id, j.priority, r.fired_at FROM scheduler.jobs j JOIN scheduler.runs r ON r.job_id = j.id
        WHERE j.request_id = ANY($1)`, [ids]);
    return rows.length === ids.length && rows;
  }, { timeoutMs: 60_000, message: 'every job fired' });
  const byRank = [0, 1, 2].map((rank) => runs.filter((r) => r.priority === rank).map((r) => r.fired_at.getTime()));
  assert.deepEqual(byRank.map((r) => r.length), [perPriority, perPriority, perPriority]);
  assert.ok(Math.max(...byRank[0]) <= Math.min(...byRank[1]), 'every high job fired before any normal one');
  assert.ok(Math.max(...byRank[1]) <= Math.min(...byRank[2]), 'every normal job fired before any low one');
  for (const id of ids) await untilStatus(id, S.DONE);
});

/** True once the executor group has handled every jobs.due message published so far. */
async function executorCaughtUp() {
  const admin = stack.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(TOPICS.jobsDue);
    const [{ partitions }] = await admin.fetchOffsets({ groupId: 'executor', topics: [TOPICS.jobsDue] });
    // A partition that never held a message has no committed offset (-1).
    return ends.every((e) => e.high === e.low || BigInt(partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= BigInt(e.high));
  } finally {
    await admin.disconnect();
  }
}

test('control calls on a job that has fired but not started yet (executor stopped)', async (t) => {
  // While no executor runs, a fired one-shot job waits in jobs.due and its status is still
  // SCHEDULED: the calls must not make it run twice, nor report a cancel that does not hold.
  const executor = stack.proc('executor');
  await executor.stop();
  let trigger;
  let cancel;
  let ids;
  try {
    ids = await schedule([{}, {}]);
    await eventually(async () => (await Promise.all(ids.map(runsOf))).every((r) => r.length === 1), { timeoutMs: 60_000, message: 'both fired' });
    const settle = (p) => p.then((job) => ({ job }), (err) => ({ err }));
    trigger = await settle(scheduler.triggerNow({ jobId: ids[0] }));
    cancel = await settle(scheduler.cancelJob({ jobId: ids[1] }));
  } finally {
    await stack.start('executor');
  }
  const [triggered, cancelled] = await Promise.all(ids.map(getJob));
  await untilStatus(ids[0], S.DONE, 90_000);
  await eventually(executorCaughtUp, { timeoutMs: 60_000, message: 'executor caught up on jobs.due' });
  const claims = async (job) => (await stack.query('SELECT count(*)::int AS n FROM executor.run_claims WHERE job_id = $1', [job.jobId]))[0].n;

  await t.test('TriggerNow of a one-shot job that already fired answers FAILED_PRECONDITION; the job runs once', async () => {
    assert.equal(trigger.err?.code, grpc.status.FAILED_PRECONDITION, `TriggerNow answered ${JSON.stringify(trigger.job?.status ?? trigger.err?.details)}`);
    assert.equal((await runsOf(ids[0])).length, 1, 'one run');
    assert.equal(await claims(triggered), 1, 'executed once');
  });

  await t.test('CancelJob of a job that already fired either answers FAILED_PRECONDITION or keeps it from running', async () => {
    if (cancel.err) {
      assert.equal(cancel.err.code, grpc.status.FAILED_PRECONDITION);
      await untilStatus(ids[1], S.DONE);
    } else {
      assert.equal(cancel.job.status, S.CANCELLED);
      assert.equal(await claims(cancelled), 0, 'a job reported CANCELLED was executed');
    }
  });
});

test('a jobs.status event about a job this scheduler does not have is dropped at once, holding nothing up', async () => {
  const processed = async () => {
    const text = await (await fetch(`http://127.0.0.1:${stack.proc('scheduler').metricsPort}/metrics`)).text();
    const m = /^kafka_consumer_messages_total\{group="scheduler.status",outcome="processed",service="scheduler"\} (\d+)/m.exec(text);
    return Number(m?.[1] ?? 0);
  };
  const before = await processed();
  const producer = stack.kafka.producer();
  await producer.connect();
  try {
    const foreign = { runId: `foreign-${randomUUID()}`, jobId: randomUUID(), status: 'DONE', attempt: 1, at: new Date().toISOString() };
    await producer.send({ topic: TOPICS.jobsStatus, acks: -1, messages: [{ key: foreign.runId, value: JSON.stringify(foreign) }] });
  } finally {
    await producer.disconnect();
  }
  // Waiting for a run row that may still be committing takes up to a minute; this is not that.
  await eventually(async () => (await processed()) > before, { timeoutMs: 5000, message: 'the foreign event processed' });
});
