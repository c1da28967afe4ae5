// The market-data pipeline against the real broker and database: StartStockRun on the gateway,
// the stock-scraper (synthetic source with page failures and a region that always fails; the
// http source against a local server with fixture companies), the stock-processor (ratios in
// PostgreSQL, simulated failures, the DLQ) and the run's progress in the monitor. Counts are
// checked exactly against what the topics carried and what PostgreSQL holds; replays, a
// SIGKILLed processor and monitor, and a scheduled stock.run change none of them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { TOPICS, createRng } from '@pipewright/contracts';
import { ingestV1, monitorV1, stockprocessorV1 } from '@pipewright/proto';
import { startStack, eventually, tapTopic, groupsToEnd, messageJson, grpcError, ROOT, PIPELINE_TOPICS, STOCK_GROUPS } from '@pipewright/testkit';

const { RatioField } = stockprocessorV1;
const PROCESSING_FAILURE_RATE = 0.05;
const TRADING_DATE = '2026-03-02';
const GROUPS = [
  ...STOCK_GROUPS,
  { groupId: 'scheduler.ingest', topic: TOPICS.jobsIngest },
  { groupId: 'scheduler.status', topic: TOPICS.jobsStatus },
  { groupId: 'executor', topic: TOPICS.jobsDue },
];

// ---------------------------------------------------------------------------------------------
// The http source: fixture companies for region us, two pages, page 2 failing once with 503.

const FIXTURES = [
  // Hand-computed below: market cap 50M, EPS 5, P/E 10, P/B 2, P/S 0.5, EV 65M, EV/EBITDA 6.5, D/E 0.8, ROE 0.2, current 1.5, yield 0.04.
  {
    symbol: 'FIXA',
    name: 'Fixture Alpha Inc.',
    exchange: 'NYSE',
    currency: 'USD',
    sector: 'Industrials',
    price: 50,
    sharesOutstanding: 1_000_000,
    fundamentals: { netIncome: 5e6, equity: 25e6, revenue: 100e6, ebitda: 10e6, totalDebt: 20e6, cash: 5e6, currentAssets: 30e6, currentLiabilities: 20e6, dividendsPerShare: 2 },
  },
  // A loss, negative equity, EBITDA 0, no current liabilities: P/E, P/B, ROE, D/E, EV/EBITDA and the current ratio are null.
  {
    symbol: 'FIXB',
    name: 'Fixture Beta Corp.',
    exchange: 'NASDAQ',
    currency: 'USD',
    sector: 'Information Technology',
    price: 10,
    sharesOutstanding: 2_000_000,
    fundamentals: { netIncome: -1e6, equity: -4e6, revenue: 8e6, ebitda: 0, totalDebt: 6e6, cash: 1e6, currentAssets: 3e6, currentLiabilities: 0, dividendsPerShare: 0 },
  },
  // Figures the source does not have.
  { symbol: 'FIXC', name: 'Fixture Gamma Co.', exchange: 'NYSE', currency: 'USD', sector: 'Energy', price: 20, sharesOutstanding: 10_000_000, fundamentals: { netIncome: 100e6, ebitda: 250e6 } },
  // Above the run's market-cap filter (5B > 1B): never emitted.
  { symbol: 'FIXD', name: 'Fixture Delta Inc.', exchange: 'NYSE', currency: 'USD', sector: 'Energy', price: 100, sharesOutstanding: 50_000_000, fundamentals: {} },
  // No price: emitted, then a processing error.
  { symbol: 'FIXE', name: 'Fixture Epsilon Inc.', exchange: 'NYSE', currency: 'USD', sector: 'Energy', price: 0, sharesOutstanding: 1_000_000, fundamentals: {} },
];
const pageAttempts = new Map();
const fixtureServer = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const page = Number(url.searchParams.get('page'));
  const key = `${url.searchParams.get('date')}|${page}`;
  pageAttempts.set(key, (pageAttempts.get(key) ?? 0) + 1);
  if (url.pathname !== '/us/companies') return void res.writeHead(404).end();
  if (page === 2 && pageAttempts.get(key) === 1) return void res.writeHead(503).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ totalPages: 2, usdRate: 1, companies: page === 1 ? FIXTURES.slice(0, 3) : FIXTURES.slice(3) }));
});

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').GatewayClient} */
let gateway;
/** @type {import('@pipewright/testkit').MonitorClient} */
let monitor;
/** @type {import('@pipewright/testkit').StockProcessorClient} */
let processor;
/** @type {Record<string, import('@pipewright/testkit').Tap>} */
const taps = {};

