// The local run's supervisor (scripts/lib/supervisor.mjs) with small real processes: backoff,
// restarts after unexpected exits, retries of failed starts, stopping in order, and force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Supervisor, backoffMs } from '../scripts/lib/supervisor.mjs';
import { stopChild } from '../scripts/lib/proc.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A unit running `node -e <program>`; `failStarts` first starts fail. Records what happened. */
/** @param {string} name @param {string} group @param {{ program?: string, failStarts?: number, events?: any[] }} [options] */
function unit(name, group, { program = 'setInterval(() => {}, 1000)', failStarts = 0, events = [] } = {}) {
  const u = {
    name,
    group,
    starts: 0,
    events,
    async start() {
      u.starts += 1;
      events.push(`${name} start ${u.starts}`);
      if (failStarts-- > 0) throw new Error('not ready yet');
      const child = spawn(process.execPath, ['-e', program], { stdio: 'ignore' });
      await once(child, 'spawn');
      child.on('exit', () => events.push(`${name} exit`));
      return { child, stop: () => (events.push(`${name} stop`), stopChild(child, 5000)) };
    },
  };
  return u;
}

async function until(check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${check}`);
    await sleep(20);
  }
}

test('backoff doubles from the base up to the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffMs(n)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(n, { baseMs: 100, maxMs: 300 })), [100, 200, 300, 300]);
});

test('a process killed with SIGKILL is started again, later each time it dies again in a row, and every restart is reported', async () => {
  const lines = [];
  const sup = new Supervisor({ log: (m) => lines.push(m), baseMs: 200, maxMs: 2000 });
  const u = unit('svc', 'services');
  await sup.add(u);
  try {
    const delays = [];
    for (let i = 1; i <= 3; i++) {
      const before = sup.list()[0].pid;
      const killedAt = Date.now();
      process.kill(before, 'SIGKILL');
      await until(() => sup.list()[0].pid !== before && sup.list()[0].handle.child.exitCode === null);
      delays.push(Date.now() - killedAt);
      assert.equal(sup.list()[0].restarts, i);
    }
    assert.equal(u.starts, 4);
    assert.ok(delays[0] >= 190 && delays[1] >= 390 && delays[2] >= 790, `delays ${delays}`);
    assert.deepEqual(lines.filter((l) => l.includes('exited')), [
      'svc exited (signal SIGKILL); restart 1 in 0.2 s',
      'svc exited (signal SIGKILL); restart 2 in 0.4 s',
      'svc exited (signal SIGKILL); restart 3 in 0.8 s',
    ]);
    assert.deepEqual(lines.filter((l) => l.includes('back')), ['svc is back (restart 1)', 'svc is back (restart 2)', 'svc is back (restart 3)']);
  } finally {
    await sup.stop();
  }
});

test('a process that ran longer than stableMs is restarted after the base delay again', async () => {
  const lines = [];
  const sup = new Supervisor({ log: (m) => lines.push(m), baseMs: 100, maxMs: 2000, stableMs: 300 });
  await sup.add(unit('svc', 'services'));
  try {
    for (let i = 0; i < 3; i++) {
      await sleep(400);
      const pid = sup.list()[0].pid;
      process.kill(pid, 'SIGKILL');
      await until(() => sup.list()[0].pid !== pid);
    }
    assert.deepEqual(lines.filter((l) => l.includes('exited')).map((l) => l.split('; ')[1]), ['restart 1 in 0.1 s', 'restart 2 in 0.1 s', 'restart 3 in 0.1 s']);
  } finally {
    await sup.stop();
  }
});

test('an exit with a code is reported and restarted; a restart that fails is tried again, later', async () => {
  const lines = [];
  const sup = new Supervisor({ log: (m) => lines.push(m), baseMs: 100, maxMs: 1000 });
  const u = unit('flaky', 'services', { program: 'setTimeout(() => process.exit(3), 200)' });
  await sup.add(u);
  // From now on, its next two starts fail.
  const start = u.start;
  let failing = 2;
  u.start = async (...a) => {
    if (failing-- > 0) {
      u.starts += 1;
      throw new Error('port in use');
    }
    return start(...a);
  };
  try {
    await until(() => lines.some((l) => l.startsWith('flaky is back')), 10_000);
    assert.deepEqual(lines.slice(0, 4), [
      'flaky exited (code 3); restart 1 in 0.1 s',
      'flaky did not come back (port in use); restart 2 in 0.2 s',
      'flaky did not come back (port in use); restart 3 in 0.4 s',
      'flaky is back (restart 3)',
    ]);
  } finally {
    await sup.stop();
  }
});

test('stop ends the last group first, each group together, and nothing is restarted meanwhile', async () => {
  const events = [];
  const groups = [];
  const sup = new Supervisor({ baseMs: 50 });
  await sup.add(unit('kafka', 'infrastructure', { events }));
  await sup.add(unit('postgres', 'infrastructure', { events }));
  await sup.add(unit('a', 'services', { events }));
  await sup.add(unit('b', 'services', { events }));
  await sup.stop({ onGroup: (g) => groups.push(g) });
  assert.deepEqual(groups, ['services', 'infrastructure']);
  const at = (e) => events.indexOf(e);
  for (const svc of ['a', 'b']) for (const infra of ['kafka', 'postgres']) assert.ok(at(`${svc} exit`) < at(`${infra} stop`), events.join(', '));
  await sleep(200);
  assert.equal(events.filter((e) => e.includes('start')).length, 4, 'no restart after stop');
  assert.ok(sup.list().every((u) => u.handle.child.exitCode !== null || u.handle.child.signalCode !== null));
});

test('force ends at once a process that ignores SIGTERM, while stop is waiting for it', async () => {
  const sup = new Supervisor();
  await sup.add(unit('stubborn', 'services', { program: "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)" }));
  const { child } = sup.list()[0].handle;
  await sleep(200); // its SIGTERM handler is in place
  const stopping = sup.stop();
  await sleep(300);
  assert.equal(child.exitCode, null, 'SIGTERM alone does not end it');
  const t = Date.now();
  sup.force();
  await once(child, 'exit').catch(() => undefined);
  assert.equal(child.signalCode, 'SIGKILL');
  assert.ok(Date.now() - t < 2000);
  await stopping;
});
