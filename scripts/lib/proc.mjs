// Small process helpers shared by the local launcher and the tests.
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Something this machine lacks; its message says, in one line, what to do. Shown without a stack. */
export class PrerequisiteError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PrerequisiteError';
    this.prerequisite = true;
  }
}

export const isRoot = () => process.getuid?.() === 0;

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
      const actual = /** @type {import('node:net').AddressInfo} */ (srv.address()).port;
      srv.close(() => resolve(actual));
    });
  });
}

/** @returns {Promise<number>} */
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

/**
 * Resolves once something accepts connections on host:port; isDead says why waiting is pointless.
 * @param {number} port
 * @param {{ host?: string, timeoutMs?: number, isDead?: () => string | false | null | undefined }} [options]
 */
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

export const isRunning = (child) => child.exitCode === null && child.signalCode === null;

/** `signal` (SIGTERM), then SIGKILL after graceMs. Resolves with the exit code. */
export function stopChild(child, graceMs = 10_000, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (!isRunning(child)) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    child.kill(signal);
  });
}

/**
 * Whether the user `ids` ({ uid, gid }, with no supplementary groups: how a child is started
 * with those ids) can reach `path` (search a directory, execute a file): every directory above
 * it must let that user through. Asked of the kernel by a process running as that user.
 */
export function reachableBy(path, ids) {
  const r = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', resolve(path)], { uid: ids.uid, gid: ids.gid, stdio: 'ignore' });
  return r.status === 0;
}

/**
 * As root: a directory that root alone writes and every user can traverse, for what a service
 * user (PostgreSQL's) must reach when the checkout or the caller's directory is closed to it.
 * PIPEWRIGHT_SYSTEM_DIR (default /var/lib/pipewright), then `parts` below it; each level is
 * checked to be a real directory owned by root that nobody else can write.
 */
export function systemDir(...parts) {
  const base = resolve(process.env.PIPEWRIGHT_SYSTEM_DIR ?? '/var/lib/pipewright');
  let dir = base;
  for (const part of ['', ...parts]) {
    dir = part ? join(dir, part) : dir;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      const e = /** @type {NodeJS.ErrnoException} */ (err);
      throw new PrerequisiteError(`cannot create ${dir} (${e.code ?? e.message}), where root keeps what the postgres user must reach; set PIPEWRIGHT_SYSTEM_DIR to a directory of root's that others can traverse, or DATABASE_URL to an existing server`);
    }
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new PrerequisiteError(`${dir} must be a directory owned by root and writable by root alone (it is ${st.isSymbolicLink() ? 'a symbolic link' : `owned by uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}`}); remove it or set PIPEWRIGHT_SYSTEM_DIR elsewhere`);
    }
    if ((st.mode & 0o005) !== 0o005) chmodSync(dir, 0o755);
  }
  return dir;
}

/**
 * A new temporary directory (mode 0755) that others can traverse if its parent lets them: as
 * root, PostgreSQL runs as the postgres user (startPostgres keeps its data elsewhere when the
 * user cannot reach the directory it is given).
 */
export function makeWorkDir(prefix, parent = tmpdir()) {
  const dir = mkdtempSync(join(parent, prefix));
  chmodSync(dir, 0o755);
  return dir;
}
