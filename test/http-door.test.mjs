// The HTTP/JSON door of the ingest-gateway against a real stack: every route with fetch, as a
// curl user would call it; gRPC statuses as HTTP ones with a google.rpc.Status body; page
// tokens; the caller's bearer token passed through to the owning service; the OpenAPI document
// the same as the protos; and a job accepted while no scheduler reads the intake answered as
// NEW, then with its stored status, or as refused when the scheduler dead-letters it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { TOPICS } from '@pipewright/contracts';
import { descriptorJsonPath, openapiPath, schedulerV1 } from '@pipewright/proto';
import { routesOf, httpStatusOf, grpc, jsonNameOf } from '@pipewright/platform';
import { startStack, startOtlpReceiver, eventually, freePort, groupsToEnd, testDir, ROOT, ORDER_GROUP, STOCK_GROUPS } from '@pipewright/testkit';
import { generateOpenapi } from '../scripts/gen-openapi.mjs';

/** @type {import('@pipewright/testkit').Stack} */
let stack;
let door = '';
const SERVED = ['scheduler', 'executor', 'order-aggregator', 'stock-scraper', 'stock-processor', 'monitor'];
/**
 * A gateway whose door forwards to the stack's services (and `upstreams` over them); resolves with its URL.
 * @param {string} as
 * @param {{ upstreams?: Record<string, string>, env?: Record<string, string> }} [options]
 */
async function startGateway(as, { upstreams = {}, env = {} } = {}) {
  const port = await freePort();
  const targets = { ...Object.fromEntries(SERVED.filter((s) => stack.procs.has(s)).map((s) => [s, stack.address(s)])), ...upstreams };
  await stack.start('ingest-gateway', {
    as,
    env: {
      INGEST_HTTP_PORT: String(port),
      INGEST_HTTP_UPSTREAMS: Object.entries(targets)
        .map(([n, a]) => `${n}=${a}`)
        .join(','),
      ...env,
    },
  });
  return `http://127.0.0.1:${port}`;
}

/**
 * fetch with a JSON body (when given); resolves with the status and the parsed JSON.
 * @typedef {{ body?: unknown, token?: string, headers?: Record<string, string> }} CallOptions
 * @param {string} method
 * @param {string} url
 * @param {CallOptions} [options]
 * @returns {Promise<{ status: number, json: any, headers: Headers }>}
 */
async function call(method, url, { body, token, headers = {} } = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}
/** @param {string} path @param {CallOptions} [opts] */
const get = (path, opts) => call('GET', `${door}${path}`, opts);
/** @param {string} path @param {unknown} [body] @param {CallOptions} [opts] */
const post = (path, body, opts) => call('POST', `${door}${path}`, { body, ...opts });

/** The field violations of a google.rpc.Status body. */
const violations = (json) => json.details.flatMap((d) => d.fieldViolations ?? []).map((v) => v.field);

const inDays = (d, minute = 0) => new Date(Date.UTC(2031, 0, 1 + d, 9, minute)).toISOString();

before(async () => {
  stack = await startStack();
  // The broker is shared with the other test files: these groups read only what this one sends.
  await groupsToEnd(stack.kafka, [
    { groupId: 'scheduler.ingest', topic: TOPICS.jobsIngest },
    { groupId: 'scheduler.status', topic: TOPICS.jobsStatus },
    { groupId: 'executor', topic: TOPICS.jobsDue },
    ORDER_GROUP,
    ...STOCK_GROUPS,
    ...Object.values(TOPICS)
      .filter((t) => /[.-]dlq$/.test(t))
      .map((topic) => ({ groupId: 'monitor.dead-letters', topic })),
  ]);
  for (const s of ['scheduler', 'executor', 'order-aggregator', 'stock-scraper', 'stock-processor']) await stack.start(s);
  // Its gRPC messages at most 64 KiB: a larger request is RESOURCE_EXHAUSTED.
  await stack.start('monitor', {
    env: {
      MONITOR_SERVICES: SERVED.filter((s) => s !== 'monitor')
        .map((s) => `${s}=${stack.address(s)}`)
        .join(','),
      GRPC_MAX_MESSAGE_BYTES: '65536',
    },
  });
  door = await startGateway('ingest-gateway');
});

