// A service on a PostgreSQL server that speaks TLS, reached with sslmode=verify-full: every one of
// its connections is encrypted and the server's certificate checked against the CA the URL
// names; with another CA the service does not start, and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startStack, eventually } from '@pipewright/testkit';
import { startPostgres } from '../scripts/lib/postgres.mjs';
import { makeWorkDir } from '../scripts/lib/proc.mjs';

const pg = createRequire(import.meta.url)('pg');

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {{ url: string, stop: () => Promise<unknown> } | undefined} */
let server;
const dir = makeWorkDir('pw-pg-tls-');

/** Makes a CA (named `name`) and, with `serverCert`, a certificate for 127.0.0.1 it signs. */
function makeCa(name, serverCert = false) {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  const sh = (args) => execFileSync('openssl', args, { cwd: at, stdio: 'pipe' });
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`]);
  if (serverCert) {
    sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(at, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  }
  return at;
}

let trusted = '';
let other = '';

before(async () => {
  trusted = makeCa('pipewright-test-ca', true);
  other = makeCa('another-ca');
  server = await startPostgres({ dataDir: join(dir, 'postgres'), durable: false, tls: { certFile: join(trusted, 'server.pem'), keyFile: join(trusted, 'server.key') } });
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The TLS server's URL, checked in full against the CA in `caDir`. */
const verifyFull = (caDir) => {
  const u = new URL(server?.url ?? '');
  u.searchParams.set('sslmode', 'verify-full');
  u.searchParams.set('sslrootcert', join(caDir, 'ca.pem'));
  return u.toString();
};

test('with sslmode=verify-full and the server CA, the scheduler runs and every connection it opens is encrypted', async () => {
  const url = verifyFull(trusted);
  const p = await stack.start('scheduler', { as: 'scheduler-tls', env: { DATABASE_URL: url } });
  try {
    const scheduler = stack.client('scheduler', 'scheduler-tls');
    // The scheduler's migrations ran over TLS, and its reads go over TLS.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows: mine } = await admin.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(mine[0].ssl, true, 'the test connection itself is encrypted');
      const { rows } = await admin.query(
        `SELECT s.ssl, count(*)::int AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
          WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend' GROUP BY s.ssl`,
      );
      assert.deepEqual(rows, [{ ssl: true, n: rows[0]?.n }], `only encrypted connections: ${JSON.stringify(rows)}`);
      assert.ok(rows[0].n >= 1, 'the scheduler holds connections');
      const { rows: tables } = await admin.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'scheduler'");
      assert.ok(tables[0].n > 0, "the scheduler's migrations ran on the TLS server");
    } finally {
      await admin.end();
    }
    await assert.rejects(scheduler.getJob({ jobId: '00000000-0000-4000-8000-000000000000' }), (err) => /** @type {{ code?: number }} */ (err).code === 5, 'NOT_FOUND, asked of the database');
  } finally {
    await p.stop();
  }
});

test('with a CA that did not sign the server certificate, the scheduler does not start and its log says the certificate is not trusted', async () => {
  const started = stack.start('scheduler', { as: 'scheduler-untrusted', env: { DATABASE_URL: verifyFull(other) } });
  await assert.rejects(started, /exited/);
  const log = await eventually(() => stack.log('scheduler-untrusted').match(/self[- ]signed|unable to (verify|get)|certificate/i)?.[0], { timeoutMs: 10_000, message: 'a certificate error in the log' });
  assert.ok(log);
  assert.doesNotMatch(stack.log('scheduler-untrusted'), /password/i, 'the log names no secret');
});