before(async () => {
  await new Promise((r) => fixtureServer.listen(0, '127.0.0.1', () => r(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (fixtureServer.address()).port;
  stack = await startStack({
    envFor: {
      'stock-scraper': {
        STOCK_SYNTHETIC_LATENCY: '5ms',
        STOCK_PAGE_SIZE: '25',
        STOCK_SYNTHETIC_FAILURE_RATE: '0.25',
        STOCK_SYNTHETIC_FAIL_REGIONS: 'ch',
        STOCK_SCRAPE_RETRY_BACKOFF: '10ms,10ms,10ms',
        STOCK_HTTP_URL: `http://127.0.0.1:${port}/{region}/companies?date={date}&page={page}&size={pageSize}`,
        STOCK_HTTP_TIMEOUT: '2s',
      },
      // Small batches, so that a run is still being processed when its processor is killed.
      'stock-processor': { STOCK_PROCESSING_FAILURE_RATE: String(PROCESSING_FAILURE_RATE), STOCK_PROCESSOR_BATCH: '20', KAFKA_SESSION_TIMEOUT: '6s' },
      monitor: { KAFKA_SESSION_TIMEOUT: '6s' },
    },
  });
  // Earlier stacks of this run share the broker: these groups read only what is sent from now on.
  await groupsToEnd(stack.kafka, GROUPS);
  for (const topic of [TOPICS.stockScrapingTasks, TOPICS.stockProcessingTasks, TOPICS.stockProcessingDlq, ...PIPELINE_TOPICS.slice(1)]) taps[topic] = await tapTopic(stack.kafka, topic);
  await Promise.all(['ingest-gateway', 'stock-scraper', 'stock-processor', 'monitor'].map((s) => stack.start(s)));
  gateway = stack.client('ingest-gateway');
  monitor = stack.client('monitor');
  processor = stack.client('stock-processor');
});

after(async () => {
  for (const t of Object.values(taps)) await t.stop();
  await stack?.stop();
  await new Promise((r) => fixtureServer.close(() => r(undefined)));
});

/** The messages a tap holds for one run, as JSON. */
const ofRun = (topic, runId) =>
  taps[topic].messages
    .map((m) => ({ m, v: messageJson(m) }))
    .filter((x) => x.v?.runId === runId)
    .map((x) => x.v);

const simulatedFailure = (runId, symbol) => createRng(`${runId}|${symbol}`).next() < PROCESSING_FAILURE_RATE;

/** A run id none of whose given symbols fails on purpose. */
function runIdSparing(symbols) {
  for (;;) {
    const id = `fixtures-${randomUUID()}`;
    if (!symbols.some((s) => simulatedFailure(id, s))) return id;
  }
}

/** Every status WatchPipeline sends for the run, once its stream ends. */
function watchRun(runId, client = monitor, timeoutMs = 180_000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const call = client.raw.watchPipeline(monitorV1.GetPipelineStatusRequest.fromPartial({ runId }), { deadline: Date.now() + timeoutMs });
    call.on('data', (s) => got.push(s));
    call.on('error', reject);
    call.on('end', () => resolve(got));
  });
}

const statusOf = (runId, client = monitor) => client.getPipelineStatus({ runId });
const completeRun = (runId, client = monitor, timeoutMs = 180_000) =>
  eventually(async () => ((await statusOf(runId, client).catch(() => undefined))?.complete ? statusOf(runId, client) : undefined), { timeoutMs, intervalMs: 250, message: `run ${runId} complete` });

/** Whether the group has read everything of the topics (no lag). */
async function caughtUp(groupId, topics) {
  const admin = stack.kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const at = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
      if (ends.some((e) => Number(e.high) > Math.max(0, at.get(e.partition) ?? 0))) return false;
    }
    return true;
  } finally {
    await admin.disconnect();
  }
}

