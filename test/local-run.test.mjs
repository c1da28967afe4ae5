// The local run (scripts/dev.mjs, what npm start runs) as a supervisor: replicas, a durable
// PostgreSQL, a service, PostgreSQL and Kafka each killed with SIGKILL and back, and Ctrl-C /
// SIGTERM stopping everything in order. It starts its own Kafka and PostgreSQL on free ports.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from '../scripts/lib/system.mjs';
import { makeWorkDir } from '../scripts/lib/proc.mjs';
import { healthCheck } from '../scripts/lib/clients.mjs';

const pg = createRequire(import.meta.url)('pg');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function eventually(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = /** @type {Error} */ (err).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last: ${last})` : ''}`);
    await sleep(250);
  }
}

/** Processes whose environment holds name=value (the launcher's children inherit its own). */
function processesWith(name, value) {
  const want = `${name}=${value}`;
  const pids = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(want)) pids.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** The process listening on port, from /proc/net/tcp(6) and the processes' sockets. */
function pidListening(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    // (Java listens on an IPv6 socket that also takes IPv4.)
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]);
    }
  }
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      for (const fd of readdirSync(`/proc/${e}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${e}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(e);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function query(url, sql) {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/** Starts the launcher with its own Kafka and PostgreSQL; `output()` is all it printed so far. */
function launch(args, extraEnv = {}) {
  const home = makeWorkDir('pw-local-run-', process.env.PIPEWRIGHT_TEST_WORKDIR);
  const env = { ...process.env, PIPEWRIGHT_HOME: home, ...extraEnv };
  for (const k of ['KAFKA_BROKERS', 'DATABASE_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT']) if (!(k in extraEnv)) delete env[k];
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'dev.mjs'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, home, exit, output: () => out };
}

describe('npm start supervises what it runs', { timeout: 600_000 }, () => {
  let run;
  const table = new Map(); // instance name -> gRPC port
  let brokers;
  let databaseUrl;

  before(async () => {
    run = launch(['--free-ports', '--replicas', 'scheduler=3,executor=2']);
    await eventually('the launcher reports every service SERVING', () => {
      if (run.child.exitCode !== null) throw new Error(`the launcher exited:\n${run.output()}`);
      return /Ctrl-C stops everything/.test(run.output());
    }, 300_000);
    for (const m of run.output().matchAll(/^ {2}([a-z0-9-]+) +127\.0\.0\.1:(\d+) +http:/gm)) table.set(m[1], Number(m[2]));
    brokers = /^ {2}Kafka +(\S+)/m.exec(run.output())?.[1];
    databaseUrl = /^ {2}PostgreSQL +(\S+)/m.exec(run.output())?.[1];
  });

  after(async () => {
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      await Promise.race([run.exit, sleep(60_000)]);
    }
    for (const pid of run ? processesWith('PIPEWRIGHT_HOME', run.home) : []) process.kill(pid, 'SIGKILL');
    if (run) rmSync(run.home, { recursive: true, force: true });
  });

  test('--replicas runs scheduler, scheduler-2, scheduler-3, executor and executor-2, each on its own port and SERVING', async () => {
    for (const name of ['scheduler', 'scheduler-2', 'scheduler-3', 'executor', 'executor-2', 'ingest-gateway', 'monitor']) {
      assert.ok(table.has(name), `${name} in the table:\n${run.output()}`);
      assert.equal(await healthCheck(`127.0.0.1:${table.get(name)}`), 'SERVING', name);
    }
    assert.equal(new Set(table.values()).size, table.size, 'no two instances share a port');
    const listed = JSON.parse(readFileSync(join(run.home, 'processes.json'), 'utf8'));
    assert.deepEqual(listed.filter((p) => p.service === 'scheduler').map((p) => p.name), ['scheduler', 'scheduler-2', 'scheduler-3']);
  });

  test('it prints the HTTP/JSON door, which answers GET /v1/jobs and serves /openapi.json', async () => {
    const url = /^ {2}HTTP\/JSON +(http:\/\/127\.0\.0\.1:\d+)\/v1\/jobs /m.exec(run.output())?.[1];
    assert.ok(url, `the door's address is printed:\n${run.output()}`);
    const jobs = await fetch(`${url}/v1/jobs?page_size=1`);
    assert.equal(jobs.status, 200);
    assert.ok(Array.isArray(/** @type {{ jobs: unknown }} */ (await jobs.json()).jobs));
    assert.equal((await fetch(`${url}/openapi.json`)).status, 200);
  });

  test('its PostgreSQL is durable: fsync on', async () => {
    assert.deepEqual(await query(databaseUrl, 'SHOW fsync'), [{ fsync: 'on' }]);
  });

  test('a service killed with SIGKILL is started again after 1 s, shown, and SERVING again', async () => {
    const port = table.get('executor-2');
    const pid = pidListening(port);
    assert.ok(pid, 'executor-2 listens');
    process.kill(pid, 'SIGKILL');
    await eventually('executor-2 SERVING again in a new process', async () => {
      const now = pidListening(port);
      return now && now !== pid && (await healthCheck(`127.0.0.1:${port}`)) === 'SERVING';
    }, 90_000);
    assert.match(run.output(), /executor-2 exited \(signal SIGKILL\); restart 1 in 1 s/);
    await eventually('the launcher reports it back', () => /executor-2 is back \(restart 1\)/.test(run.output()), 5000);
    assert.equal(run.child.exitCode, null, 'the launcher keeps running');
    assert.equal(await healthCheck(`127.0.0.1:${table.get('executor')}`), 'SERVING', 'the others were left alone');
  });

  test('PostgreSQL killed with SIGKILL is started again, with its data, and the services are SERVING again', async () => {
    await query(databaseUrl, 'CREATE TABLE survives_restart (v int); INSERT INTO survives_restart VALUES (42)');
    const port = Number(new URL(databaseUrl).port);
    const pid = pidListening(port);
    assert.ok(pid, 'PostgreSQL listens');
    process.kill(pid, 'SIGKILL');
    await eventually('PostgreSQL answers again', async () => (await query(databaseUrl, 'SELECT v FROM survives_restart'))[0]?.v === 42, 90_000);
    assert.match(run.output(), /PostgreSQL exited \(signal SIGKILL\); restart 1 in 1 s/);
    for (const name of ['scheduler', 'scheduler-3', 'executor']) {
      await eventually(`${name} SERVING`, async () => (await healthCheck(`127.0.0.1:${table.get(name)}`)) === 'SERVING', 90_000);
    }
  });

  test('Kafka killed with SIGKILL is started again on its port, and the services are SERVING again', async () => {
    const port = Number(brokers.split(':')[1]);
    const pid = pidListening(port);
    assert.ok(pid, 'Kafka listens');
    process.kill(pid, 'SIGKILL');
    await eventually('Kafka listens again', () => {
      const now = pidListening(port);
      return now && now !== pid;
    }, 120_000);
    assert.match(run.output(), /Kafka exited \(signal SIGKILL\); restart 1 in 1 s/);
    for (const name of ['ingest-gateway', 'scheduler-2', 'executor-2']) {
      await eventually(`${name} SERVING`, async () => (await healthCheck(`127.0.0.1:${table.get(name)}`)) === 'SERVING', 120_000);
    }
  });

  test('SIGTERM stops the services, then Kafka and PostgreSQL, and every process ends', async () => {
    const pids = processesWith('PIPEWRIGHT_HOME', run.home);
    assert.ok(pids.length >= 13, `the launcher's processes: ${pids}`); // the launcher, 10 services, Kafka, PostgreSQL (and its workers)
    run.child.kill('SIGTERM');
    const { code } = await Promise.race([run.exit, sleep(90_000).then(() => ({ code: 'still running after 90 s' }))]);
    assert.equal(code, 0, run.output());
    const out = run.output();
    const services = out.indexOf('stopping services');
    const infra = out.indexOf('stopping Kafka and PostgreSQL');
    assert.ok(services > 0 && infra > services, out);
    await eventually('every process has ended', () => pids.every((p) => !alive(p)), 10_000);
  });
});

test('a missing prerequisite is one line that says what to do, with no stack trace', { timeout: 60_000 }, async () => {
  // No java on PATH (and an existing PostgreSQL named, so that only Kafka is started).
  const emptyBin = makeWorkDir('pw-no-java-');
  const run = launch([], { PATH: emptyBin, DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:9/none' });
  try {
    const { code } = await run.exit;
    assert.equal(code, 1);
    const lines = run.output().trim().split('\n');
    assert.match(lines.at(-1) ?? '', /^\[pipewright\] cannot start: java is required to run the Kafka broker .*install it/);
    assert.doesNotMatch(run.output(), /^\s+at /m);
  } finally {
    rmSync(emptyBin, { recursive: true, force: true });
    rmSync(run.home, { recursive: true, force: true });
  }
});
