import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Slots } from '@pipewright/platform';
import { syntheticPage, syntheticUniverseSize } from '../dist/synthetic.js';
import { PermanentSourceError, ScrapeFailed, marketCapUsd, scrapeRegion, syntheticSource } from '../dist/source.js';
import { httpSource, pageUrl } from '../dist/http-source.js';

const noWait = async () => undefined;
/** @param {Partial<import('@pipewright/contracts').ScrapingTask>} [fields] @returns {import('@pipewright/contracts').ScrapingTask} */
const task = (fields = {}) => ({ runId: 'run-1', region: 'fr', source: 'synthetic', tradingDate: '2026-03-02', ...fields });
const options = (source, fields = {}) => ({ source, pageSize: 20, backoffMs: [1, 1, 1], limiter: new Slots(4), window: 4, wait: noWait, ...fields });

test('the synthetic source is deterministic per region and trading date, largest market cap first', () => {
  const a = syntheticPage('de', '2026-03-02', 1, 50);
  assert.deepEqual(syntheticPage('de', '2026-03-02', 1, 50), a, 'the same region and date, the same figures');
  const b = syntheticPage('de', '2026-03-03', 1, 50);
  assert.deepEqual(
    b.companies.map((c) => c.symbol),
    a.companies.map((c) => c.symbol),
    'the same companies on another day',
  );
  assert.notDeepEqual(
    b.companies.map((c) => c.price),
    a.companies.map((c) => c.price),
    'at other prices',
  );
  assert.equal(a.totalPages, Math.ceil(syntheticUniverseSize('de') / 50));
  const caps = a.companies.map((c) => c.price * c.sharesOutstanding);
  assert.ok(caps[0] > caps[caps.length - 1], 'the largest first');
});

test('every region has a universe in its own conventions', () => {
  /** @type {Record<string, [RegExp, string, RegExp]>} */
  const look = {
    us: [/^[A-Z]{1,4}$/, 'USD', /^(NYSE|NASDAQ)$/],
    fr: [/^[A-Z]{2,4}\.PA$/, 'EUR', /^Euronext Paris$/],
    de: [/^[A-Z]{3}\.DE$/, 'EUR', /^(XETRA|Frankfurt)$/],
    uk: [/^[A-Z]{3,4}\.L$/, 'GBP', /^LSE$/],
    jp: [/^\d{4}\.T$/, 'JPY', /^TSE$/],
  };
  for (const [region, [symbol, currency, exchange]] of Object.entries(look)) {
    const size = syntheticUniverseSize(region);
    assert.ok(size >= 200, `${region}: ${size} companies`);
    const all = syntheticPage(region, '2026-03-02', 1, size).companies;
    assert.equal(new Set(all.map((c) => c.symbol)).size, size, `${region}: symbols are unique`);
    assert.equal(new Set(all.map((c) => c.name)).size, size, `${region}: names are unique`);
    for (const c of all) {
      assert.match(c.symbol, symbol);
      assert.equal(c.currency, currency);
      assert.match(c.exchange, exchange);
      assert.ok(c.price > 0 && c.sharesOutstanding > 0, `${c.symbol} has a quote`);
    }
    assert.ok(new Set(all.map((c) => c.sector)).size >= 8, `${region}: many sectors`);
    assert.ok(all.some((c) => c.fundamentals.netIncome !== null && c.fundamentals.netIncome < 0), `${region}: some companies lose money`);
  }
  assert.equal(syntheticUniverseSize('xx'), 0);
});

