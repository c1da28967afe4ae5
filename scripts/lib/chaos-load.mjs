// What the chaos run (scripts/chaos.mjs) drives and watches: a steady job load through the
// gateway's ScheduleJobs, a ledger of every job submitted (accepted or refused, and each
// execution seen), the two apps that record executions (kafka.publish to a topic tapped here,
// http to a slow endpoint served here), and a poller of every service's grpc.health.v1.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { clients, healthCheck } from './clients.mjs';

const require = createRequire(import.meta.url);
const { ingestV1 } = require('@pipewright/proto');
const { Kafka, logLevel } = require('kafkajs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Every job the run submitted: its phase, app, when it was submitted and accepted (or why it
 * was refused), and the executions seen (completed, and for the slow app, interrupted: the
 * executor's connection closed before the answer).
 */
export class Ledger {
  constructor(tag) {
    this.tag = tag;
    this.jobs = [];
    this.phase = 'start';
    this.pending = new Set();
    this.unknown = 0;
  }

  requestId(i) {
    return `${this.tag}-${i}`;
  }

  add(app) {
    const job = { i: this.jobs.length, app, phase: this.phase, submittedAt: Date.now(), acceptedAt: null, refused: null, executions: 0, firstAt: null, interrupted: 0, started: 0 };
    this.jobs.push(job);
    return job;
  }

  accepted(job, at = Date.now()) {
    job.acceptedAt = at;
    if (job.executions === 0) this.pending.add(job);
  }

  refused(job, reason) {
    job.refused = reason;
  }

  /** A completed execution of job i (a record on the tapped topic, or an answered slow request). */
  executed(i, at = Date.now()) {
    const job = this.jobs[i];
    if (!job) {
      this.unknown += 1;
      return;
    }
    job.executions += 1;
    job.firstAt ??= at;
    this.pending.delete(job);
  }

  started(i) {
    if (this.jobs[i]) this.jobs[i].started += 1;
  }

  interrupted(i) {
    if (this.jobs[i]) this.jobs[i].interrupted += 1;
  }

  /** The accepted job submitted at or after `since` that has waited longest beyond its grace, if any waits beyond it. */
  oldestOverdue(since, graceFor, now = Date.now()) {
    let worst;
    for (const job of this.pending) {
      if (job.submittedAt < since) continue;
      const over = now - job.acceptedAt - graceFor(job);
      if (over > 0 && (!worst || over > worst.over)) worst = { job, over };
    }
    return worst;
  }
}

/**
 * A steady load: `rate` jobs per second through ScheduleJobs, one call every tickMs, due now;
 * every `slowEvery`-th job is of the slow app, the others of the record app. Calls do not wait
 * for each other, so a gateway that hangs does not slow the submissions down. A refused call is
 * not retried: its jobs count as refused.
 */
export function startLoad({ address, ledger, rate, slowEvery, tickMs = 100, deadlineMs = 10_000 }) {
  const gateway = clients.gateway(address);
  const calls = new Set();
  const started = Date.now();
  let submitted = 0;
  let stopped = false;

  const call = (jobs, requests) => {
    const p = gateway
      .scheduleJobs({ jobs: requests }, { deadlineMs })
      .then(() => {
        const at = Date.now();
        for (const job of jobs) ledger.accepted(job, at);
      })
      .catch((err) => {
        const reason = err.code !== undefined ? codeName(err.code) : err.message;
        for (const job of jobs) ledger.refused(job, reason);
      })
      .finally(() => calls.delete(p));
    calls.add(p);
  };

  const request = (job, extra = {}) =>
    ingestV1.ScheduleJobRequest.fromPartial({ requestId: ledger.requestId(job.i), appName: job.app, jobData: { c: ledger.tag, i: job.i }, ...extra });

  const timer = setInterval(() => {
    if (stopped) return;
    const due = Math.floor(((Date.now() - started) / 1000) * rate) - submitted;
    if (due <= 0) return;
    submitted += due;
    const jobs = [];
    for (let k = 0; k < due; k++) jobs.push(ledger.add(ledger.jobs.length % slowEvery === slowEvery - 1 ? 'slow' : 'record'));
    call(jobs, jobs.map((j) => request(j)));
  }, tickMs);

  return {
    /** n record jobs due evenly over [at, at + spreadMs), in calls of `batch`; resolves with them once every call answered. */
    async burst(n, at, spreadMs, batch = 500) {
      const all = [];
      for (let from = 0; from < n; from += batch) {
        const jobs = [];
        const requests = [];
        for (let k = from; k < Math.min(n, from + batch); k++) {
          const job = ledger.add('record');
          jobs.push(job);
          requests.push(request(job, { scheduledTime: new Date(at + Math.floor((k * spreadMs) / n)).toISOString() }));
        }
        call(jobs, requests);
        all.push(...jobs);
      }
      await Promise.all([...calls]);
      return all;
    },
    /** Stops submitting; resolves once every call in flight has answered. */
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (calls.size) await Promise.all([...calls]);
      gateway.close();
    },
  };
}

const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];
const codeName = (code) => GRPC_CODES[code] ?? String(code);

/**
 * The slow app's endpoint: each POST is held holdMs, then answered 200. An answer written while
 * the executor's connection is open is a completed execution; a connection that closed first
 * (its executor was killed) is an interrupted one.
 */
