// Who can reach a dashboard that has no login, against the real HTTP server and the real monitor
// process (no broker, no database needed: what is checked happens before either is used). A
// monitor whose gRPC trusts client certificates alone refuses to serve a login-less dashboard on
// a network address; a dashboard without login answers only to loopback names and the names of
// MONITOR_DASHBOARD_HOSTS, wherever it is bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES } from '@pipewright/contracts';
import { startDashboard } from './dashboard-server.mjs';

const MAIN = join(import.meta.dirname, '..', 'dist', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'dashboard-exposure-'));
const pem = (name) => {
  const file = join(dir, name);
  writeFileSync(file, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  return file;
};
const MTLS = { GRPC_TLS_CERT: pem('server.pem'), GRPC_TLS_KEY: pem('server.key'), GRPC_TLS_CLIENT_CA: pem('ca.pem') };

/** The monitor process with `env`; resolves to its exit code and stderr, or kills it after `ms`. */
function runMonitor(env, ms = 20_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, DATABASE_URL: 'postgres://monitor@127.0.0.1:1/monitor', KAFKA_BROKERS: '127.0.0.1:1', GRPC_PORT: '0', METRICS_PORT: '0', MONITOR_HTTP_PORT: '0', LOG_LEVEL: 'fatal', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('with client certificates required and no tokens, a dashboard on a network address stops start-up with one line naming the settings', { timeout: 60_000 }, async () => {
  const { code, stderr } = await runMonitor({ ...MTLS, GRPC_HOST: '0.0.0.0' });
  assert.equal(code, 78, `exit code 78 (configuration); stderr: ${stderr}`);
  const problems = stderr.split('\n').filter((l) => l.startsWith('  '));
  assert.equal(problems.length, 1, stderr);
  assert.match(problems[0], /GRPC_TLS_CLIENT_CA/);
  assert.match(problems[0], /GRPC_TOKENS_FILE or GRPC_JWKS/);
  assert.match(problems[0], /MONITOR_HTTP_HOST=127\.0\.0\.1/);
  assert.match(problems[0], /0\.0\.0\.0/);
});

/** GET path from the server at 127.0.0.1:port with the Host header `hostHeader`; resolves to the status. */
const statusFor = (port, hostHeader, path = '/api/session') =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host: hostHeader } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
      .on('error', reject);
  });

test('a dashboard without login bound to every address answers only to loopback names and those of MONITOR_DASHBOARD_HOSTS (DNS rebinding)', async () => {
  const server = await startDashboard({ host: '0.0.0.0', env: { MONITOR_DASHBOARD_HOSTS: 'dash.example.com, Ops.Internal' } });
  const port = server.port;
  assert.equal(await statusFor(port, `127.0.0.1:${port}`), 200);
  assert.equal(await statusFor(port, `localhost:${port}`), 200);
  assert.equal(await statusFor(port, 'dash.example.com'), 200, 'a name of MONITOR_DASHBOARD_HOSTS');
  assert.equal(await statusFor(port, `ops.internal:${port}`), 200, 'names compare without case or port');
  assert.equal(await statusFor(port, `evil.example:${port}`), 421, 'a rebinding name');
  assert.equal(await statusFor(port, 'dash.example.com.evil.example'), 421);
  assert.equal(await statusFor(port, `10.1.2.3:${port}`), 421, 'an address not listed');
  assert.equal(await statusFor(port, 'evil.example', '/v1/overview'), 421, 'the door too');
});

test('a dashboard without login on loopback answers to loopback names only, unless MONITOR_DASHBOARD_HOSTS names more', async () => {
  const plain = await startDashboard();
  assert.equal(await statusFor(plain.port, `127.0.0.1:${plain.port}`), 200);
  assert.equal(await statusFor(plain.port, 'dash.example.com'), 421);
  const named = await startDashboard({ env: { MONITOR_DASHBOARD_HOSTS: 'dash.example.com' } });
  assert.equal(await statusFor(named.port, 'dash.example.com'), 200);
});

test("the pages learn each service's gRPC name from the monitor, as services.json gives it, with the door's routes", async () => {
  const { base } = await startDashboard({ env: { MONITOR_SERVICES: 'monitor=127.0.0.1:1,scheduler=127.0.0.1:2' } });
  const { services, routes } = /** @type {{ services: Record<string, string>, routes: Array<{ rpc: string, method: string }> }} */ (await (await fetch(`${base}/api/routes`)).json());
  const names = ['monitor', 'scheduler', 'order-aggregator', 'stock-processor'];
  assert.deepEqual(services, Object.fromEntries(names.map((n) => [n, SERVICES.find((s) => s.name === n)?.grpcService])));
  assert.ok(routes.some((r) => r.method === 'POST' && r.rpc === `/${services.scheduler}/CancelJob`), 'a route of the scheduler, which has an address');
  assert.ok(!routes.some((r) => r.rpc.startsWith(`/${services['order-aggregator']}/`)), 'none of the order aggregator, which has none');
});
