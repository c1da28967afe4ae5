// The dashboard's login when gRPC authentication is on, in a real browser against a real
// scheduler and monitor that ask for tokens: a wrong token is refused, a read token shows the
// pages but cannot cancel (the scheduler's PERMISSION_DENIED, in words), a control token can;
// the session cookie is HttpOnly and SameSite=Strict (Secure behind TLS); a state-changing
// request from another origin, or without the session's CSRF token, is refused; logging out
// ends the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { TOPICS } from '@pipewright/contracts';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, freePort, groupsToEnd, browserUnavailable, launchBrowser, watchedPage, screenshot, testDir } from '@pipewright/testkit';

const tag = randomUUID().slice(0, 8);
const token = (name) => `${name}-${randomBytes(16).toString('hex')}`;
const TOKENS = { admin: token('admin'), viewer: token('viewer'), monitor: token('monitor') };

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {http.Server} */
let elsewhere;
let base = '';
let elsewhereBase = '';
/** @type {import('@pipewright/testkit').SchedulerClient} */
let scheduler;
const asAdmin = () => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TOKENS.admin}`);
  return { metadata };
};

/** Without chromium (and no way to install it) the file says why in one line and runs nothing. */
const unavailable = browserUnavailable();
const skip = unavailable ? `no browser: ${unavailable}` : false;

before(async () => {
  if (skip) return;
  const dir = testDir();
  const tokensFile = join(dir, `tokens-${tag}.json`);
  writeFileSync(
    tokensFile,
    JSON.stringify({
      tokens: [
        { name: 'admin', token: TOKENS.admin, scopes: ['read', 'write', 'control'] },
        { name: 'viewer', token: TOKENS.viewer, scopes: ['read'] },
        { name: 'monitor', token: TOKENS.monitor, scopes: ['read'] },
      ],
    }),
  );
  const monitorToken = join(dir, `monitor-token-${tag}`);
  writeFileSync(monitorToken, TOKENS.monitor);
  stack = await startStack({ env: { GRPC_TOKENS_FILE: tokensFile } });
  await groupsToEnd(stack.kafka, [{ groupId: 'scheduler.ingest', topic: TOPICS.jobsIngest }]);
  await stack.start('scheduler');
  const httpPort = await freePort();
  await stack.start('monitor', { env: { MONITOR_HTTP_PORT: String(httpPort), MONITOR_SERVICES: `scheduler=${stack.address('scheduler')}`, GRPC_CALL_TOKEN_FILE: monitorToken, MONITOR_DASHBOARD_REFRESH: '500ms' } });
  base = `http://127.0.0.1:${httpPort}`;
  scheduler = stack.client('scheduler');
  browser = await launchBrowser();
  // Another origin (same host, another port), whose page posts to the dashboard.
  elsewhere = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('target') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><form id="f" method="post" enctype="text/plain" action="${target}"><input name='{"jobId":"x' value='"}'></form>`);
  });
  await new Promise((r) => elsewhere.listen(0, '127.0.0.1', () => r(undefined)));
  elsewhereBase = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (elsewhere.address()).port}`;
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (elsewhere ? elsewhere.close(() => r(undefined)) : r(undefined)));
  await stack?.stop();
});

/** A job far in the future, straight onto the scheduler's ingest topic; resolves to its job id once stored. */
async function scheduledJob() {
  const requestId = `login-${tag}-${randomUUID().slice(0, 6)}`;
  const producer = stack.kafka.producer();
  await producer.connect();
  await producer.send({ topic: TOPICS.jobsIngest, acks: -1, messages: [{ key: requestId, value: JSON.stringify({ requestId, appName: 'noop', scheduledTime: new Date(Date.now() + 3_600_000).toISOString() }) }] });
  await producer.disconnect();
  const job = await eventually(() => scheduler.getJob({ jobId: requestId }, asAdmin()).catch(() => undefined), { message: `job ${requestId} stored` });
  return job.jobId;
}

/** A browser context logged in with `name`'s token through the login page. */
async function loggedIn(name) {
  const context = await browser.newContext();
  const { page, errors } = await watchedPage(context);
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login\?next=/);
  await page.fill('#token', TOKENS[name]);
  await page.click('#login button[type=submit]');
  await page.waitForURL(`${base}/`);
  await page.waitForSelector('#health tbody tr');
  return { context, page, errors };
}

