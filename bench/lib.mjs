// What the benchmark's scenarios share: figures, a pipewright stack and its job helpers, and
// readings from /proc (CPU time, peak memory).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { clients } from '../scripts/lib/clients.mjs';
import { startStack, eventually, groupsToEnd as moveGroupsToEnd } from '@pipewright/testkit';

const require = createRequire(import.meta.url);
const { ingestV1 } = require('@pipewright/proto');

export const INGEST_BATCH = 500;
export const INGEST_CONCURRENCY = 4;

export const log = (m) => process.stdout.write(`[bench] ${m}\n`);

// ---------------------------------------------------------------------------------------------
// Figures

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function summary(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const round = (v) => (v === null ? null : Math.round(v * 10) / 10);
  return { n: s.length, p50: round(percentile(s, 0.5)), p99: round(percentile(s, 0.99)), max: round(s.length ? s[s.length - 1] : null) };
}

export const rate = (n, ms) => Math.round((n / ms) * 1000);

export const ratio = (a, b) => (a && b ? Math.round((a / b) * 1000) / 1000 : null);

export function median(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!s.length) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Stack and job helpers

/** The consumer groups of the job path and the topic each reads. */
export const JOB_GROUPS = [
  { groupId: 'scheduler.ingest', topic: 'scheduler.jobs.ingest' },
  { groupId: 'scheduler.status', topic: 'jobs.status' },
  { groupId: 'executor', topic: 'jobs.due' },
];

/** Moves the job path's groups (or those given) to the end of their topics: see the testkit's groupsToEnd. */
export const groupsToEnd = (kafka, groups = JOB_GROUPS) => moveGroupsToEnd(kafka, groups);

/**
 * A stack with its own database: the gateway, `schedulers` scheduler and `executors` executor
 * replicas. fromEnd: the job path's groups skip what earlier stacks left on the shared topics
 * before any scheduler or executor starts. otlpEndpoint: every service exports its traces there.
 * @param {{ schedulers: number, executors?: number, fromEnd?: boolean, otlpEndpoint?: string, env?: Record<string, string> }} options
 * @returns {Promise<any>} the stack, with `gateway`: a client of its gateway
 */
