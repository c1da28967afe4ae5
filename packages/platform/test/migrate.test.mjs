// Migrations against a real PostgreSQL (DATABASE_URL from the test runner, or started here), in
// a database of this file's own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createPool, migrate, readMigrations, createLogger } from '@pipewright/platform';
import { startInfrastructure, createDatabase } from '@pipewright/testkit';

const logger = createLogger('test', 'fatal');
/** @type {import('@pipewright/testkit').Infrastructure} */
let infra;
/** @type {import('pg').Pool} */
let pool;

before(async () => {
  infra = await startInfrastructure();
  pool = createPool(await createDatabase(infra.databaseUrl), 10, logger);
});

after(async () => {
  await pool?.end();
  await infra?.stop();
});

function migrationsDir(files) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

const schemaName = () => `t_${randomBytes(4).toString('hex')}`;

test('migrations apply in version order, each once, inside the service schema', async () => {
  const schema = schemaName();
  const dir = migrationsDir({
    '002_add_column.sql': 'ALTER TABLE things ADD COLUMN size int;',
    '001_create.sql': 'CREATE TABLE things (id int PRIMARY KEY);',
  });
  assert.deepEqual(await migrate(pool, { schema, dir, logger }), [1, 2]);
  assert.deepEqual(await migrate(pool, { schema, dir, logger }), []);
  const cols = await pool.query('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY 1', [schema, 'things']);
  assert.deepEqual(cols.rows.map((r) => r.column_name), ['id', 'size']);
});

test('replicas migrating at the same moment apply each migration exactly once', async () => {
  const schema = schemaName();
  const dir = migrationsDir({
    '001_create.sql': 'CREATE TABLE counter (n int); INSERT INTO counter VALUES (0);',
    '002_bump.sql': 'UPDATE counter SET n = n + 1;',
  });
  const results = await Promise.all(Array.from({ length: 6 }, () => migrate(pool, { schema, dir, logger })));
  assert.equal(results.flat().length, 2, `applied: ${JSON.stringify(results)}`);
  const { rows } = await pool.query(`SELECT n FROM "${schema}".counter`);
  assert.equal(rows[0].n, 1);
});

test('a failing migration is rolled back and not recorded; earlier ones stay', async () => {
  const schema = schemaName();
  const dir = migrationsDir({
    '001_ok.sql': 'CREATE TABLE a (id int);',
    '002_bad.sql': 'CREATE TABLE b (id int); SELECT no_such_function();',
  });
  await assert.rejects(migrate(pool, { schema, dir, logger }), /002_bad.sql failed/);
  const tables = await pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
  assert.deepEqual(tables.rows.map((r) => r.table_name), ['a', 'schema_migrations']);
  const versions = await pool.query(`SELECT version FROM "${schema}".schema_migrations`);
  assert.deepEqual(versions.rows.map((r) => r.version), [1]);
});

test('two migration files with the same number are refused', () => {
  const dir = migrationsDir({ '001_a.sql': 'SELECT 1;', '001_b.sql': 'SELECT 2;' });
  assert.throws(() => readMigrations(dir), /share version 1/);
});
