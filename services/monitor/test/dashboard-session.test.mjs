// The dashboard's session rules without a browser or a broker: a login checked by the gRPC
// servers' own verifier, the cookie's attributes, the refusal of cross-site requests and of
// foreign Host names, the refusal of a login-less dashboard that would act with the monitor's
// certificate, and the failures said in words by the pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDashboardExposure, checkDashboardHosts, hostRefusal, isLoopback } from '../dist/dashboard/access.js';
import { LoginRefused, Sessions, crossSiteRefusal, sessionCookie } from '../dist/dashboard/session.js';
import { describeFailure } from '../public/js/words.js';

const ADMIN = 'admin-token-0123456789abcdef';
const tokensFile = join(mkdtempSync(join(tmpdir(), 'dashboard-session-')), 'tokens.json');
writeFileSync(tokensFile, JSON.stringify({ tokens: [{ name: 'admin', token: ADMIN, scopes: ['read', 'control'] }] }));
const config = { GRPC_HOST: '127.0.0.1', GRPC_AUTH: 'auto', GRPC_TOKENS_FILE: tokensFile };

/** A request as node:http gives it: headers and a socket. */
const request = (headers = {}, encrypted = false) => /** @type {any} */ ({ headers, socket: { encrypted } });

test('a login is checked by the gRPC verifier: a token of the tokens file opens a session with its name and scopes, another is refused', async () => {
  const sessions = new Sessions(/** @type {any} */ (config), true);
  assert.equal(sessions.required, true);
  const s = await sessions.login(ADMIN);
  assert.equal(s.user, 'admin');
  assert.deepEqual(s.scopes, ['control', 'read']);
  assert.equal(s.token, ADMIN);
  assert.match(s.id, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
  assert.equal(sessions.of(request({ cookie: `other=1; pipewright_session=${s.id}` }))?.user, 'admin');
  assert.equal(sessions.of(request({ cookie: 'pipewright_session=made-up' })), undefined);
  await assert.rejects(sessions.login('not-a-token-0123456789'), LoginRefused);
  sessions.end(request({ cookie: `pipewright_session=${s.id}` }));
  assert.equal(sessions.of(request({ cookie: `pipewright_session=${s.id}` })), undefined, 'ended');
});

test("what calls for a session is ended with it: at log out and when it expires unused; a stream that closed by itself is forgotten", async () => {
  const sessions = new Sessions(/** @type {any} */ (config), true);
  const ended = [];
  const a = await sessions.login(ADMIN);
  sessions.onEnd(a, () => ended.push('a1'));
  sessions.onEnd(a, () => ended.push('a2'));
  const forget = sessions.onEnd(a, () => ended.push('a3'));
  forget();
  const b = await sessions.login(ADMIN);
  sessions.onEnd(b, () => ended.push('b'));

  sessions.end(request({ cookie: `pipewright_session=${a.id}` }));
  assert.deepEqual(ended, ['a1', 'a2'], 'log out ends its streams, not the forgotten one nor another session’s');
  sessions.end(request({ cookie: `pipewright_session=${a.id}` }));
  assert.deepEqual(ended, ['a1', 'a2'], 'each once');

  sessions.expire(Date.now() + 3600_000);
  assert.deepEqual(ended, ['a1', 'a2'], 'an hour unused: still open');
  sessions.expire(Date.now() + 8 * 3600_000 + 1000);
  assert.deepEqual(ended, ['a1', 'a2', 'b'], 'eight hours unused: ended');
  assert.equal(sessions.of(request({ cookie: `pipewright_session=${b.id}` })), undefined);
  sessions.onEnd(b, () => ended.push('late'));
  assert.deepEqual(ended.at(-1), 'late', 'a stream opened for a session already gone is ended at once');
});

test('without authentication there is no login', async () => {
  const sessions = new Sessions(/** @type {any} */ ({ ...config, GRPC_TOKENS_FILE: undefined }), false);
  assert.equal(sessions.required, false);
  await assert.rejects(sessions.login(ADMIN), /no login is needed/);
});

test('the session cookie is HttpOnly and SameSite=Strict, and Secure over TLS or behind a proxy that ended TLS', () => {
  assert.equal(sessionCookie('abc', request()), 'pipewright_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800');
  assert.match(sessionCookie('abc', request({}, true)), /; Secure$/);
  assert.match(sessionCookie('abc', request({ 'x-forwarded-proto': 'https' })), /; Secure$/);
  assert.match(sessionCookie('', request(), 0), /Max-Age=0$/);
});

test("a state-changing request must come from the dashboard's origin and carry the session's CSRF token", () => {
  const session = /** @type {any} */ ({ csrf: 'the-csrf-token' });
  const host = { host: '127.0.0.1:8080' };
  assert.equal(crossSiteRefusal(request({ ...host, origin: 'http://127.0.0.1:8080', 'x-csrf-token': 'the-csrf-token' }), session), undefined);
  assert.equal(crossSiteRefusal(request({ ...host, origin: 'https://127.0.0.1:8080' }), undefined), undefined, 'the scheme is the proxy’s business');
  assert.match(String(crossSiteRefusal(request({ ...host, origin: 'http://127.0.0.1:9999', 'x-csrf-token': 'the-csrf-token' }), session)), /Origin \(http:\/\/127\.0\.0\.1:9999\) is not the dashboard's/, 'another port is another origin');
  assert.match(String(crossSiteRefusal(request({ ...host, origin: 'null' }), undefined)), /is not the dashboard's/);
  assert.match(String(crossSiteRefusal(request({ ...host, 'sec-fetch-site': 'cross-site' }), undefined)), /another site/);
  assert.equal(crossSiteRefusal(request({ ...host }), undefined), undefined, 'a script (no Origin, no Sec-Fetch-Site) without a session');
  assert.match(String(crossSiteRefusal(request({ ...host, origin: 'http://127.0.0.1:8080' }), session)), /CSRF token/);
  assert.match(String(crossSiteRefusal(request({ ...host, origin: 'http://127.0.0.1:8080', 'x-csrf-token': 'the-csrf-tokeN' }), session)), /CSRF token/);
  assert.equal(crossSiteRefusal(request({ host: 'a.example', 'x-forwarded-host': 'dash.example', origin: 'https://dash.example', 'x-csrf-token': 'the-csrf-token' }), session), undefined, 'behind a proxy');
});

test('a dashboard without login answers only to loopback names and the names it is given (DNS rebinding)', () => {
  for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', '127.0.0.1']) assert.equal(hostRefusal(request({ host }), []), undefined, host);
  assert.match(String(hostRefusal(request({ host: 'evil.example:8080' }), [])), /not to evil\.example:8080/);
  assert.match(String(hostRefusal(request({}), [])), /not to a request without a Host/);
  const allowed = ['Dash.Example.com', '[fd00::7]'];
  assert.doesNotThrow(() => checkDashboardHosts(allowed));
  assert.equal(hostRefusal(request({ host: 'dash.example.com' }), allowed), undefined);
  assert.equal(hostRefusal(request({ host: 'DASH.example.com:443' }), allowed), undefined);
  assert.equal(hostRefusal(request({ host: '[fd00::7]:8080' }), allowed), undefined);
  assert.match(String(hostRefusal(request({ host: 'dash.example.com.evil.example' }), allowed)), /answers only to 127\.0\.0\.1, localhost, \[::1\], Dash\.Example\.com, \[fd00::7\]/);
  for (const bad of ['https://dash.example.com', 'dash.example.com:443', 'dash.example.com/x', '*.example.com']) assert.throws(() => checkDashboardHosts([bad]), /is not a host name/, bad);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.7'));
});

test('client certificates without tokens refuse a dashboard on a network address; tokens, or loopback, let it start', () => {
  /** @type {any} */
  const mtls = { GRPC_AUTH: 'auto', GRPC_TLS_CLIENT_CA: '/etc/ca.pem', GRPC_TOKENS_FILE: undefined, GRPC_JWKS: undefined };
  assert.throws(() => checkDashboardExposure(mtls, '0.0.0.0', 8080), (/** @type {any} */ err) => err.name === 'ConfigError' && err.problems.length === 1 && /GRPC_TLS_CLIENT_CA.*0\.0\.0\.0:8080.*GRPC_TOKENS_FILE or GRPC_JWKS.*MONITOR_HTTP_HOST=127\.0\.0\.1/.test(err.problems[0]));
  assert.throws(() => checkDashboardExposure({ ...mtls, GRPC_AUTH: 'off', GRPC_TOKENS_FILE: tokensFile }, '10.0.0.7', 8080), /GRPC_TLS_CLIENT_CA/, 'tokens named but switched off');
  assert.doesNotThrow(() => checkDashboardExposure({ ...mtls, GRPC_TOKENS_FILE: tokensFile }, '0.0.0.0', 8080));
  assert.doesNotThrow(() => checkDashboardExposure({ ...mtls, GRPC_JWKS: 'https://idp.example/jwks' }, '0.0.0.0', 8080));
  assert.doesNotThrow(() => checkDashboardExposure(mtls, '127.0.0.1', 8080));
  assert.doesNotThrow(() => checkDashboardExposure({ ...mtls, GRPC_TLS_CLIENT_CA: undefined }, '0.0.0.0', 8080), 'no client certificates: the Host rule applies');
});

test('failures are said in words: a finished job cannot be cancelled, a read token may not control, an unreachable service', () => {
  assert.equal(describeFailure('scheduler/CancelJob', { code: 9, message: 'cannot cancel a job whose status is DONE' }), 'The job has finished (DONE), so it cannot be cancelled.');
  assert.equal(describeFailure('scheduler/ResumeJob', { code: 9, message: 'cannot resume a job whose status is SCHEDULED' }), 'The job is SCHEDULED, so it cannot be resumed.');
  assert.equal(describeFailure('monitor/ReplayDeadLetters', { code: 7, message: 'this call needs the control scope' }), 'Your token does not allow this (this call needs the control scope).');
  assert.equal(describeFailure('scheduler/GetJob', { code: 14, message: 'No connection established', service: 'scheduler' }), 'The scheduler cannot be reached: No connection established.');
  assert.equal(describeFailure('scheduler/GetJob', { code: 5, message: 'job x not found' }), 'Not found: job x not found.');
  assert.equal(describeFailure('scheduler/PauseJob', { message: 'refused: the request does not carry the session’s CSRF token' }), 'refused: the request does not carry the session’s CSRF token.');
});
