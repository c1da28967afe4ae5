// The web dashboard in a real browser (Debian's chromium through playwright-core) against the
// real stack: every service, one broker, one PostgreSQL. A job scheduled through the gateway
// reaches DONE on the Jobs page, a stock run's progress bar climbs to 100% and a poison message
// is found, replayed once its cause is fixed, and processed, all without a reload; a job is
// paused and resumed from its page, each change confirmed first and its outcome said in words;
// every page opens with no console errors, and a screenshot of each is kept in
// test-results/dashboard/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { TOPICS } from '@pipewright/contracts';
import { ingestV1 } from '@pipewright/proto';
import { startStack, eventually, freePort, groupsToEnd, writeAppsFile, browserUnavailable, launchBrowser, watchedPage, screenshot, ORDER_GROUP, STOCK_GROUPS, MONITOR_GROUPS, ROOT, SCREENSHOTS_DIR } from '@pipewright/testkit';

const tag = randomUUID().slice(0, 8);
/** An app the executor knows from the start, and the scheduler only once its registry is fixed. */
const APP = `dashboard-${tag}`;
const DEFAULT_APPS = JSON.parse(readFileSync(join(ROOT, 'packages/contracts/apps.default.json'), 'utf8')).apps;
const TRADING_DATE = '2026-03-06';

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('playwright-core').BrowserContext} */
let context;
/** @type {import('playwright-core').Page} */
let page;
/** @type {string[]} */
let pageErrors;
let base = '';
/** What the earlier tests made, for the pages opened at the end. */
const made = { jobId: '', runId: '' };

/** Without chromium (and no way to install it) the file says why in one line and runs nothing. */
const unavailable = browserUnavailable();
const skip = unavailable ? `no browser: ${unavailable}` : false;

before(async () => {
  if (skip) return;
  const started = Date.now();
  stack = await startStack({ envFor: { 'stock-scraper': { STOCK_SYNTHETIC_LATENCY: '150ms', STOCK_PAGE_SIZE: '10', STOCK_SCRAPE_CONCURRENCY: '2', STOCK_SYNTHETIC_FAIL_REGIONS: 'ch', STOCK_SCRAPE_RETRY_BACKOFF: '10ms,10ms' } } });
  // The broker is shared with the other test files: these groups read only what this file sends.
  await groupsToEnd(stack.kafka, [
    { groupId: 'scheduler.ingest', topic: TOPICS.jobsIngest },
    { groupId: 'executor', topic: TOPICS.jobsDue },
    ORDER_GROUP,
    ...STOCK_GROUPS,
    ...MONITOR_GROUPS,
  ]);
  const moved = Date.now();
  const httpPort = await freePort();
  await stack.start('executor', { env: { APPS_CONFIG: writeAppsFile({ ...DEFAULT_APPS, [APP]: { handler: 'noop' } }) } });
  await Promise.all(['scheduler', 'ingest-gateway', 'order-aggregator', 'stock-scraper', 'stock-processor'].map((s) => stack.start(s)));
  const services = ['scheduler', 'executor', 'ingest-gateway', 'order-aggregator', 'stock-scraper', 'stock-processor'].map((s) => `${s}=${stack.address(s)}`);
  await stack.start('monitor', {
    env: { MONITOR_HTTP_PORT: String(httpPort), MONITOR_SERVICES: services.join(','), MONITOR_DASHBOARD_REFRESH: '500ms', MONITOR_LAG_INTERVAL: '1s', MONITOR_HEALTH_INTERVAL: '1s' },
  });
  base = `http://127.0.0.1:${httpPort}`;
  gateway = stack.client('ingest-gateway');
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  ({ page, errors: pageErrors } = await watchedPage(context));
  console.log(`# stack and browser ready in ${((Date.now() - started) / 1000).toFixed(1)} s (groups moved to the end in ${((moved - started) / 1000).toFixed(1)} s); the dashboard at ${base}/`);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
});

/** Marks the document, so that a test can tell it was never reloaded. */
const mark = () => page.evaluate(() => Object.assign(globalThis, { dashboardMark: 'not reloaded' }));
const stillMarked = async () => assert.equal(await page.evaluate(() => /** @type {any} */ (globalThis).dashboardMark), 'not reloaded', 'the page was not reloaded');

/** Clicks a button that asks for confirmation, then answers the dialog. */
async function confirmed(selector, answer = 'yes') {
  await page.click(selector);
  await page.waitForSelector('#confirm[open]');
  const question = await page.textContent('#confirm-question');
  await page.click(answer === 'yes' ? '#confirm-yes' : '#confirm-no');
  return question ?? '';
}

