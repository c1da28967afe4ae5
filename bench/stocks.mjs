// (i) The market-data pipeline against the script it replaces, in one run on the same broker and
// database, with the synthetic source answering like a real site (BENCH_STOCK_LATENCY a page,
// BENCH_STOCK_PAGE_SIZE companies a page):
//
//   sequential   one process scraping then processing, region after region, one page and one
//                INSERT at a time, as the original script did (the scraper's synthetic source
//                and the processor's ratios and store, called in this process)
//   pipeline x1  StartStockRun through the gateway, one stock-scraper and one stock-processor
//   pipeline x3  the same with three of each
//
// Each pipeline's wall time runs from the StartStockRun call to the moment the monitor reports
// the run complete (polled every 20 ms); before it, a small run warms the stack up (consumer
// groups joined and settled). Every run scrapes the same regions, symbols and trading date;
// each is made BENCH_STOCK_ROUNDS times and the median round is reported.
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { startStack, eventually, groupsToEnd, STOCK_GROUPS } from '@pipewright/testkit';
import { log, median, ratio } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Slots, createPool, createLogger } = require('@pipewright/platform');
const { scrapeRegion, syntheticSource } = require('../services/stock-scraper/dist/source.js');
const { ratioRow } = require('../services/stock-processor/dist/consumer.js');
const { storeRatios } = require('../services/stock-processor/dist/store.js');

const env = (name, dflt) => process.env[name] ?? dflt;
const TRADING_DATE = '2026-03-02';

/** One page and one INSERT at a time, region after region. */
async function sequential(pool, s) {
  const source = syntheticSource({ latencyMs: s.latencyMs, failureRate: 0, failRegions: new Set() });
  const t0 = Date.now();
  let scrapeMs = 0;
  let symbols = 0;
  for (const region of s.regions) {
    const task = { runId: `sequential-${t0}`, region, source: 'synthetic', tradingDate: TRADING_DATE, limit: s.limit };
    const s0 = Date.now();
    const { companies } = await scrapeRegion(task, { source, pageSize: s.pageSize, backoffMs: [], limiter: new Slots(1), window: 1 });
    scrapeMs += Date.now() - s0;
    for (const c of companies) await storeRatios(pool, [ratioRow({ ...c, runId: task.runId, region, tradingDate: TRADING_DATE })]);
    symbols += companies.length;
  }
  const wallMs = Date.now() - t0;
  return { wallMs, scrapeMs, processMs: wallMs - scrapeMs, symbols };
}

/** A run through the gateway; its wall time until the monitor says it is complete. */
async function pipelineRun(stack, s, regions, limit) {
  const gateway = stack.client('ingest-gateway');
  const monitor = stack.client('monitor');
  const t0 = Date.now();
  const { runId } = await gateway.startStockRun({ regions, limit, tradingDate: TRADING_DATE });
  const status = await eventually(
    async () => {
      const st = await monitor.getPipelineStatus({ runId }).catch(() => undefined);
      return st?.complete ? st : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 20, message: `run ${runId} complete` },
  );
  const wallMs = Date.now() - t0;
  return {
    wallMs,
    runMs: Number(status.durationMs),
    scrapingMs: Number(status.scraping.durationMs),
    processingMs: Number(status.processing.durationMs),
    symbols: Number(status.processing.sent),
    failed: Number(status.failed),
    regionScrapeMs: Object.fromEntries(status.regionProgress.map((r) => [r.region, Number(r.scrapeDurationMs)])),
  };
}

/** The round of median wall time among `rounds` made by `once`. */
async function medianOf(rounds, what, once) {
  const all = [];
  for (let i = 0; i < rounds; i += 1) {
    all.push(await once());
    log(`stocks: ${what} round ${i + 1} ${JSON.stringify(all[i])}`);
  }
  const mid = median(all.map((r) => r.wallMs));
  const chosen = all.reduce((best, r) => (Math.abs(r.wallMs - mid) < Math.abs(best.wallMs - mid) ? r : best));
  return { ...chosen, roundsMs: all.map((r) => r.wallMs) };
}

/** A stack with `replicas` scrapers and processors, warmed up by a small run. */
async function pipelineStack(replicas, s) {
  const scraperEnv = { STOCK_SYNTHETIC_LATENCY: `${s.latencyMs}ms`, STOCK_PAGE_SIZE: String(s.pageSize), STOCK_SCRAPE_CONCURRENCY: String(s.concurrency) };
  const stack = await startStack({ envFor: { 'stock-scraper': scraperEnv } });
  try {
    await groupsToEnd(stack.kafka, [...STOCK_GROUPS]);
    const names = (base) => Array.from({ length: replicas }, (_, i) => (i === 0 ? base : `${base}-${i + 1}`));
    await Promise.all([
      stack.start('ingest-gateway'),
      stack.start('monitor'),
      ...names('stock-scraper').map((as) => stack.start('stock-scraper', { as })),
      ...names('stock-processor').map((as) => stack.start('stock-processor', { as })),
    ]);
    await pipelineRun(stack, s, s.regions, 5);
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

export async function stocksBench() {
  const s = {
    regions: env('BENCH_STOCK_REGIONS', 'us,fr,de,uk,jp').split(','),
    limit: Number(env('BENCH_STOCK_LIMIT', 200)),
    pageSize: Number(env('BENCH_STOCK_PAGE_SIZE', 10)),
    latencyMs: Number(env('BENCH_STOCK_LATENCY', 50)),
    concurrency: Number(env('BENCH_STOCK_CONCURRENCY', 4)),
    rounds: Number(env('BENCH_STOCK_ROUNDS', 3)),
  };
  const date = new Date().toISOString();
  const loadStart = loadavg()[0].toFixed(2);
  log(`stocks: ${JSON.stringify(s)}`);

  const one = await pipelineStack(1, s);
  let seq;
  let x1;
  try {
    const pool = createPool(one.databaseUrl, 2, createLogger('bench', 'warn'), 'stock');
    try {
      seq = await medianOf(s.rounds, 'sequential', () => sequential(pool, s));
    } finally {
      await pool.end();
    }
    x1 = await medianOf(s.rounds, 'pipeline x1', () => pipelineRun(one, s, s.regions, s.limit));
  } finally {
    await one.stop();
  }
  const three = await pipelineStack(3, s);
  let x3;
  try {
    x3 = await medianOf(s.rounds, 'pipeline x3', () => pipelineRun(three, s, s.regions, s.limit));
  } finally {
    await three.stop();
  }
  return {
    date,
    loadStart,
    loadEnd: loadavg()[0].toFixed(2),
    ...s,
    pages: s.regions.length * Math.ceil(s.limit / s.pageSize),
    sequential: seq,
    pipeline1: x1,
    pipeline3: x3,
    ratios: { pipeline1VsSequential: ratio(seq.wallMs, x1.wallMs), pipeline3VsSequential: ratio(seq.wallMs, x3.wallMs), pipeline3Vs1: ratio(x1.wallMs, x3.wallMs) },
    targets: { vsSequential: '4-6x', threeVsOne: 'close to 3x' },
  };
}