/**
 * What the topics carried for the run, once every region reported and every emitted symbol was
 * answered: regions completed and failed, the processing tasks (deduplicated by region and
 * symbol), and the symbols completed and failed.
 */
async function carried(runId, regionCount) {
  return eventually(
    () => {
      const completed = new Map(ofRun(TOPICS.scrapingCompletion, runId).map((c) => [c.region, c.symbolsEmitted]));
      const failed = new Set(ofRun(TOPICS.scrapingErrors, runId).map((e) => e.region));
      const tasks = new Map(ofRun(TOPICS.stockProcessingTasks, runId).map((t) => [`${t.region}|${t.symbol}`, t]));
      const done = new Set(ofRun(TOPICS.processingCompletion, runId).map((c) => `${c.region}|${c.symbol}`));
      const errors = new Set(ofRun(TOPICS.processingErrors, runId).map((c) => `${c.region}|${c.symbol}`));
      const emitted = [...completed.values()].reduce((a, b) => a + b, 0);
      if (new Set([...completed.keys(), ...failed]).size < regionCount || done.size + errors.size < emitted) return undefined;
      return { completed, failed, tasks, done, errors, emitted };
    },
    { timeoutMs: 120_000, message: `every message of run ${runId} tapped` },
  );
}

/** The monitor's figures of a complete run equal what the topics carried and what PostgreSQL holds. */
async function assertExact(runId, regionCount, client = monitor) {
  const c = await carried(runId, regionCount);
  const s = await statusOf(runId, client);
  assert.equal(s.complete, true);
  assert.equal(s.percent, 100);
  assert.deepEqual(
    [s.scraping?.sent, s.scraping?.completed, s.scraping?.failed, s.scraping?.pending],
    [regionCount, c.completed.size, c.failed.size, 0],
    'scraping: every region, completed or failed',
  );
  assert.equal(c.tasks.size, c.emitted, 'one processing task per symbol emitted');
  assert.deepEqual([s.processing?.sent, s.processing?.completed, s.processing?.failed, s.processing?.pending], [c.emitted, c.done.size, c.errors.size, 0], 'processing: every symbol, completed or failed');
  assert.deepEqual([s.sent, s.completed, s.failed, s.pending], [regionCount + c.emitted, c.completed.size + c.done.size, c.failed.size + c.errors.size, 0]);
  const [rows] = await stack.query('SELECT count(*)::int AS n, count(DISTINCT symbol)::int AS symbols FROM stock.ratios WHERE run_id = $1', [runId]);
  assert.deepEqual(rows, { n: c.done.size, symbols: c.done.size }, 'one row per symbol completed');
  const [failures] = await stack.query('SELECT count(*)::int AS n FROM stock.failures WHERE run_id = $1', [runId]);
  assert.equal(failures.n, c.errors.size);
  return { status: s, carried: c };
}

// ---------------------------------------------------------------------------------------------

let mainRun = '';

test('StartStockRun checks every field and names it: an unknown region, min above max, an unparseable cap', async () => {
  await assert.rejects(gateway.startStockRun({ regions: ['us', 'xx'] }), grpcError(status.INVALID_ARGUMENT, /^regions\[1\]: "xx" is not a known region/));
  await assert.rejects(gateway.startStockRun({ regions: [] }), grpcError(status.INVALID_ARGUMENT, /^regions: must name at least one region/));
  await assert.rejects(gateway.startStockRun({ regions: ['us'], marketCap: { min: '1B', max: '100M' } }), grpcError(status.INVALID_ARGUMENT, 'market_cap.min: must not be above max (1000000000 > 100000000)'));
  await assert.rejects(gateway.startStockRun({ regions: ['us'], marketCap: { min: undefined, max: 'plenty' } }), grpcError(status.INVALID_ARGUMENT, /^market_cap\.max: "plenty" is not an amount/));
  await assert.rejects(gateway.startStockRun({ regions: ['us'], tradingDate: '2026-13-01' }), grpcError(status.INVALID_ARGUMENT, /^trading_date: must be a date YYYY-MM-DD/));
  await assert.rejects(gateway.startStockRun({ regions: ['us'], source: 'ftp' }), grpcError(status.INVALID_ARGUMENT, /^source: must be one of synthetic, http/));
});

