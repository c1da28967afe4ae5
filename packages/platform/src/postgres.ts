import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { setting } from './config';
import type { Logger } from './logger';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export const postgresSettings = {
  DATABASE_URL: setting.url('PostgreSQL connection URL, postgres://user:password@host:port/database', { secret: true }),
  DATABASE_POOL_MAX: setting.int('most PostgreSQL connections this process opens', { default: 10, min: 1, max: 500 }),
  DATABASE_PREPARED_STATEMENTS: setting.bool(
    'the statements of the hot path (storing, claiming, finishing) are prepared once per connection, not parsed and planned at every call; false for a connection pooler that cannot keep prepared statements (PgBouncer before 1.21, or with max_prepared_statements = 0, in transaction mode)',
    { default: true },
  ),
};

let prepareStatements = true;

/**
 * A statement the hot path runs at every batch, as a query config: named, so that each
 * connection parses it once and PostgreSQL may keep its plan, unless DATABASE_PREPARED_STATEMENTS
 * is off in this process (createPool sets it).
 */
export function statement(name: string, text: string, values: unknown[]): { name?: string; text: string; values: unknown[] } {
  return prepareStatements ? { name, text, values } : { text, values };
}

const ident = (s: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(s)) throw new Error(`invalid schema name ${s}`);
  return `"${s}"`;
};

/**
 * A pool whose connections resolve unqualified names in the service's own schema, and print
 * floats as the shortest text that reads back the same (PostgreSQL 12's default, whatever the
 * server's configuration says). preparedStatements: whether statement() names its statements.
 */
export function createPool(url: string, max: number, logger: Logger, schema?: string, preparedStatements = true): Pool {
  prepareStatements = preparedStatements;
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    options: [schema ? `-c search_path=${ident(schema)},public` : '', '-c extra_float_digits=1'].filter(Boolean).join(' '),
  });
  pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL client failed'));
  // pg-pool listens for errors only on idle clients: a connection lost while a client is checked
  // out (a transaction in progress) would emit an 'error' nobody handles and end the process.
  // Every client keeps a listener; the query in progress fails and the caller retries.
  pool.on('connect', (client) => {
    client.on('error', (err) => logger.warn({ err: err.message }, 'PostgreSQL connection lost'));
  });
  return pool;
}

export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    // A connection that failed is dropped, not given back to the pool.
    const ok = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(ok ? undefined : (err as Error));
    throw err;
  }
}

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
}

/** Reads `NNN_name.sql` files in version order; two files with the same number are an error. */
export function readMigrations(dir: string): Migration[] {
  const seen = new Map<number, string>();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = /^(\d+)[_-](.+)\.sql$/.exec(file);
      if (!m) throw new Error(`migration file ${file} is not named NNN_name.sql`);
      const version = Number(m[1]);
      if (seen.has(version)) throw new Error(`migrations ${seen.get(version)} and ${file} share version ${version}`);
      seen.set(version, file);
      return { version, name: m[2], file, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * Applies pending migrations of one service's schema, each in its own transaction. Replicas
 * starting together serialise on an advisory lock, so each migration runs once.
 */
export async function migrate(pool: Pool, opts: { schema: string; dir: string; logger: Logger }): Promise<number[]> {
  const migrations = readMigrations(opts.dir);
  const schema = ident(opts.schema);
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`pipewright.migrate.${opts.schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`);
      const done = new Set(rows.map((r) => r.version));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL search_path TO ${schema}, public`);
          await client.query(m.sql);
          await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${opts.schema}/${m.file} failed: ${(err as Error).message}`);
        }
        applied.push(m.version);
        opts.logger.info({ schema: opts.schema, version: m.version, name: m.name }, 'migration applied');
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`pipewright.migrate.${opts.schema}`]);
    }
  } finally {
    client.release();
  }
  return applied;
}
