// PostgreSQL lost right after a handler succeeded: the executor waits to record the outcome
// and never runs the handler again, nor reports a failure it did not have.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, listen, writeAppsFile, tapTopic, messageJson, clients, startTcpRelay } from '@pipewright/testkit';


let stack;
let relay;
let server;
const requests = [];

before(async () => {
  // The endpoint cuts the executor off PostgreSQL while it answers 200, and lets it back 3 s later.
  server = createServer((req, res) => {
    requests.push(Date.now());
    req.resume();
    relay.cut();
    setTimeout(() => res.writeHead(200).end('ok'), 100);
    setTimeout(() => relay.restore(), 3000);
  });
  const port = await listen(server);
  const apps = writeAppsFile({ once: { handler: 'http', options: { url: `http://127.0.0.1:${port}/` } } });
  stack = await startStack({ services: ['ingest-gateway', 'scheduler'], env: { APPS_CONFIG: apps } });
  const url = new URL(stack.databaseUrl);
  relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
  url.host = `127.0.0.1:${relay.port}`;
  await stack.start('executor', { env: { DATABASE_URL: url.toString() } });
});

after(async () => {
  await stack?.stop();
  await relay?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

test('a handler that succeeded while PostgreSQL went away is recorded DONE once it is back, and is not run again', async () => {
  const status = await tapTopic(stack.kafka, 'jobs.status');
  try {
    const gw = clients.gateway(stack.address('ingest-gateway'));
    const sch = clients.scheduler(stack.address('scheduler'));
    const { requestId } = await gw.scheduleJob({ appName: 'once' });
    const job = await eventually(async () => {
      const j = await sch.getJob({ jobId: requestId });
      return j.status === schedulerV1.JobStatus.JOB_STATUS_DONE && j;
    }, { timeoutMs: 60_000, message: 'job DONE after PostgreSQL is back' });
    assert.equal(requests.length, 1, 'the endpoint was called once');
    assert.equal(job.attempts, 1);
    const events = status.messages.map(messageJson).filter((e) => e.jobId === job.jobId);
    assert.deepEqual(events.map((e) => `${e.status}${e.attempt}`), ['DONE1'], 'no FAILED for an attempt that succeeded');
    assert.equal(stack.procs.get('executor').exited(), undefined, 'the executor is still running');
  } finally {
    await status.stop();
  }
});