test('5 regions of 200 symbols with page failures and simulated processing failures: WatchPipeline climbs to 100% and every count is exact', { timeout: 300_000 }, async () => {
  const res = await gateway.startStockRun({ regions: ['us', 'fr', 'de', 'uk', 'jp'], limit: 200, tradingDate: TRADING_DATE });
  mainRun = res.runId;
  assert.equal(res.tasksSent, 5);
  assert.deepEqual(res.regions, ['us', 'fr', 'de', 'uk', 'jp']);
  const snapshots = await watchRun(res.runId);

  assert.ok(snapshots.length >= 2, `several snapshots (${snapshots.length})`);
  const percents = snapshots.map((s) => s.percent);
  percents.reduce((prev, p) => (assert.ok(p >= prev, `percent never goes down: ${percents.join(', ')}`), p), 0);
  const answered = snapshots.map((s) => s.completed + s.failed);
  answered.reduce((prev, n) => (assert.ok(n >= prev, `completed + failed never go down: ${answered.join(', ')}`), n), 0);
  const last = snapshots[snapshots.length - 1];
  assert.equal(last.percent, 100);
  assert.equal(last.complete, true);
  assert.ok(snapshots.slice(0, -1).every((s) => !s.complete), 'the stream ends with the first complete snapshot');

  const { status: s, carried: c } = await assertExact(res.runId, 5);
  assert.deepEqual([last.sent, last.completed, last.failed, last.pending], [s.sent, s.completed, s.failed, s.pending], 'the last snapshot is the status');
  // The failures were the simulated ones, exactly: the symbols the run id and symbol pick.
  const expectedFailures = [...c.tasks.values()].filter((t) => simulatedFailure(res.runId, t.symbol)).map((t) => `${t.region}|${t.symbol}`);
  assert.ok(expectedFailures.length > 10, `${expectedFailures.length} simulated failures`);
  assert.deepEqual([...c.errors].sort(), expectedFailures.sort());
  assert.equal(c.emitted, 1000 - 200 * c.failed.size, 'every region that was scraped emitted its 200 symbols');
  assert.deepEqual(
    s.regionProgress.map((r) => r.region),
    ['us', 'fr', 'de', 'uk', 'jp'],
  );
  assert.ok(s.startedAt && s.finishedAt && s.durationMs === s.finishedAt.getTime() - s.startedAt.getTime());
  assert.ok(s.recentErrors.length > 0 && s.recentErrors.every((e) => e.stage === 'processing' || e.stage === 'scraping'));
  const scraper = await stack.client('stock-scraper').getStats({});
  assert.ok(scraper.pageRetries > 0, `page failures were retried (${scraper.pageRetries})`);
  assert.ok(scraper.tasksReceived >= 5);
  const stats = await processor.getStats({});
  assert.ok(stats.tasksCompleted >= c.done.size && stats.errors >= c.errors.size && stats.runs >= 1);
});

