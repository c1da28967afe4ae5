// (f) The throughput targets of the job path, each measured on the bench's broker and database
// with a stack of its own, each ending in one line per target: the figure, the target, met or not.
//
//   ingest      N job requests produced straight to scheduler.jobs.ingest before any scheduler
//               runs, then one scheduler started: time until all N are in scheduler.jobs;
//               target at least 20,000 jobs/s.
//   sameSecond  N jobs due at the same instant, stored before it, 1 scheduler and 1 executor:
//               due -> all fired and all executed, lateness, none lost, none twice; target all
//               fired within 10 s, none lost, none twice.
//   steady      1,000 jobs due per second for 20 s, each at its own millisecond, 1 scheduler and
//               1 executor: fire lateness; target p99 at most 25 ms.
//   single      single jobs at a low rate (ScheduleJob, due now, one every 200 ms): add -> start;
//               target p50 at most 5 ms, p99 at most 20 ms; graphile-worker and pg-boss the same way.
//   tracing     (e)'s end-to-end run of 5,000 due-now jobs, tracing off / on (exporting to a local
//               OTLP receiver) interleaved; target a cost of at most 10% of jobs/s.
//
// Sizes: BENCH_TARGET_INGEST_JOBS (50000), BENCH_DUE_SAME_SECOND (100000), BENCH_STEADY_PER_SEC
// (1000), BENCH_STEADY_SECONDS (20), BENCH_SINGLE_JOBS (50), BENCH_SINGLE_EVERY_MS (200),
// BENCH_SINGLE_PEERS (graphile-worker,pg-boss), BENCH_TRACING_JOBS (5000), BENCH_TRACING_ROUNDS (2);
// BENCH_TARGETS limits the scenarios (comma list of the names above).
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sleep } from '@pipewright/testkit';
import { clients } from '../scripts/lib/clients.mjs';
import { startOtlpReceiver } from '../scripts/lib/otlp-receiver.mjs';
import { log, summary, rate, median, meter, peakRssMb, stackWith, stopStack, submit, groupsToEnd } from './lib.mjs';
import { runPipewright, timeoutFor } from './compare.mjs';
import { kafkaHop, runPeerSingles, serverSettings } from './peers.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');
const { Partitioners } = require('kafkajs');
const { ingestV1 } = require('@pipewright/proto');

const DAY = 24 * 3600_000;
const INGEST_TOPIC = 'scheduler.jobs.ingest';
const PRODUCE_BATCH = 1000;

export const TARGET_SCENARIOS = ['ingest', 'sameSecond', 'steady', 'single', 'tracing'];

