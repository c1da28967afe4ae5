// npm run chaos: a real broker and PostgreSQL of this run's own, the gateway, 2 schedulers and
// 2 executors as separate processes (127.0.0.1 only), a steady job load, and one fault after
// another: an executor killed with SIGKILL while handlers run, the broker killed with SIGKILL,
// PostgreSQL restarted, a scheduler killed with SIGKILL while it fires; each is started again.
// Prints, per fault, the jobs submitted, lost and executed twice, and the time until every
// service was SERVING again and the backlog cleared; writes bench/results/chaos.md and
// chaos.json. Exits 1 when a target is missed (0 lost, 0 twice, recovery under 30 s).
//
//   node scripts/chaos.mjs [--rate 80] [--no-write]
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { ROOT, assertBuilt, startService } from './lib/system.mjs';
import { startKafka, KAFKA_VERSION } from './lib/kafka.mjs';
import { startPostgres } from './lib/postgres.mjs';
import { waitServing } from './lib/clients.mjs';
import { Ledger, startLoad, startSlowEndpoint, kafkaClient, createTopic, tapExecutions, readAllExecutions, startHealthPoller } from './lib/chaos-load.mjs';
import { TARGETS, consoleTable, loadAverage, machine, markdown, misses } from './lib/chaos-report.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const k = args.indexOf(`--${name}`);
  return k >= 0 ? args[k + 1] : fallback;
};

const S = {
  rate: Number(arg('rate', 80)),
  tickMs: 100,
  slowEvery: 8,
  slowHoldMs: 1500,
  graceMs: 2000,
  sessionTimeout: process.env.KAFKA_SESSION_TIMEOUT ?? '10s',
  runLease: process.env.EXECUTOR_RUN_LEASE ?? '10s',
  durable: true,
  baselineMs: 10_000,
  preMs: 5000,
  postMs: 3000,
  downMs: 3000,
  restartDelayMs: 1000,
  stableMs: 6000,
  recoveryWaitMs: 90_000,
  burst: 2000,
  burstSpreadMs: 2000,
  drainWaitMs: 120_000,
};
const write = !args.includes('--no-write');
const EXECUTIONS = 'chaos.executions';

