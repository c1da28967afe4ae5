// Starting a market-data run, for both doors that start one: StartStockRun on the gateway and
// the executor's stock.run handler (scheduled runs). The request is checked field by field, then
// becomes what goes on Kafka: the run's announcement on TOPICS.stockRuns, then one scraping task
// per region on TOPICS.stockScrapingTasks, keyed by region.
import { randomUUID } from 'node:crypto';
import { TOPICS } from './topics';
import { seedHash } from './random';
import { STOCK_REGIONS, dateIn, stockRegion } from './stock-regions';
import { STOCK_SOURCES, isTradingDate, type MarketCapRange, type ScrapingTask, type StockRunAnnouncement, type StockSource } from './stock-tasks';

/** A run as asked for, before any check: fields as JSON gives them (jobData, or the gateway's request). */
export interface StockRunInput {
  runId?: unknown;
  regions?: unknown;
  marketCap?: { min?: unknown; max?: unknown } | null;
  limit?: unknown;
  source?: unknown;
  tradingDate?: unknown;
}

export interface StockRunPlan {
  announcement: StockRunAnnouncement;
  tasks: ScrapingTask[];
}

export interface StockRunProblem {
  /** The field, as the input names it: regions[2], marketCap.min, limit, ... */
  field: string;
  problem: string;
}

export class StockRunError extends Error {
  constructor(readonly problems: StockRunProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.problem}`).join('; '));
    this.name = 'StockRunError';
  }
}

export const MAX_STOCK_RUN_LIMIT = 100_000;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const SUFFIX: Record<string, number> = { k: 1e3, m: 1e6, b: 1e9, t: 1e12 };

/**
 * A market cap in US dollars from a number or from text such as "100M", "1.5B", "$2T" or
 * "2500000000" (K, M, B, T: thousand, million, billion, trillion); undefined when empty.
 */
export function parseMarketCap(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error('must be a number >= 0');
    return value;
  }
  if (typeof value !== 'string') throw new Error('must be a number or text such as "100M" or "1B"');
  const m = /^\s*\$?\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([kmbt])?\s*$/i.exec(value.replaceAll(',', ''));
  if (!m) throw new Error(`"${value}" is not an amount such as 2500000000, "100M" or "1B"`);
  return Number(m[1]) * (m[2] ? SUFFIX[m[2].toLowerCase()] : 1);
}

/**
 * Checks a run and plans its messages; StockRunError names every bad field. Without a trading
 * date the run takes today's date at the first region's exchange; without a run id, a new one.
 */
export function planStockRun(input: StockRunInput, opts: { now: Date; origin: string; runId?: string }): StockRunPlan {
  const problems: StockRunProblem[] = [];
  const problem = (field: string, text: string) => void problems.push({ field, problem: text });

  let runId = opts.runId ?? randomUUID();
  if (input.runId !== undefined && input.runId !== null && input.runId !== '') {
    if (typeof input.runId !== 'string' || !RUN_ID.test(input.runId)) problem('runId', 'must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');
    else runId = input.runId;
  }

  const regions: string[] = [];
  if (!Array.isArray(input.regions) || input.regions.length === 0) problem('regions', 'must name at least one region (such as us, fr, de, uk, jp)');
  else {
    input.regions.forEach((r: unknown, i) => {
      const code = typeof r === 'string' ? r.trim().toLowerCase() : '';
      if (!stockRegion(code)) problem(`regions[${i}]`, `${JSON.stringify(r)} is not a known region (${knownRegions()})`);
      else if (regions.includes(code)) problem(`regions[${i}]`, `"${code}" is listed twice`);
      else regions.push(code);
    });
  }

  const marketCap: MarketCapRange = {};
  for (const bound of ['min', 'max'] as const) {
    try {
      const v = parseMarketCap(input.marketCap?.[bound]);
      if (v !== undefined) marketCap[bound] = v;
    } catch (err) {
      problem(`marketCap.${bound}`, (err as Error).message);
    }
  }
  if (marketCap.min !== undefined && marketCap.max !== undefined && marketCap.min > marketCap.max) problem('marketCap.min', `must not be above max (${marketCap.min} > ${marketCap.max})`);

  let limit: number | undefined;
  if (input.limit !== undefined && input.limit !== null && input.limit !== 0) {
    if (typeof input.limit !== 'number' || !Number.isInteger(input.limit) || input.limit < 1 || input.limit > MAX_STOCK_RUN_LIMIT)
      problem('limit', `must be a whole number from 1 to ${MAX_STOCK_RUN_LIMIT} (0 or unset: every symbol)`);
    else limit = input.limit;
  }

  let source: StockSource = 'synthetic';
  if (input.source !== undefined && input.source !== null && input.source !== '') {
    if (!STOCK_SOURCES.includes(input.source as StockSource)) problem('source', `must be one of ${STOCK_SOURCES.join(', ')}`);
    else source = input.source as StockSource;
  }

  let tradingDate = dateIn(stockRegion(regions[0] ?? 'us')?.timeZone ?? 'UTC', opts.now);
  if (input.tradingDate !== undefined && input.tradingDate !== null && input.tradingDate !== '') {
    if (typeof input.tradingDate !== 'string' || !isTradingDate(input.tradingDate)) problem('tradingDate', 'must be a date YYYY-MM-DD');
    else tradingDate = input.tradingDate;
  }

  if (problems.length) throw new StockRunError(problems);
  const range = marketCap.min !== undefined || marketCap.max !== undefined ? { marketCap } : {};
  const limited = limit !== undefined ? { limit } : {};
  return {
    announcement: { runId, regions, ...range, ...limited, source, tradingDate, requestedAt: opts.now.getTime(), origin: opts.origin },
    tasks: regions.map((region) => ({ runId, region, ...range, ...limited, source, tradingDate })),
  };
}

const knownRegions = () => STOCK_REGIONS.map((r) => r.code).join(', ');

export interface StockRunRecords {
  topic: string;
  messages: Array<{ key: string; value: object; partition?: number }>;
}

/**
 * What a run publishes, in order: its announcement, then its scraping tasks. Each task is keyed
 * by region, and the regions of a run go to consecutive partitions (from one the run id picks),
 * so that every scraper replica has regions of the run to work on: hashing a few region codes
 * would put several on one partition (us and de share one of twelve).
 */
export function stockRunRecords(plan: StockRunPlan, taskPartitions: number): StockRunRecords[] {
  const first = seedHash(plan.announcement.runId) % taskPartitions;
  return [
    { topic: TOPICS.stockRuns, messages: [{ key: plan.announcement.runId, value: plan.announcement }] },
    { topic: TOPICS.stockScrapingTasks, messages: plan.tasks.map((t, i) => ({ key: t.region, value: t, partition: (first + i) % taskPartitions })) },
  ];
}
