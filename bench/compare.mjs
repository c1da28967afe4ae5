// (e) Same-run comparison: end to end, N no-op jobs due now, from the first enqueue to the last
// completion, for pipewright (gateway + 1 scheduler + 1 executor), graphile-worker and pg-boss,
// interleaved A B C A B C on one broker and one PostgreSQL server; then the broker's ceilings.
//
// Sizes: BENCH_E2E_SIZES (default 5000,50000); rounds: BENCH_ROUNDS (default 2); Kafka ceiling
// records: BENCH_KAFKA_RECORDS (default 500000); BENCH_PEERS limits the systems (comma list);
// BENCH_WARMUP (default 2000) jobs run by each system, to their end, before its clock starts.
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { sleep } from '@pipewright/testkit';
import { clients } from '../scripts/lib/clients.mjs';
import { log, meter, median, ratio, peakRssMb, stackWith, stopStack, submit } from './lib.mjs';
import { runPeer, kafkaCeilings, serverSettings, PEER_VERSIONS } from './peers.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');

export const SYSTEMS = ['pipewright', 'graphile-worker', 'pg-boss'];

export function compareConfig(env = process.env) {
  const list = (v, dflt) => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
  return {
    sizes: list(env.BENCH_E2E_SIZES, '5000,50000').map(Number),
    rounds: Number(env.BENCH_ROUNDS ?? 2),
    kafkaRecords: Number(env.BENCH_KAFKA_RECORDS ?? 500_000),
    // Jobs each system runs to their end in its fresh processes before the clock starts.
    warmup: Number(env.BENCH_WARMUP ?? 2000),
    systems: list(env.BENCH_PEERS, SYSTEMS.join(',')).filter((s) => SYSTEMS.includes(s)),
  };
}

const round3 = (v) => (v === null ? null : Math.round(v * 1000) / 1000);
export const timeoutFor = (jobs) => Math.max(120_000, jobs * 25);

/**
 * Runs the executors have finished DONE, from each one's GetStats (undefined if one cannot say).
 * GetStats rather than /metrics: a scrape collects every default metric, about 4 ms of the
 * executor's CPU here against under 1 ms for the call, and the probe is the bench's cost, not
 * the system's.
 */
async function executedDone(executors) {
  let n = 0;
  for (const client of executors) {
    try {
      n += Number((await client.getStats({}, { deadlineMs: 5000 })).runsSucceeded);
    } catch {
      return undefined;
    }
  }
  return n;
}

/**
 * Waits until `target` jobs of the stack are DONE in scheduler.jobs; resolves with the time it saw
 * that, or (stalled) with the time of the last execution when every job was executed but some
 * were not recorded DONE 15 s later. As the pg-boss bench polls its table once its handler has
 * seen every job, this polls scheduler.jobs (every 10 ms) once the executors' GetStats count every
 * run done (read every 20 to 100 ms), so the poll's scans do not load the database during the run.
 */
async function untilDone(executors, db, { target, t0, timeoutMs, failed }) {
  const check = () => {
    if (failed()) throw failed();
    if (Date.now() - t0 > timeoutMs) throw new Error(`pipewright: ${target} jobs not all DONE after ${timeoutMs} ms`);
  };
  let counted = true;
  for (;;) {
    check();
    const executed = await executedDone(executors);
    if (executed === undefined) counted = false;
    if (executed === undefined || executed >= target) break;
    await sleep(Math.min(100, Math.max(20, (Date.now() - t0) / 100)));
  }
  if (!counted) log('the executors\' GetStats cannot be read: scheduler.jobs is polled from the start');
  const executedAt = Date.now();
  for (;;) {
    check();
    const { rows: [row] } = await db.query(`SELECT count(*)::int AS done FROM scheduler.jobs WHERE status = 'DONE'`);
    if (row.done >= target) return { end: Date.now() };
    if (counted && Date.now() - executedAt > 15_000) {
      const { rows: [ex] } = await db.query(`SELECT count(*)::int AS n, extract(epoch FROM max(finished_at)) * 1000 AS last FROM executor.run_claims WHERE outcome = 'DONE'`);
      if (ex.n >= target) return { end: Math.round(Number(ex.last)), stalled: true };
    }
    await sleep(counted ? 10 : Math.min(250, Math.max(20, (Date.now() - t0) / 100)));
  }
}

/**
 * pipewright end to end: ScheduleJobs calls of 500 due now; done when scheduler.jobs has them all
 * DONE. With `warmup`, that many jobs go through the same stack first, to their end, before the
 * clock starts (their own rate is returned as `warmup`). `stack` adds options for stackWith
 * (fromEnd, otlpEndpoint, env).
 */