export async function stackWith({ schedulers, executors = 0, fromEnd = false, otlpEndpoint, env }) {
  const stack = await startStack({ services: ['ingest-gateway'], otlpEndpoint, env });
  try {
    if (fromEnd) await groupsToEnd(stack.kafka);
    const names = (base, n) => Array.from({ length: n }, (_, i) => (i === 0 ? base : `${base}-${i + 1}`));
    await Promise.all([
      ...names('scheduler', schedulers).map((as) => stack.start('scheduler', { as })),
      ...names('executor', executors).map((as) => stack.start('executor', { as })),
    ]);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return Object.assign(stack, { gateway: clients.gateway(stack.address('ingest-gateway')) });
}

export async function stopStack(stack) {
  stack.gateway.close();
  await stack.stop();
}

/** Submits jobs through ScheduleJobs, INGEST_CONCURRENCY calls of INGEST_BATCH at a time. */
export async function submit(stack, count, jobAt) {
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

export async function countWhere(stack, sql, ids) {
  return (await stack.query(sql, [ids]))[0].n;
}

export const STORED = 'SELECT count(*)::int AS n FROM scheduler.jobs WHERE request_id = ANY($1)';
export const FIRED = 'SELECT count(*)::int AS n FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)';

/** Milliseconds from `since` until `sql` counts `n` of the ids (polled every 50 ms). */
export async function until(stack, sql, ids, n, since, timeoutMs = 300_000) {
  await eventually(async () => (await countWhere(stack, sql, ids)) >= n, { timeoutMs, intervalMs: 50, message: `${n} rows` });
  return Date.now() - since;
}

/** Per run of the ids: due, fired, started and finished (scheduler's view) and the executor's finish. */
export async function runTimes(stack, ids) {
  const rows = await stack.query(
    `SELECT extract(epoch FROM r.due_at) * 1000 AS due, extract(epoch FROM r.fired_at) * 1000 AS fired,
            extract(epoch FROM r.started_at) * 1000 AS started, extract(epoch FROM r.finished_at) * 1000 AS finished,
            j.status
       FROM scheduler.runs r JOIN scheduler.jobs j ON j.id = r.job_id WHERE j.request_id = ANY($1)`, [ids]);
  return rows.map((r) => ({ due: Number(r.due), fired: Number(r.fired), started: r.started === null ? NaN : Number(r.started), finished: r.finished === null ? NaN : Number(r.finished), status: r.status }));
}

// ---------------------------------------------------------------------------------------------
// /proc readings (Linux). Clock ticks are USER_HZ, 100 per second on Linux.

const TICK_MS = 10;

/** Busy CPU time of the whole machine so far, in ms: every core, every process (/proc/stat). */
export function machineBusyMs() {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + steal) * TICK_MS;
  } catch {
    return NaN;
  }
}

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // after the command: state ppid ... utime(12th) stime cutime cstime
    return { pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** What a process of this bench is, from its command line. */
function kind(pid, cmd) {
  if (pid === process.pid) return 'bench';
  if (/\bkafka\.Kafka\b/.test(cmd)) return 'kafka';
  if (/bin\/postgres|postgres-server\.mjs|^postgres:/.test(cmd)) return 'postgres';
  const service = cmd.match(/services\/([a-z-]+)\/dist\/main\.js/);
  if (service) return service[1];
  if (/peer-worker\.mjs/.test(cmd)) return 'peer';
  return 'other';
}

/**
 * CPU time (ms) used so far by this process and every descendant, by kind (kafka, postgres, each
 * service, the peer process, the bench). Children that exited and were reaped count in their
 * parent's total (cutime/cstime), so a difference of two readings holds the work done between.
 */
export function treeCpuMs(root = process.pid) {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(name);
    if (s) all.set(Number(name), s);
  }
  const children = new Map();
  for (const s of all.values()) {
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(s.pid);
  }
  const byKind = {};
  const walk = (pid, inherited) => {
    const s = all.get(pid);
    if (!s) return;
    // A process inherits its parent's kind unless its command line says otherwise (postgres backends).
    let k = kind(pid, cmdline(pid));
    if (k === 'other' && inherited) k = inherited;
    byKind[k] = (byKind[k] ?? 0) + s.ticks * TICK_MS;
    for (const c of children.get(pid) ?? []) walk(c, k === 'bench' ? undefined : k);
  };
  walk(root);
  return byKind;
}

export function cpuDelta(before, after) {
  const out = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) out[k] = (after[k] ?? 0) - (before[k] ?? 0);
  return out;
}

/** Peak resident memory of a process (VmHWM), in MB, or null once it is gone. */
export function peakRssMb(pid) {
  try {
    const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)\s+kB/m)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}

/**
 * Measures one run: wall time, busy CPU of the whole machine, and CPU of this bench's process
 * tree by kind, from start() to stop(). Per job figures divide by `jobs`.
 */
export function meter(jobs) {
  let t0;
  let machine0;
  let tree0;
  return {
    start() {
      machine0 = machineBusyMs();
      tree0 = treeCpuMs();
      t0 = Date.now();
      return t0;
    },
    get t0() {
      return t0;
    },
    stop(end = Date.now()) {
      const machine = machineBusyMs() - machine0;
      const tree = cpuDelta(tree0, treeCpuMs());
      const treeTotal = Object.values(tree).reduce((a, b) => a + b, 0);
      const perJob = (msTotal) => Math.round((msTotal / jobs) * 1000) / 1000;
      const ms = end - t0;
      return {
        ms,
        jobsPerSec: rate(jobs, Math.max(1, ms)),
        cpuMsPerJob: { machine: perJob(machine), benchTree: perJob(treeTotal), byProcess: Object.fromEntries(Object.entries(tree).filter(([, v]) => v > 0).map(([k, v]) => [k, perJob(v)])) },
        cpuCoresBusy: { machine: Math.round((machine / ms) * 100) / 100, benchTree: Math.round((treeTotal / ms) * 100) / 100 },
      };
    },
  };
}
