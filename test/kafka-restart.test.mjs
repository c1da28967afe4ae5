// The services ride out a restart of the Kafka broker: while it is down they report NOT_SERVING
// (and stay alive), and once it is back they serve again and jobs flow without any restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, healthCheck, startKafka } from '@pipewright/testkit';

const { JobStatus } = schedulerV1;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').LocalKafka} */
let kafka;
/** @type {string} */
let dataDir;

before(async () => {
  stack = await startStack();
  // A broker of this test's own, so that it can be stopped and started again.
  dataDir = join(stack.workDir, 'own-kafka');
  kafka = await startKafka({ dataDir, logFile: join(stack.workDir, 'own-kafka.log') });
  const env = { KAFKA_BROKERS: kafka.brokers, KAFKA_SESSION_TIMEOUT: '10000' };
  for (const name of ['ingest-gateway', 'scheduler', 'executor']) await stack.start(name, { env });
});

after(async () => {
  await stack?.stop();
  await kafka?.stop();
});

async function runOneJob() {
  const gateway = stack.client('ingest-gateway');
  const scheduler = stack.client('scheduler');
  const { requestId } = await eventually(() => gateway.scheduleJob({ appName: 'noop' }), { timeoutMs: 60_000, message: 'job accepted' });
  return eventually(async () => (await scheduler.getJob({ jobId: requestId })).status === JobStatus.JOB_STATUS_DONE, { timeoutMs: 120_000, intervalMs: 500, message: 'job DONE' });
}

test('a job runs before the broker restarts, services are NOT_SERVING but alive while it is down, and jobs run again after', async () => {
  assert.ok(await runOneJob());

  await kafka.stop();
  for (const name of ['ingest-gateway', 'scheduler', 'executor']) {
    await eventually(async () => (await healthCheck(stack.address(name))) === 'NOT_SERVING', { timeoutMs: 30_000, message: `${name} NOT_SERVING without Kafka` });
    assert.equal(await healthCheck(stack.address(name), 'liveness'), 'SERVING', `${name} is alive`);
  }

  kafka = await startKafka({ dataDir, port: kafka.port, controllerPort: kafka.controllerPort, logFile: join(stack.workDir, 'own-kafka.log') });
  for (const name of ['ingest-gateway', 'scheduler', 'executor']) {
    await eventually(async () => (await healthCheck(stack.address(name))) === 'SERVING', { timeoutMs: 120_000, intervalMs: 500, message: `${name} SERVING again` });
  }
  assert.ok(await runOneJob());
  for (const [name, p] of stack.procs) assert.equal(p.exited(), undefined, `${name} never exited`);
});