test('the screener filters and sorts on any ratio, in pages: P/E at most 15, by ROE, highest first', async () => {
  assert.ok(mainRun, 'the 5-region run ran');
  const filters = [{ field: RatioField.RATIO_FIELD_PE, max: 15 }];
  const seen = [];
  let pageToken = '';
  do {
    const page = await processor.listRatios({ runId: mainRun, filters, orderBy: RatioField.RATIO_FIELD_ROE, descending: true, pageSize: 37, pageToken });
    seen.push(...page.ratios);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const [truth] = await stack.query('SELECT count(*)::int AS n FROM stock.ratios WHERE run_id = $1 AND pe_ratio <= 15', [mainRun]);
  assert.equal(seen.length, truth.n);
  assert.ok(seen.length > 37, 'more than one page');
  assert.equal(new Set(seen.map((r) => r.symbol)).size, seen.length, 'no symbol twice across pages');
  assert.ok(seen.every((r) => r.peRatio !== undefined && r.peRatio <= 15));
  const roes = seen.map((r) => r.roe ?? -Infinity);
  assert.deepEqual(
    roes,
    [...roes].sort((a, b) => b - a),
    'highest ROE first, those without last',
  );
  const banks = await processor.listRatios({ runId: mainRun, region: 'de', sector: 'Financials', orderBy: RatioField.RATIO_FIELD_MARKET_CAP, pageSize: 500 });
  assert.ok(banks.ratios.length > 0 && banks.ratios.every((r) => r.region === 'de' && r.sector === 'Financials'));
  const caps = banks.ratios.map((r) => r.marketCap);
  assert.deepEqual(
    caps,
    [...caps].sort((a, b) => a - b),
  );
  const one = await processor.getRatios({ symbol: banks.ratios[0].symbol });
  assert.equal(one.runId, mainRun, 'the latest run that stored it');
  await assert.rejects(processor.getRatios({ symbol: 'NO-SUCH' }), grpcError(status.NOT_FOUND));
  await assert.rejects(processor.listRatios({ filters: [{ field: RatioField.RATIO_FIELD_UNSPECIFIED }] }), grpcError(status.INVALID_ARGUMENT, /^filters\[0\]\.field/));
  const runs = await monitor.listPipelineRuns({ pageSize: 50 });
  assert.ok(runs.runs.some((r) => r.runId === mainRun && r.complete));
});

test('replaying the same scraping and processing tasks adds no row and changes no count', { timeout: 240_000 }, async () => {
  assert.ok(mainRun, 'the 5-region run ran');
  const before = await assertExact(mainRun, 5);
  const processorBefore = await processor.getStats({});
  const scraping = taps[TOPICS.stockScrapingTasks].messages.filter((m) => messageJson(m)?.runId === mainRun);
  const processing = taps[TOPICS.stockProcessingTasks].messages.filter((m) => messageJson(m)?.runId === mainRun);
  assert.equal(scraping.length, 5);
  const producer = stack.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: TOPICS.stockScrapingTasks, messages: scraping.map((m) => ({ key: m.key, value: m.value })) });
    await producer.send({ topic: TOPICS.stockProcessingTasks, messages: processing.map((m) => ({ key: m.key, value: m.value })) });
  } finally {
    await producer.disconnect();
  }
  // Each symbol stored is processed twice more: once replayed, once re-scraped.
  await eventually(async () => (await processor.getStats({})).duplicates >= processorBefore.duplicates + 2 * before.carried.done.size, { timeoutMs: 120_000, message: 'the replayed tasks processed' });
  await eventually(() => caughtUp('monitor.pipeline', PIPELINE_TOPICS), { timeoutMs: 60_000, message: 'the monitor has read every event' });
  const after = await statusOf(mainRun);
  assert.deepEqual([after.sent, after.completed, after.failed, after.pending, after.percent], [before.status.sent, before.status.completed, before.status.failed, 0, 100]);
  assert.deepEqual(after.processing && [after.processing.sent, after.processing.completed, after.processing.failed], before.status.processing && [before.status.processing.sent, before.status.processing.completed, before.status.processing.failed]);
  const [rows] = await stack.query('SELECT count(*)::int AS n FROM stock.ratios WHERE run_id = $1', [mainRun]);
  assert.equal(rows.n, before.carried.done.size, 'no duplicate rows');
});

test('a region failing every retry ends the run with that region failed', { timeout: 120_000 }, async () => {
  const { runId } = await gateway.startStockRun({ regions: ['ch', 'nl'], limit: 20, tradingDate: TRADING_DATE });
  const s = await completeRun(runId);
  const ch = s.regionProgress.find((r) => r.region === 'ch');
  const nl = s.regionProgress.find((r) => r.region === 'nl');
  assert.equal(ch?.state, 'FAILED');
  assert.match(ch?.error ?? '', /region ch is set to fail/);
  assert.equal(nl?.state, 'COMPLETED');
  assert.equal(nl?.symbolsEmitted, 20);
  assert.deepEqual(s.scraping && [s.scraping.sent, s.scraping.completed, s.scraping.failed], [2, 1, 1]);
  const failure = s.recentErrors.find((e) => e.stage === 'scraping');
  assert.deepEqual(failure && [failure.region, failure.attempts], ['ch', 4], 'the first attempt and three retries');
  await assertExact(runId, 2);
});

