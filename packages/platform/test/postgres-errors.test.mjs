// A PostgreSQL connection lost while a transaction holds it fails that transaction, not the
// process: the pool's clients are never left without an 'error' listener.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createPool, createLogger, withTransaction } from '@pipewright/platform';
import { startInfrastructure } from '@pipewright/testkit';

const require = createRequire(import.meta.url);
const pg = require('pg');
const logger = createLogger('test', 'fatal');
let infra;

before(async () => {
  infra = await startInfrastructure();
});
after(async () => infra?.stop());

test('a connection terminated during a transaction rejects it, and the pool goes on with a new connection', async () => {
  const pool = createPool(infra.databaseUrl, 2, logger);
  const admin = new pg.Client({ connectionString: infra.databaseUrl });
  await admin.connect();
  try {
    await assert.rejects(
      withTransaction(pool, async (client) => {
        const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        // The server has closed the connection: the client emits 'error' before this query fails.
        await new Promise((r) => setTimeout(r, 300));
        await client.query('SELECT 1');
      }),
      /terminat|Connection|ECONNRESET/i,
    );
    const { rows } = await pool.query('SELECT 1 AS one');
    assert.equal(rows[0].one, 1, 'the pool answers on a fresh connection');
  } finally {
    await admin.end();
    await pool.end();
  }
});
