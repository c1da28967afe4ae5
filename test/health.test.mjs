// grpc.health.v1 tells the truth: a service is NOT_SERVING while it has lost PostgreSQL and
// SERVING again when it is back, while the "liveness" service (what Kubernetes' liveness probe
// asks) stays SERVING throughout; a second SIGTERM ends a draining process at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { service } from '@pipewright/contracts';
import { startStack, eventually, sleep, healthCheck, startTcpRelay } from '@pipewright/testkit';


const API = service('scheduler').grpcService;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').TcpRelay} */
let relay;

before(async () => {
  stack = await startStack();
  const url = new URL(stack.databaseUrl);
  relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
  url.host = `127.0.0.1:${relay.port}`;
  await stack.start('scheduler', { env: { DATABASE_URL: url.toString() } });
});

after(async () => {
  await stack?.stop();
  await relay?.close();
});

test('losing PostgreSQL makes the service NOT_SERVING and getting it back SERVING; liveness stays SERVING', async () => {
  const addr = stack.address('scheduler');
  assert.equal(await healthCheck(addr), 'SERVING');
  assert.equal(await healthCheck(addr, API), 'SERVING');
  assert.equal(await healthCheck(addr, 'liveness'), 'SERVING');

  relay.cut();
  await eventually(async () => (await healthCheck(addr)) === 'NOT_SERVING', { timeoutMs: 20_000, message: 'NOT_SERVING without PostgreSQL' });
  assert.equal(await healthCheck(addr, API), 'NOT_SERVING');
  assert.equal(await healthCheck(addr, 'liveness'), 'SERVING', 'alive though not ready');

  // Long enough for the first reconnection attempts to fail too.
  await sleep(4000);
  relay.restore();
  await eventually(async () => (await healthCheck(addr)) === 'SERVING', { timeoutMs: 30_000, message: 'SERVING with PostgreSQL back' });
  assert.equal(await healthCheck(addr, 'liveness'), 'SERVING');
});

test('a second SIGTERM during the drain exits at once with code 130', async () => {
  // Exiting at once, it leaves its consumer groups only by timing out: keep that short for the
  // test files after this one, which use the same groups.
  const p = await stack.start('scheduler', { as: 'scheduler-2', env: { KAFKA_SESSION_TIMEOUT: '6000' } });
  const exited = new Promise((resolve) => p.child.once('exit', (code) => resolve(code)));
  p.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  p.child.kill('SIGTERM');
  assert.equal(await exited, 130);
  assert.match(stack.log('scheduler-2'), /second signal: exiting now/);
});