const outcomeText = async (selector, expected) => {
  const el = await page.waitForSelector(`${selector}:not([hidden])`);
  await page.waitForFunction(([sel, text]) => /** @type {any} */ (globalThis).document.querySelector(sel)?.textContent?.includes(text), [selector, expected], { timeout: 15_000 });
  return (await el.textContent()) ?? '';
};

test('a job scheduled through the gateway shows on the Jobs page and reaches DONE there without a reload; the filters find it by app and status', { skip, timeout: 180_000 }, async () => {
  await page.goto(`${base}/jobs`);
  await page.waitForSelector('.live.on');
  await mark();
  const requestId = `job-${tag}`;
  await gateway.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ requestId, appName: 'noop', scheduledTime: new Date(Date.now() + 2000).toISOString(), jobData: { tag } }));
  const row = await page.waitForSelector(`#jobs tr[data-request-id="${requestId}"]`, { timeout: 30_000 });
  const seen = await row.getAttribute('data-status');
  await page.waitForSelector(`#jobs tr[data-request-id="${requestId}"][data-status="DONE"]`, { timeout: 60_000 });
  await stillMarked();
  assert.ok(['SCHEDULED', 'RUNNING', 'DONE'].includes(String(seen)), `first seen as ${seen}`);

  made.jobId = String(await page.getAttribute(`#jobs tr[data-request-id="${requestId}"]`, 'data-job-id'));

  // The filters: this app and DONE list it; CANCELLED does not.
  await page.fill('#job-filters input[name=appName]', 'noop');
  await page.selectOption('#job-filters select[name=status]', 'JOB_STATUS_DONE');
  await Promise.all([page.waitForURL(/\/jobs\?appName=noop&status=JOB_STATUS_DONE$/), page.click('#job-filters button[type=submit]')]);
  await page.waitForSelector(`#jobs tr[data-request-id="${requestId}"]`);
  await page.selectOption('#job-filters select[name=status]', 'JOB_STATUS_CANCELLED');
  await Promise.all([page.waitForURL(/status=JOB_STATUS_CANCELLED/), page.click('#job-filters button[type=submit]')]);
  await page.waitForFunction(() => /** @type {any} */ (globalThis).document.getElementById('jobs')?.textContent === 'No jobs match.');
  await page.goto(`${base}/jobs`);
  await page.waitForSelector(`#jobs tr[data-request-id="${requestId}"]`);
  await page.click(`#jobs tr[data-request-id="${requestId}"] a`);
  await page.waitForSelector('#job[data-status="DONE"]');
  await page.waitForSelector('#runs tbody .badge.s-done', { timeout: 15_000 });
  assert.equal(await page.textContent('#job tr[data-field="app"] td'), 'noop');
});

test('a job is paused, resumed and triggered from its page, each confirmed first and said in words; cancelling a finished job says why it cannot', { skip, timeout: 120_000 }, async () => {
  const requestId = `every-${tag}`;
  await gateway.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ requestId, appName: 'noop', schedule: { everyMs: 3_600_000, cron: '', timezone: '' }, startAt: new Date(Date.now() + 3_600_000).toISOString() }));
  await page.goto(`${base}/jobs/${requestId}`);
  await page.waitForSelector('#job[data-status="SCHEDULED"]', { timeout: 30_000 });
  await mark();

  assert.match(await confirmed('#job-pause', 'no'), /Pause this job\?/);
  assert.match(await outcomeText('#action-outcome', 'Nothing was changed'), /Nothing was changed/);
  assert.equal(await page.getAttribute('#job', 'data-status'), 'SCHEDULED', 'no answer, no change');

  await confirmed('#job-pause');
  assert.match(await outcomeText('#action-outcome', 'Paused'), /Paused: the job is now PAUSED\./);
  await page.waitForSelector('#job[data-status="PAUSED"]');

  await confirmed('#job-resume');
  assert.match(await outcomeText('#action-outcome', 'Resumed'), /Resumed: the job is now SCHEDULED\./);
  await page.waitForSelector('#job[data-status="SCHEDULED"]');

  // Trigger now runs it once, beside its schedule: the run shows up on the page.
  assert.match(await confirmed('#job-trigger'), /Run this job now, once/);
  assert.match(await outcomeText('#action-outcome', 'Triggered'), /Triggered: the job is now [A-Z]+\./);
  await page.waitForSelector('#runs tbody .badge.s-done', { timeout: 30_000 });
  await stillMarked();

  await page.goto(`${base}/jobs/${made.jobId}`);
  await page.waitForSelector('#job[data-status="DONE"]');
  await confirmed('#job-cancel');
  const said = await outcomeText('#action-outcome', 'cannot');
  assert.equal(said, 'The job has finished (DONE), so it cannot be cancelled.', "the scheduler's FAILED_PRECONDITION in words");
  assert.equal(await page.getAttribute('#action-outcome', 'class'), 'notice error');
});

