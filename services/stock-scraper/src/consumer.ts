// Scraping tasks from `stock-scraping-tasks`, one per region of a run. For each: the region's
// companies from the task's source (pages retried, see source.ts), the market-cap filter and
// the limit, then one ProcessingTask per symbol to `stock-processing-tasks` (keyed by symbol),
// then a ScrapingCompletion to `scraping-completion`; or, when a page fails its last attempt, a
// ScrapingError to `scraping-errors` and nothing else. The offset is committed after.
//
// The scraper keeps no state: a redelivered task is scraped again and publishes the same
// symbols again (the synthetic source is deterministic per region and trading date); the
// processor stores by (run id, symbol) and the monitor counts by (run id, region) and (run id,
// region, symbol), so nothing is counted twice.
import { TOPICS, type ProcessingTask, type ScrapingCompletion, type ScrapingError, type ScrapingTask } from '@pipewright/contracts';
import type { BatchItem, Logger, MessageProducer, Slots } from '@pipewright/platform';
import { ScrapeFailed, scrapeRegion, type Source } from './source';
import type { ScraperMetrics } from './metrics';
import type { Config } from './config';

export interface ScraperDeps {
  /** The source of each kind; undefined when it is not configured (http without STOCK_HTTP_URL). */
  sources: Record<ScrapingTask['source'], Source | undefined>;
  config: Config;
  producer: MessageProducer;
  limiter: Slots;
  metrics: ScraperMetrics;
  logger: Logger;
}

/** Most processing tasks in one send. */
const SEND_CHUNK = 1000;

export function handleScrapingTasks(d: ScraperDeps) {
  const scrape = async (task: ScrapingTask): Promise<void> => {
    d.metrics.stats.tasksReceived += 1;
    const started = Date.now();
    const fail = async (error: string, attempts: number) => {
      const value: ScrapingError = { runId: task.runId, region: task.region, error, attempts };
      await d.producer.send(TOPICS.scrapingErrors, [{ key: task.runId, value }]);
      d.metrics.stats.errors += 1;
      d.logger.warn({ runId: task.runId, region: task.region, attempts, error }, 'region failed');
    };
    const source = d.sources[task.source];
    if (!source) return fail(`the ${task.source} source is not configured (STOCK_HTTP_URL is not set)`, 0);
    let result;
    try {
      result = await scrapeRegion(task, { source, pageSize: d.config.STOCK_PAGE_SIZE, backoffMs: d.config.STOCK_SCRAPE_RETRY_BACKOFF, limiter: d.limiter, window: d.config.STOCK_SCRAPE_CONCURRENCY });
    } catch (err) {
      if (!(err instanceof ScrapeFailed)) throw err;
      return fail(err.message, err.attempts);
    }
    d.metrics.stats.pagesFetched += result.pages;
    d.metrics.stats.pageRetries += result.retries;
    d.metrics.stats.filteredOut += result.filteredOut;
    const tasks = result.companies.map((c) => ({ key: c.symbol, value: { runId: task.runId, region: task.region, tradingDate: task.tradingDate, ...c } satisfies ProcessingTask }));
    for (let i = 0; i < tasks.length; i += SEND_CHUNK) await d.producer.send(TOPICS.stockProcessingTasks, tasks.slice(i, i + SEND_CHUNK));
    const done: ScrapingCompletion = { runId: task.runId, region: task.region, symbolsEmitted: tasks.length, durationMs: Date.now() - started };
    await d.producer.send(TOPICS.scrapingCompletion, [{ key: task.runId, value: done }]);
    d.metrics.stats.symbolsSent += tasks.length;
    d.metrics.stats.regionsCompleted += 1;
    d.logger.info({ runId: task.runId, region: task.region, symbols: tasks.length, pages: result.pages, retries: result.retries, ms: done.durationMs }, 'region scraped');
  };
  // The tasks of one partition one after another; partitions (regions) at once, up to STOCK_SCRAPE_REGIONS.
  return async (items: Array<BatchItem<ScrapingTask>>): Promise<void> => {
    for (const { value } of items) await scrape(value);
  };
}