const cookieHeader = async (context) => (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

test('the dashboard asks for a token: a wrong one is refused in words, a read token opens the pages; the cookie is HttpOnly and SameSite=Strict', { skip, timeout: 120_000 }, async () => {
  const unauthenticated = await fetch(`${base}/v1/overview`);
  assert.equal(unauthenticated.status, 401, 'no JSON without a session');

  const context = await browser.newContext();
  const { page, errors } = await watchedPage(context);
  await page.goto(`${base}/jobs`);
  await page.waitForURL(`${base}/login?next=%2Fjobs`);
  await page.fill('#token', `not-a-token-${tag}-0000000000`);
  await page.click('#login button[type=submit]');
  assert.equal(await (await page.waitForSelector('#login-message:not([hidden])')).textContent(), 'Not logged in: that token was not accepted.');
  await screenshot(page, 'login-refused');
  assert.deepEqual(await context.cookies(), [], 'no session for a wrong token');

  await page.fill('#token', TOKENS.viewer);
  await page.click('#login button[type=submit]');
  await page.waitForURL(`${base}/jobs`, { timeout: 10_000 });
  await page.waitForSelector('.live.on');
  assert.equal(await page.textContent('#user span'), 'viewer');
  const [cookie] = await context.cookies();
  assert.equal(cookie.name, 'pipewright_session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.secure, false, 'plain HTTP: not Secure');
  const overview = await fetch(`${base}/v1/overview`, { headers: { cookie: await cookieHeader(context) } });
  assert.equal(overview.status, 200, 'the session reads through the door');
  assert.deepEqual(errors.filter((e) => !/401 \(Unauthorized\).*\/login/.test(e)), []);

  // This monitor knows only the scheduler: the Orders page says why it shows nothing.
  await page.goto(`${base}/orders`);
  assert.match(String(await (await page.waitForSelector('main .notice.error:not([hidden])')).textContent()), /The order aggregator cannot be reached: the monitor has no address for the order-aggregator \(MONITOR_SERVICES does not name it\)\./);
  await context.close();

  // Behind a proxy that ends TLS, the cookie is Secure.
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, 'x-forwarded-proto': 'https' }, body: JSON.stringify({ token: TOKENS.viewer }) });
  assert.equal(res.status, 200);
  assert.match(String(res.headers.get('set-cookie')), /; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
});

test("a read-only token cannot cancel: the scheduler's PERMISSION_DENIED is said in words and the job stays SCHEDULED", { skip, timeout: 120_000 }, async () => {
  const jobId = await scheduledJob();
  const { context, page } = await loggedIn('viewer');
  await page.goto(`${base}/jobs/${jobId}`);
  await page.waitForSelector('#job[data-status="SCHEDULED"]');
  await page.click('#job-cancel');
  await page.click('#confirm-yes');
  const said = await page.waitForSelector('#action-outcome:not([hidden])');
  assert.equal(await said.textContent(), 'Your token does not allow this (this call needs the control scope).');
  await screenshot(page, 'read-only-cancel');
  assert.equal((await scheduler.getJob({ jobId }, asAdmin())).status, schedulerV1.JobStatus.JOB_STATUS_SCHEDULED);
  await context.close();
});

test('a state-changing request from another origin, or without the CSRF token, is refused; from the page itself a control token cancels', { skip, timeout: 120_000 }, async () => {
  const jobId = await scheduledJob();
  const { context, page, errors } = await loggedIn('admin');
  const cancel = `${base}/v1/jobs/${jobId}:cancel`;

  // A page of another origin submits a form to the dashboard in the same browser, session cookie and all.
  const other = await context.newPage();
  await other.goto(`${elsewhereBase}/?target=${encodeURIComponent(cancel)}`);
  const [answer] = await Promise.all([other.waitForNavigation(), other.evaluate(() => /** @type {any} */ (globalThis).document.getElementById('f').submit())]);
  assert.equal(answer?.status(), 403);
  assert.match(String(await other.textContent('body')), /refused: the request's Origin \(http:\/\/127\.0\.0\.1:\d+\) is not the dashboard's/);
  await other.close();

  const cookie = await cookieHeader(context);
  const post = (headers) => fetch(cancel, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ jobId }) });
  assert.equal((await post({ origin: 'https://evil.example' })).status, 403, 'a forged Origin');
  const noCsrf = await post({ origin: base });
  assert.equal(noCsrf.status, 403, 'the right Origin without the CSRF token');
  assert.match(/** @type {{ message: string }} */ (await noCsrf.json()).message, /CSRF token/);
  assert.equal((await scheduler.getJob({ jobId }, asAdmin())).status, schedulerV1.JobStatus.JOB_STATUS_SCHEDULED, 'none of them cancelled it');

  await page.goto(`${base}/jobs/${jobId}`);
  await page.waitForSelector('#job[data-status="SCHEDULED"]');
  await page.click('#job-cancel');
  await page.click('#confirm-yes');
  await page.waitForFunction(() => /** @type {any} */ (globalThis).document.getElementById('action-outcome')?.textContent === 'Cancelled: the job is now CANCELLED.');
  await page.waitForSelector('#job[data-status="CANCELLED"]');
  assert.equal((await scheduler.getJob({ jobId }, asAdmin())).status, schedulerV1.JobStatus.JOB_STATUS_CANCELLED);
  assert.deepEqual(errors.filter((e) => !/401 \(Unauthorized\).*\/login/.test(e)), []);

  // Logging out ends the session: the old cookie reads nothing.
  await page.click('#logout');
  await page.waitForURL(/\/login/);
  assert.equal((await fetch(`${base}/v1/overview`, { headers: { cookie } })).status, 401);
  await context.close();
});
