// The hot path's statements are prepared once per connection (DATABASE_PREPARED_STATEMENTS, on by
// default); turned off, nothing is prepared, for a pooler that cannot keep prepared statements.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPool, createLogger, statement } from '@pipewright/platform';
import { startInfrastructure } from '@pipewright/testkit';

const logger = createLogger('test', 'fatal');
let infra;

before(async () => {
  infra = await startInfrastructure();
});
after(async () => infra?.stop());

/** Runs a statement twice on one connection; returns what that connection has prepared. */
async function runTwice(preparedStatements) {
  const pool = createPool(infra.databaseUrl, 1, logger, undefined, preparedStatements);
  try {
    const sums = [];
    for (const n of [2, 40]) {
      const { rows } = await pool.query(statement('test.sum', 'SELECT sum(v)::int AS s FROM unnest($1::int[]) AS t(v)', [Array.from({ length: n }, (_, i) => i + 1)]));
      sums.push(rows[0].s);
    }
    const { rows } = await pool.query('SELECT name FROM pg_prepared_statements ORDER BY name');
    return { sums, prepared: rows.map((r) => r.name) };
  } finally {
    await pool.end();
  }
}

test('a statement is prepared once on its connection and answers each call with its own values', async () => {
  const { sums, prepared } = await runTwice(true);
  assert.deepEqual(sums, [3, 820]);
  assert.deepEqual(prepared, ['test.sum']);
});

test('with prepared statements off the same statement runs unprepared', async () => {
  const { sums, prepared } = await runTwice(false);
  assert.deepEqual(sums, [3, 820]);
  assert.deepEqual(prepared, []);
});
