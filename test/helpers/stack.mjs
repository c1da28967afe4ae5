// A pipewright stack for one test file: real Kafka and PostgreSQL (shared ones from the test
// runner, or started here when a file is run alone), a database of its own, and the services
// it asks for as separate processes.
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { startInfrastructure, startService } from '../../scripts/lib/system.mjs';
import { waitServing } from '../../scripts/lib/clients.mjs';
import { makeWorkDir } from '../../scripts/lib/proc.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');
const { Kafka, logLevel } = require('kafkajs');

export async function startStack({ services = [], env = {}, envFor = {}, otlpEndpoint } = {}) {
  const workDir = process.env.PIPEWRIGHT_TEST_WORKDIR
    ? makeWorkDir('stack-', process.env.PIPEWRIGHT_TEST_WORKDIR)
    : makeWorkDir('pipewright-stack-');
  const infra = await startInfrastructure({ workDir });

  // A database of this stack's own.
  const dbName = `pw_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: infra.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(infra.databaseUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();

  const kafka = new Kafka({ clientId: 'pipewright-test', brokers: [infra.brokers], logLevel: logLevel.NOTHING });
  const procs = new Map();
  const stack = {
    workDir,
    brokers: infra.brokers,
    databaseUrl,
    kafka,
    procs,
    /** Starts a service (another replica if `as` is given) and waits until it reports SERVING. */
    async start(name, { as = name, env: extra = {} } = {}) {
      const logFile = join(workDir, `${as}.log`);
      const p = await startService(name, { brokers: infra.brokers, databaseUrl, logFile, otlpEndpoint, env: { ...env, ...(envFor[name] ?? {}), ...extra } });
      let exited;
      p.child.on('exit', (code, signal) => (exited = `${as} exited (code ${code}, signal ${signal}); log:\n${tail(logFile)}`));
      p.exited = () => exited;
      procs.set(as, p);
      await waitServing(p.address, { timeoutMs: 90_000, isDead: () => exited });
      return p;
    },
    address: (name) => procs.get(name).address,
    log: (name) => tail(join(workDir, `${name}.log`), 200),
    async query(sql, params) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    async stop() {
      await Promise.all([...procs.values()].map((p) => p.stop()));
      await infra.stop();
    },
  };
  try {
    for (const s of services) await stack.start(s);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}

function tail(file, lines = 40) {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Writes an app registry (APPS_CONFIG) for a test and returns its path. */
export function writeAppsFile(apps) {
  const file = join(process.env.PIPEWRIGHT_TEST_WORKDIR ?? tmpdir(), `apps-${randomBytes(6).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify({ apps }));
  return file;
}

/** Counts the messages a recording app (kafka.publish of jobData) published, per jobData.i of a label. */
export function executionsPerJob(messages, label) {
  const perJob = new Map();
  for (const m of messages) {
    const data = JSON.parse(m.value.toString());
    if (data.label === label) perJob.set(data.i, (perJob.get(data.i) ?? 0) + 1);
  }
  return perJob;
}

/** Polls fn until it returns a truthy value; fails with the last value after timeoutMs. */
export async function eventually(fn, { timeoutMs = 30_000, intervalMs = 200, message = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      lastErr = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${message} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)}${lastErr ? `, error: ${lastErr.message}` : ''})`);
}

/**
 * Reads a topic from its current end: returns a collector whose `messages` fill as they arrive.
 * Uses a fresh consumer group so earlier tests' messages are not seen.
 */
export async function tapTopic(kafka, topic) {
  const admin = kafka.admin();
  await admin.connect();
  let offsets;
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: true }).catch(() => undefined);
    }
    offsets = await eventually(() => admin.fetchTopicOffsets(topic), { timeoutMs: 20_000, message: `offsets of ${topic}` });
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `test-tap-${randomBytes(6).toString('hex')}` });
  const messages = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
  } catch (err) {
    await consumer.disconnect();
    throw err;
  }
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const start = offsets.find((o) => o.partition === partition);
      if (start && BigInt(message.offset) < BigInt(start.offset)) return;
      messages.push({ partition, ...message, headersText: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString()])) });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}
