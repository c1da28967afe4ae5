// Messages of the two-stage market-data pipeline, as JSON on Kafka:
//
//   TOPICS.stockRuns              StockRunAnnouncement, one per run (what was sent), keyed by run id
//   TOPICS.stockScrapingTasks     ScrapingTask, one per region of a run, keyed by region
//   TOPICS.stockProcessingTasks   ProcessingTask, one per symbol, keyed by symbol
//   TOPICS.scrapingCompletion     ScrapingCompletion, one per region scraped, keyed by run id
//   TOPICS.scrapingErrors         ScrapingError, one per region whose scrape failed after its retries
//   TOPICS.processingCompletion   ProcessingCompletion, one per symbol processed, keyed by run id
//   TOPICS.processingErrors       ProcessingError, one per symbol that failed, keyed by run id
//
// Each decoder reads one message's bytes and throws StockMessageError, naming the field, for
// bytes that are not such a message: the consumers send those to their dead-letter topic.

/** Where a scraper reads the listed companies: generated data, or a user's HTTP API. */
export type StockSource = 'synthetic' | 'http';
export const STOCK_SOURCES: readonly StockSource[] = ['synthetic', 'http'];

/** Market-capitalisation bounds in US dollars (the gateway turns "100M" / "1B" into numbers). */
export interface MarketCapRange {
  min?: number;
  max?: number;
}

/** What a run sent, published before its tasks so that its progress is known from the start. */
export interface StockRunAnnouncement {
  runId: string;
  regions: string[];
  marketCap?: MarketCapRange;
  limit?: number;
  source: StockSource;
  /** YYYY-MM-DD: the trading day whose figures are scraped. */
  tradingDate: string;
  /** When the run was started, milliseconds since the epoch. */
  requestedAt: number;
  /** Who started it: grpc (StartStockRun) or schedule (the stock.run handler). */
  origin: string;
}

export interface ScrapingTask {
  runId: string;
  /** A region code, such as us, fr, de, uk or jp. */
  region: string;
  marketCap?: MarketCapRange;
  /** Most symbols to emit for the region. */
  limit?: number;
  source: StockSource;
  tradingDate: string;
}

/**
 * A company's figures as scraped, in its listing currency; null when the source has none. Flows
 * (net income, revenue, EBITDA, dividends per share) are trailing twelve months; the others are
 * from the latest balance sheet (end of period).
 */
export interface Fundamentals {
  netIncome: number | null;
  equity: number | null;
  revenue: number | null;
  ebitda: number | null;
  totalDebt: number | null;
  cash: number | null;
  currentAssets: number | null;
  currentLiabilities: number | null;
  dividendsPerShare: number | null;
}

export const FUNDAMENTALS: ReadonlyArray<keyof Fundamentals> = ['netIncome', 'equity', 'revenue', 'ebitda', 'totalDebt', 'cash', 'currentAssets', 'currentLiabilities', 'dividendsPerShare'];

/** One listed company as a source gives it: its quote and its fundamentals. */
export interface ListedCompany {
  symbol: string;
  name: string;
  exchange: string;
  currency: string;
  sector: string;
  price: number;
  sharesOutstanding: number;
  /** US dollars per unit of the listing currency, when known. */
  usdRate: number | null;
  fundamentals: Fundamentals;
}

export interface ProcessingTask extends ListedCompany {
  runId: string;
  region: string;
  tradingDate: string;
}

export interface ScrapingCompletion {
  runId: string;
  region: string;
  /** Processing tasks published for the region. */
  symbolsEmitted: number;
  durationMs: number;
}

export interface ScrapingError {
  runId: string;
  region: string;
  error: string;
  attempts: number;
}

export interface ProcessingCompletion {
  runId: string;
  region: string;
  symbol: string;
}

export interface ProcessingError {
  runId: string;
  region: string;
  symbol: string;
  error: string;
}

export class StockMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StockMessageError';
  }
}

const MAX_TEXT = 500;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the fields of one JSON object, each check naming the field's path when it fails. */
class Fields {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly path: string,
  ) {}

  private fail(name: string, problem: string): never {
    throw new StockMessageError(`${this.path}${name}: ${problem}`);
  }

  text(name: string, max = MAX_TEXT): string {
    const v = this.o[name];
    if (typeof v !== 'string' || v === '') this.fail(name, 'must be a non-empty string');
    if (v.length > max) this.fail(name, `must be at most ${max} characters`);
    return v;
  }

  number(name: string, opts: { min?: number; integer?: boolean } = {}): number {
    const v = this.o[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(name, 'must be a finite number');
    if (opts.integer && !Number.isInteger(v)) this.fail(name, 'must be a whole number');
    if (opts.min !== undefined && v < opts.min) this.fail(name, `must be >= ${opts.min}`);
    return v;
  }

  optionalNumber(name: string, opts: { min?: number; integer?: boolean } = {}): number | undefined {
    return this.o[name] === undefined || this.o[name] === null ? undefined : this.number(name, opts);
  }

  nullableNumber(name: string): number | null {
    return this.o[name] === undefined || this.o[name] === null ? null : this.number(name);
  }

  object(name: string): Fields {
    const v = this.o[name];
    if (!isObject(v)) this.fail(name, 'must be an object');
    return new Fields(v, `${this.path}${name}.`);
  }

  optionalObject(name: string): Fields | undefined {
    return this.o[name] === undefined || this.o[name] === null ? undefined : this.object(name);
  }

  source(name: string): StockSource {
    const v = this.o[name];
    if (!STOCK_SOURCES.includes(v as StockSource)) this.fail(name, `must be one of ${STOCK_SOURCES.join(', ')}`);
    return v as StockSource;
  }

  date(name: string): string {
    const v = this.text(name, 10);
    if (!isTradingDate(v)) this.fail(name, 'must be a date YYYY-MM-DD');
    return v;
  }

  texts(name: string): string[] {
    const v = this.o[name];
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) this.fail(name, 'must be a non-empty array of non-empty strings');
    return v as string[];
  }
}

