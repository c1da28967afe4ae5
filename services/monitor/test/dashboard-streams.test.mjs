// The dashboard's server-sent event streams (/api/events) against its real HTTP server: a browser
// that reads too slowly has its stream closed once the answers waiting for it pass a cap (its
// EventSource connects again), instead of the monitor holding them all in memory; logging out
// ends every open stream of the session, which then makes no more calls with its token. The
// upstream is a gRPC server of the monitor's API in this file (no broker or database needed).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpc, withUnimplemented } from '@pipewright/platform';
import { monitorV1 } from '@pipewright/proto';
import { startDashboard } from './dashboard-server.mjs';

const TOKEN = 'viewer-token-0123456789abcdef';
const tokensFile = join(mkdtempSync(join(tmpdir(), 'dashboard-streams-')), 'tokens.json');
writeFileSync(tokensFile, JSON.stringify({ tokens: [{ name: 'viewer', token: TOKEN, scopes: ['read'] }] }));

/**
 * A gRPC server of the monitor's API whose WatchConsumerLag sends answers of about `bytes` as fast
 * as it may (`count` of them, then it waits), counting the calls and their tokens.
 */
async function lagServer(bytes = 64 * 1024, count = Infinity) {
  const seen = { calls: 0, open: 0, tokens: new Set() };
  const server = new grpc.Server();
  const big = monitorV1.ConsumerLag.fromPartial({ groupId: `group-${'x'.repeat(bytes)}`, total: 1 });
  server.addService(
    monitorV1.MonitorService,
    withUnimplemented(monitorV1.MonitorService, {
      watchConsumerLag: (call) => {
        seen.calls += 1;
        seen.open += 1;
        seen.tokens.add(String(call.metadata.get('authorization')[0] ?? ''));
        let done = false;
        let sent = 0;
        call.on('cancelled', () => ((done = true), (seen.open -= 1)));
        const pump = () => {
          while (!done && sent < count && (sent++, call.write(big)));
          if (!done && sent < count) call.once('drain', pump);
        };
        pump();
      },
    }),
  );
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  after(() => server.forceShutdown());
  return { port, seen };
}

const WATCH = encodeURIComponent(JSON.stringify([{ id: 'lag', rpc: '/pipewright.monitor.v1.Monitor/WatchConsumerLag', request: {} }]));

/** Opens the event stream; resolves to its response, paused when `paused`. */
const events = (base, headers = {}, paused = false) =>
  new Promise((resolve, reject) => {
    const req = http.get(`${base}/api/events?subscribe=${WATCH}`, { headers: { host: new URL(base).host, ...headers } }, (res) => {
      if (paused) res.pause();
      resolve(res);
    });
    req.on('error', reject);
  });

/** Resolves to how the stream ended ('end', 'aborted' or the error's code), or 'still open' after `ms`. */
const ending = (res, ms) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still open'), ms);
    const done = (how) => (clearTimeout(timer), resolve(how));
    res.on('end', () => done('end'));
    res.on('aborted', () => done('aborted'));
    res.on('error', (err) => done(err.code ?? err.message));
    res.resume();
  });

test('a browser that does not keep up has its stream closed once the answers waiting for it pass the cap, and its upstream call is cancelled', { timeout: 60_000 }, async () => {
  const upstream = await lagServer();
  const { base } = await startDashboard({ grpcPort: upstream.port });
  const res = await events(base, {}, true);
  assert.equal(res.statusCode, 200);
  // Reading nothing for a while: the socket's buffers fill, then the monitor's own.
  await new Promise((r) => setTimeout(r, 3000));
  const how = await ending(res, 10_000);
  assert.notEqual(how, 'still open', 'the stream was closed');
  assert.equal(upstream.seen.calls, 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(upstream.seen.open, 0, 'its WatchConsumerLag call was cancelled');
});

test('one answer bigger than the cap still reaches a browser that keeps up', { timeout: 60_000 }, async () => {
  const upstream = await lagServer(3 << 20, 1);
  const { base } = await startDashboard({ grpcPort: upstream.port });
  const res = await events(base);
  let text = '';
  res.setEncoding('utf8');
  await new Promise((resolve, reject) => {
    res.on('data', (chunk) => {
      text += chunk;
      if (text.includes('event: lag\n') && text.endsWith('\n\n')) resolve(undefined);
    });
    res.on('close', () => reject(new Error(`the stream closed after ${text.length} characters`)));
  });
  assert.ok(text.length > 3 << 20, 'the whole answer');
  assert.equal(JSON.parse(text.slice(text.indexOf('event: lag\ndata: ') + 'event: lag\ndata: '.length)).groupId.length, (3 << 20) + 'group-'.length, 'the answer itself, not an error');
  assert.equal(upstream.seen.open, 1, 'and the stream is still open');
  res.destroy();
});

test("logging out ends the session's open event streams, which make no more calls with its token", { timeout: 60_000 }, async () => {
  const upstream = await lagServer();
  const { base } = await startDashboard({ grpcPort: upstream.port, env: { GRPC_TOKENS_FILE: tokensFile, MONITOR_DASHBOARD_REFRESH: '200ms' } });
  const login = await fetch(`${base}/login`, { method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
  assert.equal(login.status, 200);
  const cookie = String(login.headers.get('set-cookie')).split(';')[0];
  const { csrf } = /** @type {{ csrf: string }} */ (await (await fetch(`${base}/api/session`, { headers: { cookie } })).json());

  const streams = [await events(base, { cookie }), await events(base, { cookie })];
  const endings = streams.map((res) => ending(res, 5000));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(upstream.seen.open, 2, 'two streams follow WatchConsumerLag');
  assert.deepEqual([...upstream.seen.tokens], [`Bearer ${TOKEN}`], "with the user's token");

  const logout = await fetch(`${base}/logout`, { method: 'POST', headers: { cookie, origin: base, 'x-csrf-token': csrf } });
  assert.equal(logout.status, 200);
  assert.deepEqual(await Promise.all(endings), ['end', 'end'], 'both streams ended');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(upstream.seen.open, 0, 'their calls were cancelled');
  assert.equal((await events(base, { cookie })).statusCode, 401, 'the old cookie opens no stream');
});
