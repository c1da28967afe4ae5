// Three replicas of each consumer service share the partitions through their consumer groups,
// and the survivors take over when one is killed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { TOPICS } from '@pipewright/contracts';
import { ingestV1 } from '@pipewright/proto';
import { startStack, eventually, sleep, tapTopic, writeAppsFile, recordingApp, executionsPerJob } from '@pipewright/testkit';

const { AssignerProtocol } = kafkajs;
const GROUPS = { 'scheduler.ingest': TOPICS.jobsIngest, 'scheduler.status': TOPICS.jobsStatus, executor: TOPICS.jobsDue };
// Every execution publishes its jobData here, so a job run twice shows up as two messages.
const EXECUTIONS = 'replicas.executions';
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Admin} */
let admin;
/** @type {import('@pipewright/testkit').Tap} */
let executions;

before(async () => {
  const appsFile = writeAppsFile({ record: recordingApp(EXECUTIONS) });
  stack = await startStack({ services: ['ingest-gateway'], env: { KAFKA_SESSION_TIMEOUT: '8000', APPS_CONFIG: appsFile } });
  executions = await tapTopic(stack.kafka, EXECUTIONS);
  for (const name of ['scheduler', 'executor']) {
    await Promise.all([1, 2, 3].map((i) => stack.start(name, { as: i === 1 ? name : `${name}-${i}` })));
  }
  admin = stack.kafka.admin();
  await admin.connect();
});
after(async () => {
  await executions?.stop();
  await admin?.disconnect();
  await stack?.stop();
});

async function assignments(groupId) {
  const { groups } = await admin.describeGroups([groupId]);
  return groups[0].members.map((m) => {
    const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    return Object.values(a?.assignment ?? {}).flat();
  });
}

/** Runs n jobs of the recording app; returns how many times each ran. */
async function runJobs(label, n) {
  const gw = stack.client('ingest-gateway');
  const scheduledTime = new Date(Date.now() + 1000).toISOString();
  const { jobs } = await gw.scheduleJobs({ jobs: Array.from({ length: n }, (_, i) => ingestV1.ScheduleJobRequest.fromPartial({ appName: 'record', scheduledTime, idempotencyKey: `replicas-${label}-${i}`, jobData: { label, i } })) });
  const ids = jobs.map((j) => j.requestId);
  let statuses;
  await eventually(async () => {
    statuses = await stack.query(`SELECT status, count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1) GROUP BY status`, [ids]);
    return statuses.length === 1 && statuses[0].status === 'DONE' && statuses[0].n === n;
  }, { timeoutMs: 120_000, intervalMs: 500, message: `${n} jobs DONE` }).catch((err) => {
    throw new Error(`${err.message}; statuses ${JSON.stringify(statuses)}`);
  });
  await sleep(1000);
  const perJob = executionsPerJob(executions.messages, label);
  return { executed: perJob.size, twice: [...perJob.values()].filter((c) => c > 1).length };
}

test('three replicas of each consumer service split every group\'s 12 partitions between them', async () => {
  for (const groupId of Object.keys(GROUPS)) {
    const members = await eventually(async () => {
      const a = await assignments(groupId);
      return a.length === 3 && a.every((p) => p.length > 0) && a;
    }, { timeoutMs: 60_000, message: `${groupId} balanced over 3 members` });
    const all = members.flat().sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 12 }, (_, i) => i), `${groupId}: each partition has exactly one owner`);
  }
  assert.deepEqual(await runJobs('balanced', 60), { executed: 60, twice: 0 }, 'each job executed once');
});

test('when one replica of each is killed, the survivors take its partitions and keep working', async () => {
  stack.proc('scheduler-2').child.kill('SIGKILL');
  stack.proc('executor-2').child.kill('SIGKILL');
  for (const groupId of Object.keys(GROUPS)) {
    const members = await eventually(async () => {
      const a = await assignments(groupId);
      return a.length === 2 && a.flat().length === 12 && a;
    }, { timeoutMs: 60_000, message: `${groupId} rebalanced over 2 members` });
    assert.ok(members.every((p) => p.length > 0));
  }
  assert.deepEqual(await runJobs('after-kill', 60), { executed: 60, twice: 0 }, 'each job executed once after the kill');
});
