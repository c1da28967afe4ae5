// The chaos run's figures: the machine it ran on, one row per fault, the targets checked, and
// bench/results/chaos.md written from them.
import { loadavg } from 'node:os';
import { describeMachine, machineRows } from './machine.mjs';

export const TARGETS = { lost: 0, twice: 0, recoveryMs: 30_000 };

export const loadAverage = () => loadavg().map((v) => v.toFixed(2)).join(' / ');

/** CPU, cores, memory, runtimes and the commit (with a note when the work tree differs from it). */
export const machine = (root) => describeMachine(root);

const secs = (ms) => (ms === null || ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

export function recoveryCell(ms, waitedMs) {
  if (ms === undefined) return '—';
  if (ms === null) return `not within ${Math.round(waitedMs / 1000)} s`;
  return secs(ms);
}

/** Which targets a row misses, in words. */
export function misses(row, waitedMs) {
  const out = [];
  if (row.lost > TARGETS.lost) out.push(`${row.lost} job${row.lost === 1 ? '' : 's'} lost`);
  if (row.twice > TARGETS.twice) out.push(`${row.twice} job${row.twice === 1 ? '' : 's'} executed twice`);
  for (const [key, what] of [['servingMs', 'every service SERVING again'], ['clearedMs', 'backlog cleared']]) {
    if (row[key] === undefined) continue;
    if (row[key] === null) out.push(`${what}: not within ${Math.round(waitedMs / 1000)} s`);
    else if (row[key] > TARGETS.recoveryMs) out.push(`${what} after ${secs(row[key])} (target ${TARGETS.recoveryMs / 1000} s)`);
  }
  return out;
}

export const TABLE_HEAD = [
  '| fault | jobs submitted | accepted | refused | lost | executed twice | all SERVING again | backlog cleared |',
  '|---|---|---|---|---|---|---|---|',
];

export function tableLines(rows, waitedMs) {
  return [
    ...TABLE_HEAD,
    ...rows.map((r) => `| ${r.fault} | ${r.submitted} | ${r.accepted} | ${r.refused} | ${r.lost} | ${r.twice} | ${recoveryCell(r.servingMs, waitedMs)} | ${recoveryCell(r.clearedMs, waitedMs)} |`),
  ];
}

/** The table as a terminal shows it: columns padded. */
export function consoleTable(rows, waitedMs) {
  const cells = tableLines(rows, waitedMs)
    .filter((l) => !l.startsWith('|---'))
    .map((l) => l.slice(2, -2).split(' | '));
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function markdown(r) {
  const s = r.settings;
  return [
    '# Chaos run',
    '',
    `Run ${r.date} by \`npm run chaos\` (commit ${r.machine.commit}), ${Math.round(r.durationMs / 1000)} s in all.`,
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    ...machineRows(r.machine, { kafka: r.kafka, postgres: r.postgres }),
    `| load average (1 / 5 / 15 min) at start | ${r.loadStart} |`,
    `| load average (1 / 5 / 15 min) at end | ${r.loadEnd} |`,
    '',
    'Kafka, PostgreSQL, the five service processes and this script share these cores with whatever',
    'else the machine ran (the load average says how much).',
    '',
    '## What ran',
    '',
    `The gateway, 2 schedulers and 2 executors, each its own process, on a broker and a PostgreSQL`,
    `(${s.durable ? 'fsync on' : 'fsync off'}) of the run's own, a database of its own, 127.0.0.1 only. A steady load of`,
    `${s.rate} jobs/s through ScheduleJobs (a call every ${s.tickMs} ms, jobs due at once), kept up through every`,
    `fault; a refused call is not retried. Every ${s.slowEvery}th job is of the app \`slow\` (http: a local endpoint`,
    `holds each request ${s.slowHoldMs} ms), the others of \`record\` (kafka.publish of the job's data to a topic this`,
    'run reads). Executions counted: records on that topic, read again in full at the end, and',
    'requests the endpoint answered while the executor\'s connection was open (a request whose',
    'connection closed first, its executor killed, is an interrupted attempt, not an execution).',
    '',
    `Settings: \`KAFKA_SESSION_TIMEOUT=${s.sessionTimeout}\`, \`EXECUTOR_RUN_LEASE=${s.runLease}\`, the rest default. Each`,
    `fault comes ${s.preMs / 1000} s into its phase; a killed service is started again after ${s.restartDelayMs / 1000} s (same port), the`,
    `broker and PostgreSQL after ${s.downMs / 1000} s down (same data directory and port). The scheduler is killed`,
    `while it fires a burst of ${s.burst} extra jobs due within ${s.burstSpreadMs / 1000} s, the executor while its runs of`,
    '`slow` are in their handlers.',
    '',
    'Columns: jobs submitted during the phase (from its start to the next); accepted (ScheduleJobs',
    'answered OK); refused (it answered an error: not promised, not counted as lost); lost (accepted',
    `and never executed); executed twice (a job with more than one execution); all SERVING again`,
    `(from the fault until every service's grpc.health.v1 said SERVING, staying so ${s.stableMs / 1000} s); backlog`,
    `cleared (from the fault until no accepted job of the phase had waited more than ${s.graceMs / 1000} s beyond`,
    `its handler's own time for its execution). Targets: ${TARGETS.lost} lost, ${TARGETS.twice} twice, both times under ${TARGETS.recoveryMs / 1000} s.`,
    '',
    '## Results',
    '',
    ...tableLines(r.rows, r.settings.recoveryWaitMs),
    '',
    `Steady end-to-end time (accepted to executed, \`record\`, no fault): p50 ${r.baselineLatency.p50} ms, p99 ${r.baselineLatency.p99} ms.`,
    '',
    ...r.rows.flatMap((row) => [`- **${row.fault}**: ${row.notes.join('; ')}.`]),
    '',
    r.missed.length ? '**Targets missed:**' : '**Every target met.**',
    ...(r.missed.length ? ['', ...r.missed.map((m) => `- ${m}`)] : []),
    '',
    `Logs of the run: \`${r.workDir}\`.`,
    '',
  ].join('\n');
}
