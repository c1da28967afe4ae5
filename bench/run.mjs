// Scheduler benchmark on a real Kafka broker and PostgreSQL server (`npm run bench`).
//
//   (a) ingest: jobs/s through ingest-gateway ScheduleJobs, accepted (Kafka acknowledged) and
//       stored (in scheduler.jobs), with 1 and with 3 scheduler replicas;
//   (b) firing: N jobs due at one instant, fire throughput and lateness (runs.fired_at - due_at)
//       with 1 and with 3 scheduler replicas, no executor running;
//   (c) idle lateness: single jobs scheduled a few seconds ahead, one firing at a time;
//   (d) end to end, due -> DONE: for the idle jobs of (c), and for a burst through 3 schedulers
//       and 2 executors (executor.run_claims.finished_at - due_at).
//
// Writes bench/results/latest.md and latest.json. Sizes: BENCH_INGEST_JOBS, BENCH_FIRE_JOBS,
// BENCH_IDLE_JOBS, BENCH_E2E_JOBS.
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir, cpus, totalmem, loadavg, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { startInfrastructure, assertBuilt } from '../scripts/lib/system.mjs';
import { KAFKA_VERSION } from '../scripts/lib/kafka.mjs';
import { clients } from '../scripts/lib/clients.mjs';
import { startStack, eventually, sleep } from '../test/helpers/stack.mjs';

const require = createRequire(import.meta.url);
const { ingestV1 } = require('@pipewright/proto');
const pg = require('pg');

const HERE = dirname(fileURLToPath(import.meta.url));
const size = (name, dflt) => Number(process.env[name] ?? dflt);
const N = {
  ingest: size('BENCH_INGEST_JOBS', 4000),
  fire: size('BENCH_FIRE_JOBS', 2000),
  idle: size('BENCH_IDLE_JOBS', 50),
  e2e: size('BENCH_E2E_JOBS', 2000),
};
const INGEST_BATCH = 500;
const INGEST_CONCURRENCY = 4;

const log = (m) => process.stdout.write(`[bench] ${m}\n`);

// ---------------------------------------------------------------------------------------------
// Figures

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summary(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const round = (v) => (v === null ? null : Math.round(v * 10) / 10);
  return { n: s.length, p50: round(percentile(s, 0.5)), p99: round(percentile(s, 0.99)), max: round(s.length ? s[s.length - 1] : null) };
}

const rate = (n, ms) => Math.round((n / ms) * 1000);

// ---------------------------------------------------------------------------------------------
// Stack and job helpers

/** A stack with its own database: the gateway, `schedulers` scheduler and `executors` executor replicas. */
async function stackWith({ schedulers, executors = 0 }) {
  const stack = await startStack({ services: ['ingest-gateway'] });
  const names = (base, n) => Array.from({ length: n }, (_, i) => (i === 0 ? base : `${base}-${i + 1}`));
  await Promise.all([
    ...names('scheduler', schedulers).map((as) => stack.start('scheduler', { as })),
    ...names('executor', executors).map((as) => stack.start('executor', { as })),
  ]);
  stack.gateway = clients.gateway(stack.address('ingest-gateway'));
  return stack;
}

async function stopStack(stack) {
  stack.gateway.close();
  await stack.stop();
}

/** Submits jobs through ScheduleJobs, INGEST_CONCURRENCY calls of INGEST_BATCH at a time. */
async function submit(stack, count, jobAt) {
  const ids = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + INGEST_BATCH);
      const jobs = [];
      for (let i = from; i < next; i++) jobs.push(ingestV1.ScheduleJobRequest.fromPartial({ appName: 'noop', ...jobAt(i) }));
      const res = await stack.gateway.scheduleJobs({ jobs }, { deadlineMs: 120_000 });
      res.jobs.forEach((j, k) => (ids[from + k] = j.requestId));
    }
  }
  await Promise.all(Array.from({ length: INGEST_CONCURRENCY }, worker));
  return ids;
}

async function countWhere(stack, sql, ids) {
  return (await stack.query(sql, [ids]))[0].n;
}

const STORED = 'SELECT count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1)';
const FIRED = 'SELECT count(*)::int AS n FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)';

/** Milliseconds from `since` until `sql` counts `n` of the ids (polled every 50 ms). */
async function until(stack, sql, ids, n, since, timeoutMs = 300_000) {
  await eventually(async () => (await countWhere(stack, sql, ids)) >= n, { timeoutMs, intervalMs: 50, message: `${n} rows` });
  return Date.now() - since;
}