after(async () => stack?.stop());

test('the committed OpenAPI document is what protoc-gen-openapiv2 makes of proto/ now', () => {
  assert.equal(generateOpenapi(), readFileSync(openapiPath, 'utf8'), 'packages/proto/openapi.json is stale: run node scripts/gen-openapi.mjs');
});

test('the door serves the OpenAPI document at /openapi.json, and it lists exactly the routes of the google.api.http rules', async () => {
  const committed = readFileSync(openapiPath, 'utf8');
  const served = await get('/openapi.json');
  assert.equal(served.status, 200);
  assert.deepEqual(served.json, JSON.parse(committed));
  // {job_id} in a rule is {jobId} in the document (it names fields by their JSON names).
  const camel = (t) => t.replace(/\{([a-z0-9_]+)\}/g, (_, f) => `{${jsonNameOf(f)}}`);
  const fromRules = routesOf(JSON.parse(readFileSync(descriptorJsonPath, 'utf8')))
    .map((r) => `${r.method} ${camel(r.template)} ${r.service.split('.').pop()}_${r.rpc}`)
    .sort();
  const fromDoc = Object.entries(served.json.paths)
    // An additional binding's operation is numbered: GetAggregate2.
    .flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op.operationId.replace(/\d+$/, '')}`))
    .sort();
  assert.deepEqual(fromDoc, fromRules);
  assert.ok(fromRules.length >= 35, `${fromRules.length} routes`);
  // A Swagger 2.0 document whose every reference resolves and whose path parameters are declared.
  assert.equal(served.json.swagger, '2.0');
  const refs = [...committed.matchAll(/"\$ref": "#\/definitions\/([^"]+)"/g)].map((m) => m[1]);
  assert.ok(refs.length > 50);
  assert.deepEqual(
    refs.filter((r) => !(r in served.json.definitions)),
    [],
  );
  for (const [path, ops] of Object.entries(served.json.paths)) {
    for (const op of Object.values(ops)) {
      const declared = (op.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      assert.deepEqual(declared, [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort(), path);
    }
  }
});

test('jobs over HTTP: POST /v1/jobs schedules, GET reads it, :pause, :resume, :trigger and :cancel change it, /runs lists its runs', async () => {
  const accepted = await post('/v1/jobs', { appName: 'noop', scheduledTime: inDays(1), jobData: { to: '+15550100' } });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
  assert.match(accepted.json.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(accepted.json.topic, TOPICS.jobsIngest);
  assert.match(accepted.json.offset, /^\d+$/, 'int64 as decimal text, as the proto3 JSON mapping writes it');
  const id = accepted.json.requestId;
  const job = await eventually(
    async () => {
      const r = await get(`/v1/jobs/${id}`);
      return r.status === 200 && r.json;
    },
    { message: 'the job stored' },
  );
  assert.equal(job.status, 'JOB_STATUS_SCHEDULED');
  assert.equal(job.appName, 'noop');
  assert.deepEqual(job.jobData, { to: '+15550100' });
  assert.equal(job.scheduledTime, '2031-01-02T09:00:00.000Z');
  assert.equal(job.attempts, 0, 'defaults are written too');

  const paused = await post(`/v1/jobs/${job.jobId}:pause`);
  assert.equal(paused.status, 200, JSON.stringify(paused.json));
  assert.equal(paused.json.status, 'JOB_STATUS_PAUSED');
  assert.equal((await post(`/v1/jobs/${job.jobId}:resume`, {})).json.status, 'JOB_STATUS_SCHEDULED');
  const triggered = await post(`/v1/jobs/${job.jobId}:trigger`);
  assert.equal(triggered.status, 200, JSON.stringify(triggered.json));
  const runs = await eventually(
    async () => {
      const r = await get(`/v1/jobs/${job.jobId}/runs`);
      return r.status === 200 && r.json.runs.length > 0 && r.json;
    },
    { message: 'a run of the triggered job' },
  );
  assert.equal(runs.runs[0].jobId, job.jobId);
  const done = await eventually(
    async () => {
      const r = await get(`/v1/jobs/${job.jobId}`);
      return r.json.status === 'JOB_STATUS_DONE' && r.json;
    },
    { message: 'the triggered job DONE' },
  );
  assert.equal(done.runs, 1);

  const second = await post('/v1/jobs', { app_name: 'sms', scheduled_time: inDays(2) });
  const other = await eventually(async () => (await get(`/v1/jobs/${second.json.requestId}`)).json.jobId, { message: 'second job stored' });
  const cancelled = await post(`/v1/jobs/${other}:cancel`);
  assert.equal(cancelled.json.status, 'JOB_STATUS_CANCELLED');
  const again = await post(`/v1/jobs/${other}:cancel`);
  assert.equal(again.status, 409, 'FAILED_PRECONDITION');
  assert.equal(again.json.code, grpc.status.FAILED_PRECONDITION);
  assert.match(again.json.message, /cannot cancel a job whose status is CANCELLED/);

  const counted = await get('/v1/jobs:count?app_name=noop');
  assert.equal(counted.status, 200);
  assert.ok(
    counted.json.counts.some((c) => c.status === 'JOB_STATUS_DONE' && Number(c.count) >= 1),
    JSON.stringify(counted.json),
  );
  const stats = await get('/v1/scheduler/stats');
  assert.ok(Number(stats.json.messagesProcessed) >= 2, JSON.stringify(stats.json));
});

test('GET /v1/jobs filters by app, status and time, and pages with next_page_token until it is empty', async () => {
  const batch = await post('/v1/jobs:batch', { jobs: [0, 1, 2, 3, 4].map((m) => ({ appName: 'sipcall', scheduledTime: inDays(30, m) })) });
  assert.equal(batch.status, 200, JSON.stringify(batch.json));
  assert.equal(batch.json.jobs.length, 5);
  const window = `app_name=sipcall&scheduled_from=${encodeURIComponent(inDays(30))}&scheduledTo=${encodeURIComponent(inDays(30, 30))}&status=JOB_STATUS_SCHEDULED`;
  await eventually(async () => (await get(`/v1/jobs?${window}`)).json.jobs?.length === 5, { message: 'five jobs stored' });
  const seen = [];
  let token = '';
  let pages = 0;
  do {
    const page = await get(`/v1/jobs?${window}&page_size=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
    assert.equal(page.status, 200, JSON.stringify(page.json));
    assert.ok(page.json.jobs.length <= 2);
    seen.push(...page.json.jobs.map((j) => j.scheduledTime));
    token = page.json.nextPageToken;
    pages += 1;
  } while (token && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(
    seen,
    [0, 1, 2, 3, 4].map((m) => new Date(inDays(30, m)).toISOString()),
    'each job once, in time order',
  );
  assert.deepEqual((await get(`/v1/jobs?${window.replace('SCHEDULED', 'DONE')}`)).json.jobs, []);
  const bad = await get('/v1/jobs?page_token=not-a-token');
  assert.equal(bad.status, 400);
  assert.deepEqual(violations(bad.json), ['page_token']);
});