export function targetsConfig(env = process.env) {
  const num = (name, dflt) => Number(env[name] ?? dflt);
  const list = (v, dflt) => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
  return {
    scenarios: list(env.BENCH_TARGETS, TARGET_SCENARIOS.join(',')).filter((s) => TARGET_SCENARIOS.includes(s)),
    ingestJobs: num('BENCH_TARGET_INGEST_JOBS', 50_000),
    sameSecondJobs: num('BENCH_DUE_SAME_SECOND', 100_000),
    steadyPerSec: num('BENCH_STEADY_PER_SEC', 1000),
    steadySeconds: num('BENCH_STEADY_SECONDS', 20),
    singleJobs: num('BENCH_SINGLE_JOBS', 50),
    singleEveryMs: num('BENCH_SINGLE_EVERY_MS', 200),
    singleWarmup: 5,
    singlePeers: list(env.BENCH_SINGLE_PEERS, 'graphile-worker,pg-boss'),
    tracingJobs: num('BENCH_TRACING_JOBS', 5000),
    tracingRounds: num('BENCH_TRACING_ROUNDS', 2),
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A connection to the stack's database for polling (one connection, not one per poll). */
async function connect(stack) {
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  return db;
}

/** Polls `sql` (one row, column n) every intervalMs until n >= want; never throws on timeout. */
async function waitCount(db, sql, params, want, { intervalMs = 50, timeoutMs = 300_000 } = {}) {
  const t0 = Date.now();
  for (;;) {
    const { rows: [row] } = await db.query(sql, params);
    const now = Date.now();
    if (row.n >= want) return { at: now, count: row.n, reached: true };
    if (now - t0 > timeoutMs) return { at: now, count: row.n, reached: false };
    await sleep(intervalMs);
  }
}

/**
 * Waits until the scheduler's ingest consumer has processed (stored, or found duplicate) `want`
 * requests, from its GetStats (read every 10 ms), then until `sql` counts them in the database
 * (polled every `intervalMs`). A count over tens of thousands of freshly inserted rows costs the
 * database a few ms of CPU each time, which polled every 25 ms during the run would be taken from
 * the scheduler's own inserts; the call costs the scheduler well under a millisecond.
 */
async function waitStored(stack, db, sql, params, want, { intervalMs = 25, timeoutMs = 300_000 } = {}) {
  const t0 = Date.now();
  const client = clients.scheduler(stack.address('scheduler'));
  try {
    for (;;) {
      const stats = await client.getStats({}, { deadlineMs: 5000 }).catch(() => undefined);
      if (!stats || Number(stats.messagesProcessed) >= want || Date.now() - t0 > timeoutMs) break;
      await sleep(10);
    }
  } finally {
    client.close();
  }
  return waitCount(db, sql, params, want, { intervalMs, timeoutMs: Math.max(0, timeoutMs - (Date.now() - t0)) });
}

/** Jobs whose scheduled time is in [$1, $2): one index range (jobs_list_idx). */
const STORED_IN = 'SELECT count(*)::int AS n FROM scheduler.jobs WHERE scheduled_time >= $1 AND scheduled_time < $2';
/** Run rows whose due time is in [$1, $2). */
const FIRED_IN = 'SELECT count(*)::int AS n FROM scheduler.runs WHERE due_at >= $1 AND due_at < $2';
/** Executions finished DONE in the stack's database (its groups started at the end of the topics). */
const EXECUTED = `SELECT count(*)::int AS n FROM executor.run_claims WHERE outcome = 'DONE'`;

const ms = (v) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);
const at = (t) => new Date(t);

/** How far ahead to schedule `n` jobs so that all are stored before they are due (as run.mjs's (b)). */
const leadFor = (n, storedPerSec) => Math.max(10_000, Math.ceil((n / storedPerSec) * 1300) + 5000);

/**
 * The store rate through the gateway on this stack: `count` jobs due in two days through
 * ScheduleJobs, from the first call until all are in scheduler.jobs.
 */
async function storeRate(stack, db, count) {
  const far = Date.now() + 2 * DAY;
  const t0 = Date.now();
  await submit(stack, count, (i) => ({ scheduledTime: new Date(far + i).toISOString() }));
  const r = await waitCount(db, STORED_IN, [at(far), at(far + count)], count, { intervalMs: 25, timeoutMs: 120_000 });
  if (!r.reached) throw new Error(`warm-up: ${r.count} of ${count} jobs stored within 120 s`);
  return rate(count, r.at - t0);
}

/** Wall-clock time in ms with sub-millisecond resolution (Date.now()'s epoch, anchored once). */
function realClock() {
  const start = Date.now();
  let now;
  while ((now = Date.now()) === start); // the start of a millisecond: the anchor is exact to a few µs
  const offset = now - performance.now();
  return () => offset + performance.now();
}

function peaks(stack) {
  const out = {};
  for (const [name, p] of stack.procs) out[name] = peakRssMb(p.child.pid);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** Ingest to stored with one scheduler, from a topic filled before it starts. */
async function ingestFromTopic(cfg) {
  const n = cfg.ingestJobs;
  const stack = await stackWith({ schedulers: 0 });
  const db = await connect(stack);
  try {
    // The scheduler that starts below must read only these N: its group goes to the end first.
    await groupsToEnd(stack.kafka);
    const far = Date.now() + DAY;
    const ids = Array.from({ length: n }, () => randomUUID());
    const producer = stack.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    const p0 = Date.now();
    try {
      for (let from = 0; from < n; from += PRODUCE_BATCH) {
        const messages = [];
        for (let i = from; i < Math.min(n, from + PRODUCE_BATCH); i++) {
          // As the gateway writes a job request (jobRequestToWire): unset fields left out.
          const value = JSON.stringify({ requestId: ids[i], appName: 'noop', scheduledTime: new Date(far + i).toISOString(), priority: 'normal', jobData: { n: i } });
          messages.push({ key: ids[i], value });
        }
        await producer.send({ topic: INGEST_TOPIC, acks: -1, messages });
      }
    } finally {
      await producer.disconnect();
    }
    const producedMs = Date.now() - p0;
    log(`targets ingest: ${n} job requests produced in ${producedMs} ms; starting one scheduler`);

    const m = meter(n);
    const t0 = m.start();
    await stack.start('scheduler');
    const servingMs = Date.now() - t0;
    const r = await waitStored(stack, db, STORED_IN, [at(far), at(far + n)], n, { intervalMs: 10, timeoutMs: Math.max(120_000, n * 5) });
    const figures = m.stop(r.at);
    const { rows: [row] } = await db.query(
      `SELECT count(*)::int AS n, extract(epoch FROM min(created_at)) * 1000 AS first, extract(epoch FROM max(created_at)) * 1000 AS last
         FROM scheduler.jobs WHERE request_id = ANY($1)`, [ids]);
    const first = Number(row.first);
    const firstToAllMs = r.at - first;
    const result = {
      jobs: n,
      producedMs,
      storedMine: row.n,
      reached: r.reached && row.n === n,
      schedulerServingAfterMs: servingMs,
      fromStartMs: r.at - t0,
      firstStoredAfterStartMs: Math.round(first - t0),
      firstToAllStoredMs: Math.round(firstToAllMs),
      createdAtSpanMs: ms(Number(row.last) - first),
      storedPerSec: row.n === n ? rate(n, Math.max(1, firstToAllMs)) : null,
      storedPerSecFromStart: row.n === n ? rate(n, r.at - t0) : null,
      storedPerSecCreatedAtSpan: row.n === n ? rate(n, Math.max(1, Number(row.last) - first)) : null,
      cpuMsPerJob: figures.cpuMsPerJob,
      peakRssMb: peaks(stack),
    };
    log(`targets ingest: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await db.end().catch(() => undefined);
    await stopStack(stack);
  }
}

/** N jobs due at one instant, stored before it; 1 scheduler, 1 executor. */
async function sameSecond(cfg) {
  const n = cfg.sameSecondJobs;
  const stack = await stackWith({ schedulers: 1, executors: 1, fromEnd: true });
  const db = await connect(stack);
  try {
    const warm = Math.min(5000, Math.max(500, Math.round(n / 10)));
    const storedPerSec = await storeRate(stack, db, warm);
    // A whole second, far enough ahead for every job to be stored first.
    const due = Math.ceil((Date.now() + leadFor(n, storedPerSec)) / 1000) * 1000;
    log(`targets sameSecond: store rate ${storedPerSec} jobs/s (${warm} jobs); ${n} jobs due at ${new Date(due).toISOString()}`);
    const t0 = Date.now();
    const ids = await submit(stack, n, () => ({ scheduledTime: new Date(due).toISOString() }));
    const acceptedMs = Date.now() - t0;
    const stored = await waitCount(db, STORED_IN, [at(due), at(due + 1)], n, { intervalMs: 100, timeoutMs: Math.max(0, due - Date.now()) + 120_000 });
    const storedMs = stored.at - t0;
    const storedBeforeDue = stored.reached && stored.at < due;
    log(`targets sameSecond: accepted in ${acceptedMs} ms, stored in ${storedMs} ms (${storedBeforeDue ? 'before' : 'NOT before'} the due instant)`);

    const m = meter(n);
    await sleep(Math.max(0, due - Date.now()));
    m.start();
    const fired = await waitCount(db, FIRED_IN, [at(due), at(due + 1)], n, { intervalMs: 100, timeoutMs: Math.max(120_000, n * 2) });
    const executed = await waitCount(db, EXECUTED, [], n, { intervalMs: 250, timeoutMs: Math.max(180_000, n * 5) });
    const figures = m.stop(executed.at);

    // Every figure below counts only this scenario's request ids.
    const { rows: [runs] } = await db.query(
      `SELECT count(*)::int AS runs, count(DISTINCT r.job_id)::int AS jobs, extract(epoch FROM max(r.fired_at)) * 1000 AS last_fired
         FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)`, [ids]);
    const { rows: [claims] } = await db.query(
      `SELECT count(*)::int AS claims, count(DISTINCT c.job_id)::int AS jobs,
              count(*) FILTER (WHERE c.outcome = 'DONE')::int AS done,
              count(*) FILTER (WHERE c.attempts = 1)::int AS once,
              count(*) FILTER (WHERE c.attempts > 1)::int AS more,
              extract(epoch FROM max(c.finished_at)) * 1000 AS last_finished
         FROM executor.run_claims c JOIN scheduler.jobs j ON c.job_id = j.id::text WHERE j.request_id = ANY($1)`, [ids]);
    const lateness = await db.query(
      `SELECT extract(epoch FROM (r.fired_at - r.due_at)) * 1000 AS l
         FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)`, [ids]);
    const noneLost = runs.runs === n && runs.jobs === n && claims.done === n;
    const noneTwice = runs.runs === runs.jobs && claims.claims === claims.jobs && claims.claims <= n && claims.once === claims.claims;
    const result = {
      jobs: n,
      warmupJobs: warm,
      warmupStoredPerSec: storedPerSec,
      leadMs: due - t0,
      acceptedMs,
      storedMs,
      storedBeforeDue,
      allFiredAfterDueMs: fired.reached ? fired.at - due : null,
      firedWithinWait: fired.count,
      lastFiredAtAfterDueMs: ms(Number(runs.last_fired) - due),
      firedPerSec: fired.reached ? rate(n, Math.max(1, fired.at - due)) : null,
      latenessMs: summary(lateness.rows.map((r) => Number(r.l))),
      allExecutedAfterDueMs: executed.reached ? executed.at - due : null,
      lastFinishedAfterDueMs: ms(Number(claims.last_finished) - due),
      executedPerSec: executed.reached ? rate(n, Math.max(1, Number(claims.last_finished) - due)) : null,
      runs: runs.runs,
      jobsWithRuns: runs.jobs,
      claims: claims.claims,
      jobsWithClaims: claims.jobs,
      claimsDone: claims.done,
      claimsOneAttempt: claims.once,
      claimsMoreAttempts: claims.more,
      noneLost,
      noneTwice,
      cpuMsPerJob: figures.cpuMsPerJob,
      peakRssMb: peaks(stack),
    };
    log(`targets sameSecond: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await db.end().catch(() => undefined);
    await stopStack(stack);
  }
}

/** perSec jobs due per second for `seconds`, each at its own instant; 1 scheduler, 1 executor. */
async function steady(cfg) {
  const { steadyPerSec: perSec, steadySeconds: seconds } = cfg;
  const n = perSec * seconds;
  const stack = await stackWith({ schedulers: 1, executors: 1, fromEnd: true });
  const db = await connect(stack);
  try {
    const warm = Math.min(5000, Math.max(500, Math.round(n / 10)));
    const storedPerSec = await storeRate(stack, db, warm);
    const start = Math.ceil((Date.now() + leadFor(n, storedPerSec)) / 1000) * 1000;
    const end = start + seconds * 1000;
    const dueOf = (i) => start + Math.floor((i * 1000) / perSec);
    log(`targets steady: store rate ${storedPerSec} jobs/s; ${n} jobs, ${perSec} a second from ${new Date(start).toISOString()}`);
    const t0 = Date.now();
    const ids = await submit(stack, n, (i) => ({ scheduledTime: new Date(dueOf(i)).toISOString() }));
    const stored = await waitCount(db, STORED_IN, [at(start), at(end)], n, { intervalMs: 100, timeoutMs: Math.max(0, start - Date.now()) + 120_000 });
    const storedBeforeFirstDue = stored.reached && stored.at < start;
    const m = meter(n);
    await sleep(Math.max(0, start - Date.now()));
    m.start();
    await sleep(Math.max(0, end - Date.now()));
    const fired = await waitCount(db, FIRED_IN, [at(start), at(end)], n, { intervalMs: 100, timeoutMs: 120_000 });
    const executed = await waitCount(db, EXECUTED, [], n, { intervalMs: 250, timeoutMs: 120_000 });
    const figures = m.stop(Math.min(executed.at, Date.now()));
    const { rows } = await db.query(
      `SELECT extract(epoch FROM (r.fired_at - r.due_at)) * 1000 AS fired, extract(epoch FROM (c.claimed_at - r.due_at)) * 1000 AS claimed,
              extract(epoch FROM r.due_at) * 1000 AS due
         FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id LEFT JOIN executor.run_claims c ON c.run_id = r.id
        WHERE j.request_id = ANY($1)`, [ids]);
    // p99 of each second of the window: whether lateness stays flat or grows as the run goes on.
    const bySecond = new Map();
    for (const r of rows) {
      const s = Math.floor((Number(r.due) - start) / 1000);
      if (!bySecond.has(s)) bySecond.set(s, []);
      bySecond.get(s).push(Number(r.fired));
    }
    const result = {
      jobs: n,
      perSec,
      seconds,
      warmupStoredPerSec: storedPerSec,
      storedMs: stored.at - t0,
      storedBeforeFirstDue,
      fired: rows.length,
      allFiredAfterWindowMs: fired.reached ? fired.at - end : null,
      executed: executed.count,
      fireLatenessMs: summary(rows.map((r) => Number(r.fired))),
      dueToClaimedMs: summary(rows.map((r) => (r.claimed === null ? NaN : Number(r.claimed)))),
      p99BySecondMs: [...bySecond.keys()].sort((a, b) => a - b).map((s) => summary(bySecond.get(s)).p99),
      cpuMsPerJob: figures.cpuMsPerJob,
      cpuCoresBusy: figures.cpuCoresBusy,
      peakRssMb: peaks(stack),
    };
    log(`targets steady: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await db.end().catch(() => undefined);
    await stopStack(stack);
  }
}

/** Single jobs at a low rate through ScheduleJob, due now: add -> start; then the peers. */
async function single(cfg, { serverUrl }) {
  const { singleJobs: n, singleEveryMs: everyMs, singleWarmup: warmup } = cfg;
  const total = warmup + n;
  const stack = await stackWith({ schedulers: 1, executors: 1, fromEnd: true });
  const db = await connect(stack);
  let pipewright;
  try {
    const clock = realClock();
    const sent = [];
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = t0 + i * everyMs - performance.now();
      if (wait > 0) await sleep(wait);
      const requestId = randomUUID();
      const sentAt = clock();
      await stack.gateway.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ appName: 'noop', requestId }));
      sent.push({ requestId, sentAt, acceptedAt: clock() });
    }
    const ids = sent.map((s) => s.requestId);
    const done = `SELECT count(*)::int AS n FROM executor.run_claims c JOIN scheduler.jobs j ON c.job_id = j.id::text
                   WHERE j.request_id = ANY($1) AND c.outcome = 'DONE'`;
    const executed = await waitCount(db, done, [ids], total, { intervalMs: 100, timeoutMs: 60_000 });
    // The scheduler records started_at from the executor's status event: give it a moment.
    await waitCount(db, `SELECT count(*)::int AS n FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id
                          WHERE j.request_id = ANY($1) AND r.started_at IS NOT NULL`, [ids], total, { intervalMs: 100, timeoutMs: 20_000 });
    const { rows } = await db.query(
      `SELECT j.request_id, extract(epoch FROM j.created_at) * 1000 AS stored, extract(epoch FROM r.fired_at) * 1000 AS fired,
              extract(epoch FROM c.claimed_at) * 1000 AS claimed, extract(epoch FROM r.started_at) * 1000 AS started
         FROM scheduler.jobs j LEFT JOIN scheduler.runs r ON r.job_id = j.id LEFT JOIN executor.run_claims c ON c.job_id = j.id::text
        WHERE j.request_id = ANY($1)`, [ids]);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    const measured = sent.slice(warmup);
    const since = (col) => measured.map((s) => {
      const v = byId.get(s.requestId)?.[col];
      return v === null || v === undefined ? NaN : Number(v) - s.sentAt;
    });
    pipewright = {
      system: 'pipewright',
      jobs: n,
      everyMs,
      warmup,
      executed: executed.count - warmup,
      scheduleJobReturnedMs: summary(measured.map((s) => s.acceptedAt - s.sentAt)),
      addToStoredMs: summary(since('stored')),
      addToFiredMs: summary(since('fired')),
      addToClaimedMs: summary(since('claimed')),
      addToStartedMs: summary(since('started')),
      peakRssMb: peaks(stack),
    };
    log(`targets single: ${JSON.stringify(pipewright)}`);
  } finally {
    await db.end().catch(() => undefined);
    await stopStack(stack);
  }
  const peers = [];
  for (const system of cfg.singlePeers) {
    try {
      const r = await runPeerSingles(system, { serverUrl, count: n, everyMs, warmup });
      peers.push({ system, jobs: n, everyMs, warmup, addToStartMs: summary(r.addToStartMs), ...(r.warnings ? { warnings: r.warnings } : {}) });
      log(`targets single, ${system}: add->start ${JSON.stringify(summary(r.addToStartMs))}`);
    } catch (err) {
      peers.push({ system, error: err.message.split('\n')[0] });
      log(`targets single, ${system}: could not run: ${err.message.split('\n')[0]}`);
    }
  }
  // The floor under pipewright's path: add -> start crosses two Kafka hops (the gateway's produce
  // to scheduler.jobs.ingest, then the scheduler's to jobs.due), each one such hop.
  let kafkaHopResult;
  try {
    kafkaHopResult = await kafkaHop({ brokers: process.env.KAFKA_BROKERS, count: n, everyMs, warmup });
    log(`targets single, raw kafkajs hop: ${JSON.stringify(kafkaHopResult)}`);
  } catch (err) {
    kafkaHopResult = { error: err.message.split('\n')[0] };
    log(`targets single, raw kafkajs hop: could not run: ${kafkaHopResult.error}`);
  }
  return { pipewright, peers, kafkaHop: kafkaHopResult };
}

/** (e)'s pipewright run, tracing off and on (a local OTLP receiver), interleaved. */
async function tracing(cfg) {
  const jobs = cfg.tracingJobs;
  const receiver = await startOtlpReceiver();
  const runs = [];
  try {
    for (let round = 1; round <= cfg.tracingRounds; round++) {
      for (const mode of ['off', 'on']) {
        const la = loadavg()[0].toFixed(2);
        receiver.spans.length = 0;
        try {
          const r = await runPipewright({ jobs, timeoutMs: timeoutFor(jobs), stack: { fromEnd: true, ...(mode === 'on' ? { otlpEndpoint: receiver.endpoint } : {}) } });
          // The services have stopped (and flushed their exporters) when the run returns.
          const spans = receiver.spans.length;
          runs.push({ round, tracing: mode, loadAvg1m: la, jobsPerSec: r.jobsPerSec, ms: r.ms, cpuMsPerJob: r.cpuMsPerJob, spansReceived: spans, peakRssMb: r.peakRssMb, ...(r.stalled ? { stalled: r.stalled } : {}) });
          log(`targets tracing ${mode}, round ${round}: ${r.jobsPerSec} jobs/s, CPU/job ${r.cpuMsPerJob.benchTree} ms (bench's processes), ${spans} spans received`);
        } catch (err) {
          runs.push({ round, tracing: mode, loadAvg1m: la, error: err.message.split('\n')[0] });
          log(`targets tracing ${mode}, round ${round}: could not run: ${err.message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    receiver.spans.length = 0;
    await receiver.close();
  }
  const ok = (mode) => runs.filter((r) => r.tracing === mode && !r.error);
  const off = median(ok('off').map((r) => r.jobsPerSec));
  const on = median(ok('on').map((r) => r.jobsPerSec));
  const cost = off && on ? Math.round((1 - on / off) * 1000) / 10 : null;
  const round3 = (v) => (v === null ? null : Math.round(v * 1000) / 1000);
  const cpuOff = round3(median(ok('off').map((r) => r.cpuMsPerJob.benchTree)));
  const cpuOn = round3(median(ok('on').map((r) => r.cpuMsPerJob.benchTree)));
  const result = {
    jobs,
    rounds: cfg.tracingRounds,
    runs,
    medianJobsPerSec: { off, on },
    costPercent: cost,
    medianCpuMsPerJob: { off: cpuOff, on: cpuOn },
  };
  log(`targets tracing: ${JSON.stringify({ medianJobsPerSec: result.medianJobsPerSec, costPercent: cost, medianCpuMsPerJob: result.medianCpuMsPerJob })}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Verdicts

const OPS = { '>=': (a, b) => a >= b, '<=': (a, b) => a <= b };

/** One target: the figure, the target, met or not. */
function target(scenario, measure, value, op, limit, unit) {
  const ok = typeof value === 'number' && Number.isFinite(value);
  return { scenario, measure, value: ok ? value : null, unit, target: `${op} ${limit}`, met: ok && OPS[op](value, limit) };
}

/** One yes/no target: the check passed or not, with what it counted. */
function check(scenario, measure, ok, detail) {
  return { scenario, measure, value: detail, unit: '', target: 'yes', met: Boolean(ok) };
}

function verdictsOf(r, cfg) {
  const out = [];
  const failed = (scenario, measures) => measures.map((measure) => ({ scenario, measure, value: null, unit: '', target: '', met: false, error: r[scenario]?.error }));
  if (r.ingest) {
    out.push(...(r.ingest.error ? failed('ingest', ['stored jobs/s, one scheduler'])
      : [target('ingest', 'stored jobs/s, one scheduler (first stored -> all stored)', r.ingest.storedPerSec, '>=', 20_000, 'jobs/s')]));
  }
  if (r.sameSecond) {
    const s = r.sameSecond;
    out.push(...(s.error ? failed('sameSecond', ['all fired after the due instant', 'none lost', 'none twice']) : [
      target('sameSecond', `all ${s.jobs} fired after the due instant`, s.allFiredAfterDueMs, '<=', 10_000, 'ms'),
      check('sameSecond', 'none lost', s.noneLost, `${s.runs} runs for ${s.jobsWithRuns} jobs, ${s.claimsDone} executed DONE, of ${s.jobs}`),
      check('sameSecond', 'none twice', s.noneTwice, `${s.claims} claims for ${s.jobsWithClaims} jobs, ${s.claimsOneAttempt} with one attempt, ${s.claimsMoreAttempts} with more; ${s.runs} runs for ${s.jobsWithRuns} jobs`),
    ]));
  }
  if (r.steady) {
    out.push(...(r.steady.error ? failed('steady', ['fire lateness p99'])
      : [target('steady', `fire lateness p99, ${cfg.steadyPerSec} jobs due a second for ${cfg.steadySeconds} s`, r.steady.fireLatenessMs.p99, '<=', 25, 'ms')]));
  }
  if (r.single) {
    const p = r.single.pipewright;
    out.push(...(r.single.error || !p ? failed('single', ['add -> start p50', 'add -> start p99']) : [
      target('single', 'add -> start (claimed) p50', p.addToClaimedMs.p50, '<=', 5, 'ms'),
      target('single', 'add -> start (claimed) p99', p.addToClaimedMs.p99, '<=', 20, 'ms'),
    ]));
  }
  if (r.tracing) {
    out.push(...(r.tracing.error ? failed('tracing', ['throughput cost of tracing'])
      : [target('tracing', 'throughput cost of tracing on (median jobs/s)', r.tracing.costPercent, '<=', 10, '%')]));
  }
  return out;
}

export const verdictLine = (v) => (v.error
  ? `${v.scenario}: ${v.measure}: could not be measured (${v.error}): NOT met`
  : `${v.scenario}: ${v.measure}: ${v.value ?? 'n/a'}${v.unit ? ` ${v.unit}` : ''}; target ${v.target}${v.unit ? ` ${v.unit}` : ''}: ${v.met ? 'met' : 'NOT met'}`);

// ---------------------------------------------------------------------------------------------

/** Runs the target scenarios; returns the section for latest.json. */
export async function targets({ serverUrl, machine, config = targetsConfig() }) {
  const date = new Date().toISOString();
  const loadStart = loadavg().map((l) => l.toFixed(2));
  const settings = await serverSettings(serverUrl);
  log(`targets: ${JSON.stringify(config)}; PostgreSQL ${JSON.stringify(settings)}; load average ${loadStart.join(' ')}`);
  const scenarios = { ingest: ingestFromTopic, sameSecond, steady, single, tracing };
  const out = { date, commit: machine.commit, machine, loadStart, postgresSettings: settings, config };
  for (const name of config.scenarios) {
    const la = loadavg().map((l) => l.toFixed(2));
    const t0 = Date.now();
    try {
      out[name] = { loadAvg: la, ...(await scenarios[name](config, { serverUrl })) };
    } catch (err) {
      out[name] = { loadAvg: la, error: err.message.split('\n')[0] };
      log(`targets ${name}: could not run: ${err.stack ?? err.message}`);
    }
    out[name].tookMs = Date.now() - t0;
    out[name].loadAvgEnd = loadavg().map((l) => l.toFixed(2));
    for (const v of verdictsOf({ [name]: out[name] }, config)) log(`target ${verdictLine(v)}`);
  }
  out.loadEnd = loadavg().map((l) => l.toFixed(2));
  out.verdicts = verdictsOf(out, config);
  return out;
}