export async function startSlowEndpoint({ ledger, holdMs }) {
  const held = new Set();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      let i;
      try {
        i = JSON.parse(body).jobData.i;
      } catch {
        res.writeHead(400).end();
        return;
      }
      ledger.started(i);
      let gone = false;
      res.on('close', () => {
        if (!res.writableFinished) gone = true;
      });
      const entry = { i };
      held.add(entry);
      setTimeout(() => {
        held.delete(entry);
        if (gone || res.destroyed || req.socket.destroyed) {
          ledger.interrupted(i);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        ledger.executed(i);
      }, holdMs);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/run`,
    held: () => held.size,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

/** A kafkajs client for the run's own broker. */
export function kafkaClient(brokers) {
  return new Kafka({
    clientId: 'pipewright-chaos',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 30 },
  });
}

export async function createTopic(kafka, topic, partitions = 12) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true }).catch(() => undefined);
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads the record app's topic as it fills: each record (partition and offset counted once,
 * should the consumer read some again after the broker restarts) is an execution of the job its
 * jobData names. A consumer that gives up is replaced.
 */
export async function tapExecutions(kafka, topic, ledger) {
  const seen = new Set();
  let consumer;
  let stopped = false;
  let replacements = 0;
  const start = async () => {
    const c = kafka.consumer({ groupId: `chaos-tap-${ledger.tag}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    c.on(c.events.CRASH, (e) => {
      if (e.payload.restart || stopped) return;
      replacements += 1;
      void c.disconnect().catch(() => undefined);
      setTimeout(() => void start().catch(() => undefined), 1000);
    });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachBatch: async ({ batch }) => {
        const at = Date.now();
        for (const m of batch.messages) {
          const key = `${batch.partition}:${m.offset}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const data = parseJson(m.value);
          if (data?.c === ledger.tag) ledger.executed(data.i, at);
        }
      },
    });
    consumer = c;
  };
  await start();
  return {
    replacements: () => replacements,
    stop: async () => {
      stopped = true;
      await consumer?.disconnect().catch(() => undefined);
    },
  };
}

function parseJson(buf) {
  try {
    return JSON.parse(buf.toString());
  } catch {
    return undefined;
  }
}

/**
 * Reads the whole topic once, from the beginning to the end it has now, with a consumer group
 * of its own: for each job of the run (by jobData.i), its records and their run ids.
 */
export async function readAllExecutions(kafka, topic, tag, { timeoutMs = 60_000 } = {}) {
  const admin = kafka.admin();
  await admin.connect();
  let ends;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const perJob = new Map();
  const reached = new Map([...ends].map(([p, high]) => [p, high === 0n]));
  const consumer = kafka.consumer({ groupId: `chaos-count-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  let records = 0;
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= (ends.get(batch.partition) ?? 0n)) continue;
          records += 1;
          const data = parseJson(m.value);
          if (data?.c !== tag) continue;
          const runId = m.headers?.['pipewright-run-id']?.toString();
          const list = perJob.get(data.i) ?? [];
          list.push({ partition: batch.partition, offset: m.offset, runId });
          perJob.set(data.i, list);
        }
        const last = batch.messages.at(-1);
        if (last && BigInt(last.offset) + 1n >= (ends.get(batch.partition) ?? 0n)) reached.set(batch.partition, true);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while ([...reached.values()].some((r) => !r)) {
      if (Date.now() > deadline) throw new Error(`could not read ${topic} to its end within ${timeoutMs} ms`);
      await sleep(200);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return { perJob, records };
}

/**
 * Asks every service's grpc.health.v1 (the overall service, '') every intervalMs; keeps one
 * sample per round: when, whether all said SERVING, and what the others said.
 */
export function startHealthPoller(services, { intervalMs = 250, deadlineMs = 1000 } = {}) {
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      const states = await Promise.all(services().map(async (s) => [s.name, await healthCheck(s.address, '', deadlineMs).catch(() => 'UNREACHABLE')]));
      const bad = states.filter(([, st]) => st !== 'SERVING').map(([name, st]) => `${name} ${st}`);
      samples.push({ t, all: bad.length === 0, bad });
      await sleep(Math.max(0, intervalMs - (Date.now() - t)));
    }
  })();
  return {
    samples,
    /** The start of the first stretch of at least stableMs, beginning at or after `from`, in which every sample was all SERVING. */
    servingFrom(from, stableMs) {
      let start;
      for (const s of samples) {
        if (s.t < from) continue;
        if (!s.all) {
          start = undefined;
          continue;
        }
        start ??= s.t;
        if (s.t - start >= stableMs) return start;
      }
      return undefined;
    },
    /** Each service that did not say SERVING in [from, to), with what it said and for how long (ms, by samples). */
    notServing(from, to) {
      const out = new Map();
      for (const s of samples) {
        if (s.t < from || s.t >= to) continue;
        for (const b of s.bad) {
          const [name, state] = b.split(' ');
          const e = out.get(name) ?? { states: new Set(), samples: 0 };
          e.states.add(state);
          e.samples += 1;
          out.set(name, e);
        }
      }
      return Object.fromEntries([...out].map(([name, e]) => [name, { states: [...e.states], ms: e.samples * intervalMs }]));
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