test('ratios of fixture companies from the http source equal the hand-computed values; the market-cap filter drops the largest', { timeout: 120_000 }, async () => {
  const runId = runIdSparing(FIXTURES.map((f) => f.symbol));
  const res = await gateway.startStockRun({ regions: ['us'], source: 'http', marketCap: { min: undefined, max: '1B' }, tradingDate: '2026-03-04', runId });
  assert.equal(res.runId, runId);
  const s = await completeRun(runId);
  assert.deepEqual(s.regionProgress[0] && [s.regionProgress[0].state, s.regionProgress[0].symbolsEmitted, s.regionProgress[0].symbolsCompleted, s.regionProgress[0].symbolsFailed], ['COMPLETED', 4, 3, 1]);
  assert.equal(pageAttempts.get('2026-03-04|2'), 2, 'page 2 answered 503 once and was fetched again');
  const get = (symbol) => processor.getRatios({ symbol, runId });
  const a = await get('FIXA');
  assert.deepEqual(
    {
      marketCap: a.marketCap,
      marketCapUsd: a.marketCapUsd,
      eps: a.eps,
      peRatio: a.peRatio,
      pbRatio: a.pbRatio,
      psRatio: a.psRatio,
      enterpriseValue: a.enterpriseValue,
      evEbitda: a.evEbitda,
      debtToEquity: a.debtToEquity,
      roe: a.roe,
      currentRatio: a.currentRatio,
      dividendYield: a.dividendYield,
    },
    { marketCap: 50e6, marketCapUsd: 50e6, eps: 5, peRatio: 10, pbRatio: 2, psRatio: 0.5, enterpriseValue: 65e6, evEbitda: 6.5, debtToEquity: 0.8, roe: 0.2, currentRatio: 1.5, dividendYield: 0.04 },
  );
  assert.deepEqual([a.name, a.exchange, a.currency, a.sector, a.tradingDate, a.price, a.sharesOutstanding], ['Fixture Alpha Inc.', 'NYSE', 'USD', 'Industrials', '2026-03-04', 50, 1_000_000]);
  const b = await get('FIXB');
  assert.deepEqual(
    [b.marketCap, b.eps, b.peRatio, b.pbRatio, b.psRatio, b.enterpriseValue, b.evEbitda, b.debtToEquity, b.roe, b.currentRatio, b.dividendYield],
    [20e6, -0.5, undefined, undefined, 2.5, 25e6, undefined, undefined, undefined, undefined, 0],
    'P/E null for EPS <= 0; ratios over equity <= 0, EBITDA 0 and no liabilities null',
  );
  const c = await get('FIXC');
  assert.deepEqual(
    [c.marketCap, c.eps, c.peRatio, c.pbRatio, c.psRatio, c.enterpriseValue, c.evEbitda, c.roe, c.dividendYield],
    [2e8, 10, 2, undefined, undefined, undefined, undefined, undefined, undefined],
    'what the source lacks gives null',
  );
  await assert.rejects(get('FIXD'), grpcError(status.NOT_FOUND), 'above the filter: never emitted');
  await assert.rejects(get('FIXE'), grpcError(status.NOT_FOUND));
  const failed = s.recentErrors.find((e) => e.symbol === 'FIXE');
  assert.equal(failed?.error, 'price must be > 0 (got 0)');
});

test('a stock-processor and the monitor SIGKILLed mid-run lose nothing: the run completes with exact counts', { timeout: 300_000 }, async () => {
  const { runId } = await gateway.startStockRun({ regions: ['us', 'jp', 'uk'], tradingDate: TRADING_DATE });
  const atKill = await eventually(
    async () => {
      const s = await statusOf(runId).catch(() => undefined);
      return s && s.processing && s.processing.completed > 0 ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 20, message: 'the first symbols processed' },
  );
  stack.proc('stock-processor').child.kill('SIGKILL');
  stack.proc('monitor').child.kill('SIGKILL');
  assert.ok(!atKill.complete, 'killed before the run was done');
  await Promise.all([stack.start('stock-processor', { as: 'stock-processor-2' }), stack.start('monitor', { as: 'monitor-2' })]);
  const monitor2 = stack.client('monitor', 'monitor-2');
  await completeRun(runId, monitor2, 240_000);
  const { carried: c } = await assertExact(runId, 3, monitor2);
  const sizes = { us: 600, jp: 400, uk: 300 };
  assert.equal(c.emitted, [...c.completed.keys()].reduce((n, region) => n + sizes[region], 0), 'every symbol of the scraped regions');
  processor = stack.client('stock-processor', 'stock-processor-2');
  monitor = monitor2;
});

