import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeRatios, unprocessable } from '../dist/ratios.js';
import { ratioRow, simulatedFailure } from '../dist/consumer.js';

const NONE = { netIncome: null, equity: null, revenue: null, ebitda: null, totalDebt: null, cash: null, currentAssets: null, currentLiabilities: null, dividendsPerShare: null };
const task = (fields, fundamentals = {}) => ({
  runId: 'r1',
  region: 'us',
  tradingDate: '2026-03-02',
  symbol: 'FIX',
  name: 'Fixture Co.',
  exchange: 'NYSE',
  currency: 'USD',
  sector: 'Industrials',
  price: 50,
  sharesOutstanding: 1_000_000,
  usdRate: 1,
  ...fields,
  fundamentals: { ...NONE, ...fundamentals },
});

test('the ratios of a profitable company, computed by hand', () => {
  const r = computeRatios(
    task(
      {},
      { netIncome: 5_000_000, equity: 25_000_000, revenue: 100_000_000, ebitda: 10_000_000, totalDebt: 20_000_000, cash: 5_000_000, currentAssets: 30_000_000, currentLiabilities: 20_000_000, dividendsPerShare: 2 },
    ),
  );
  // Market cap 50 x 1,000,000; EPS 5,000,000 / 1,000,000; EV 50M + 20M - 5M.
  assert.deepEqual(r, { marketCap: 50_000_000, marketCapUsd: 50_000_000, eps: 5, pe: 10, pb: 2, ps: 0.5, enterpriseValue: 65_000_000, evEbitda: 6.5, debtToEquity: 0.8, roe: 0.2, currentRatio: 1.5, dividendYield: 0.04 });
});

test('a ratio whose definition gives nothing is null: EPS <= 0, equity <= 0, EBITDA 0, no liabilities, missing figures', () => {
  const loss = computeRatios(task({ price: 10, sharesOutstanding: 2_000_000, usdRate: 0.5 }, { netIncome: -1_000_000, equity: -4_000_000, revenue: 8_000_000, ebitda: 0, totalDebt: 6_000_000, cash: 1_000_000, currentAssets: 3_000_000, currentLiabilities: 0, dividendsPerShare: 0 }));
  assert.deepEqual(loss, { marketCap: 20_000_000, marketCapUsd: 10_000_000, eps: -0.5, pe: null, pb: null, ps: 2.5, enterpriseValue: 25_000_000, evEbitda: null, debtToEquity: null, roe: null, currentRatio: null, dividendYield: 0 });
  const breakEven = computeRatios(task({}, { netIncome: 0 }));
  assert.equal(breakEven.eps, 0);
  assert.equal(breakEven.pe, null, 'P/E is null at EPS 0');
  const bare = computeRatios(task({ usdRate: null }));
  assert.deepEqual(bare, { marketCap: 50_000_000, marketCapUsd: null, eps: null, pe: null, pb: null, ps: null, enterpriseValue: null, evEbitda: null, debtToEquity: null, roe: null, currentRatio: null, dividendYield: null });
});

test('a task without a price or shares cannot be processed; the row keeps the figures as scraped', () => {
  assert.equal(unprocessable(task({ price: 0 })), 'price must be > 0 (got 0)');
  assert.equal(unprocessable(task({ sharesOutstanding: -1 })), 'sharesOutstanding must be > 0 (got -1)');
  assert.equal(unprocessable(task({})), undefined);
  const row = ratioRow(task({}, { netIncome: 5_000_000, equity: 25_000_000 }));
  assert.equal(row.run_id, 'r1');
  assert.equal(row.net_income, 5_000_000);
  assert.equal(row.pe_ratio, 10);
  assert.equal(row.roe, 0.2);
  assert.equal(row.revenue, null);
});

test('simulated failures hit about the share asked for, the same symbols every time', () => {
  const symbols = Array.from({ length: 4000 }, (_, i) => `S${i}`);
  const failing = symbols.filter((s) => simulatedFailure(task({ symbol: s }), 0.1));
  assert.ok(failing.length > 300 && failing.length < 500, `${failing.length} of 4000`);
  assert.deepEqual(
    symbols.filter((s) => simulatedFailure(task({ symbol: s }), 0.1)),
    failing,
  );
  assert.equal(simulatedFailure(task({}), 0), undefined);
});
