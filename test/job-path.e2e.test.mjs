// The walking skeleton: one job through every hop, on real Kafka and PostgreSQL, in one trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SERVICES, TOPICS } from '@pipewright/contracts';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, tapTopic, sleep, messageJson, millis, healthCheck, listServices, reflectFile, reflectSymbol, startOtlpReceiver } from '@pipewright/testkit';

const { JobStatus } = schedulerV1;

/**
 * Whether every [service, span name] has a span among these.
 * @param {import('@pipewright/testkit').ReceivedSpan[]} spans
 * @param {Array<[string, string]>} wanted
 */
const hasSpans = (spans, wanted) => wanted.every(([service, name]) => spans.some((x) => x.service === service && x.name === name));
/**
 * The span's link to a span of this trace, if it has one.
 * @param {import('@pipewright/testkit').ReceivedSpan} span
 * @param {string} traceId
 */
const linkTo = (span, traceId) => (span.links ?? []).find((l) => l.traceId === traceId);
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').OtlpReceiver} */
let otlp;

before(async () => {
  otlp = await startOtlpReceiver();
  // At debug the scheduler also writes a line per job, in the job's trace.
  stack = await startStack({ services: SERVICES.map((s) => s.name), otlpEndpoint: otlp.endpoint, envFor: { scheduler: { LOG_LEVEL: 'debug' } } });
});

after(async () => {
  await stack?.stop();
  await otlp?.close();
});

test('every service answers grpc.health.v1 SERVING and lists its API through reflection', async () => {
  for (const { name, grpcService: service } of SERVICES) {
    const addr = stack.address(name);
    assert.equal(await healthCheck(addr), 'SERVING', `${name} overall health`);
    assert.equal(await healthCheck(addr, service), 'SERVING', `${name} health of ${service}`);
    // Exactly what this server runs: its own API and health, not every service in the protos.
    assert.deepEqual(await listServices(addr), ['grpc.health.v1.Health', service].sort(), `${name} reflection lists its own services`);
  }
});

test('reflection serves the files a client needs to call a method, well-known types included', async () => {
  const addr = stack.address('ingest-gateway');
  const files = await reflectSymbol(addr, 'pipewright.ingest.v1.IngestGateway');
  assert.ok(files.some((f) => f.toString('latin1').includes('pipewright/ingest/v1/ingest.proto')));
  // ScheduleJobRequest.job_data is a google.protobuf.Struct: grpcurl resolves it by file name.
  const struct = await reflectFile(addr, 'google/protobuf/struct.proto');
  assert.ok(struct.length >= 1);
  assert.ok(struct[0].toString('latin1').includes('google.protobuf'));
  assert.ok(struct[0].toString('latin1').includes('Struct'));
});