test("a stock run's progress bar climbs to 100% without a reload, and the finished run links to its screener; a failed region shows among the recent errors", { skip, timeout: 180_000 }, async () => {
  const runId = `run-${tag}`;
  made.runId = runId;
  await page.goto(`${base}/stocks/${runId}`);
  await page.waitForSelector('.live.on');
  await mark();
  // Read off the page every 100 ms, as a user would see it.
  await page.evaluate(() => {
    const seen = [];
    Object.assign(globalThis, { seenPercents: seen });
    setInterval(() => {
      const bar = /** @type {any} */ (globalThis).document.querySelector('#run [role=progressbar]');
      if (bar) seen.push(Number(bar.getAttribute('aria-valuenow')));
    }, 100);
  });
  const res = await gateway.startStockRun({ runId, regions: ['us', 'fr', 'de'], limit: 100, tradingDate: TRADING_DATE });
  assert.equal(res.runId, runId);
  await page.waitForSelector('#run [role=progressbar][aria-valuenow="100"]', { timeout: 150_000 });
  await page.waitForSelector('#run[data-complete="true"]');
  await stillMarked();
  const seen = /** @type {number[]} */ (await page.evaluate(() => /** @type {any} */ (globalThis).seenPercents));
  assert.ok(seen.length > 0 && seen[0] < 100, `the bar was seen below 100% first (${seen.slice(0, 5).join(', ')})`);
  assert.ok(
    seen.every((p, i) => i === 0 || p >= seen[i - 1]),
    'it never went down',
  );
  console.log(`# progress seen on the page: ${[...new Set(seen)].join(' → ')}`);
  for (const stage of ['scraping', 'processing']) assert.equal(await page.getAttribute(`#stages [aria-label="${stage} progress"]`, 'aria-valuenow'), '100');
  assert.equal(await page.locator('#regions tbody tr').count(), 3);
  assert.equal(await page.textContent('#stages tbody tr:nth-child(2) td:nth-child(3)'), '300', 'a hundred symbols of each region processed');

  await page.click('#screener-link');
  await page.waitForSelector('#ratios tbody tr');
  assert.ok((await page.locator('#ratios tbody tr').count()) > 0, 'the screener lists the run');
  await page.goto(`${base}/stocks`);
  await page.waitForSelector(`#runs tr[data-run-id="${runId}"] [aria-label="run ${runId}"][aria-valuenow="100"]`);

  // A run whose region fails every attempt: the list shows it among the recent errors, its page the region FAILED.
  const failing = `failing-${tag}`;
  await mark();
  await gateway.startStockRun({ runId: failing, regions: ['ch'], limit: 5, tradingDate: TRADING_DATE });
  const error = await page.waitForSelector(`#stock-errors tr:has(a[href="/stocks/${failing}"])`, { timeout: 60_000 });
  assert.match(String(await error.textContent()), /stock-scraper/);
  await stillMarked();
  await page.goto(`${base}/stocks/${failing}`);
  await page.waitForSelector('#regions .badge.s-failed');
  assert.match(String(await page.textContent('#run-errors')), /scraping\s*ch/);
});

test('a poison message is found on the Dead letters page, inspected, replayed once its cause is fixed, and processed', { skip, timeout: 180_000 }, async () => {
  const requestId = `poison-${tag}`;
  const producer = stack.kafka.producer();
  await producer.connect();
  await producer.send({ topic: TOPICS.jobsIngest, acks: -1, messages: [{ key: requestId, value: JSON.stringify({ requestId, appName: APP, scheduledTime: new Date().toISOString(), jobData: { tag } }), headers: { 'test-tag': tag } }] });
  await producer.disconnect();

  await page.goto(`${base}/dead-letters?errorContains=${encodeURIComponent(APP)}`);
  await mark();
  const row = `#dead-letters tr[data-request-id="${requestId}"]`;
  await page.waitForSelector(row, { timeout: 60_000 });
  await page.click(`${row} button.link`);
  await page.waitForSelector('#inspect h2');
  const inspected = String(await page.textContent('#inspect'));
  assert.match(inspected, new RegExp(`unknown app "${APP}"`), 'why it was dead-lettered');
  assert.match(inspected, /test-tag/, 'its own headers');
  assert.match(inspected, /original-topic/, 'the dead-letter headers');
  assert.equal(JSON.parse(String(await page.textContent('#payload'))).requestId, requestId, 'the payload as JSON');

  // The cause: the scheduler's registry lacks the app. Fixed, and the scheduler restarted where the monitor looks for it.
  const { port } = stack.proc('scheduler');
  await stack.proc('scheduler').stop();
  await stack.start('scheduler', { port, env: { APPS_CONFIG: writeAppsFile({ ...DEFAULT_APPS, [APP]: { handler: 'noop' } }) } });

  await page.check(`${row} input.pick`);
  assert.match(String(await page.textContent('#replay-selected')), /Replay selected \(1\)/);
  assert.match(await confirmed('#replay-selected'), /Send the dead letter .* again to scheduler\.jobs\.ingest\?/);
  assert.match(await outcomeText('#replay-outcome', 'sent to'), /sent to scheduler\.jobs\.ingest \(partition \d+, offset \d+\)/);
  await page.waitForSelector(`${row} .badge.s-sent`, { timeout: 15_000 });
  await stillMarked();

  await page.goto(`${base}/jobs/${requestId}`);
  await page.waitForSelector('#job[data-status="DONE"]', { timeout: 60_000 });

  // A second replay of the same dead letter sends nothing, and says why.
  await page.goto(`${base}/dead-letters?errorContains=${encodeURIComponent(APP)}`);
  await page.waitForSelector(row);
  await page.click(`${row} button.link`);
  await confirmed('#replay-one');
  assert.match(await outcomeText('#replay-outcome', 'not sent'), /not sent: it was replayed before/);
});

