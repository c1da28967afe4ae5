// gRPC status of the scraper, pipewright.stockscraper.v1.StockScraper: GetStats, what this
// replica did since it started (the scraper keeps no state of its own).
import { unary, type Logger } from '@pipewright/platform';
import type { stockscraperV1 } from '@pipewright/proto';
import type { ScraperMetrics } from './metrics';

export function stockScraperHandlers(metrics: ScraperMetrics, deadLettered: () => number, logger: Logger): Partial<stockscraperV1.StockScraperServer> {
  return {
    getStats: unary(logger, async () => ({ ...metrics.stats, deadLettered: deadLettered() })),
  };
}
