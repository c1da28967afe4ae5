// What a benchmark or chaos run records about the machine it ran on: CPU, cores, memory,
// runtimes, and the commit (saying so when the work tree differs from it, results aside).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';

/** The first line a command prints (on stdout, or stderr as java -version does). */
export function firstLine(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}

function cpuModel() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1];
    if (m) return m;
  } catch {
    // no /proc on this system
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** The machine and the commit of the checkout at `root`. */
export function describeMachine(root) {
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results'], { cwd: root, encoding: 'utf8' });
  const dirty = status.status === 0 && status.stdout.trim() !== '';
  return {
    host: hostname(),
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    java: firstLine('java', ['-version']),
    commit: `${firstLine('git', ['rev-parse', '--short', 'HEAD'], root)}${dirty ? ' with uncommitted changes' : ''}`,
  };
}

/** The machine as rows of a markdown table (| what | value |), with the Kafka and PostgreSQL a run used. */
export function machineRows(machine, { kafka, postgres }) {
  return [
    `| CPU | ${machine.cpuModel}, ${machine.cores} cores |`,
    `| memory | ${machine.memoryGiB} GiB |`,
    `| Node.js | ${machine.node} |`,
    `| Java | ${machine.java} |`,
    `| Kafka | ${kafka} |`,
    `| PostgreSQL | ${postgres} |`,
  ];
}
