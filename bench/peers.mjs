// The peers pipewright is measured against in the same run, on the same broker and PostgreSQL
// server: graphile-worker and pg-boss (each in a process of its own, bench/peer-worker.mjs, with
// a fresh database), and the broker's ceilings: Kafka's own ProducerPerformance (produce) and a
// raw kafkajs consumer (consume).
import { fork, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { kafkaHome } from '../scripts/lib/kafka.mjs';
import { log, meter, peakRssMb, summary } from './lib.mjs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const require = createRequire(import.meta.url);
const pg = require('pg');
const { Kafka, logLevel, Partitioners } = require('kafkajs');

const HERE = dirname(fileURLToPath(import.meta.url));

/** The installed version of a package (its exports may hide package.json), or why there is none. */
function installedVersion(name) {
  try {
    let dir = dirname(require.resolve(name));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8'));
        if (pkg.name === name) return pkg.version;
      }
      if (dirname(dir) === dir) return 'unknown';
      dir = dirname(dir);
    }
  } catch (err) {
    return `not installed (${err.code ?? err.message})`;
  }
}

export const PEER_VERSIONS = Object.fromEntries(['graphile-worker', 'pg-boss', 'kafkajs'].map((n) => [n, installedVersion(n)]));

async function admin(url, sql) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/** A fresh database on the server of `serverUrl`; returns its URL and a drop(). */
export async function freshDatabase(serverUrl, prefix) {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The server's settings that decide what a commit costs. */
export async function serverSettings(serverUrl) {
  const out = {};
  for (const name of ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'max_connections']) {
    out[name] = (await admin(serverUrl, `SHOW ${name}`))[0][name];
  }
  return out;
}

/**
 * A peer's process on a fresh database, started and idle: `next(type, ms)` waits for its next
 * message of that type; `send(m)` drives it; `close()` stops it and drops its database.
 */
