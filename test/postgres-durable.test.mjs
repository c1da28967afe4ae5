// The PostgreSQL that the start code runs is durable (fsync on) unless its caller asks for
// speed: tests and benchmarks share startInfrastructure, which keeps fsync off and says so.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startPostgres } from '../scripts/lib/postgres.mjs';
import { makeWorkDir } from '../scripts/lib/proc.mjs';

const pg = createRequire(import.meta.url)('pg');
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function settings(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')");
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await c.end();
  }
}

test('startPostgres is durable by default: fsync, synchronous_commit and full_page_writes on', { timeout: 120_000 }, async () => {
  const dir = makeWorkDir('pw-durable-');
  dirs.push(dir);
  const server = await startPostgres({ dataDir: join(dir, 'postgres') });
  try {
    assert.deepEqual(await settings(server.url), { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' });
    assert.equal(server.durable, true);
  } finally {
    await server.stop();
  }
});

test('startPostgres({ durable: false }) turns fsync off, and the same data directory is durable again when started without it', { timeout: 120_000 }, async () => {
  const dir = makeWorkDir('pw-durable-');
  dirs.push(dir);
  let server = await startPostgres({ dataDir: join(dir, 'postgres'), durable: false });
  try {
    assert.equal((await settings(server.url)).fsync, 'off');
    assert.equal(server.durable, false);
  } finally {
    await server.stop();
  }
  server = await startPostgres({ dataDir: join(dir, 'postgres') });
  try {
    assert.equal((await settings(server.url)).fsync, 'on');
  } finally {
    await server.stop();
  }
});

test('startInfrastructure (tests, benchmarks) keeps fsync off and says so in its log', { timeout: 120_000 }, async () => {
  const saved = { KAFKA_BROKERS: process.env.KAFKA_BROKERS, DATABASE_URL: process.env.DATABASE_URL };
  // Only PostgreSQL is started here: a broker address that is never used stands in for Kafka.
  process.env.KAFKA_BROKERS = '127.0.0.1:9';
  delete process.env.DATABASE_URL;
  const { startInfrastructure } = await import('../scripts/lib/system.mjs');
  const dir = makeWorkDir('pw-durable-');
  dirs.push(dir);
  const lines = [];
  const infra = await startInfrastructure({ workDir: dir, log: (m) => lines.push(m) });
  try {
    assert.equal((await settings(infra.databaseUrl)).fsync, 'off');
    assert.match(lines.join('\n'), /PostgreSQL.*fsync off/);
  } finally {
    await infra.stop();
    Object.assign(process.env, saved);
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  }
});