test('a job scheduled 2 s ahead through the gateway runs once, is DONE, and one trace covers every hop', async () => {
  const gateway = stack.client('ingest-gateway');
  const scheduler = stack.client('scheduler');
  const out = await tapTopic(stack.kafka, 'e2e.job.output');
  const status = await tapTopic(stack.kafka, TOPICS.jobsStatus);
  try {
    const scheduledTime = new Date(Date.now() + 2000);
    const accepted = await gateway.scheduleJob({
      appName: 'publish',
      scheduledTime: scheduledTime.toISOString(),
      jobData: { topic: 'e2e.job.output', key: 'k1', value: { greeting: 'hello' } },
    });
    assert.match(accepted.requestId, /^[0-9a-f-]{36}$/);

    const job = await eventually(
      async () => {
        const j = await scheduler.getJob({ jobId: accepted.requestId });
        return j.status === JobStatus.JOB_STATUS_DONE && j;
      },
      { timeoutMs: 30_000, message: 'job DONE' },
    );

    assert.equal(job.appName, 'publish');
    assert.equal(job.runs, 1);
    assert.equal(job.attempts, 1);
    assert.ok(job.firedAt && job.startedAt && job.finishedAt, 'GetJob has the fire, start and finish times');
    assert.ok(job.firedAt.getTime() >= scheduledTime.getTime(), `fired ${job.firedAt.toISOString()} not before ${scheduledTime.toISOString()}`);
    assert.ok(job.startedAt.getTime() >= job.firedAt.getTime());
    assert.ok(job.finishedAt.getTime() >= job.startedAt.getTime());
    // A run that finishes quickly says so in one event: DONE, carrying when it started.
    /** @type {import('@pipewright/contracts').RunStatusEvent[]} */
    const events = status.messages.map(messageJson).filter((e) => e?.jobId === job.jobId);
    assert.deepEqual(
      events.map((e) => `${e.status}${e.attempt}`),
      ['DONE1'],
    );
    assert.equal(Date.parse(events[0].startedAt ?? ''), job.startedAt.getTime(), 'the start GetJob shows is the one the event carried');
    assert.equal(Date.parse(events[0].at), job.finishedAt.getTime());

    await eventually(() => out.messages.length >= 1, { message: 'output message' });
    // A second execution (a re-fire, or a redelivery run again) would publish a second message.
    await sleep(1500);
    assert.equal(out.messages.length, 1, 'the handler ran exactly once');
    assert.deepEqual(messageJson(out.messages[0]), { greeting: 'hello' });
    assert.equal(out.messages[0].key?.toString(), 'k1');

    // One trace: the gRPC call, the scheduler and the executor across both Kafka hops.
    assert.match(job.traceId, /^[0-9a-f]{32}$/);
    // Log lines written inside the trace's spans carry its id.
    const logged = (name, msg) =>
      stack
        .log(name)
        .split('\n')
        .some((l) => l.includes(`"trace_id":"${job.traceId}"`) && l.includes(`"msg":"${msg}"`));
    assert.ok(logged('ingest-gateway', 'job accepted'), 'the gateway\'s "job accepted" line has the trace id');
    assert.ok(logged('scheduler', 'job scheduled'), 'the scheduler\'s "job scheduled" line has the trace id');
    const spans = await eventually(
      () => {
        const s = otlp.spans.filter((x) => x.traceId === job.traceId);
        return (
          hasSpans(s, [
            ['ingest-gateway', 'grpc.pipewright.ingest.v1.IngestGateway/ScheduleJob'],
            ['scheduler', 'process scheduler.jobs.ingest'],
            ['scheduler', 'scheduler.fire'],
            ['executor', 'process jobs.due'],
            ['scheduler', 'process jobs.status'],
          ]) && s
        );
      },
      { timeoutMs: 15_000, message: 'spans of all hops in one trace' },
    );
    // Every span but the root has its parent inside the same trace.
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    assert.equal(roots.length, 1, `one root span, got ${roots.map((r) => `${r.service}:${r.name}`)}`);
    // Each produce request has a span of its own, linked to the span in the job's trace that sent
    // the job's message.
    const sends = await eventually(
      () => {
        const linked = otlp.spans.filter((x) => x.name.startsWith('send ') && linkTo(x, job.traceId));
        return (
          hasSpans(linked, [
            ['ingest-gateway', 'send scheduler.jobs.ingest'],
            ['scheduler', 'send jobs.due'],
            ['executor', 'send e2e.job.output'],
            ['executor', 'send jobs.status'],
          ]) && linked
        );
      },
      { timeoutMs: 15_000, message: "every hop's produce request linked to the job's trace" },
    );
    for (const send of sends) {
      assert.equal(send.kind, 4, `${send.service}:${send.name} is a producer span`);
      const link = linkTo(send, job.traceId);
      assert.ok(link && ids.has(link.spanId), `${send.service}:${send.name} links to a span of the job's trace`);
    }
  } finally {
    await out.stop();
    await status.stop();
  }
});

test('services serve Prometheus metrics: fire lateness, consumed messages, accepted jobs, run outcomes, runs in flight and consumer lag', async () => {
  const scrape = async (name) => (await fetch(`http://127.0.0.1:${stack.proc(name).metricsPort}/metrics`)).text();
  const scheduler = await scrape('scheduler');
  assert.match(scheduler, /^scheduler_fire_lateness_seconds_count\{service="scheduler"\} [1-9]/m);
  assert.match(scheduler, /^kafka_consumer_lag\{group="scheduler.ingest",topic="scheduler.jobs.ingest",partition="\d+",service="scheduler"\} 0$/m);
  assert.match(scheduler, /^kafka_consumer_messages_total\{group="scheduler.ingest",outcome="processed",service="scheduler"\} [1-9]/m);
  assert.match(scheduler, /^kafka_consumer_messages_total\{group="scheduler.status",outcome="processed",service="scheduler"\} [1-9]/m);
  const gateway = await scrape('ingest-gateway');
  assert.match(gateway, /^ingest_jobs_total\{outcome="accepted",service="ingest-gateway"\} [1-9]/m);
  const executor = await scrape('executor');
  assert.match(executor, /^executor_runs_total\{outcome="done",service="executor"\} [1-9]/m);
  assert.match(executor, /^executor_runs_in_flight\{service="executor"\} 0$/m);
  assert.match(executor, /^kafka_consumer_lag\{group="executor",topic="jobs.due"/m);
});

test('SIGTERM stops every service cleanly with exit code 0', async () => {
  const codes = {};
  for (const [name, p] of stack.procs) codes[name] = await p.stop();
  assert.deepEqual(codes, Object.fromEntries([...stack.procs.keys()].map((n) => [n, 0])));
});