test('without a login, the local dashboard answers only to loopback names, so a page of another site cannot read it by DNS rebinding', { skip }, async () => {
  const get = (host) =>
    new Promise((resolve, reject) =>
      http.get(`${base}/v1/overview`, { headers: { host } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      }).on('error', reject),
    );
  assert.equal(await get(new URL(base).host), 200);
  assert.equal(await get(`localhost:${new URL(base).port}`), 200);
  assert.equal(await get('rebound.example:80'), 421);
});

test('every page opens with no console errors, draws its charts from data, and is kept as a screenshot', { skip, timeout: 180_000 }, async () => {
  await gateway.submitOrders({
    orders: Array.from({ length: 30 }, (_, i) => ({ orderId: `o-${tag}-${i}`, customerId: '', currency: 'USD', product: ['apples', 'pears', 'plums'][i % 3], price: 1.5 + i, quantity: 1 + (i % 2), createdAt: undefined })),
  });
  await eventually(async () => (await stack.client('order-aggregator').getAggregate({})).count === 30, { message: 'the orders counted' });

  /** [path, screenshot name, what shows the page is drawn, a chart it has] */
  const pages = [
    ['/', 'overview', '#health tbody tr', '#rate-chart canvas'],
    ['/jobs', 'jobs', '#jobs tbody tr'],
    [`/jobs/${made.jobId}`, 'job', '#runs tbody tr'],
    ['/stocks', 'stock-runs', '#runs tbody tr'],
    [`/stocks/${made.runId}`, 'stock-run', '#run[data-complete="true"]'],
    [`/stocks/${made.runId}/screener`, 'screener', '#ratios tbody tr'],
    ['/orders', 'orders', '#aggregates tbody tr', '#windows-chart canvas'],
    ['/groups', 'consumer-groups', '#groups tbody tr', '#lag-chart canvas'],
    ['/groups/scheduler.ingest', 'consumer-group', '#partitions tbody tr', '#partition-lag-chart canvas'],
    ['/dead-letters', 'dead-letters', '#dlq-counts tbody tr', '#dlq-chart canvas'],
  ];
  for (const [path, name, drawn, chart] of pages) {
    const { page: p, errors } = await watchedPage(context);
    await p.goto(`${base}${path}`);
    await p.waitForSelector(drawn, { timeout: 30_000 });
    if (chart) await p.waitForSelector(chart, { timeout: 30_000 });
    // A few live updates.
    await p.waitForTimeout(1500);
    const file = await screenshot(p, name);
    assert.deepEqual(errors, [], `${path}: no console errors`);
    console.log(`# ${path}: ${file}`);
    await p.close();
  }
  // The orders page's figures agree with the aggregator: 30 orders of 3 products.
  await page.goto(`${base}/orders`);
  await page.waitForFunction(() => /** @type {any} */ (globalThis).document.getElementById('orders-products')?.textContent === '3');
  assert.equal(await page.textContent('#orders-count'), '30');
  assert.equal(await page.locator('#aggregates tbody tr').count(), 3);
  // The browser logs the refused cancel's 409 as a failed resource: that refusal was the point.
  const refusedCancel = (e) => /Failed to load resource: .* 409 .*:cancel\)$/.test(e);
  assert.deepEqual(pageErrors.filter((e) => !refusedCancel(e)), [], 'no console errors on the pages the tests above used');
  assert.ok(SCREENSHOTS_DIR.endsWith(join('test-results', 'dashboard')));
});