test('a scrape takes pages until the limit, filters by market cap in dollars, and keeps the listing order', async () => {
  const source = syntheticSource({ latencyMs: 0, failureRate: 0, failRegions: new Set() });
  const all = await scrapeRegion(task(), options(source));
  assert.equal(all.companies.length, syntheticUniverseSize('fr'));
  assert.equal(all.pages, Math.ceil(syntheticUniverseSize('fr') / 20));
  const top = await scrapeRegion(task({ limit: 30 }), options(source));
  assert.deepEqual(
    top.companies.map((c) => c.symbol),
    all.companies.slice(0, 30).map((c) => c.symbol),
  );
  assert.ok(top.pages < all.pages, 'no more pages than the limit needs (a window at a time)');
  const mid = await scrapeRegion(task({ marketCap: { min: 1e9, max: 20e9 } }), options(source));
  const capOf = (c) => marketCapUsd(c, 'fr') ?? Number.NaN;
  const expected = all.companies.filter((c) => capOf(c) >= 1e9 && capOf(c) <= 20e9);
  assert.ok(expected.length > 10 && expected.length < all.companies.length);
  assert.deepEqual(
    mid.companies.map((c) => c.symbol),
    expected.map((c) => c.symbol),
  );
  assert.equal(mid.filteredOut, all.companies.length - expected.length);
  assert.equal(marketCapUsd(all.companies[0], 'fr'), all.companies[0].price * all.companies[0].sharesOutstanding * 1.08);
});

test('simulated page failures are retried and happen the same way again; a region set to fail fails after its retries', async () => {
  const flaky = syntheticSource({ latencyMs: 0, failureRate: 0.3, failRegions: new Set(['nl']) });
  const runs = await Promise.all([1, 2].map(() => scrapeRegion(task(), options(flaky, { backoffMs: [1, 1, 1, 1, 1, 1] }))));
  assert.ok(runs[0].retries > 0, 'some pages were retried');
  assert.equal(runs[1].retries, runs[0].retries, 'the same failures again');
  assert.equal(runs[0].companies.length, syntheticUniverseSize('fr'));
  await assert.rejects(scrapeRegion(task({ region: 'nl' }), options(flaky)), (err) => err instanceof ScrapeFailed && err.attempts === 4 && /region nl is set to fail/.test(err.message));
  await assert.rejects(scrapeRegion(task({ region: 'xx' }), options(flaky)), (err) => err instanceof ScrapeFailed && err.attempts === 1 && /no region "xx"/.test(err.message));
});

test('pages in flight of one process stay within the limit shared by its regions', async () => {
  let inFlight = 0;
  let most = 0;
  const inner = syntheticSource({ latencyMs: 0, failureRate: 0, failRegions: new Set() });
  const source = {
    async fetchPage(req) {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      return inner.fetchPage(req);
    },
  };
  const limiter = new Slots(3);
  await Promise.all(['fr', 'de', 'uk'].map((region) => scrapeRegion(task({ region }), options(source, { limiter, window: 4 }))));
  assert.equal(most, 3);
});

// ---------------------------------------------------------------------------------------------
// The http source against a local server

const FIXTURES = [
  { symbol: 'AAA', name: 'Alpha', price: 10, sharesOutstanding: 1000, currency: 'USD', exchange: 'NYSE', sector: 'Energy', fundamentals: { netIncome: 100 } },
  { symbol: 'BBB', name: 'Beta', price: 20, sharesOutstanding: 1000, currency: 'USD', fundamentals: {} },
  { symbol: 'CCC', name: 'Gamma', price: 30, sharesOutstanding: 1000, currency: 'USD', usdRate: 2, fundamentals: {} },
];
const seen = [];
const attempts = new Map();
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), auth: req.headers.authorization });
  const page = Number(url.searchParams.get('page') ?? '1');
  const key = `${url.pathname}|${page}`;
  attempts.set(key, (attempts.get(key) ?? 0) + 1);
  const send = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  if (url.pathname === '/missing/companies') return send(404, { error: 'no such region' });
  if (url.pathname === '/flaky/companies' && attempts.get(key) === 1) return send(503, { error: 'busy' });
  if (url.pathname === '/slow/companies') return void setTimeout(() => send(200, { companies: [] }), 500);
  if (url.pathname === '/broken/companies') return send(200, { companies: [{ symbol: 'X', name: 'X', price: 'ten', sharesOutstanding: 1, currency: 'USD', fundamentals: {} }] });
  if (url.pathname === '/html/companies') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
  if (url.pathname === '/unpaged/companies') return send(200, { companies: FIXTURES.slice(0, page === 1 ? 2 : page === 2 ? 3 : 0).slice(page === 2 ? 2 : 0), usdRate: 1 });
  send(200, { totalPages: 2, usdRate: 1, companies: page === 1 ? FIXTURES.slice(0, 2) : FIXTURES.slice(2) });
});
await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
after(() => new Promise((r) => server.close(() => r(undefined))));
const base = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
const source = (path = '{region}', extra = {}) => httpSource({ urlTemplate: `${base}/${path}/companies?date={date}&page={page}&size={pageSize}`, timeoutMs: 200, headers: { authorization: 'Bearer t0k3n' }, ...extra });