async function startPeer(system, { serverUrl, jobs = 0 }) {
  const db = await freshDatabase(serverUrl, `bench_${system.replace('-', '_')}`);
  let stderr = '';
  const child = fork(join(HERE, 'peer-worker.mjs'), [], {
    env: { ...process.env, PEER: system, PEER_DATABASE_URL: db.url, PEER_JOBS: String(jobs) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const next = (type, ms) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${system}: no '${type}' within ${ms} ms`)), ms);
    const onMessage = (m) => {
      if (m.type !== type && m.type !== 'error') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (m.type === 'error') reject(new Error(`${system}: ${m.message.split('\n')[0]}`));
      else resolve(m);
    };
    child.on('message', onMessage);
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`${system} exited (code ${code}, signal ${signal}) ${stderr.trim().split('\n').slice(-3).join(' | ')}`)); });
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await db.drop().catch((err) => log(`could not drop ${system}'s database: ${err.message}`));
  };
  try {
    await next('ready', 120_000);
  } catch (err) {
    await close();
    throw err;
  }
  return { child, next, send: (m) => child.send(m), close, warnings: () => (stderr.trim() ? stderr.trim().split('\n').slice(-3) : undefined) };
}

/**
 * One end-to-end run of a peer: `jobs` no-op jobs due now, from the first enqueue to the moment
 * the bench sees every one recorded complete. The worker is started and idle before the clock starts.
 */
export async function runPeer(system, { serverUrl, jobs, timeoutMs, warmup = 0 }) {
  const peer = await startPeer(system, { serverUrl, jobs });
  try {
    let cold;
    if (warmup > 0) {
      // The same warm-up as pipewright's: that many jobs to their end before the clock starts.
      const w0 = Date.now();
      peer.send({ type: 'go', jobs: warmup });
      const w = await peer.next('done', timeoutMs);
      cold = { jobs: warmup, ms: w.completeAt - w0, jobsPerSec: Math.round((warmup * 1000) / Math.max(1, w.completeAt - w0)) };
      await sleep(1000);
    }
    const m = meter(jobs);
    const t0 = m.start();
    peer.send({ type: 'go', jobs });
    const done = await peer.next('done', timeoutMs);
    const figures = m.stop();
    return {
      system,
      jobs,
      ...figures,
      enqueuedAfterMs: done.enqueuedAt - t0,
      handledAfterMs: done.handledAt - t0,
      ...(done.lastCompletedOn ? { lastCompletedOnAfterMs: Math.round(done.lastCompletedOn - t0) } : {}),
      ...(cold ? { warmup: cold } : {}),
      peakRssMb: { worker: peakRssMb(peer.child.pid) },
      warnings: peer.warnings(),
    };
  } finally {
    await peer.close();
  }
}

/**
 * Single jobs at a low rate on a peer: `warmup` then `count` jobs, one every `everyMs`, each added
 * alone; add->start is the time from just before the add call to the start of its handler, both
 * read in the peer's process. Resolves with the `count` measured latencies in ms.
 */
export async function runPeerSingles(system, { serverUrl, count, everyMs, warmup, timeoutMs = 120_000 }) {
  const peer = await startPeer(system, { serverUrl });
  try {
    peer.send({ type: 'single', count, everyMs, warmup });
    const done = await peer.next('singles', timeoutMs);
    return { system, jobs: count, everyMs, warmup, addToStartMs: done.latencies, warnings: peer.warnings() };
  } finally {
    await peer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka ceilings

const RECORD_BYTES = 300;

/** Runs a command to its end; resolves with its exit code and output. */
function runCommand(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); resolve({ code: -1, out: err.message }); });
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

/** Kafka's own ProducerPerformance (acks=all, 300-byte records) into `topic`. */
async function producerPerformance(brokers, topic, records) {
  const libs = join(kafkaHome(), 'libs');
  if (!existsSync(libs)) throw new Error(`no Kafka jars in ${libs}`);
  const { code, out } = await runCommand('java', ['-Xmx256m', '-Dlog4j2.level=WARN', '-cp', `${libs}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--bootstrap-server', brokers, '--topic', topic, '--num-records', String(records), '--record-size', String(RECORD_BYTES),
    '--throughput', '-1', '--command-property', 'acks=all'], 300_000);
  const last = [...out.matchAll(/(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency(?:, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th)?/g)].pop();
  if (code !== 0 || !last) throw new Error(`ProducerPerformance failed (exit ${code}): ${out.trim().split('\n').slice(-2).join(' | ')}`);
  return {
    records: Number(last[1]),
    recordBytes: RECORD_BYTES,
    acks: 'all',
    recordsPerSec: Math.round(Number(last[2])),
    mbPerSec: Number(last[3]),
    avgLatencyMs: Number(last[4]),
    p99LatencyMs: last[8] === undefined ? null : Number(last[8]),
  };
}

/** Fills `topic` with kafkajs when ProducerPerformance cannot run. */
async function kafkajsFill(kafka, topic, records) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const value = Buffer.alloc(RECORD_BYTES, 120);
    for (let sent = 0; sent < records; sent += 10_000) {
      const n = Math.min(10_000, records - sent);
      await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, () => ({ value })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A raw kafkajs consumer in a fresh group reading every message of `topic` from its start. */
export async function kafkajsConsume(kafka, topic, records) {
  const consumer = kafka.consumer({ groupId: `bench-ceiling-${randomBytes(5).toString('hex')}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    let first;
    let resolveAll;
    const all = new Promise((r) => (resolveAll = r));
    const m = meter(records);
    const t0 = m.start();
    await consumer.run({
      eachBatch: async ({ batch }) => {
        first ??= Date.now();
        seen += batch.messages.length;
        if (seen >= records) resolveAll(Date.now());
      },
    });
    const end = await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`consumed ${seen} of ${records} within 120 s`)), 120_000))]);
    const figures = m.stop(end);
    return {
      messages: seen,
      messagesPerSec: Math.round((seen / Math.max(1, end - first)) * 1000),
      firstMessageAfterMs: first - t0,
      includingGroupJoinPerSec: figures.jobsPerSec,
      cpuMsPerMessage: figures.cpuMsPerJob,
    };
  } finally {
    await consumer.disconnect();
  }
}

