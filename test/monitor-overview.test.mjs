// The overview: every service's health over grpc.health.v1 across its replicas (a replica that
// stops shows within the health interval), jobs by status asked of the scheduler over gRPC
// (CountJobs), messages per second per topic, lag and DLQ depths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@pipewright/contracts';
import { ingestV1, monitorV1, schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, sleep, groupsToEnd } from '@pipewright/testkit';

const { HealthState } = monitorV1;
const { JobStatus } = schedulerV1;
const HEALTH_INTERVAL_MS = 1000;
const tag = randomUUID().slice(0, 8);

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').MonitorClient} */
let monitor;

before(async () => {
  stack = await startStack();
  // The broker is shared with the other test files: the scheduler stores only the jobs of this one.
  await groupsToEnd(stack.kafka, [{ groupId: 'scheduler.ingest', topic: TOPICS.jobsIngest }]);
  await stack.start('scheduler');
  await stack.start('ingest-gateway');
  await stack.start('scheduler', { as: 'scheduler-2' });
  const services = [`scheduler=${stack.address('scheduler')}`, `scheduler=${stack.address('scheduler-2')}`, `ingest-gateway=${stack.address('ingest-gateway')}`];
  await stack.start('monitor', { env: { MONITOR_SERVICES: services.join(','), MONITOR_HEALTH_INTERVAL: `${HEALTH_INTERVAL_MS}ms`, MONITOR_LAG_INTERVAL: '500ms' } });
  monitor = stack.client('monitor');
});

after(async () => {
  await stack?.stop();
});

const later = () => new Date(Date.now() + 3_600_000).toISOString();
const serviceIn = (overview, name) => overview.services.find((s) => s.service === name);

test('the scheduler counts its jobs by status over gRPC (CountJobs), of every app or of one', async () => {
  const gateway = stack.client('ingest-gateway');
  const scheduler = stack.client('scheduler');
  const { jobs } = await gateway.scheduleJobs({
    jobs: [0, 1, 2].map((i) => ingestV1.ScheduleJobRequest.fromPartial({ appName: i < 2 ? 'sms' : 'noop', scheduledTime: later(), idempotencyKey: `overview-${tag}-${i}`, jobData: { i } })),
  });
  const ids = await Promise.all(jobs.map((j) => eventually(() => scheduler.getJob({ jobId: j.requestId }).catch(() => undefined), { message: `job ${j.requestId} stored` })));
  await scheduler.cancelJob({ jobId: ids[0].jobId });
  const all = await scheduler.countJobs({});
  assert.deepEqual(all.counts, [
    { status: JobStatus.JOB_STATUS_SCHEDULED, count: 2 },
    { status: JobStatus.JOB_STATUS_CANCELLED, count: 1 },
  ]);
  const sms = await scheduler.countJobs({ appName: 'sms' });
  assert.deepEqual(sms.counts, [
    { status: JobStatus.JOB_STATUS_SCHEDULED, count: 1 },
    { status: JobStatus.JOB_STATUS_CANCELLED, count: 1 },
  ]);

  const overview = await monitor.getOverview({});
  assert.deepEqual(overview.jobsByStatus, { SCHEDULED: 2, CANCELLED: 1 }, 'the overview asks the scheduler');
  assert.equal(overview.jobsError, '');
});

test('the overview reports every service SERVING, with its replicas, and the topics, lag and DLQ depths', async () => {
  const overview = await eventually(
    async () => {
      const o = await monitor.getOverview({});
      return o.services.every((s) => s.state === HealthState.HEALTH_STATE_SERVING) && o.topics.some((t) => t.topic === TOPICS.jobsIngest) && o;
    },
    { message: 'every service SERVING' },
  );
  assert.deepEqual(
    overview.services.map((s) => [s.service, s.replicas, s.serving]),
    [
      ['scheduler', 2, 2],
      ['ingest-gateway', 1, 1],
    ],
  );
  for (const r of serviceIn(overview, 'scheduler').replicaHealth) assert.equal(r.status, 'SERVING');
  const ingest = overview.topics.find((t) => t.topic === TOPICS.jobsIngest);
  assert.equal(ingest?.partitions, 12);
  assert.ok(ingest.messagesPerSecond >= 0);
  assert.ok(TOPICS.jobsIngestDlq in overview.dlqDepths, 'a depth for each DLQ topic');
  assert.ok(overview.totalLag >= 0);
  assert.ok(overview.activeStockRuns === undefined || overview.activeStockRuns >= 0, "unset while the pipeline's progress is not tracked");
});

test('the overview reports a stopped service as not serving within its health interval, and a service with one replica of two stopped as degraded', async () => {
  let started = Date.now();
  await stack.proc('scheduler-2').stop();
  await eventually(async () => serviceIn(await monitor.getOverview({}), 'scheduler')?.state === HealthState.HEALTH_STATE_DEGRADED, {
    timeoutMs: HEALTH_INTERVAL_MS + 5000,
    intervalMs: 100,
    message: 'the scheduler DEGRADED',
  });
  const degraded = serviceIn(await monitor.getOverview({}), 'scheduler');
  assert.equal(degraded.serving, 1);
  // Draining, it answers NOT_SERVING; once it has exited, it cannot be reached.
  assert.ok(degraded.replicaHealth.some((r) => r.address === stack.address('scheduler-2') && ['NOT_SERVING', 'UNREACHABLE'].includes(r.status)));

  started = Date.now();
  const stopping = stack.proc('ingest-gateway').stop();
  await eventually(async () => serviceIn(await monitor.getOverview({}), 'ingest-gateway')?.state === HealthState.HEALTH_STATE_NOT_SERVING, {
    timeoutMs: HEALTH_INTERVAL_MS + 5000,
    intervalMs: 100,
    message: 'the gateway NOT_SERVING',
  });
  const seenAfter = Date.now() - started;
  await stopping;
  // The check runs every interval and answers within its timeout (at most the interval).
  assert.ok(seenAfter <= 2 * HEALTH_INTERVAL_MS + 500, `seen ${seenAfter} ms after the stop began`);
  const gw = serviceIn(await monitor.getOverview({}), 'ingest-gateway');
  assert.equal(gw.serving, 0);
  assert.ok(['NOT_SERVING', 'UNREACHABLE'].includes(gw.replicaHealth[0].status));
  console.log(`# the stopped gateway was reported not serving ${seenAfter} ms after its SIGTERM (health interval ${HEALTH_INTERVAL_MS} ms)`);

  await stack.proc('scheduler').stop();
  await sleep(2 * HEALTH_INTERVAL_MS);
  const none = await monitor.getOverview({});
  assert.equal(serviceIn(none, 'scheduler').state, HealthState.HEALTH_STATE_NOT_SERVING);
  assert.deepEqual(none.jobsByStatus, {});
  assert.match(none.jobsError, /the scheduler at .* did not answer/);
});