export async function runPipewright({ jobs, timeoutMs, warmup = 0, stack: stackOptions = {} }) {
  const stack = await stackWith({ schedulers: 1, executors: 1, ...stackOptions });
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  const executors = [...stack.procs.keys()].filter((name) => name.startsWith('executor')).map((name) => clients.executor(stack.address(name)));
  const dueNow = () => ({ scheduledTime: new Date().toISOString() });
  try {
    await db.connect();
    let cold;
    if (warmup > 0) {
      const w0 = Date.now();
      await submit(stack, warmup, dueNow);
      const { end } = await untilDone(executors, db, { target: warmup, t0: w0, timeoutMs, failed: () => undefined });
      cold = { jobs: warmup, ms: end - w0, jobsPerSec: Math.round((warmup * 1000) / Math.max(1, end - w0)) };
      // Idle again: the warm-up's offsets committed and its batches settled.
      await sleep(1000);
    }
    const m = meter(jobs);
    const t0 = m.start();
    let acceptedAt;
    let failed;
    submit(stack, jobs, dueNow).then(() => (acceptedAt = Date.now()), (err) => (failed = err));
    const { end, stalled } = await untilDone(executors, db, { target: warmup + jobs, t0, timeoutMs, failed: () => failed });
    const { rows: [{ last: lastFinished, done }] } = await db.query(
      `SELECT extract(epoch FROM max(c.finished_at)) * 1000 AS last, (SELECT count(*)::int FROM scheduler.jobs WHERE status = 'DONE') - $1 AS done
         FROM executor.run_claims c WHERE c.outcome = 'DONE'`, [warmup]);
    const figures = m.stop(end);
    const peak = {};
    for (const [name, p] of stack.procs) peak[name] = peakRssMb(p.child.pid);
    return {
      system: 'pipewright',
      jobs,
      ...figures,
      enqueuedAfterMs: acceptedAt ? acceptedAt - t0 : null,
      lastExecutedAfterMs: Math.round(Number(lastFinished) - t0),
      recordedDone: done,
      ...(cold ? { warmup: cold } : {}),
      ...(stalled ? { stalled: `${jobs - done} of ${jobs} executed but not recorded DONE 15 s after the last change; timed to the last execution` } : {}),
      peakRssMb: peak,
    };
  } finally {
    await db.end().catch(() => undefined);
    for (const client of executors) client.close();
    await stopStack(stack);
  }
}

const runners = {
  pipewright: (opts) => runPipewright(opts),
  'graphile-worker': (opts) => runPeer('graphile-worker', opts),
  'pg-boss': (opts) => runPeer('pg-boss', opts),
};

const maxRss = (r) => Math.max(...Object.values(r.peakRssMb ?? {}).filter(Number.isFinite));

/** Runs the comparison; returns the section for latest.json. */
export async function compare({ serverUrl, brokers, commit, config = compareConfig() }) {
  const loadStart = loadavg().map((l) => l.toFixed(2));
  const date = new Date().toISOString();
  const settings = await serverSettings(serverUrl);
  log(`comparison: ${JSON.stringify(config)}; PostgreSQL ${JSON.stringify(settings)}; load average ${loadStart.join(' ')}`);
  const runs = [];
  for (const jobs of config.sizes) {
    for (let round = 1; round <= config.rounds; round++) {
      for (const system of config.systems) {
        const la = loadavg()[0].toFixed(2);
        try {
          const r = await runners[system]({ jobs, serverUrl, warmup: config.warmup, timeoutMs: timeoutFor(jobs) });
          runs.push({ round, loadAvg1m: la, ...r });
          log(`${system} ${jobs} jobs, round ${round}: ${r.jobsPerSec} jobs/s, ${r.ms} ms, CPU/job ${r.cpuMsPerJob.machine} ms (machine) ${r.cpuMsPerJob.benchTree} ms (bench's processes), peak RSS ${JSON.stringify(r.peakRssMb)} MB`);
        } catch (err) {
          runs.push({ round, loadAvg1m: la, system, jobs, error: err.message.split('\n')[0] });
          log(`${system} ${jobs} jobs, round ${round}: could not run: ${err.message.split('\n')[0]}`);
        }
      }
    }
  }
  const kafka = await kafkaCeilings({ brokers, records: config.kafkaRecords });

  const summary = {};
  const ratios = {};
  for (const jobs of config.sizes) {
    summary[jobs] = {};
    for (const system of config.systems) {
      const ok = runs.filter((r) => r.system === system && r.jobs === jobs && !r.error);
      summary[jobs][system] = ok.length
        ? {
            runs: ok.length,
            jobsPerSec: ok.map((r) => r.jobsPerSec),
            medianJobsPerSec: Math.round(median(ok.map((r) => r.jobsPerSec))),
            medianCpuMsPerJob: { machine: round3(median(ok.map((r) => r.cpuMsPerJob.machine))), benchTree: round3(median(ok.map((r) => r.cpuMsPerJob.benchTree))) },
            peakRssMb: Math.max(...ok.map(maxRss)),
          }
        : { runs: 0 };
    }
    const pw = summary[jobs].pipewright;
    ratios[jobs] = {
      pipewrightVsPgBoss: ratio(pw?.medianJobsPerSec, summary[jobs]['pg-boss']?.medianJobsPerSec),
      pipewrightVsGraphileWorker: ratio(pw?.medianJobsPerSec, summary[jobs]['graphile-worker']?.medianJobsPerSec),
      cpuPerJobPipewrightVsPgBoss: ratio(pw?.medianCpuMsPerJob?.benchTree, summary[jobs]['pg-boss']?.medianCpuMsPerJob?.benchTree),
      cpuPerJobPipewrightVsGraphileWorker: ratio(pw?.medianCpuMsPerJob?.benchTree, summary[jobs]['graphile-worker']?.medianCpuMsPerJob?.benchTree),
    };
    log(`${jobs} jobs: ${JSON.stringify(ratios[jobs])}`);
  }
  return {
    date,
    commit,
    loadStart,
    loadEnd: loadavg().map((l) => l.toFixed(2)),
    postgresSettings: settings,
    config,
    versions: PEER_VERSIONS,
    runs,
    summary,
    ratios,
    kafka,
  };
}
