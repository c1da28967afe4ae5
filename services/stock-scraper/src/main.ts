import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { stockscraperV1 } from '@pipewright/proto';
import { settings } from './config';

// Scraping is not built yet: its gRPC methods answer UNIMPLEMENTED.
void runService('stock-scraper', settings, async (svc) => {
  await svc.kafka().ensureTopics([TOPICS.stockScrapingTasks, TOPICS.stockProcessingTasks, TOPICS.scrapingCompletion, TOPICS.scrapingErrors]);
  await svc.producer();
  await svc.serveGrpc(
    [{ name: 'pipewright.stockscraper.v1.StockScraper', definition: stockscraperV1.StockScraperService, implementation: withUnimplemented(stockscraperV1.StockScraperService, {}) }]
  );
});
