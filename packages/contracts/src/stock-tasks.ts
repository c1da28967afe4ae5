// Messages of the two-stage market-data pipeline, as JSON on Kafka:
//
//   TOPICS.stockScrapingTasks     ScrapingTask, one per region of a run, keyed by region
//   TOPICS.stockProcessingTasks   ProcessingTask, one per symbol, keyed by symbol
//   TOPICS.scrapingCompletion     ScrapingCompletion, one per region scraped
//   TOPICS.scrapingErrors         ScrapingError, one per region whose scrape failed after its retries
//   TOPICS.processingCompletion   ProcessingCompletion, one per symbol processed
//   TOPICS.processingErrors       ProcessingError, one per symbol that failed
//
// Types only: validation, encoding and the services that use them are not built yet.

/** Where a scraper reads the listed companies: generated data, or a user's HTTP API. */
export type StockSource = 'synthetic' | 'http';

/** Market-capitalisation bounds, as numbers (the gateway turns "100M" / "1B" into numbers). */
export interface MarketCapRange {
  min?: number;
  max?: number;
}

export interface ScrapingTask {
  runId: string;
  /** A region code, such as us, fr, de, uk or jp. */
  region: string;
  marketCap?: MarketCapRange;
  /** Most symbols to emit for the region. */
  limit?: number;
  source: StockSource;
}

/** A company's figures as scraped, in its listing currency; null when the source has none. */
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

export interface ProcessingTask {
  runId: string;
  region: string;
  symbol: string;
  name: string;
  exchange: string;
  currency: string;
  sector: string;
  price: number;
  sharesOutstanding: number;
  fundamentals: Fundamentals;
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
  symbol: string;
}

export interface ProcessingError {
  runId: string;
  symbol: string;
  error: string;
}
