// Three replicas of each consumer service share the partitions through their consumer groups,
// and the survivors take over when one is killed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, eventually } from './helpers/stack.mjs';
import { clients } from '../scripts/lib/clients.mjs';
import { createRequire } from 'node:module';

const { ingestV1 } = createRequire(import.meta.url)('@pipewright/proto');

const GROUPS = { 'scheduler.ingest': 'scheduler.jobs.ingest', 'scheduler.status': 'jobs.status', executor: 'jobs.due' };
let stack;
let admin;

before(async () => {
  stack = await startStack({ services: ['ingest-gateway'], env: { KAFKA_SESSION_TIMEOUT_MS: '8000' } });
  for (const name of ['scheduler', 'executor']) {
    await Promise.all([1, 2, 3].map((i) => stack.start(name, { as: i === 1 ? name : `${name}-${i}` })));
  }
  admin = stack.kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin?.disconnect();
  await stack?.stop();
});

async function assignments(groupId) {
  const { groups } = await admin.describeGroups([groupId]);
  const { AssignerProtocol } = await import('kafkajs').then((m) => m.default ?? m);
  return groups[0].members.map((m) => {
    const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    return Object.values(a?.assignment ?? {}).flat();
  });
}

async function runJobs(n) {
  const gw = clients.gateway(stack.address('ingest-gateway'));
  const scheduledTime = new Date(Date.now() + 1000).toISOString();
  const { jobs } = await gw.scheduleJobs({ jobs: Array.from({ length: n }, (_, i) => ingestV1.ScheduleJobRequest.fromPartial({ appName: 'noop', scheduledTime, idempotencyKey: `replicas-${Date.now()}-${i}`, jobData: { i } })) });
  const ids = jobs.map((j) => j.requestId);
  let statuses;
  await eventually(async () => {
    statuses = await stack.query(`SELECT status, count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1) GROUP BY status`, [ids]);
    return statuses.length === 1 && statuses[0].status === 'DONE' && statuses[0].n === n;
  }, { timeoutMs: 120_000, intervalMs: 500, message: `${n} jobs DONE` }).catch((err) => {
    throw new Error(`${err.message}; statuses ${JSON.stringify(statuses)}`);
  });
  const runs = await stack.query(`SELECT count(*)::int AS n, count(DISTINCT c.job_id)::int AS jobs FROM executor.run_claims c JOIN scheduler.jobs j ON j.id::text = c.job_id WHERE j.request_id = ANY($1)`, [ids]);
  return runs[0];
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
  const r = await runJobs(60);
  assert.deepEqual(r, { n: 60, jobs: 60 }, 'each job executed once');
});

test('when one replica of each is killed, the survivors take its partitions and keep working', async () => {
  stack.procs.get('scheduler-2').child.kill('SIGKILL');
  stack.procs.get('executor-2').child.kill('SIGKILL');
  for (const groupId of Object.keys(GROUPS)) {
    const members = await eventually(async () => {
      const a = await assignments(groupId);
      return a.length === 2 && a.flat().length === 12 && a;
    }, { timeoutMs: 60_000, message: `${groupId} rebalanced over 2 members` });
    assert.ok(members.every((p) => p.length > 0));
  }
  const r = await runJobs(60);
  assert.deepEqual(r, { n: 60, jobs: 60 }, 'each job executed once after the kill');
});
