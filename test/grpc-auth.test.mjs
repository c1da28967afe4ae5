// gRPC doors of a real service (the scheduler): bearer tokens with scopes (static tokens and
// JWTs against a JWKS), TLS from files, and client certificates (mTLS). The health service
// stays open; a call without a token is UNAUTHENTICATED, one without the scope PERMISSION_DENIED.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { status } from '@grpc/grpc-js';
import { monitorV1, schedulerV1 } from '@pipewright/proto';
import { startStack, grpcError, healthCheck, listServices, eventually, freePort, testDir, ROOT } from '@pipewright/testkit';
import { ensureGrpcurl } from '../scripts/lib/grpcurl.mjs';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const { SignJWT, exportJWK, generateKeyPair } = require('jose');

/** @type {import('@pipewright/testkit').Stack} */
let stack;
let dir = '';
const TOKENS = {
  reader: 'reader-token-0123456789abcdef',
  operator: 'operator-token-0123456789abcdef',
};
const ISSUER = 'https://issuer.pipewright.test';
const AUDIENCE = 'pipewright';
/** @type {import('jose').KeyLike} */
let privateKey;
let grpcurlBin = '';
/** grpcurl as docs/security.md shows it; resolves with its exit status and output. */
const grpcurl = (args) => {
  const r = spawnSync(grpcurlBin, ['-max-time', '10', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

before(async () => {
  dir = mkdtempSync(join(testDir(), 'grpc-auth-'));
  writeFileSync(
    join(dir, 'tokens.json'),
    JSON.stringify({ tokens: [{ name: 'reader', token: TOKENS.reader, scopes: ['read'] }, { name: 'operator', token: TOKENS.operator, scopes: ['read', 'control'] }] }),
  );
  const keys = await generateKeyPair('RS256');
  privateKey = keys.privateKey;
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256' }] }));
  grpcurlBin = ensureGrpcurl();
  stack = await startStack();
});

after(async () => stack?.stop());

/** A scheduler client whose calls carry `token` (none when undefined). */
function scheduler(address, token, credentials = grpc.credentials.createInsecure()) {
  const raw = new schedulerV1.SchedulerClient(address, credentials);
  const call = (method, req) =>
    new Promise((resolve, reject) => {
      const md = new grpc.Metadata();
      if (token) md.set('authorization', `Bearer ${token}`);
      raw[method](req, md, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  return { call, close: () => raw.close() };
}

const UNKNOWN_JOB = { jobId: '00000000-0000-4000-8000-000000000000' };

test('with static tokens: no token is UNAUTHENTICATED, a read token reads but cannot cancel, a control token can; health stays open; reflection needs read', async () => {
  const p = await stack.start('scheduler', { as: 'scheduler-tokens', env: { GRPC_AUTH: 'on', GRPC_TOKENS_FILE: join(dir, 'tokens.json') } });
  const none = scheduler(p.address);
  const wrong = scheduler(p.address, 'not-a-token-of-ours-at-all');
  const reader = scheduler(p.address, TOKENS.reader);
  const operator = scheduler(p.address, TOKENS.operator);
  try {
    assert.equal(await healthCheck(p.address), 'SERVING', 'the health service needs no token');
    await assert.rejects(none.call('getJob', UNKNOWN_JOB), grpcError(status.UNAUTHENTICATED, 'a bearer token is required'));
    await assert.rejects(wrong.call('getJob', UNKNOWN_JOB), grpcError(status.UNAUTHENTICATED, 'the bearer token is not valid'));
    await assert.rejects(reader.call('getJob', UNKNOWN_JOB), grpcError(status.NOT_FOUND), 'past authentication: the job does not exist');
    await assert.rejects(reader.call('cancelJob', UNKNOWN_JOB), grpcError(status.PERMISSION_DENIED, 'this call needs the control scope'));
    await assert.rejects(operator.call('cancelJob', UNKNOWN_JOB), grpcError(status.NOT_FOUND));
    await assert.rejects(listServices(p.address), (err) => /UNAUTHENTICATED|bearer/i.test(String(/** @type {Error} */ (err).message)), 'reflection without a token is refused');
    // As docs/security.md shows it: the token in a header, reflection and a call.
    const listed = grpcurl(['-plaintext', '-H', `authorization: Bearer ${TOKENS.reader}`, p.address, 'list']);
    assert.equal(listed.status, 0, listed.out);
    assert.match(listed.out, /pipewright\.scheduler\.v1\.Scheduler/);
    const got = grpcurl(['-plaintext', '-H', `authorization: Bearer ${TOKENS.reader}`, '-d', JSON.stringify({ job_id: UNKNOWN_JOB.jobId }), p.address, 'pipewright.scheduler.v1.Scheduler/GetJob']);
    assert.match(got.out, /NotFound/);
    assert.match(grpcurl(['-plaintext', p.address, 'list']).out, /Unauthenticated/);
    const log = readFileSync(join(stack.workDir, 'scheduler-tokens.log'), 'utf8');
    assert.match(log, /"caller":"reader".*gRPC call refused|gRPC call refused.*"caller":"reader"/, 'a denied call is logged with the caller');
    assert.ok(!log.includes(TOKENS.reader), 'the log never holds a token');
    const metrics = await (await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`)).text();
    assert.match(metrics, /grpc_auth_denied_total\{[^}]*method="\/pipewright\.scheduler\.v1\.Scheduler\/CancelJob",reason="permission_denied"[^}]*\} 1\n/);
    assert.match(metrics, /grpc_auth_denied_total\{[^}]*method="\/pipewright\.scheduler\.v1\.Scheduler\/GetJob",reason="no_token"[^}]*\} 1\n/);
  } finally {
    for (const c of [none, wrong, reader, operator]) c.close();
    await p.stop();
  }
});

test("the monitor's calls carry its own token (GRPC_CALL_TOKEN_FILE): it reads the job counts of a scheduler that asks for one; without it the overview says the scheduler refused", async () => {
  const p = await stack.start('scheduler', { as: 'scheduler-called', env: { GRPC_AUTH: 'on', GRPC_TOKENS_FILE: join(dir, 'tokens.json') } });
  writeFileSync(join(dir, 'monitor-token'), `${TOKENS.reader}\n`);
  const services = `scheduler=${p.address}`;
  const withToken = await stack.start('monitor', { as: 'monitor-token', env: { MONITOR_SERVICES: services, GRPC_CALL_TOKEN_FILE: join(dir, 'monitor-token'), MONITOR_HEALTH_INTERVAL: '500ms' } });
  const without = await stack.start('monitor', { as: 'monitor-no-token', env: { MONITOR_SERVICES: services, MONITOR_HEALTH_INTERVAL: '500ms' } });
  try {
    const overview = await eventually(async () => {
      const o = await stack.client('monitor', 'monitor-token').getOverview({});
      return o.services.find((x) => x.service === 'scheduler')?.state === monitorV1.HealthState.HEALTH_STATE_SERVING ? o : undefined;
    }, { timeoutMs: 20_000, message: 'the scheduler seen SERVING by the monitor' });
    assert.equal(overview.jobsError, '', 'the scheduler answered the monitor');
    const refused = await stack.client('monitor', 'monitor-no-token').getOverview({});
    assert.match(refused.jobsError, /bearer token is required/);
  } finally {
    await without.stop();
    await withToken.stop();
    await p.stop();
  }
});

test('with a JWKS: a signed JWT with the right issuer and audience carries its scopes; an expired one or one for another audience is UNAUTHENTICATED', async () => {
  const p = await stack.start('scheduler', { as: 'scheduler-jwt', env: { GRPC_JWKS: join(dir, 'jwks.json'), GRPC_JWT_ISSUER: ISSUER, GRPC_JWT_AUDIENCE: AUDIENCE } });
  const jwt = (claims, { audience = AUDIENCE, expires = '5m' } = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience(audience).setSubject('ci-bot').setIssuedAt().setExpirationTime(expires).sign(privateKey);
  const clients = [];
  const as = async (claims, options) => {
    const c = scheduler(p.address, await jwt(claims, options));
    clients.push(c);
    return c;
  };
  try {
    await assert.rejects((await as({ scope: 'read' })).call('getJob', UNKNOWN_JOB), grpcError(status.NOT_FOUND));
    await assert.rejects((await as({ scope: 'read' })).call('pauseJob', UNKNOWN_JOB), grpcError(status.PERMISSION_DENIED));
    await assert.rejects((await as({ scp: ['read', 'control'] })).call('pauseJob', UNKNOWN_JOB), grpcError(status.NOT_FOUND));
    await assert.rejects((await as({ scope: 'read' }, { audience: 'someone-else' })).call('getJob', UNKNOWN_JOB), grpcError(status.UNAUTHENTICATED));
    await assert.rejects((await as({ scope: 'read' }, { expires: Math.floor(Date.now() / 1000) - 60 })).call('getJob', UNKNOWN_JOB), grpcError(status.UNAUTHENTICATED));
  } finally {
    for (const c of clients) c.close();
    await p.stop();
  }
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function certificates() {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, 'openssl makes the test certificates');
  const sh = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pipewright test CA']);
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], ['client', 'extendedKeyUsage=clientAuth']]) {
    sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    sh(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  const read = (f) => readFileSync(join(dir, f));
  return { ca: read('ca.pem'), clientKey: read('client.key'), clientCert: read('client.pem') };
}

test('with TLS and a client CA: a caller with a certificate the CA signed is served; one without, or in plaintext, is not', async () => {
  const { ca, clientKey, clientCert } = certificates();
  const port = await freePort();
  const p = stack.start('scheduler', {
    as: 'scheduler-mtls',
    env: { GRPC_PORT: String(port), GRPC_TLS_CERT: join(dir, 'server.pem'), GRPC_TLS_KEY: join(dir, 'server.key'), GRPC_TLS_CLIENT_CA: join(dir, 'ca.pem') },
  });
  // The stack waits for SERVING in plaintext, which this server refuses: it is checked here over mTLS.
  p.catch(() => undefined);
  const address = `127.0.0.1:${port}`;
  const mtls = scheduler(address, undefined, grpc.credentials.createSsl(ca, clientKey, clientCert));
  const tlsOnly = scheduler(address, undefined, grpc.credentials.createSsl(ca));
  const plain = scheduler(address);
  try {
    await eventually(
      () =>
        mtls.call('getJob', UNKNOWN_JOB).then(
          () => false,
          (err) => err.code === status.NOT_FOUND,
        ),
      { timeoutMs: 60_000, message: 'the scheduler answers over mTLS' },
    );
    const listed = grpcurl(['-cacert', join(dir, 'ca.pem'), '-cert', join(dir, 'client.pem'), '-key', join(dir, 'client.key'), address, 'list']);
    assert.equal(listed.status, 0, listed.out);
    assert.match(listed.out, /pipewright\.scheduler\.v1\.Scheduler/);
    await assert.rejects(tlsOnly.call('getJob', UNKNOWN_JOB), grpcError(status.UNAVAILABLE), 'no client certificate');
    await assert.rejects(plain.call('getJob', UNKNOWN_JOB), grpcError(status.UNAVAILABLE), 'plaintext');
  } finally {
    for (const c of [mtls, tlsOnly, plain]) c.close();
    await stack.procs.get('scheduler-mtls')?.stop();
  }
});

test('GRPC_AUTH=on without tokens or a JWKS stops start-up with the names of the settings', async () => {
  const r = spawnSync(process.execPath, ['--require', '@pipewright/platform/register', join(ROOT, 'services', 'scheduler', 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, KAFKA_BROKERS: stack.brokers, DATABASE_URL: stack.databaseUrl, GRPC_AUTH: 'on', GRPC_HOST: '127.0.0.1', GRPC_PORT: '0', METRICS_PORT: '0' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 78, 'the exit code of a configuration error');
  assert.match(r.stderr, /GRPC_AUTH is on but neither GRPC_TOKENS_FILE nor GRPC_JWKS is set/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'one line, no stack trace');
});