test('gRPC statuses become HTTP ones with a google.rpc.Status body; a 400 names the field', async () => {
  const missing = await post('/v1/jobs', {});
  assert.equal(missing.status, 400);
  assert.equal(missing.json.code, grpc.status.INVALID_ARGUMENT);
  assert.ok(violations(missing.json).includes('app_name'), JSON.stringify(missing.json));
  assert.equal(missing.json.details[0]['@type'], 'type.googleapis.com/google.rpc.BadRequest');

  const inBatch = await post('/v1/jobs:batch', { jobs: [{ appName: 'sms' }, { appName: 'sms', scheduledTime: 'tomorrow-ish' }] });
  assert.equal(inBatch.status, 400);
  assert.deepEqual(violations(inBatch.json), ['jobs[1].scheduled_time']);

  const wrongType = await post('/v1/jobs', { appName: 5 });
  assert.equal(wrongType.status, 400);
  assert.deepEqual(violations(wrongType.json), ['app_name']);
  assert.match(wrongType.json.message, /app_name: must be a string/);
  const unknownField = await post('/v1/jobs', { appName: 'sms', colour: 'red' });
  assert.equal(unknownField.status, 400);
  assert.deepEqual(violations(unknownField.json), ['colour']);
  const notJson = await post('/v1/jobs', '{"appName": ');
  assert.equal(notJson.status, 400);
  assert.match(notJson.json.message, /not JSON/);
  const notInt = await get('/v1/jobs?page_size=ten');
  assert.equal(notInt.status, 400);
  assert.deepEqual(violations(notInt.json), ['page_size']);
  const badEnum = await get('/v1/jobs?status=LOST');
  assert.deepEqual(violations(badEnum.json), ['status']);
  const unknownParam = await get('/v1/jobs?colour=red');
  assert.equal(unknownParam.status, 400);
  assert.deepEqual(violations(unknownParam.json), ['colour']);

  const notFound = await get(`/v1/jobs/${randomUUID()}`);
  assert.equal(notFound.status, 404);
  assert.equal(notFound.json.code, grpc.status.NOT_FOUND);
  assert.match(notFound.json.message, /not found/);
  const badEscape = await get('/v1/jobs/%E0%A4%A');
  assert.equal(badEscape.status, 400);
  assert.deepEqual(violations(badEscape.json), ['job_id']);
  const deep = await post('/v1/jobs', `{"appName":"sms","jobData":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`);
  assert.equal(deep.status, 400);
  assert.match(deep.json.message, /deeper than 100 levels/);
  const noRoute = await get('/v1/nothing-here');
  assert.equal(noRoute.status, 404);
  const wrongMethod = await call('DELETE', `${door}/v1/jobs`);
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST, GET');
  // curl -d labels its body application/x-www-form-urlencoded: it is read as JSON all the same.
  const curlStyle = await post('/v1/jobs', JSON.stringify({ appName: 'sms', scheduledTime: inDays(3) }), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(curlStyle.status, 200, JSON.stringify(curlStyle.json));
  const form = await post('/v1/jobs', 'app_name=sms', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 400);
  assert.match(form.json.message, /not JSON/);

  // A service the door cannot reach: UNAVAILABLE is 503.
  const away = await startGateway('gateway-away', { upstreams: { executor: `127.0.0.1:${await freePort()}` } });
  const unavailable = await call('GET', `${away}/v1/executor/handlers`);
  assert.equal(unavailable.status, 503, JSON.stringify(unavailable.json));
  assert.equal(unavailable.json.code, grpc.status.UNAVAILABLE);
  await stack.proc('gateway-away').stop();

  // A request larger than the service takes: RESOURCE_EXHAUSTED is 429.
  const big = await post('/v1/dead-letters:replay', { dlqTopic: TOPICS.ordersDlq, messages: Array.from({ length: 20_000 }, (_, i) => ({ partition: 0, offset: String(i) })) });
  assert.equal(big.status, 429, JSON.stringify(big.json).slice(0, 300));
  assert.equal(big.json.code, grpc.status.RESOURCE_EXHAUSTED);
});

/**
 * Sends `text` as it is over a new connection; resolves with everything the server answered before it closed.
 * @param {string} url @param {string} text
 */
function raw(url, text) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(text.split('\r\n')[0])} in 10 s; got ${JSON.stringify(answer)}`)));
  });
}

test('a request target that is not a URL is 400 naming it, and the door goes on serving', async () => {
  const answer = await raw(door, 'GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  assert.equal(body.code, grpc.status.INVALID_ARGUMENT);
  assert.match(body.message, /\/\/\[/);
  assert.equal((await get('/openapi.json')).status, 200);
});

test('a body over 4 MiB is 413 with the JSON error, on a connection the door then closes', async () => {
  const body = JSON.stringify({ appName: 'sms', jobData: { text: 'x'.repeat(4 * 1024 * 1024) } });
  const res = await fetch(`${door}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(15_000) });
  assert.equal(res.status, 413);
  assert.equal(res.headers.get('connection'), 'close');
  const json = /** @type {{ code: number, message: string }} */ (await res.json());
  assert.equal(json.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(json.message, /over 4194304 bytes/);
  assert.equal((await post('/v1/jobs', { appName: 'sms', scheduledTime: inDays(5) })).status, 200, 'the door goes on serving');
});