/** Whether text is a real calendar date written YYYY-MM-DD. */
export function isTradingDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/** The fields of a message's JSON object; StockMessageError when the bytes are not one. */
function fieldsOf(value: Buffer | string | null, what: string): Fields {
  if (value === null) throw new StockMessageError(`a ${what} has a value; this message has none`);
  let v: unknown;
  try {
    v = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw new StockMessageError(`not a ${what}: the value is not JSON`);
  }
  if (!isObject(v)) throw new StockMessageError(`not a ${what}: the value is not a JSON object`);
  return new Fields(v, '');
}

function marketCapOf(f: Fields): MarketCapRange | undefined {
  const m = f.optionalObject('marketCap');
  if (!m) return undefined;
  const range: MarketCapRange = {};
  const min = m.optionalNumber('min', { min: 0 });
  const max = m.optionalNumber('max', { min: 0 });
  if (min !== undefined) range.min = min;
  if (max !== undefined) range.max = max;
  return range;
}

/** Reads the fields a listed company has, as a source or a processing task carries them. */
function readCompany(f: Fields): ListedCompany {
  const fundamentals = f.object('fundamentals');
  return {
    symbol: f.text('symbol', 40),
    name: f.text('name'),
    exchange: f.text('exchange', 100),
    currency: f.text('currency', 10),
    sector: f.text('sector', 100),
    price: f.number('price'),
    sharesOutstanding: f.number('sharesOutstanding'),
    usdRate: f.nullableNumber('usdRate'),
    fundamentals: Object.fromEntries(FUNDAMENTALS.map((k) => [k, fundamentals.nullableNumber(k)])) as unknown as Fundamentals,
  };
}

/** A listed company from a JSON object (an http source's page entry); path prefixes the field names in errors. */
export function companyFromJson(v: unknown, path: string): ListedCompany {
  if (!isObject(v)) throw new StockMessageError(`${path}: must be an object`);
  const withDefaults = { usdRate: null, exchange: '-', sector: 'Unknown', ...v };
  return readCompany(new Fields(withDefaults, `${path}.`));
}

export function decodeStockRunAnnouncement(value: Buffer | string | null): StockRunAnnouncement {
  const f = fieldsOf(value, 'StockRunAnnouncement');
  const marketCap = marketCapOf(f);
  const limit = f.optionalNumber('limit', { min: 1, integer: true });
  return {
    runId: f.text('runId', 200),
    regions: f.texts('regions'),
    ...(marketCap ? { marketCap } : {}),
    ...(limit !== undefined ? { limit } : {}),
    source: f.source('source'),
    tradingDate: f.date('tradingDate'),
    requestedAt: f.number('requestedAt', { min: 0 }),
    origin: f.text('origin', 40),
  };
}

export function decodeScrapingTask(value: Buffer | string | null): ScrapingTask {
  const f = fieldsOf(value, 'ScrapingTask');
  const marketCap = marketCapOf(f);
  const limit = f.optionalNumber('limit', { min: 1, integer: true });
  return {
    runId: f.text('runId', 200),
    region: f.text('region', 40),
    ...(marketCap ? { marketCap } : {}),
    ...(limit !== undefined ? { limit } : {}),
    source: f.source('source'),
    tradingDate: f.date('tradingDate'),
  };
}

export function decodeProcessingTask(value: Buffer | string | null): ProcessingTask {
  const f = fieldsOf(value, 'ProcessingTask');
  return { runId: f.text('runId', 200), region: f.text('region', 40), tradingDate: f.date('tradingDate'), ...readCompany(f) };
}

export function decodeScrapingCompletion(value: Buffer | string | null): ScrapingCompletion {
  const f = fieldsOf(value, 'ScrapingCompletion');
  return { runId: f.text('runId', 200), region: f.text('region', 40), symbolsEmitted: f.number('symbolsEmitted', { min: 0, integer: true }), durationMs: f.number('durationMs', { min: 0 }) };
}

export function decodeScrapingError(value: Buffer | string | null): ScrapingError {
  const f = fieldsOf(value, 'ScrapingError');
  return { runId: f.text('runId', 200), region: f.text('region', 40), error: f.text('error', 4000), attempts: f.number('attempts', { min: 0, integer: true }) };
}

export function decodeProcessingCompletion(value: Buffer | string | null): ProcessingCompletion {
  const f = fieldsOf(value, 'ProcessingCompletion');
  return { runId: f.text('runId', 200), region: f.text('region', 40), symbol: f.text('symbol', 40) };
}

export function decodeProcessingError(value: Buffer | string | null): ProcessingError {
  const f = fieldsOf(value, 'ProcessingError');
  return { runId: f.text('runId', 200), region: f.text('region', 40), symbol: f.text('symbol', 40), error: f.text('error', 4000) };
}