test('the http source fills the URL template and reads pages in the documented shape', async () => {
  assert.equal(pageUrl('http://h/{region}/x?d={date}&p={page}&n={pageSize}', { runId: 'r', region: 'a b', tradingDate: '2026-03-02', page: 2, pageSize: 50, attempt: 1 }), 'http://h/a%20b/x?d=2026-03-02&p=2&n=50');
  seen.length = 0;
  const r = await scrapeRegion(task({ region: 'us', source: 'http' }), options(source()));
  assert.deepEqual(
    r.companies.map((c) => [c.symbol, c.usdRate, c.exchange, c.sector]),
    [
      ['AAA', 1, 'NYSE', 'Energy'],
      ['BBB', 1, '-', 'Unknown'],
      ['CCC', 2, '-', 'Unknown'],
    ],
    'the page rate unless the company has its own; exchange and sector default',
  );
  assert.deepEqual(r.companies[0].fundamentals, { netIncome: 100, equity: null, revenue: null, ebitda: null, totalDebt: null, cash: null, currentAssets: null, currentLiabilities: null, dividendsPerShare: null });
  assert.deepEqual(seen.map((s) => [s.path, s.query.page, s.query.date, s.query.size, s.auth]), [
    ['/us/companies', '1', '2026-03-02', '20', 'Bearer t0k3n'],
    ['/us/companies', '2', '2026-03-02', '20', 'Bearer t0k3n'],
  ]);
  const unpaged = await scrapeRegion(task({ region: 'unpaged', source: 'http' }), options(source('{region}')));
  assert.deepEqual(
    unpaged.companies.map((c) => c.symbol),
    ['AAA', 'BBB', 'CCC'],
    'without totalPages, pages until an empty one',
  );
  const once = await scrapeRegion(task({ region: 'us', source: 'http' }), options(httpSource({ urlTemplate: `${base}/{region}/companies`, timeoutMs: 200, headers: {} })));
  assert.equal(once.pages, 1, 'a template without {page} is one request per region');
});

test('the http source retries 5xx, timeouts and bodies of the wrong shape; 4xx fails the region at once', async () => {
  const flaky = await scrapeRegion(task({ region: 'flaky', source: 'http' }), options(source()));
  assert.equal(flaky.retries, 2, 'page 1 and page 2 each answered 503 once');
  assert.equal(flaky.companies.length, 3);
  await assert.rejects(scrapeRegion(task({ region: 'missing', source: 'http' }), options(source())), (err) => err instanceof ScrapeFailed && err.attempts === 1 && /answered 404/.test(err.message));
  await assert.rejects(scrapeRegion(task({ region: 'slow', source: 'http' }), options(source(), { backoffMs: [1] })), (err) => err instanceof ScrapeFailed && err.attempts === 2 && /no answer within 200 ms/.test(err.message));
  await assert.rejects(scrapeRegion(task({ region: 'broken', source: 'http' }), options(source(), { backoffMs: [] })), /companies\[0\]\.price: must be a finite number/);
  await assert.rejects(scrapeRegion(task({ region: 'html', source: 'http' }), options(source(), { backoffMs: [] })), /the answer is not JSON/);
  assert.ok(new PermanentSourceError('x') instanceof Error);
});
