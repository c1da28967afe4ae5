// Small process helpers shared by the local launcher and the tests.
import net from 'node:net';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitForPort(port, { host = '127.0.0.1', timeoutMs = 30_000, isDead = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = isDead();
    if (dead) throw new Error(dead);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`nothing answered on ${host}:${port} within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL after graceMs. Resolves with the exit code. */
export function stopChild(child, graceMs = 10_000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    child.kill('SIGTERM');
  });
}

/** A new temporary directory others can traverse: PostgreSQL runs as its own user when started by root. */
export function makeWorkDir(prefix, parent = tmpdir()) {
  const dir = mkdtempSync(join(parent, prefix));
  chmodSync(dir, 0o755);
  return dir;
}