test('a processing task that cannot be decoded goes to stock-processing-dlq with the dead-letter headers; the next task is processed', { timeout: 120_000 }, async () => {
  const dlq = taps[TOPICS.stockProcessingDlq];
  const start = dlq.messages.length;
  const producer = stack.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: TOPICS.stockProcessingTasks, messages: [{ key: 'BAD', value: Buffer.from('not a task'), partition: 2, headers: { 'x-origin': 'test' } }] });
  } finally {
    await producer.disconnect();
  }
  const m = await eventually(() => dlq.messages.slice(start).find((x) => x.key?.toString() === 'BAD'), { timeoutMs: 60_000, message: 'the dead letter' });
  assert.equal(m.value?.toString(), 'not a task');
  assert.equal(m.headersText['x-origin'], 'test');
  assert.equal(m.headersText['original-topic'], TOPICS.stockProcessingTasks);
  assert.equal(m.headersText['original-partition'], '2');
  assert.ok(m.headersText['original-offset']);
  assert.match(m.headersText['error-message'], /not a ProcessingTask: the value is not JSON/);
  assert.ok(!Number.isNaN(Date.parse(m.headersText['error-timestamp'])));
  const { runId } = await gateway.startStockRun({ regions: ['it'], limit: 5, tradingDate: TRADING_DATE });
  await completeRun(runId);
});

test('a scheduled stock.run job starts a run: its run id is the executor run id', { timeout: 180_000 }, async () => {
  await Promise.all([stack.start('scheduler'), stack.start('executor')]);
  const scheduler = stack.client('scheduler');
  const job = await gateway.scheduleJob(ingestV1.ScheduleJobRequest.fromPartial({ appName: 'stock.run', jobData: { regions: ['es'], limit: 10, tradingDate: TRADING_DATE } }));
  const stored = await eventually(() => scheduler.getJob({ jobId: job.requestId }).catch(() => undefined), { message: 'the job stored' });
  const run = await eventually(async () => (await scheduler.listRuns({ jobId: stored.jobId })).runs[0], { timeoutMs: 60_000, message: 'the job fired' });
  const s = await completeRun(run.runId);
  assert.deepEqual(s.regions, ['es']);
  assert.equal(s.tradingDate, TRADING_DATE);
  assert.equal(s.processing?.sent, 10);
});

test('npm run stock-demo starts a run, prints its progress until 100%, then the top of the screener', { timeout: 180_000 }, async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['scripts/stock-demo.mjs', '--regions', 'au,hk', '--limit', '30', '--date', TRADING_DATE, '--max-pe', '25', '--top', '5', '--gateway', stack.address('ingest-gateway'), '--monitor', stack.address('monitor-2'), '--processor', stack.address('stock-processor-2')],
    { cwd: ROOT, timeout: 150_000 },
  );
  const lines = stdout.trim().split('\n');
  const runId = /^run (\S+): 2 scraping tasks \(au, hk\), trading date 2026-03-02$/.exec(lines[0])?.[1];
  assert.ok(runId, lines[0]);
  const progress = lines.filter((l) => /^\s*[\d.]+s\s+[\d.]+%/.test(l));
  assert.match(progress[progress.length - 1], /100\.0%  regions 2\/2 \(0 failed\)  symbols sent    60/);
  assert.ok(lines.some((l) => /^complete in [\d.]+ s: scraping/.test(l)));
  const header = lines.findIndex((l) => /^top \d+ by return on equity with P\/E <= 25:$/.test(l));
  assert.ok(header > 0, stdout);
  assert.match(lines[header + 1], /^symbol\s+name\s+region\s+sector\s+price/);
  const shown = lines.slice(header + 2);
  assert.ok(shown.length >= 1 && shown.length <= 5, stdout);
  const { ratios } = await processor.listRatios({ runId, filters: [{ field: RatioField.RATIO_FIELD_PE, max: 25 }], orderBy: RatioField.RATIO_FIELD_ROE, descending: true, pageSize: 5 });
  assert.deepEqual(
    shown.map((l) => l.split(/\s+/)[0]),
    ratios.map((r) => r.symbol),
  );
});