test('with client certificates required and no bearer tokens, the gateway refuses to start while its door is on, naming the settings', () => {
  const dir = mkdtempSync(join(testDir(), 'door-mtls-'));
  for (const f of ['server.pem', 'server.key', 'ca.pem']) writeFileSync(join(dir, f), 'PEM\n');
  const env = {
    PATH: process.env.PATH,
    KAFKA_BROKERS: stack.brokers,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    INGEST_HTTP_PORT: '0',
    GRPC_TLS_CERT: join(dir, 'server.pem'),
    GRPC_TLS_KEY: join(dir, 'server.key'),
    GRPC_TLS_CLIENT_CA: join(dir, 'ca.pem'),
  };
  const r = spawnSync(process.execPath, ['--require', '@pipewright/platform/register', join(ROOT, 'services', 'ingest-gateway', 'dist', 'main.js')], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.status, 78, `the exit code of a configuration error; stderr: ${r.stderr}`);
  assert.match(r.stderr, /INGEST_HTTP: .*GRPC_TLS_CLIENT_CA.*GRPC_TOKENS_FILE.*GRPC_JWKS.*INGEST_HTTP=false/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'one line, no stack trace');
});

test('INGEST_HTTP=false: the gateway serves gRPC and nothing listens on the door', async () => {
  const port = await freePort();
  const gateway = await stack.start('ingest-gateway', { as: 'gateway-doorless', env: { INGEST_HTTP: 'false', INGEST_HTTP_PORT: String(port) } });
  try {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/openapi.json`), (/** @type {any} */ err) => /ECONNREFUSED/.test(String(err.cause?.code ?? err.cause)));
    const accepted = await stack.client('ingest-gateway', 'gateway-doorless').scheduleJob({ appName: 'sms', scheduledTime: inDays(6) });
    assert.match(accepted.requestId, /^[0-9a-f-]{36}$/);
  } finally {
    await gateway.stop();
  }
});

test('every gRPC status code has its HTTP status', () => {
  const expected = {
    OK: 200,
    CANCELLED: 499,
    UNKNOWN: 500,
    INVALID_ARGUMENT: 400,
    DEADLINE_EXCEEDED: 504,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 409,
    ABORTED: 409,
    OUT_OF_RANGE: 400,
    UNIMPLEMENTED: 501,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    DATA_LOSS: 500,
    UNAUTHENTICATED: 401,
  };
  for (const [name, http] of Object.entries(expected)) assert.equal(httpStatusOf(grpc.status[name]), http, name);
});

test('the reads a dashboard uses: overview, consumer groups and lag, dead letters, orders, ratios and stock runs, executor and scraper', async () => {
  const orders = await post('/v1/orders', { orders: [{ orderId: `http-${randomUUID()}`, product: 'widget-http', price: 2.5, quantity: 4 }] });
  assert.equal(orders.status, 200, JSON.stringify(orders.json));
  assert.equal(orders.json.accepted, 1);
  const aggregate = await eventually(
    async () => {
      const r = await get('/v1/orders/aggregates/widget-http');
      return r.status === 200 && r.json;
    },
    { message: 'the aggregate of widget-http' },
  );
  assert.equal(aggregate.total, '10');
  assert.equal(aggregate.count, '1');
  assert.equal((await get('/v1/orders/aggregate')).status, 200, 'the overall aggregate');
  const list = await get('/v1/orders/aggregates?page_size=100');
  assert.ok(list.json.aggregates.some((a) => a.product === 'widget-http'));
  const windows = await get('/v1/orders/aggregates/widget-http/windows?window_size=1m');
  assert.equal(windows.status, 200, JSON.stringify(windows.json));
  assert.equal((await get('/v1/orders/stats')).status, 200);

  const run = await post('/v1/stock-runs', { regions: ['us'], limit: 3 });
  assert.equal(run.status, 200, JSON.stringify(run.json));
  const status = await eventually(
    async () => {
      const r = await get(`/v1/stock-runs/${run.json.runId}`);
      return r.status === 200 && r.json.complete && r.json;
    },
    { timeoutMs: 60_000, message: 'the stock run complete' },
  );
  assert.equal(status.percent, 100);
  assert.ok((await get('/v1/stock-runs?page_size=5')).json.runs.some((r) => r.runId === run.json.runId));
  const ratios = await get(`/v1/ratios?run_id=${run.json.runId}&order_by=RATIO_FIELD_MARKET_CAP&descending=true`);
  assert.equal(ratios.status, 200, JSON.stringify(ratios.json));
  assert.equal(ratios.json.ratios.length, 3);
  const one = await get(`/v1/ratios/${encodeURIComponent(ratios.json.ratios[0].symbol)}?run_id=${run.json.runId}`);
  assert.equal(one.json.symbol, ratios.json.ratios[0].symbol);
  const searched = await post('/v1/ratios:search', { runId: run.json.runId, filters: [{ field: 'RATIO_FIELD_MARKET_CAP', min: 0 }] });
  assert.equal(searched.status, 200, JSON.stringify(searched.json));
  assert.equal((await get('/v1/stock-processor/stats')).status, 200);
  assert.equal((await get('/v1/stock-scraper/stats')).status, 200);

  // A poison job request straight to the intake: the scheduler dead-letters it, the monitor counts it.
  const producer = stack.kafka.producer();
  await producer.connect();
  await producer.send({ topic: TOPICS.jobsIngest, messages: [{ value: 'not json at all' }] });
  await producer.disconnect();
  const counts = await eventually(
    async () => {
      const r = await get('/v1/dead-letters:count');
      return r.json.topics?.find((t) => t.topic === TOPICS.jobsIngestDlq && Number(t.count) >= 1) && r.json;
    },
    { message: 'the dead letter counted' },
  );
  assert.ok(counts.topics.length >= 1);
  const letters = await get(`/v1/dead-letters?dlq_topic=${encodeURIComponent(TOPICS.jobsIngestDlq)}&page_size=10`);
  assert.equal(letters.status, 200, JSON.stringify(letters.json));
  assert.ok(letters.json.deadLetters.some((d) => d.originalTopic === TOPICS.jobsIngest));
  const replay = await post('/v1/dead-letters:replay', { dlqTopic: TOPICS.jobsIngestDlq, maxMessages: 1 });
  assert.equal(replay.status, 200, JSON.stringify(replay.json));
  assert.equal(typeof replay.json.replayed, 'number');
  assert.equal((await get('/v1/errors?limit=5')).status, 200);

  const overview = await get('/v1/overview');
  assert.equal(overview.status, 200, JSON.stringify(overview.json));
  assert.ok(overview.json.services.length >= 5);
  const groups = await get('/v1/consumer-groups');
  assert.ok(
    groups.json.groups.some((g) => g.groupId === 'scheduler.ingest'),
    JSON.stringify(groups.json).slice(0, 500),
  );
  const lag = await get('/v1/consumer-groups/scheduler.ingest');
  assert.equal(lag.status, 200, JSON.stringify(lag.json));
  assert.equal(lag.json.groupId, 'scheduler.ingest');
  assert.ok(Array.isArray(lag.json.partitions));

  assert.ok((await get('/v1/executor/handlers')).json.apps.length > 0);
  assert.equal((await get('/v1/executor/stats')).status, 200);
});

test('a streaming method answers newline-delimited JSON: GET /v1/stock-runs/{run_id}:watch until the run is complete', async () => {
  const run = await post('/v1/stock-runs', { regions: ['ca'], limit: 2 });
  const res = await fetch(`${door}/v1/stock-runs/${run.json.runId}:watch`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const lines = (await res.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(lines.length >= 1);
  assert.ok(lines.every((l) => l.result?.runId === run.json.runId));
  assert.equal(lines[lines.length - 1].result.complete, true);
});

test('the door counts its requests by route and status on /metrics', async () => {
  await get('/v1/scheduler/stats');
  await get(`/v1/jobs/${randomUUID()}`);
  await post('/v1/jobs', {});
  const text = await (await fetch(`http://127.0.0.1:${stack.proc('ingest-gateway').metricsPort}/metrics`)).text();
  /** The value of a series with these labels (in any order), or 0. */
  const value = (name, labels) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
        ?.split(' ')
        .pop() ?? 0,
    );
  assert.ok(value('http_requests_total', { method: 'GET', route: '/v1/scheduler/stats', status: '200' }) >= 1);
  assert.ok(value('http_requests_total', { method: 'GET', route: '/v1/jobs/{job_id}', status: '404' }) >= 1);
  assert.ok(value('http_requests_total', { method: 'POST', route: '/v1/jobs', status: '400' }) >= 1);
  assert.ok(value('http_request_duration_seconds_count', { method: 'POST', route: '/v1/jobs' }) >= 1);
});

