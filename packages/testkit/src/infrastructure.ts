// Kafka and PostgreSQL for a test file: the test runner's (KAFKA_BROKERS, DATABASE_URL), or,
// when a file runs alone, ones started here; and a database of the file's own.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { startInfrastructure as startSystem } from '../../../scripts/lib/system.mjs';
import { makeWorkDir } from '../../../scripts/lib/proc.mjs';

export interface Infrastructure {
  /** Kafka bootstrap servers, comma-separated. */
  brokers: string;
  /** The PostgreSQL server (its default database). */
  databaseUrl: string;
  /** A directory of this file's own for logs and data. */
  workDir: string;
  /** Stops what was started here; the runner's Kafka and PostgreSQL keep running. */
  stop(): Promise<void>;
}

/** The directory the test runner keeps its files in (PIPEWRIGHT_TEST_WORKDIR), else the system's. */
export const testDir = (): string => process.env.PIPEWRIGHT_TEST_WORKDIR ?? tmpdir();

/**
 * A new directory for one test file: inside the runner's (kept with its logs when a test fails),
 * or a temporary one when the file runs alone.
 */
export function makeTestDir(): string {
  const runner = process.env.PIPEWRIGHT_TEST_WORKDIR;
  return runner ? makeWorkDir('stack-', runner) : makeWorkDir('pipewright-stack-');
}

/**
 * Kafka and PostgreSQL as KAFKA_BROKERS and DATABASE_URL name them (the test runner sets both),
 * else started locally for this file (scripts/lib/system.mjs's startInfrastructure).
 */
export async function startInfrastructure(): Promise<Infrastructure> {
  const workDir = makeTestDir();
  const infra = await startSystem({ workDir });
  return { brokers: infra.brokers, databaseUrl: infra.databaseUrl, workDir, stop: infra.stop };
}

/** Creates a database of its own on the server `serverUrl` names; returns its URL. */
export async function createDatabase(serverUrl: string): Promise<string> {
  const name = `pw_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