const say = (m) => process.stdout.write(`[chaos] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const exitOf = (child) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));

if (!Number.isFinite(S.rate) || S.rate <= 0 || S.rate > 2000) {
  process.stderr.write('[chaos] --rate must be a number of jobs per second between 1 and 2000\n');
  process.exit(2);
}
for (const v of ['KAFKA_BROKERS', 'DATABASE_URL']) {
  if (process.env[v]) say(`${v} is ignored: the run kills and restarts a broker and a PostgreSQL of its own`);
}

const startedAt = Date.now();
const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
const workDir = join(ROOT, '.pipewright', 'chaos', stamp);
mkdirSync(workDir, { recursive: true });
const tag = `c${randomBytes(3).toString('hex')}`;
const ledger = new Ledger(tag);

let kafka;
let postgres;
let db;
let slow;
let tap;
let poller;
let load;
let kafkajs;
const procs = new Map();
const unexpected = [];
let cleaningUp = false;

async function cleanup() {
  if (cleaningUp) return;
  cleaningUp = true;
  await load?.stop().catch(() => undefined);
  await poller?.stop().catch(() => undefined);
  await tap?.stop().catch(() => undefined);
  await Promise.all([...procs.values()].map((p) => ((p.expected = true), p.stop(15_000).catch(() => undefined))));
  await db?.end().catch(() => undefined);
  await slow?.close().catch(() => undefined);
  await kafka?.stop().catch(() => undefined);
  await postgres?.stop().catch(() => undefined);
}

process.on('SIGINT', () => {
  say('interrupted: stopping everything');
  void cleanup().finally(() => process.exit(130));
});

const ENV = () => ({
  APPS_CONFIG: join(workDir, 'apps.json'),
  KAFKA_SESSION_TIMEOUT: S.sessionTimeout,
  EXECUTOR_RUN_LEASE: S.runLease,
});

/** Starts (or starts again, on its former ports) service `name` as `as`; resolves once it is spawned. */
async function spawnService(name, as) {
  const prev = procs.get(as);
  const p = await startService(name, {
    brokers: kafka.brokers,
    databaseUrl: db.url,
    env: ENV(),
    logFile: join(workDir, `${as}.log`),
    port: prev?.port,
    metricsPort: prev?.metricsPort,
  });
  p.as = as;
  p.startedAt = Date.now();
  p.child.on('exit', (code, signal) => {
    if (p.expected || cleaningUp) return;
    // As the local run's supervisor would: started again, after a delay that doubles with each
    // exit in a row (1 s, 2 s, 4 s, ... 10 s at most); the exit counts as a missed target.
    const inARow = Date.now() - p.startedAt < 60_000 ? (p.inARow ?? 0) + 1 : 1;
    const delay = Math.min(10_000, 1000 * 2 ** (inARow - 1));
    const what = `${as} exited on its own (${signal ?? `code ${code}`}) during "${ledger.phase}", ${((Date.now() - startedAt) / 1000).toFixed(1)} s into the run; started again after ${delay / 1000} s`;
    unexpected.push({ as, phase: ledger.phase, at: Date.now(), what });
    say(`${what}; see ${join(workDir, `${as}.log`)}`);
    setTimeout(() => {
      if (cleaningUp || p.expected || procs.get(as) !== p) return;
      spawnService(name, as).then((q) => (q.inARow = inARow)).catch((err) => say(`${as} could not be started again: ${err.message}`));
    }, delay);
  });
  procs.set(as, p);
  return p;
}

async function kill(as) {
  const p = procs.get(as);
  p.expected = true;
  p.child.kill('SIGKILL');
  await exitOf(p.child);
  return Date.now();
}

/** Restarts a process this run killed (unless it is already being started again after an exit of its own). */
async function restart(name, as) {
  if (procs.get(as)?.expected) await spawnService(name, as);
}

async function query(sql, params) {
  return (await db.pool.query(sql, params)).rows;
}

/** Polls fn every intervalMs until it returns a value other than undefined, or the deadline passes (undefined). */
async function until(fn, deadline, intervalMs = 250) {
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

const graceFor = (job) => S.graceMs + (job.app === 'slow' ? S.slowHoldMs : 0);

/**
 * One phase: PRE of steady load, the fault (inject resolves with when it struck and when what it
 * broke was started again), then the wait for every service SERVING and the backlog cleared.
 */
async function phase(fault, inject) {
  ledger.phase = fault;
  const start = Date.now();
  say(`${fault}: load for ${S.preMs / 1000} s, then the fault`);
  await sleep(S.preMs);
  const info = { notes: [] };
  const { faultAt, repairedAt } = await inject(info);
  const deadline = faultAt + S.recoveryWaitMs;
  let peak = 0;
  const [servingAt, clearedAt] = await Promise.all([
    until(() => poller.servingFrom(repairedAt, S.stableMs), deadline),
    until(() => {
      const now = Date.now();
      let overdue = 0;
      for (const job of ledger.pending) if (job.submittedAt >= start && now - job.acceptedAt > graceFor(job)) overdue += 1;
      peak = Math.max(peak, overdue);
      return now >= repairedAt + S.graceMs && overdue === 0 ? now : undefined;
    }, deadline),
  ]);
  const servingMs = servingAt === undefined ? null : Math.max(0, servingAt - faultAt);
  const clearedMs = clearedAt === undefined ? null : clearedAt - faultAt;
  say(`${fault}: all SERVING again after ${servingMs === null ? 'more than the wait' : `${(servingMs / 1000).toFixed(1)} s`}, backlog cleared after ${clearedMs === null ? 'more than the wait' : `${(clearedMs / 1000).toFixed(1)} s`} (peak ${peak} jobs overdue)`);
  const notServing = poller.notServing(faultAt, servingAt ?? Date.now());
  await sleep(S.postMs);
  return { fault, start, faultAt, repairedAt, servingMs, clearedMs, peakOverdue: peak, notServing, ...info };
}

async function main() {
  assertBuilt();
  say(`work directory (logs): ${workDir}`);
  const loadStart = loadAverage();
  say(`load average ${loadStart}`);

  say('starting Kafka (KRaft, single node) and PostgreSQL');
  [kafka, postgres] = await Promise.all([
    startKafka({ dataDir: join(workDir, 'kafka'), logFile: join(workDir, 'kafka.log') }),
    startPostgres({ dataDir: join(workDir, 'postgres'), durable: S.durable, logFile: join(workDir, 'postgres.log') }),
  ]);
  const pgPort = postgres.port;
  const pgDataDir = join(workDir, 'postgres');
  const kafkaDataDir = join(workDir, 'kafka');

  // A database of the run's own.
  const dbName = `chaos_${tag}`;
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const [{ version: pgVersion }] = (await admin.query('SELECT version()')).rows;
  await admin.end();
  const url = new URL(postgres.url);
  url.pathname = `/${dbName}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2, connectionTimeoutMillis: 2000 });
  pool.on('error', () => undefined);
  db = { url: url.toString(), pool, end: () => pool.end() };

  slow = await startSlowEndpoint({ ledger, holdMs: S.slowHoldMs });
  writeFileSync(join(workDir, 'apps.json'), JSON.stringify({
    apps: {
      record: { handler: 'kafka.publish', options: { topic: EXECUTIONS } },
      slow: { handler: 'http', options: { url: slow.url, timeoutMs: 10_000 } },
    },
  }));

  kafkajs = kafkaClient(kafka.brokers);
  await createTopic(kafkajs, EXECUTIONS);
  tap = await tapExecutions(kafkajs, EXECUTIONS, ledger);

  say('starting ingest-gateway, scheduler-1, scheduler-2, executor-1, executor-2');
  const layout = [['ingest-gateway', 'ingest-gateway'], ['scheduler', 'scheduler-1'], ['scheduler', 'scheduler-2'], ['executor', 'executor-1'], ['executor', 'executor-2']];
  for (const [name, as] of layout) await spawnService(name, as);
  await Promise.all([...procs.values()].map((p) => waitServing(p.address, { timeoutMs: 120_000, isDead: () => unexpected.find((u) => u.as === p.as)?.what })));
  say(`all SERVING after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  poller = startHealthPoller(() => [...procs.values()].map((p) => ({ name: p.as, address: p.address })));

  load = startLoad({ address: procs.get('ingest-gateway').address, ledger, rate: S.rate, slowEvery: S.slowEvery, tickMs: S.tickMs });
  say(`load: ${S.rate} jobs/s (every ${S.slowEvery}th of the slow app, held ${S.slowHoldMs} ms)`);

  const phases = [];
  // No fault: the control row, and the steady end-to-end time.
  ledger.phase = 'none (steady load)';
  const baseStart = Date.now();
  say(`none (steady load): ${S.baselineMs / 1000} s`);
  await sleep(S.baselineMs);
  phases.push({ fault: 'none (steady load)', start: baseStart, notes: [] });

  phases.push(await phase('executor SIGKILL mid-handler', async (info) => {
    const victim = procs.get('executor-2');
    const id = `${hostname()}:${victim.child.pid}`;
    // Wait for runs of the slow app in the victim's handlers (held by the endpoint).
    const inFlight = async () => (await query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE app_name = 'slow')::int AS slow
         FROM executor.run_claims WHERE executor = $1 AND finished_at IS NULL AND released_at IS NULL`, [id]))[0];
    const seen = await until(async () => {
      const r = await inFlight().catch(() => undefined);
      return r && r.slow >= 3 ? r : undefined;
    }, Date.now() + 20_000, 50) ?? (await inFlight().catch(() => ({ n: '?', slow: '?' })));
    const held = slow.held();
    const faultAt = await kill('executor-2');
    info.inFlightAtKill = seen;
    info.notes.push(`killed executor-2 with ${seen.n} runs claimed and unfinished (${seen.slow} of them \`slow\`, ${held} requests held by the endpoint in all)`);
    say(`executor-2 killed (SIGKILL) with ${seen.n} runs in flight, ${seen.slow} slow`);
    await sleep(S.restartDelayMs);
    const repairedAt = Date.now();
    await restart('executor', 'executor-2');
    return { faultAt, repairedAt };
  }));

  phases.push(await phase('broker SIGKILL', async (info) => {
    kafka.child.kill('SIGKILL');
    await exitOf(kafka.child);
    const faultAt = Date.now();
    say(`broker killed (SIGKILL); down ${S.downMs / 1000} s`);
    await sleep(S.downMs);
    const t = Date.now();
    kafka = await startKafka({ dataDir: kafkaDataDir, port: kafka.port, controllerPort: kafka.controllerPort, logFile: join(workDir, 'kafka.log') });
    info.notes.push(`the broker answered again ${((Date.now() - t) / 1000).toFixed(1)} s after its restart began`);
    return { faultAt, repairedAt: Date.now() };
  }));

  phases.push(await phase('PostgreSQL restart', async (info) => {
    const faultAt = Date.now();
    await postgres.stop();
    info.notes.push(`fast shutdown took ${((Date.now() - faultAt) / 1000).toFixed(1)} s`);
    say(`PostgreSQL stopped; down ${S.downMs / 1000} s`);
    await sleep(S.downMs);
    const t = Date.now();
    postgres = await startPostgres({ dataDir: pgDataDir, port: pgPort, durable: S.durable, logFile: join(workDir, 'postgres.log') });
    info.notes.push(`it answered again ${((Date.now() - t) / 1000).toFixed(1)} s after its start began`);
    return { faultAt, repairedAt: Date.now() };
  }));

  phases.push(await phase('scheduler SIGKILL while firing', async (info) => {
    const dueAt = Date.now() + 4000;
    const burst = await load.burst(S.burst, dueAt, S.burstSpreadMs);
    const ids = burst.filter((j) => j.acceptedAt).map((j) => ledger.requestId(j.i));
    const fired = async () => (await query(
      `SELECT count(*)::int AS n FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)`, [ids]))[0].n;
    const atKill = await until(async () => {
      const n = await fired().catch(() => 0);
      return n >= ids.length / 4 ? n : undefined;
    }, Date.now() + 30_000, 25);
    const faultAt = await kill('scheduler-2');
    const n = atKill ?? (await fired().catch(() => '?'));
    info.firedAtKill = n;
    info.notes.push(`killed scheduler-2 with ${n} of the burst's ${ids.length} accepted jobs fired${n >= ids.length ? ' (all: the kill came after the firing)' : ''}`);
    say(`scheduler-2 killed (SIGKILL) with ${n} of ${ids.length} burst jobs fired`);
    await sleep(S.restartDelayMs);
    const repairedAt = Date.now();
    await restart('scheduler', 'scheduler-2');
    return { faultAt, repairedAt };
  }));

  // Drain: no more jobs; wait for every accepted one, then a little longer for late copies.
  ledger.phase = 'drain';
  await load.stop();
  say('load stopped; waiting for every accepted job');
  let last = -1;
  let changed = Date.now();
  const drainDeadline = Date.now() + S.drainWaitMs;
  while (ledger.pending.size > 0 && Date.now() < drainDeadline && Date.now() - changed < 45_000) {
    if (ledger.pending.size !== last) {
      last = ledger.pending.size;
      changed = Date.now();
    }
    await sleep(500);
  }
  if (ledger.pending.size) say(`${ledger.pending.size} accepted jobs still unexecuted; counting now`);
  await sleep(5000);

  // The final count: the whole topic read again, and the endpoint's answers.
  const final = await readAllExecutions(kafkajs, EXECUTIONS, tag);
  const executions = (job) => (job.app === 'record' ? final.perJob.get(job.i)?.length ?? 0 : job.executions);
  const liveMismatch = ledger.jobs.filter((j) => j.app === 'record' && (j.executions > 0) !== (executions(j) > 0)).length;

  // What the database says about the jobs that were lost or executed twice.
  const suspects = ledger.jobs.filter((j) => (j.acceptedAt && executions(j) === 0) || executions(j) > 1);
  const byRequest = new Map();
  if (suspects.length) {
    const rows = await query(
      `SELECT j.request_id, j.status, j.attempts AS job_attempts, (SELECT count(*)::int FROM scheduler.runs r WHERE r.job_id = j.id) AS runs,
              (SELECT r.error FROM scheduler.runs r WHERE r.job_id = j.id ORDER BY r.due_at DESC LIMIT 1) AS run_error,
              c.attempts AS claim_attempts, c.outcome, c.executor
         FROM scheduler.jobs j LEFT JOIN executor.run_claims c ON c.job_id = j.id::text WHERE j.request_id = ANY($1)`,
      [suspects.map((j) => ledger.requestId(j.i))],
    ).catch(() => []);
    for (const r of rows) byRequest.set(r.request_id, r);
  }
  const statuses = await query(`SELECT status, count(*)::int AS n FROM scheduler.jobs WHERE request_id LIKE $1 GROUP BY status ORDER BY status`, [`${tag}-%`]).catch(() => []);

  const latency = ledger.jobs
    .filter((j) => j.phase === 'none (steady load)' && j.app === 'record' && j.firstAt && j.acceptedAt)
    .map((j) => Math.max(0, j.firstAt - j.acceptedAt))
    .sort((a, b) => a - b);
  const pct = (q) => (latency.length ? latency[Math.min(latency.length - 1, Math.ceil(q * latency.length) - 1)] : null);

  const rows = phases.map((p) => {
    const jobs = ledger.jobs.filter((j) => j.phase === p.fault);
    const accepted = jobs.filter((j) => j.acceptedAt);
    const lost = accepted.filter((j) => executions(j) === 0);
    const twice = jobs.filter((j) => executions(j) > 1);
    const refused = jobs.filter((j) => j.refused);
    const refusedRan = refused.filter((j) => executions(j) > 0);
    const interrupted = jobs.filter((j) => j.interrupted > 0);
    const reasons = [...new Set(refused.map((j) => j.refused))];
    const notes = [...p.notes];
    for (const u of unexpected.filter((e) => e.phase === p.fault)) notes.push(u.what);
    if (p.faultAt) {
      const ns = Object.entries(p.notServing);
      notes.push(ns.length ? `not SERVING meanwhile: ${ns.map(([n, e]) => `${n} (${e.states.join('/')}, ${(e.ms / 1000).toFixed(1)} s)`).join(', ')}` : 'every other service SERVING throughout');
      notes.push(`peak backlog ${p.peakOverdue} jobs overdue`);
    }
    if (refused.length) notes.push(`${refused.length} refused (${reasons.join(', ')})${refusedRan.length ? `, ${refusedRan.length} of which executed all the same` : ''}`);
    if (interrupted.length) notes.push(`${interrupted.length} \`slow\` attempts interrupted by the kill and run again`);
    const describe = (j) => {
      const d = byRequest.get(ledger.requestId(j.i));
      const where = d ? `${d.status}, ${d.runs} run${d.runs === 1 ? '' : 's'}, claim ${d.outcome ?? (d.claim_attempts === null ? 'none' : 'unfinished')}${d.claim_attempts !== null ? ` after ${d.claim_attempts} attempt${d.claim_attempts === 1 ? '' : 's'}` : ''}` : 'not stored';
      return `${ledger.requestId(j.i)} (${j.app}, ${executions(j)}x; ${where})`;
    };
    if (lost.length) notes.push(`lost: ${lost.slice(0, 10).map(describe).join(', ')}${lost.length > 10 ? `, and ${lost.length - 10} more` : ''}`);
    const sameRun = twice.filter((j) => j.app === 'record' && new Set((final.perJob.get(j.i) ?? []).map((x) => x.runId)).size === 1).length;
    if (sameRun) notes.push(`${sameRun} of the \`record\` jobs executed twice published both copies with one pipewright-run-id header (a consumer deduping on it sees one)`);
    if (twice.length) notes.push(`twice: ${twice.slice(0, 10).map(describe).join(', ')}${twice.length > 10 ? `, and ${twice.length - 10} more` : ''}`);
    const said = twice.map((j) => byRequest.get(ledger.requestId(j.i))?.run_error).find(Boolean);
    if (said) notes.push(`the run of ${ledger.requestId(twice.find((j) => byRequest.get(ledger.requestId(j.i))?.run_error === said).i)} says "${said}"`);
    const bothDone = twice.filter((j) => j.app === 'slow' && j.interrupted === 0).length;
    if (bothDone) notes.push(`${bothDone} of the \`slow\` jobs executed twice were answered both times (neither attempt interrupted)`);
    if (!p.faultAt) notes.push(`no fault: ${jobs.length} jobs in ${S.baselineMs / 1000} s`);
    return {
      fault: p.fault,
      submitted: jobs.length,
      accepted: accepted.length,
      refused: refused.length,
      lost: lost.length,
      twice: twice.length,
      servingMs: p.faultAt ? p.servingMs : undefined,
      clearedMs: p.faultAt ? p.clearedMs : undefined,
      refusedExecuted: refusedRan.length,
      interrupted: interrupted.length,
      peakOverdue: p.peakOverdue,
      notServing: p.notServing,
      inFlightAtKill: p.inFlightAtKill,
      firedAtKill: p.firedAtKill,
      lostJobs: lost.map((j) => ({ requestId: ledger.requestId(j.i), app: j.app, db: byRequest.get(ledger.requestId(j.i)) ?? null })),
      twiceJobs: twice.map((j) => ({ requestId: ledger.requestId(j.i), app: j.app, executions: executions(j), records: final.perJob.get(j.i) ?? null, db: byRequest.get(ledger.requestId(j.i)) ?? null })),
      notes,
    };
  });

  const missed = [];
  for (const r of rows) for (const m of misses(r, S.recoveryWaitMs)) missed.push(`${r.fault}: ${m}`);
  for (const u of unexpected) missed.push(u.what);

  const loadEnd = loadAverage();
  const result = {
    date: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    machine: machine(ROOT),
    kafka: `Apache Kafka ${KAFKA_VERSION} (KRaft, single node, local)`,
    postgres: pgVersion,
    loadStart,
    loadEnd,
    settings: S,
    targets: TARGETS,
    baselineLatency: { p50: pct(0.5), p99: pct(0.99), n: latency.length },
    rows,
    statuses,
    totals: {
      submitted: ledger.jobs.length,
      accepted: ledger.jobs.filter((j) => j.acceptedAt).length,
      recordsOnTopic: final.records,
      liveTapMismatches: liveMismatch,
      tapReplacements: tap.replacements(),
      unknownExecutions: ledger.unknown,
    },
    missed,
    workDir: relative(ROOT, workDir),
  };

  console.log('');
  console.log(consoleTable(rows, S.recoveryWaitMs));
  console.log('');
  for (const r of rows) say(`${r.fault}: ${r.notes.join('; ')}`);
  say(`load average ${loadStart} at start, ${loadEnd} at end; ${ledger.jobs.length} jobs in ${Math.round(result.durationMs / 1000)} s; statuses ${statuses.map((s) => `${s.status} ${s.n}`).join(', ')}`);
  writeFileSync(join(workDir, 'chaos.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(workDir, 'chaos.md'), markdown(result));
  if (write) {
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'chaos.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(out, 'chaos.md'), markdown(result));
    say('written to bench/results/chaos.md and chaos.json');
  }
  for (const m of missed) say(`target missed: ${m}`);
  if (!missed.length) say(`every target met: 0 lost, 0 executed twice, recovery under ${TARGETS.recoveryMs / 1000} s after each fault`);
  say(`logs: ${workDir}`);
  return missed.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`[chaos] ${err.prerequisite ? 'cannot run' : 'failed'}: ${err.prerequisite ? err.message : err.stack ?? err.message}\n[chaos] logs: ${workDir}\n`);
  code = 1;
} finally {
  await cleanup();
}
if (code === 0) {
  // The data (not the logs) of a run that met every target is of no further use.
  rmSync(join(workDir, 'kafka', 'data'), { recursive: true, force: true });
  rmSync(join(workDir, 'postgres'), { recursive: true, force: true });
}
process.exit(code);
