import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StockRunError, TOPICS, decodeProcessingTask, decodeScrapingTask, parseMarketCap, planStockRun, stockRunRecords } from '@pipewright/contracts';

const NOW = new Date('2026-03-02T23:30:00Z');

/** The problems a run input has, as "field: problem". */
function problems(input) {
  try {
    planStockRun(input, { now: NOW, origin: 'test' });
  } catch (err) {
    assert.ok(err instanceof StockRunError);
    return err.problems.map((p) => `${p.field}: ${p.problem}`);
  }
  return [];
}

test('market caps are read from numbers and from text with K, M, B or T', () => {
  assert.equal(parseMarketCap(2_500_000_000), 2_500_000_000);
  assert.equal(parseMarketCap('100M'), 100e6);
  assert.equal(parseMarketCap('1.5b'), 1.5e9);
  assert.equal(parseMarketCap('$2T'), 2e12);
  assert.equal(parseMarketCap('750k'), 750e3);
  assert.equal(parseMarketCap('2,500,000'), 2.5e6);
  assert.equal(parseMarketCap(''), undefined);
  assert.equal(parseMarketCap(null), undefined);
  assert.throws(() => parseMarketCap('lots'), /"lots" is not an amount/);
  assert.throws(() => parseMarketCap('1X'), /is not an amount/);
  assert.throws(() => parseMarketCap(-5), /must be a number >= 0/);
});

test('a run plans its announcement and one scraping task per region, with the defaults filled in', () => {
  const plan = planStockRun({ regions: ['US', 'jp'], marketCap: { min: '100M', max: 5e11 }, limit: 50 }, { now: NOW, origin: 'grpc', runId: 'run-1' });
  assert.deepEqual(plan.announcement, {
    runId: 'run-1',
    regions: ['us', 'jp'],
    marketCap: { min: 100e6, max: 5e11 },
    limit: 50,
    source: 'synthetic',
    // 23:30 UTC is still 2 March in New York, the first region's exchange.
    tradingDate: '2026-03-02',
    requestedAt: NOW.getTime(),
    origin: 'grpc',
  });
  assert.deepEqual(
    plan.tasks.map((t) => [t.region, t.runId, t.tradingDate, t.limit, t.marketCap?.min]),
    [
      ['us', 'run-1', '2026-03-02', 50, 100e6],
      ['jp', 'run-1', '2026-03-02', 50, 100e6],
    ],
  );
  assert.equal(planStockRun({ regions: ['jp'] }, { now: NOW, origin: 'grpc' }).announcement.tradingDate, '2026-03-03', "Tokyo's date");
  const given = planStockRun({ regions: ['fr'], tradingDate: '2026-01-15', source: 'http', runId: 'mine' }, { now: NOW, origin: 'grpc' });
  assert.equal(given.announcement.runId, 'mine');
  assert.equal(given.tasks[0].source, 'http');
  assert.equal(given.tasks[0].tradingDate, '2026-01-15');
  assert.equal(given.tasks[0].marketCap, undefined);
});

test('every bad field of a run is named', () => {
  assert.deepEqual(problems({ regions: [] }), ['regions: must name at least one region (such as us, fr, de, uk, jp)']);
  assert.deepEqual(problems({ regions: ['us', 'xx', 'us'] }), [
    'regions[1]: "xx" is not a known region (us, ca, uk, fr, de, nl, ch, es, it, jp, hk, au)',
    'regions[2]: "us" is listed twice',
  ]);
  assert.deepEqual(problems({ regions: ['us'], marketCap: { min: '1B', max: '100M' } }), ['marketCap.min: must not be above max (1000000000 > 100000000)']);
  assert.deepEqual(problems({ regions: ['us'], marketCap: { max: 'big' } }), ['marketCap.max: "big" is not an amount such as 2500000000, "100M" or "1B"']);
  assert.deepEqual(problems({ regions: ['us'], limit: 2.5, source: 'ftp', tradingDate: '2026-02-30', runId: '-x' }), [
    'runId: must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
    'limit: must be a whole number from 1 to 100000 (0 or unset: every symbol)',
    'source: must be one of synthetic, http',
    'tradingDate: must be a date YYYY-MM-DD',
  ]);
});

test("a run's regions go to consecutive partitions, keyed by region, after its announcement", () => {
  const plan = planStockRun({ regions: ['us', 'fr', 'de', 'uk', 'jp'] }, { now: NOW, origin: 'grpc', runId: 'spread' });
  const [announce, tasks] = stockRunRecords(plan, 12);
  assert.equal(announce.topic, TOPICS.stockRuns);
  assert.deepEqual(announce.messages.map((m) => m.key), ['spread']);
  assert.equal(tasks.topic, TOPICS.stockScrapingTasks);
  assert.deepEqual(tasks.messages.map((m) => m.key), ['us', 'fr', 'de', 'uk', 'jp']);
  const parts = tasks.messages.map((m) => m.partition ?? -1);
  assert.equal(new Set(parts).size, 5, 'five regions, five partitions');
  parts.forEach((p, i) => assert.equal(p, (parts[0] + i) % 12));
  assert.ok(stockRunRecords(plan, 3)[1].messages.every((m) => m.partition !== undefined && m.partition < 3));
});

test('messages decode with their fields checked; a bad one names the field', () => {
  const task = { runId: 'r', region: 'us', source: 'synthetic', tradingDate: '2026-03-02', limit: 5 };
  assert.deepEqual(decodeScrapingTask(Buffer.from(JSON.stringify(task))), task);
  assert.throws(() => decodeScrapingTask(Buffer.from('nope')), /not a ScrapingTask: the value is not JSON/);
  assert.throws(() => decodeScrapingTask(Buffer.from(JSON.stringify({ ...task, source: 'ftp' }))), /^StockMessageError: source: must be one of synthetic, http$/);
  assert.throws(() => decodeScrapingTask(null), /has a value; this message has none/);
  const company = {
    runId: 'r',
    region: 'us',
    tradingDate: '2026-03-02',
    symbol: 'ACME',
    name: 'Acme',
    exchange: 'NYSE',
    currency: 'USD',
    sector: 'Industrials',
    price: 10,
    sharesOutstanding: 100,
    usdRate: 1,
    fundamentals: { netIncome: 5, equity: null },
  };
  const t = decodeProcessingTask(JSON.stringify(company));
  assert.deepEqual(t.fundamentals, { netIncome: 5, equity: null, revenue: null, ebitda: null, totalDebt: null, cash: null, currentAssets: null, currentLiabilities: null, dividendsPerShare: null });
  assert.throws(() => decodeProcessingTask(JSON.stringify({ ...company, fundamentals: { revenue: 'a lot' } })), /fundamentals\.revenue: must be a finite number/);
  assert.throws(() => decodeProcessingTask(JSON.stringify({ ...company, price: undefined })), /price: must be a finite number/);
});