/**
 * One Kafka hop at a low rate, with raw kafkajs on the same broker: `count` keyed messages (after
 * `warmup` not counted), one every `everyMs`, to a fresh topic of 12 partitions, each produced
 * with acks=all and read by a consumer fetching as pipewright's consumers do (minBytes 1, the
 * broker holding an empty fetch up to 1 s). Returns, in ms, how long each produce took to be
 * acknowledged and how long from just before it until the consumer had the message.
 */
export async function kafkaHop({ brokers, count, everyMs, warmup }) {
  const kafka = new Kafka({ clientId: 'pipewright-bench', brokers: [brokers], logLevel: logLevel.NOTHING });
  const topic = `bench.hop.${randomBytes(4).toString('hex')}`;
  const adm = kafka.admin();
  await adm.connect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `bench-hop-${randomBytes(5).toString('hex')}`, maxWaitTimeInMs: 1000, minBytes: 1 });
  const sentAt = new Map();
  const acked = [];
  const received = [];
  try {
    await adm.createTopics({ topics: [{ topic, numPartitions: 12, replicationFactor: 1 }], waitForLeaders: true });
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topic, fromBeginning: true });
    let joined;
    const member = new Promise((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      partitionsConsumedConcurrently: 12,
      eachBatch: async ({ batch }) => {
        const now = performance.now();
        for (const m of batch.messages) {
          const i = Number(m.key.toString());
          if (i >= warmup && sentAt.has(i)) received.push(now - sentAt.get(i));
        }
      },
    });
    await member;
    for (let i = 0; i < warmup + count; i++) {
      const t = performance.now();
      sentAt.set(i, t);
      await producer.send({ topic, acks: -1, messages: [{ key: String(i), value: 'x'.repeat(300) }] });
      if (i >= warmup) acked.push(performance.now() - t);
      await sleep(everyMs);
    }
    const deadline = Date.now() + 10_000;
    while (received.length < count && Date.now() < deadline) await sleep(50);
    return { topic, messages: count, everyMs, warmup, producedMs: summary(acked), producedToReceivedMs: summary(received), received: received.length };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await adm.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await adm.disconnect();
  }
}

/** Produce and consume ceilings of the broker, on a fresh topic of 12 partitions. */
export async function kafkaCeilings({ brokers, records }) {
  const kafka = new Kafka({ clientId: 'pipewright-bench', brokers: [brokers], logLevel: logLevel.NOTHING });
  const topic = `bench.ceiling.${randomBytes(4).toString('hex')}`;
  const adm = kafka.admin();
  await adm.connect();
  const out = { topic, partitions: 12, records };
  try {
    await adm.createTopics({ topics: [{ topic, numPartitions: 12, replicationFactor: 1 }], waitForLeaders: true });
    try {
      out.producerPerformance = await producerPerformance(brokers, topic, records);
      log(`kafka ProducerPerformance: ${JSON.stringify(out.producerPerformance)}`);
    } catch (err) {
      out.producerPerformance = { error: err.message };
      log(`kafka ProducerPerformance could not run: ${err.message}; filling the topic with kafkajs instead`);
      const ends = await adm.fetchTopicOffsets(topic);
      const have = ends.reduce((a, e) => a + Number(e.high), 0);
      if (have < records) await kafkajsFill(kafka, topic, records - have);
    }
    const ends = await adm.fetchTopicOffsets(topic);
    const available = ends.reduce((a, e) => a + Number(e.high), 0);
    out.kafkajsConsumer = await kafkajsConsume(kafka, topic, available);
    log(`kafkajs consumer: ${JSON.stringify(out.kafkajsConsumer)}`);
  } catch (err) {
    out.error = err.message;
    log(`kafka ceilings could not be measured: ${err.message}`);
  } finally {
    await adm.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await adm.disconnect();
  }
  return out;
}
