// Small process helpers shared by the local launcher and the tests.
import net from 'node:net';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Ports handed out here come from below the kernel's ephemeral range, so that an outgoing
// connection (which takes a port from that range) cannot take one between the moment it is
// chosen and the moment its process listens on it. Each is checked free and never handed out
// twice by this process.
const PORT_RANGE = ephemeralFloor();
const handedOut = new Set();

function ephemeralFloor() {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 12_000) return { low: 10_000, high: low };
  } catch {
    // not Linux: fall back to the kernel's choice below
  }
  return undefined;
}

function tryListen(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const actual = srv.address().port;
      srv.close(() => resolve(actual));
    });
  });
}

export async function freePort() {
  if (PORT_RANGE) {
    for (let i = 0; i < 200; i++) {
      const candidate = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low));
      if (handedOut.has(candidate)) continue;
      if ((await tryListen(candidate)) === candidate) {
        handedOut.add(candidate);
        return candidate;
      }
    }
  }
  const port = await tryListen(0);
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  handedOut.add(port);
  return port;
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