/** Per run of the ids: due, fired, started and finished (scheduler's view) and the executor's finish. */
async function runTimes(stack, ids) {
  const rows = await stack.query(
    `SELECT extract(epoch FROM r.due_at) * 1000 AS due, extract(epoch FROM r.fired_at) * 1000 AS fired,
            extract(epoch FROM r.started_at) * 1000 AS started, extract(epoch FROM r.finished_at) * 1000 AS finished,
            j.status
       FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)`, [ids]);
  return rows.map((r) => ({ due: Number(r.due), fired: Number(r.fired), started: r.started === null ? NaN : Number(r.started), finished: r.finished === null ? NaN : Number(r.finished), status: r.status }));
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** (a) and (b) with `replicas` schedulers. */
async function ingestAndFire(replicas) {
  const stack = await stackWith({ schedulers: replicas });
  try {
    // (a) far-future jobs: nothing fires while they come in.
    const far = Date.now() + 24 * 3600_000;
    let t0 = Date.now();
    const ids = await submit(stack, N.ingest, (i) => ({ scheduledTime: new Date(far + i).toISOString() }));
    const acceptedMs = Date.now() - t0;
    const storedMs = await until(stack, STORED, ids, N.ingest, t0);
    const ingest = { jobs: N.ingest, acceptedMs, storedMs, acceptedPerSec: rate(N.ingest, acceptedMs), storedPerSec: rate(N.ingest, storedMs) };
    log(`${replicas} scheduler(s): ingest ${JSON.stringify(ingest)}`);

    // (b) N jobs due at one instant, far enough ahead for all to be stored first.
    const at = Date.now() + leadFor(N.fire, ingest.storedPerSec);
    t0 = Date.now();
    const burst = await submit(stack, N.fire, () => ({ scheduledTime: new Date(at).toISOString() }));
    await until(stack, STORED, burst, N.fire, t0);
    const storedBeforeDue = Date.now() < at;
    // Fired = the run rows committed, which happens after jobs.due acknowledged the batch.
    const allFiredMs = await until(stack, FIRED, burst, N.fire, at);
    const runs = await runTimes(stack, burst);
    const fire = {
      jobs: N.fire,
      storedBeforeDue,
      allFiredAfterDueMs: allFiredMs,
      firedPerSec: rate(N.fire, Math.max(1, allFiredMs)),
      latenessMs: summary(runs.map((r) => r.fired - r.due)),
    };
    log(`${replicas} scheduler(s): fire ${JSON.stringify(fire)}`);
    await skipUnexecuted(stack);
    return { replicas, ingest, fire };
  } finally {
    await stopStack(stack);
  }
}

/** How far ahead to schedule `n` jobs so that all are stored before they are due. */
const leadFor = (n, storedPerSec) => Math.max(10_000, Math.ceil((n / storedPerSec) * 1300) + 5000);

/**
 * Moves the executor group past the jobs.due messages of a stack that had no executor: every
 * stack shares the broker, and a later stack's executors must not run another database's jobs.
 */
async function skipUnexecuted(stack) {
  const admin = stack.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets('jobs.due');
    await admin.setOffsets({ groupId: 'executor', topic: 'jobs.due', partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
  } finally {
    await admin.disconnect();
  }
}

/** (c) single jobs a few seconds ahead, and (d) their due -> DONE latency. */
async function idle() {
  const stack = await stackWith({ schedulers: 1, executors: 1 });
  try {
    const ids = [];
    const aheadMs = 2500;
    const everyMs = 500;
    for (let i = 0; i < N.idle; i++) {
      const [id] = await submit(stack, 1, () => ({ scheduledTime: new Date(Date.now() + aheadMs).toISOString() }));
      ids.push(id);
      await sleep(everyMs);
    }
    await eventually(async () => (await countWhere(stack, `${STORED} AND status IN ('DONE', 'DEAD')`, ids)) === N.idle, { timeoutMs: 60_000, message: 'idle jobs DONE' })
      .catch((err) => log(`warning: ${err.message}`));
    const runs = await runTimes(stack, ids);
    const result = {
      jobs: N.idle,
      aheadMs,
      everyMs,
      fireLatenessMs: summary(runs.map((r) => r.fired - r.due)),
      dueToStartedMs: summary(runs.map((r) => r.started - r.due)),
      dueToDoneMs: summary(runs.filter((r) => r.status === 'DONE').map((r) => r.finished - r.due)),
      recordedDone: runs.filter((r) => r.status === 'DONE').length,
    };
    log(`idle: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stopStack(stack);
  }
}

/** (d) a burst through 3 schedulers and 2 executors: due -> executed, as the executor recorded it. */
async function burstEndToEnd(storedPerSec) {
  const stack = await stackWith({ schedulers: 3, executors: 2 });
  try {
    const at = Date.now() + leadFor(N.e2e, storedPerSec);
    const t0 = Date.now();
    const ids = await submit(stack, N.e2e, () => ({ scheduledTime: new Date(at).toISOString() }));
    await until(stack, STORED, ids, N.e2e, t0);
    const storedBeforeDue = Date.now() < at;
    const CLAIMED = `SELECT count(*)::int AS n FROM executor.run_claims c JOIN scheduler.jobs j ON c.job_id = j.id::text
                      WHERE j.request_id = ANY($1) AND c.outcome = 'DONE'`;
    await until(stack, CLAIMED, ids, N.e2e, t0);
    const rows = await stack.query(
      `SELECT extract(epoch FROM c.finished_at) * 1000 AS finished
         FROM executor.run_claims c JOIN scheduler.jobs j ON c.job_id = j.id::text WHERE j.request_id = ANY($1)`, [ids]);
    const finished = rows.map((r) => Number(r.finished) - at);
    // Give the scheduler time to record the last statuses, then count what it shows as DONE.
    await sleep(15_000);
    const recordedDone = await countWhere(stack, `${STORED} AND status = 'DONE'`, ids);
    const result = {
      jobs: N.e2e,
      schedulers: 3,
      executors: 2,
      storedBeforeDue,
      dueToExecutedMs: summary(finished),
      allExecutedAfterDueMs: Math.round(Math.max(...finished)),
      executedPerSec: rate(N.e2e, Math.max(1, Math.max(...finished))),
      recordedDone,
    };
    log(`burst end to end: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stopStack(stack);
  }
}

// ---------------------------------------------------------------------------------------------
// Machine

/** The first line a command prints (on stdout, or stderr as java -version does). */
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim() || 'unknown';
}

async function machine({ databaseUrl, externalKafka }) {
  const cpuModel = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows: [{ version: postgres }] } = await client.query('SELECT version()');
  await client.end();
  return {
    host: hostname(),
    cpuModel,
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    java: firstLine('java', ['-version']),
    kafka: externalKafka ? `external broker (${process.env.KAFKA_BROKERS})` : `Apache Kafka ${KAFKA_VERSION} (KRaft, single node, local)`,
    postgres,
    commit: firstLine('git', ['-C', join(HERE, '..'), 'rev-parse', '--short', 'HEAD']),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const ms = (s) => (s.n ? `${s.p50} / ${s.p99} / ${s.max}` : 'n/a');

function markdown(r) {
  const lines = [
    '# Scheduler benchmark',
    '',
    `Run ${r.date} by \`npm run bench\` (commit ${r.machine.commit}).`,
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${r.machine.cpuModel}, ${r.machine.cores} cores |`,
    `| memory | ${r.machine.memoryGiB} GiB |`,
    `| Node.js | ${r.machine.node} |`,
    `| Java | ${r.machine.java} |`,
    `| Kafka | ${r.machine.kafka} |`,
    `| PostgreSQL | ${r.machine.postgres} |`,
    `| load average (1 min) at start / end | ${r.loadStart} / ${r.loadEnd} |`,
    '',
    'Everything (broker, database, every service replica and this script) shares these cores, and',
    'other work on the machine during the run shows in the load average: read the figures as this',
    'machine on this day, and the ratios (measured in the same run) as the more telling part.',
    '',
    '## (a) Ingest: ScheduleJobs -> stored',
    '',
    `${r.sizes.ingest} jobs due tomorrow, ScheduleJobs calls of ${INGEST_BATCH} jobs, ${INGEST_CONCURRENCY} calls at a time.`,
    'Accepted: the calls returned (each job acknowledged by Kafka, acks=all). Stored: every job in scheduler.jobs.',
    '',
    '| schedulers | accepted jobs/s | stored jobs/s | all stored after |',
    '|---|---|---|---|',
    ...r.scaling.map((s) => `| ${s.replicas} | ${s.ingest.acceptedPerSec} | ${s.ingest.storedPerSec} | ${s.ingest.storedMs} ms |`),
    '',
    `3 vs 1 scheduler, stored jobs/s: **${r.ratios.ingestStored3vs1}x**.`,
    '',
    '## (b) Firing: jobs due at one instant',
    '',
    `${r.sizes.fire} jobs due at the same instant, stored before it; no executor running. Lateness is`,
    'runs.fired_at - runs.due_at (fired_at is taken when a firing transaction has claimed its batch,',
    'before publishing it). Fire throughput is jobs / (time from the due instant until every run row',
    'is committed, polled every 50 ms), so it includes publishing each batch to jobs.due (acks=all).',
    '',
    '| schedulers | stored before due | fired jobs/s | all fired after due | lateness p50 / p99 / max (ms) |',
    '|---|---|---|---|---|',
    ...r.scaling.map((s) => `| ${s.replicas} | ${s.fire.storedBeforeDue ? 'yes' : 'no'} | ${s.fire.firedPerSec} | ${s.fire.allFiredAfterDueMs} ms | ${ms(s.fire.latenessMs)} |`),
    '',
    `3 vs 1 scheduler, fired jobs/s: **${r.ratios.fire3vs1}x**; p99 lateness 3 / 1: **${r.ratios.p99Lateness3vs1}**.`,
    '',
    '## (c) Idle lateness and (d) end to end, one job at a time',
    '',
    `${r.idle.jobs} jobs, each scheduled ${r.idle.aheadMs} ms ahead, one every ${r.idle.everyMs} ms; 1 scheduler, 1 executor (app noop).`,
    'Started and DONE are the executor\'s times as recorded by the scheduler from jobs.status.',
    '',
    '| measure | p50 / p99 / max (ms) |',
    '|---|---|',
    `| fire lateness (fired_at - due_at) | ${ms(r.idle.fireLatenessMs)} |`,
    `| due -> started | ${ms(r.idle.dueToStartedMs)} |`,
    `| due -> DONE | ${ms(r.idle.dueToDoneMs)} |`,
    '',
    `Recorded DONE by the scheduler: ${r.idle.recordedDone} of ${r.idle.jobs}.`,
    '',
    '## (d) End to end, a burst',
    '',
    `${r.burst.jobs} jobs due at one instant through ${r.burst.schedulers} schedulers and ${r.burst.executors} executors (app noop).`,
    'Executed: executor.run_claims.finished_at - due instant.',
    '',
    '| measure | value |',
    '|---|---|',
    `| stored before due | ${r.burst.storedBeforeDue ? 'yes' : 'no'} |`,
    `| due -> executed p50 / p99 / max (ms) | ${ms(r.burst.dueToExecutedMs)} |`,
    `| executed jobs/s (jobs / last finish after due) | ${r.burst.executedPerSec} |`,
    `| recorded DONE by the scheduler 15 s after the last execution | ${r.burst.recordedDone} of ${r.burst.jobs} |`,
    '',
  ];
  if (r.burst.recordedDone < r.burst.jobs || r.idle.recordedDone < r.idle.jobs) {
    lines.push(
      'Jobs executed but not recorded DONE: the scheduler drops a jobs.status event that arrives before',
      'the firing transaction that published the run has committed (the run row does not exist yet).',
      '',
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

assertBuilt();
const workDir = mkdtempSync(join(tmpdir(), 'pipewright-bench-'));
chmodSync(workDir, 0o755); // PostgreSQL runs as its own user when started by root
const externalKafka = Boolean(process.env.KAFKA_BROKERS);
const infra = await startInfrastructure({ workDir, log });
// Every stack below reuses this broker and server, each with a database of its own.
process.env.KAFKA_BROKERS = infra.brokers;
process.env.DATABASE_URL = infra.databaseUrl;
process.env.PIPEWRIGHT_TEST_WORKDIR = workDir;

let code = 0;
try {
  const date = new Date().toISOString();
  const loadStart = loadavg()[0].toFixed(2);
  log(`sizes ${JSON.stringify(N)}; load average ${loadStart}`);
  const scaling = [await ingestAndFire(1), await ingestAndFire(3)];
  const idleResult = await idle();
  const burst = await burstEndToEnd(scaling[1].ingest.storedPerSec);
  const m = await machine({ databaseUrl: infra.databaseUrl, externalKafka });
  const [one, three] = scaling;
  const ratio = (a, b) => (b ? Math.round((a / b) * 100) / 100 : null);
  const result = {
    date,
    machine: m,
    loadStart,
    loadEnd: loadavg()[0].toFixed(2),
    sizes: N,
    scaling,
    ratios: {
      ingestStored3vs1: ratio(three.ingest.storedPerSec, one.ingest.storedPerSec),
      fire3vs1: ratio(three.fire.firedPerSec, one.fire.firedPerSec),
      p99Lateness3vs1: ratio(three.fire.latenessMs.p99, one.fire.latenessMs.p99),
    },
    idle: idleResult,
    burst,
  };
  const out = join(HERE, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'latest.md'), `${markdown(result)}\n`);
  log(`wrote ${join(out, 'latest.md')} and latest.json`);
} catch (err) {
  code = 1;
  log(`failed: ${err.stack ?? err.message}`);
  log(`logs kept in ${workDir}`);
} finally {
  await infra.stop();
  if (code === 0) rmSync(workDir, { recursive: true, force: true });
}
process.exit(code);