test("a job scheduled over HTTP with a traceparent joins the caller's trace: the door's span, the gateway's produce request linked to it, and the job's trace id", async () => {
  const otlp = await startOtlpReceiver();
  try {
    const url = await startGateway('gateway-traced', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' } });
    const traceId = randomUUID().replace(/-/g, '');
    const callerSpan = traceId.slice(0, 16);
    const accepted = await call('POST', `${url}/v1/jobs`, { body: { appName: 'sms', scheduledTime: inDays(90) }, headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    assert.equal(accepted.status, 200);
    const spans = await eventually(
      () => {
        const mine = otlp.spans.filter((x) => x.traceId === traceId);
        const sent = otlp.spans.some((x) => x.name === 'send scheduler.jobs.ingest' && (x.links ?? []).some((l) => l.traceId === traceId));
        return mine.some((x) => x.name === 'POST /v1/jobs') && sent && mine;
      },
      { timeoutMs: 15_000, message: "the door's spans in the caller's trace" },
    );
    const server = spans.find((x) => x.name === 'POST /v1/jobs');
    assert.equal(server?.parentSpanId, callerSpan, "the door's span is a child of the caller's");
    assert.equal(server?.service, 'ingest-gateway');
    const job = await eventually(
      async () => {
        const r = await get(`/v1/jobs/${accepted.json.requestId}`);
        return r.status === 200 && r.json;
      },
      { message: 'the job stored' },
    );
    assert.equal(job.traceId, traceId, "the stored job carries the caller's trace");
  } finally {
    await stack.proc('gateway-traced').stop();
    await otlp.close();
  }
});

test("with authentication on, the caller's token goes through: none is 401, a token without the scope 403, the right one passes", async () => {
  const dir = mkdtempSync(join(testDir(), 'http-auth-'));
  const tokens = { reader: 'reader-token-0123456789abcdef', writer: 'writer-token-0123456789abcdef', operator: 'operator-token-0123456789abcdef' };
  writeFileSync(
    join(dir, 'tokens.json'),
    JSON.stringify({
      tokens: [
        { name: 'reader', token: tokens.reader, scopes: ['read'] },
        { name: 'writer', token: tokens.writer, scopes: ['read', 'write'] },
        { name: 'operator', token: tokens.operator, scopes: ['read', 'control'] },
      ],
    }),
  );
  const auth = { GRPC_AUTH: 'on', GRPC_TOKENS_FILE: join(dir, 'tokens.json') };
  const locked = await stack.start('scheduler', { as: 'scheduler-locked', env: { ...auth, SCHEDULER_INGEST: 'false' } });
  const url = await startGateway('gateway-locked', { upstreams: { scheduler: locked.address }, env: auth });
  try {
    const unknown = `${url}/v1/jobs/${randomUUID()}`;
    const none = await call('GET', unknown);
    assert.equal(none.status, 401);
    assert.equal(none.json.code, grpc.status.UNAUTHENTICATED);
    assert.equal((await call('GET', unknown, { token: 'not-a-token-of-ours-at-all' })).status, 401);
    assert.equal((await call('GET', unknown, { token: tokens.reader })).status, 404, 'past authentication: no such job');
    const denied = await call('POST', `${unknown}:cancel`, { token: tokens.reader });
    assert.equal(denied.status, 403);
    assert.match(denied.json.message, /needs the control scope/);
    assert.equal((await call('POST', `${unknown}:cancel`, { token: tokens.operator })).status, 404);
    // The gateway's own method, run in its process, is checked the same way.
    const job = { appName: 'sms', scheduledTime: inDays(60) };
    assert.equal((await call('POST', `${url}/v1/jobs`, { body: job })).status, 401);
    assert.equal((await call('POST', `${url}/v1/jobs`, { body: job, token: tokens.reader })).status, 403);
    assert.equal((await call('POST', `${url}/v1/jobs`, { body: job, token: tokens.writer })).status, 200);
  } finally {
    await stack.proc('gateway-locked').stop();
    await locked.stop();
  }
});

test('a job accepted while no scheduler reads the intake is NEW (gRPC and HTTP), then its stored status; a dead-lettered one is refused with the reason', async () => {
  // The scheduler that reads the intake is stopped; one that only answers (SCHEDULER_INGEST off) takes its place.
  await stack.proc('scheduler').stop();
  const reader = await stack.start('scheduler', { as: 'scheduler-answering', env: { SCHEDULER_INGEST: 'false' } });
  const url = await startGateway('gateway-new', { upstreams: { scheduler: reader.address } });
  const accepted = await call('POST', `${url}/v1/jobs`, { body: { appName: 'noop' } });
  assert.equal(accepted.status, 200);
  const { requestId, partition, offset } = accepted.json;
  const at = `partition=${partition}&offset=${offset}`;

  const waiting = await call('GET', `${url}/v1/jobs/${requestId}?${at}`);
  assert.equal(waiting.status, 200, JSON.stringify(waiting.json));
  assert.equal(waiting.json.status, 'JOB_STATUS_NEW');
  assert.equal(waiting.json.requestId, requestId);
  assert.equal((await call('GET', `${url}/v1/jobs/${requestId}`)).status, 404, 'without where it was accepted the scheduler cannot tell');
  const grpcAnswer = await stack.client('scheduler', 'scheduler-answering').getJob({ jobId: requestId, partition, offset: Number(offset) });
  assert.equal(grpcAnswer.status, schedulerV1.JobStatus.JOB_STATUS_NEW);
  const halfAt = await call('GET', `${url}/v1/jobs/${requestId}?partition=${partition}`);
  assert.equal(halfAt.status, 400);
  assert.deepEqual(violations(halfAt.json), ['offset']);
  const nowhere = await call('GET', `${url}/v1/jobs/${requestId}?partition=${partition}&offset=999999999`);
  assert.equal(nowhere.status, 400, 'no request was ever published there');
  assert.deepEqual(violations(nowhere.json), ['offset']);

  // A request the scheduler will refuse: an app it does not know.
  const producer = stack.kafka.producer();
  await producer.connect();
  const poisonId = randomUUID();
  const [sent] = await producer.send({ topic: TOPICS.jobsIngest, messages: [{ key: poisonId, value: JSON.stringify({ requestId: poisonId, appName: 'no-such-app' }) }] });
  // And one that is not JSON, with a NUL byte the reason quotes.
  const [bytes] = await producer.send({ topic: TOPICS.jobsIngest, messages: [{ value: Buffer.from([0x00, 0x7b, 0xff]) }] });
  await producer.disconnect();
  const poisonAt = `partition=${sent.partition}&offset=${sent.baseOffset}`;
  assert.equal((await call('GET', `${url}/v1/jobs/${poisonId}?${poisonAt}`)).json.status, 'JOB_STATUS_NEW');

  // The intake again: the job is stored and runs; the poison is refused.
  await stack.start('scheduler');
  const done = await eventually(
    async () => {
      const r = await call('GET', `${url}/v1/jobs/${requestId}?${at}`);
      return r.json.status === 'JOB_STATUS_DONE' && r.json;
    },
    { timeoutMs: 60_000, message: 'the job stored and DONE' },
  );
  assert.match(done.jobId, /^[0-9a-f-]{36}$/);
  const refused = await eventually(
    async () => {
      const r = await call('GET', `${url}/v1/jobs/${poisonId}?${poisonAt}`);
      return r.json.status === 'JOB_STATUS_REFUSED' && r.json;
    },
    { message: 'the poison refused' },
  );
  assert.equal(refused.requestId, poisonId);
  assert.match(refused.lastError, /^refused: invalid job request: .*no-such-app/);
  // Another request's id at that position is not answered with the poison's refusal.
  const other = await call('GET', `${url}/v1/jobs/${randomUUID()}?${poisonAt}`);
  assert.equal(other.status, 404, JSON.stringify(other.json));
  assert.equal(other.json.code, grpc.status.NOT_FOUND);
  const unreadable = await call('GET', `${url}/v1/jobs/any-id?partition=${bytes.partition}&offset=${bytes.baseOffset}`);
  assert.equal(unreadable.json.status, 'JOB_STATUS_REFUSED', JSON.stringify(unreadable.json));
  assert.match(unreadable.json.lastError, /^refused: .*JSON/);
});
