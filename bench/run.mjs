// Scheduler benchmark on a real Kafka broker and PostgreSQL server (`npm run bench`).
//
//   (a) ingest: jobs/s through ingest-gateway ScheduleJobs, accepted (Kafka acknowledged) and
//       stored (in scheduler.jobs), with 1 and with 3 scheduler replicas;
//   (b) firing: N jobs due at one instant, fire throughput and lateness (runs.fired_at - due_at)
//       with 1 and with 3 scheduler replicas, no executor running;
//   (c) idle lateness: single jobs scheduled a few seconds ahead, one firing at a time;
//   (d) end to end, due -> DONE: for the idle jobs of (c), and for a burst through 3 schedulers
//       and 2 executors (executor.run_claims.finished_at - due_at);
//   (e) same-run comparison with graphile-worker, pg-boss and the broker's own ceilings
//       (bench/compare.mjs, bench/peers.mjs);
//   (f) the throughput targets: ingest from a filled topic, jobs due in the same second, steady
//       jobs due per second, single jobs at a low rate, tracing on vs off (bench/targets.mjs);
//   (h) orders aggregated exactly once per second against a raw kafkajs consumer (bench/orders.mjs);
//   (i) the market-data pipeline with one and three replicas per stage against a sequential script (bench/stocks.mjs).
//
// Usage: node bench/run.mjs [all | scenarios | compare | targets | cron | orders | stocks] (or BENCH_ONLY=...); default
// all. Writes bench/results/latest.md and latest.json; a partial run keeps the other sections of
// the previous results. Sizes: BENCH_INGEST_JOBS, BENCH_FIRE_JOBS, BENCH_IDLE_JOBS,
// BENCH_E2E_JOBS for (a) to (d); for (e) see bench/compare.mjs, for (f) bench/targets.mjs.
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, existsSync, chmodSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { startInfrastructure, assertBuilt } from '../scripts/lib/system.mjs';
import { KAFKA_VERSION } from '../scripts/lib/kafka.mjs';
import { describeMachine } from '../scripts/lib/machine.mjs';
import { eventually, sleep } from '@pipewright/testkit';
import { log, summary, rate, stackWith, stopStack, submit, countWhere, until, runTimes, STORED, FIRED } from './lib.mjs';
import { markdown } from './report.mjs';
import { compare } from './compare.mjs';
import { targets } from './targets.mjs';
import { ordersBench } from './orders.mjs';
import { stocksBench } from './stocks.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');

const HERE = dirname(fileURLToPath(import.meta.url));
const size = (name, dflt) => Number(process.env[name] ?? dflt);
const N = {
  ingest: size('BENCH_INGEST_JOBS', 4000),
  fire: size('BENCH_FIRE_JOBS', 2000),
  idle: size('BENCH_IDLE_JOBS', 50),
  e2e: size('BENCH_E2E_JOBS', 2000),
};

const MODES = ['all', 'scenarios', 'compare', 'targets', 'cron', 'orders', 'stocks'];
const mode = process.argv[2] ?? process.env.BENCH_ONLY ?? 'all';
if (!MODES.includes(mode)) {
  process.stderr.write(`usage: node bench/run.mjs [${MODES.join(' | ')}] (got ${mode})\n`);
  process.exit(2);
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

async function machine({ databaseUrl, externalKafka }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows: [{ version: postgres }] } = await client.query('SELECT version()');
  await client.end();
  const { commit, ...figures } = describeMachine(join(HERE, '..'));
  return {
    ...figures,
    kafka: externalKafka ? `external broker (${process.env.KAFKA_BROKERS})` : `Apache Kafka ${KAFKA_VERSION} (KRaft, single node, local)`,
    postgres,
    commit,
  };
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
  const out = join(HERE, 'results');
  const previous = existsSync(join(out, 'latest.json')) ? JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) : {};
  const m = await machine({ databaseUrl: infra.databaseUrl, externalKafka });
  let result = { ...previous };
  if (mode === 'all' || mode === 'scenarios') {
    const date = new Date().toISOString();
    const loadStart = loadavg()[0].toFixed(2);
    log(`sizes ${JSON.stringify(N)}; load average ${loadStart}`);
    const scaling = [await ingestAndFire(1), await ingestAndFire(3)];
    const idleResult = await idle();
    const burst = await burstEndToEnd(scaling[1].ingest.storedPerSec);
    const [one, three] = scaling;
    const ratio = (a, b) => (b ? Math.round((a / b) * 100) / 100 : null);
    result = {
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
      compare: previous.compare,
      targets: previous.targets,
      cron: previous.cron,
      orders: previous.orders,
      stocks: previous.stocks,
    };
  }
  if (mode === 'all' || mode === 'compare') {
    result.compare = await compare({ serverUrl: infra.databaseUrl, brokers: infra.brokers, commit: m.commit });
    // Only the comparison ran: the earlier sections (and the header about them) stay as they were.
    if (!result.machine) result = { ...result, date: result.compare.date, machine: m };
  }
  if (mode === 'all' || mode === 'targets') {
    result.targets = await targets({ serverUrl: infra.databaseUrl, machine: m });
    if (!result.machine) result = { ...result, date: result.targets.date, machine: m };
  }
  if (mode === 'all' || mode === 'cron') {
    // (g) the cost of the next cron occurrence across clock changes (bench/cron.mjs, no broker needed).
    const r = spawnSync(process.execPath, [join(HERE, 'cron.mjs')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/cron.mjs failed: ${r.stderr}`);
    result.cron = { date: new Date().toISOString(), loadAvg: loadavg().map((v) => v.toFixed(2)), output: r.stdout.trimEnd() };
    log('cron: next occurrence costs measured');
  }
  if (mode === 'all' || mode === 'orders') {
    result.orders = await ordersBench({ brokers: infra.brokers });
    if (!result.machine) result = { ...result, date: result.orders.date, machine: m };
  }
  if (mode === 'all' || mode === 'stocks') {
    result.stocks = await stocksBench();
    if (!result.machine) result = { ...result, date: result.stocks.date, machine: m };
  }
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
